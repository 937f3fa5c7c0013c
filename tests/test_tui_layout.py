"""Where the planner switches layout (tui/layout.py)."""

from __future__ import annotations

from textual.screen import Screen

from napkinmath.tui.layout import HORIZONTAL_BREAKPOINTS, breakpoint_classes


def test_the_breakpoint_classes_set_before_the_first_layout_are_the_ones_textual_sets_on_resize():
    """Equal at every width, so Textual's first resize changes no class and restyles nothing."""
    screen = Screen()
    for columns in range(0, 300):
        ours = {name for name, on in breakpoint_classes(columns).items() if on}
        assert ours == screen._get_breakpoint_classes(columns, HORIZONTAL_BREAKPOINTS), columns
        assert set(breakpoint_classes(columns)) == {name for _, name in HORIZONTAL_BREAKPOINTS}


async def test_the_compact_roofline_legend_stays_on_one_line(napkin_home):
    """At 80x24 Kimi K2's legend (D 195.9, P 9.43k, ridge 1,250, crit never) wrapped, and the line saying what
    bounds decode fell out of the five-line box; the legend now narrows its gaps, then drops the critical batch."""
    from conftest import make_app, started

    from napkinmath.tui.outputs import RooflineGauge

    app = make_app("kimi-k2-8xb200-32k.toml")
    async with app.run_test(size=(80, 24)) as pilot:
        main = await started(pilot)
        gauge = main.query_one(RooflineGauge)
        lines = str(gauge.render()).splitlines()
        assert len(lines) == 5 and all(len(line) <= gauge.content_size.width for line in lines), lines
        assert "ridge 1,250" in lines[3] and lines[4].startswith("decode memory-bound"), lines


async def test_the_pinned_layouts_roofline_legend_stays_on_one_line(napkin_home):
    """Pinning a baseline at 120x36 narrows the roofline box to 28 columns, where the whole legend ("D decode 57.0
    P prefill 3.92k │ ridge 591 FLOP/B (fp8)") wrapped into three lines; it drops the unit, the weight path, then
    the words, and narrows its gaps, until it fits one line."""
    from conftest import make_app, started

    from napkinmath.tui.outputs import RooflineGauge

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        gauge = main.query_one(RooflineGauge)
        wide = str(gauge.render()).splitlines()
        await pilot.press("f4")
        await pilot.pause()
        assert gauge.content_size.width < 40
        lines = str(gauge.render()).splitlines()
        # the axis, its labels and the legend are drawn unwrapped (the sentences under them wrap by design)
        assert all(len(line) <= gauge.content_size.width for line in lines[:4]), lines
        assert lines[3].startswith("D ") and "ridge" in lines[3], lines
        assert not any(line.startswith(("FLOP/B", "(fp8)")) or "ridge" in line for line in lines[4:]), lines
        assert "ridge" in wide[3] and wide[3].startswith("D decode"), wide


async def test_the_compact_memory_bar_says_a_wont_start_remedy_within_its_width(napkin_home, tmp_path):
    """At 80x24, a won't-start plan with two attention data-parallel ranks: "→ max context ≤ 27,536, or 8 GPUs
    (TP 4 × DP 2)" was cut at the box's edge; the compact line drops the split (the problems strip has it whole)."""
    from conftest import make_app, started

    from napkinmath.tui.vram_bar import VramBar

    path = tmp_path / "wont-start-dp2.toml"
    path.write_text('[hardware]\ngpu = "h100-sxm"\ncount = 4\n[model]\npreset = "llama-3.1-70b"\n'
                    '[parallelism]\ntensor = 2\ndata = 2\n[workload]\nmax_context_tokens = 32768\n'
                    'avg_context_tokens = 8192\n')
    app = make_app(str(path))
    async with app.run_test(size=(80, 24)) as pilot:
        main = await started(pilot)
        bar = main.query_one(VramBar)
        lines = str(bar.render()).splitlines()
        assert any(line.startswith("won't start") for line in lines), lines
        remedy = next(line for line in lines if line.startswith("→"))
        assert len(remedy) <= bar.content_size.width and remedy.endswith("8 GPUs"), (remedy, bar.content_size.width)
