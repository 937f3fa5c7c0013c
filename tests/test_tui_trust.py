"""Pilot tests for issue 17, a TUI to trust at a glance: never green when the plan cannot run, entry like a
spreadsheet, everything reachable and labelled. The rules themselves are unit-tested on the edit session and
the core (tests/test_session.py, test_number_text.py, test_remedies.py, test_naming.py); these check that
the screen shows them and that keys reach them."""

from __future__ import annotations

import io

from conftest import enter_text, make_app, started, vram_text
from rich.console import Console
from textual.widgets import Collapsible, Input, Select
from textual.widgets._footer import FooterKey

from napkinmath.tui import widgets
from napkinmath.tui.dialogs import HelpScreen
from napkinmath.tui.fields import FIELDS_BY_PATH
from napkinmath.tui.footer import PlannerFooter
from napkinmath.tui.outputs import CapacityPanel, CostPanel, RooflineGauge
from napkinmath.tui.problems import ProblemsScreen, ProblemsStrip

WIDE, NARROW = (120, 36), (80, 24)


def shown(widget) -> str:
    """A widget's renderable as plain text at its width (panels render Rich tables)."""
    console = Console(width=max(20, widget.content_size.width), file=io.StringIO(), record=True)
    console.print(widget.render())
    return console.export_text()


async def test_entry_is_like_a_spreadsheet(napkin_home, monkeypatch):
    """Focus selects the number, so typing replaces it; a value is applied after a pause or on Enter/Tab,
    and a refused one leaves no value typed on the way behind; ``?`` opens the keys from a field."""
    monkeypatch.setattr(widgets, "APPLY_AFTER_S", 60)  # no pause while the keys are pressed, however slowly
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        main = await started(pilot)
        users = main.query_one("#field-workload-users", Input)
        main.action_focus_field("field-workload-users")  # as the palette's "Go to: Users" does
        await pilot.pause()
        await pilot.press("8", "0", "0")
        assert users.value == "800" and main.session.profile.workload.users == 400  # not applied yet
        await pilot.press("tab")
        await pilot.pause()
        assert main.session.profile.workload.users == 800
        count = main.query_one("#field-hardware-count", Input)
        main.action_focus_field("field-hardware-count")
        await pilot.pause()
        monkeypatch.setattr(widgets, "APPLY_AFTER_S", 0.05)
        await pilot.press("1", "e", "3")
        await pilot.pause(0.3)  # a pause on "1e3": applied for now
        assert main.session.profile.hardware.count == 1000
        monkeypatch.setattr(widgets, "APPLY_AFTER_S", 60)
        await pilot.press("0", "8", "enter")  # "1e308": over the limit, and the 1,000 GPUs go with it
        await pilot.pause()
        assert main.session.profile.hardware.count == 2 and count.value == "1e308"
        assert "at most 1,000,000" in str(main.query_one("#field-hardware-count-error").render())
        await pilot.press("ctrl+u", "1", "2", "8", "k")  # suffixes, applied by the key that follows (F2 here)
        await pilot.press("f2")
        await pilot.pause()
        assert main.session.profile.hardware.count == 128_000 and main.units == "GB"
        await pilot.press("up")  # Up/Down apply at once, stepping between whole replicas of TP 2
        await pilot.pause()
        assert main.session.profile.hardware.count == 128_002
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and count.value == "128002"


async def test_a_plan_that_cannot_run_is_never_green(napkin_home):
    """Issue 17: 70B bf16 on 2 x H100 at 32K said "fits", decode ✓, TTFT ✓ while vLLM refuses to start;
    DeepSeek-V3 on 2 x H100 showed "118 tok/s ✓" while nothing fits. The problems are shown, with their
    severity, in both layouts."""
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        main = await started(pilot)
        strip = main.query_one("#problems-wide", ProblemsStrip)
        assert str(strip.render()).startswith("⚠ serves 275 of 400 users")  # a warning, marked as one
        assert "decode memory-bound at batch" in str(main.query_one(RooflineGauge).render())
        main.action_choose("model.weight_dtype", "bf16")  # the weights fit, one 32K request does not
        await pilot.pause()
        capacity, text = shown(main.query_one(CapacityPanel)), vram_text(main)
        roofline = str(main.query_one(RooflineGauge).render())  # no decode batch described for it
        assert "no decode point: the plan does not run" in roofline and "D decode" not in roofline
        assert "won't start" in text and "max context ≤ 17,152" in text and "fits" not in text
        assert "✓" not in capacity and "— (does not run)" in capacity and "0 of 400" in capacity
        assert str(strip.render()).startswith("✗ one 32,768-token request needs") and "17,152" in str(strip.render())
        main.action_choose("model.preset", "deepseek-v3")
        await pilot.pause()
        text, capacity = vram_text(main), shown(main.query_one(CapacityPanel))
        assert "does not fit" in text and "short by" in text and "per replica (TP 8 × PP 2)" in text
        assert "✓" not in capacity and "weights (no fit)" in capacity
        assert "practically never compute-bound" in str(main.query_one(RooflineGauge).render())
        await pilot.press("f9")  # every problem, whole
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen)
        assert "16 × NVIDIA H100 SXM5 80GB per replica" in str(app.screen.query_one("#problems-text").render())
        await pilot.press("escape")
        await pilot.resize_terminal(*NARROW)
        await pilot.pause()
        narrow = main.query_one("#problems-narrow", ProblemsStrip)
        assert narrow.display and not strip.display and str(narrow.render()).startswith("✗ the model does not fit")


async def test_everything_is_reachable_and_labelled(napkin_home):
    """Issue 17, item 7: no Engine & cost row under a hidden scrollbar at 120x36 (sections fold, one open at
    a time); empty optional fields show the value in use; the selects say what each id is; every main key
    in the footer at 80 columns."""
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        main = await started(pilot)
        pane = main.query_one("#pane-engine")
        for section in main.query(Collapsible):
            section.collapsed = False  # the others fold
            await pilot.pause()
            assert pane.max_scroll_y == 0 and sum(not other.collapsed for other in main.query(Collapsible)) == 1
        main.action_focus_field("field-cost-pue")  # Go to a folded row: its section opens
        await pilot.pause()
        assert not main.query_one("#section-cost", Collapsible).collapsed and main.focused.id == "field-cost-pue"
        assert main.field_rows["engine.activation_gib"].input.placeholder == "1.73 auto"
        assert main.field_rows["engine.max_num_seqs"].input.placeholder == "1024 auto"
        assert "Replicas needed" in shown(main.query_one(CapacityPanel))
        # no label cut with targets missed, a baseline pinned and wide figures (issue 17: "Users serv…")
        main.action_pin()
        for path, text in (("workload.users", "123456"), ("workload.target_tokens_per_s", "200"),
                           ("workload.ttft_target_s", "0.001"), ("parallelism.tensor", "4")):
            main.edit_field(FIELDS_BY_PATH[path], text)
        await pilot.pause()
        capacity, cost = shown(main.query_one(CapacityPanel)), shown(main.query_one(CostPanel))
        assert all(label in capacity for label in ("Users served", "Replicas needed", "Decode / user", "✗ target"))
        assert all(label in cost for label in ("Rent / hour", "Per user-month", "Owned / user"))
        gpu = main.query_one("#choice-gpu", Select)
        assert "79.6 GiB  3.35 TB/s  $2.50/h" in str(gpu._options[3][0]) and "h100-sxm" == str(gpu._options[3][1])
        await pilot.resize_terminal(*NARROW)
        await pilot.pause()
        footer = main.query_one(PlannerFooter)
        keys = [key for key in footer.query(FooterKey) if key.display]
        assert {"question_mark", "ctrl+s", "ctrl+o", "ctrl+z", "f4", "f5", "f6", "f7", "f8", "ctrl+q"} <= {
            key.key for key in keys}
        assert max(key.region.right for key in keys) <= NARROW[0]


async def test_the_engines_rules_show_on_screen(napkin_home):
    """Issue 17, item 2: Tensor 3 on a 64-head model and an FP4 KV cache on H100 with vLLM were accepted
    silently; now each is an error in the problems strip, with what vLLM would say. Tensor steps between
    the sizes that split the model and keeps the GPU count where it can (2 -> 8 on 8 GPUs made 32 GPUs)."""
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        main = await started(pilot)
        strip = main.query_one("#problems-wide", ProblemsStrip)
        await enter_text(pilot, "#field-hardware-count", "12")
        await enter_text(pilot, "#field-parallelism-tensor", "3")
        assert (main.session.profile.hardware.count, main.session.profile.parallelism.replicas) == (12, 4)
        assert str(strip.render()).startswith("✗ vLLM") and "3 does not divide the 64 attention heads" in str(
            strip.render())
        assert "✓" not in shown(main.query_one(CapacityPanel))
        await pilot.press("up")  # to the next size that splits the heads, the GPU count kept
        await pilot.pause()
        parallelism = main.session.profile.parallelism
        assert (parallelism.tensor, main.session.profile.hardware.count, parallelism.replicas) == (4, 12, 3)
        assert not str(strip.render()).startswith("✗")
        main.action_choose("model.kv_dtype", "fp4")
        await pilot.pause()
        assert str(strip.render()).startswith("✗ vLLM") and "not fp4" in str(strip.render())
