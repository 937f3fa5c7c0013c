"""Undo/redo keys, the pinned baseline, charts, recommend, the load test and exports, through the app (compare:
tests/test_tui_compare.py).

The rules behind them are unit-tested without a screen: undo/redo and pinning on the edit session
(tests/test_session.py), the sweeps behind the charts (tests/test_sweep.py), recommend
(tests/test_recommend.py)."""

from __future__ import annotations

import threading

from conftest import enter_text, make_app, shipped, started
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Input, Select, Static
from textual_plotext import PlotextPlot

from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.naming import follow_name
from napkinmath.core.tools import recommend as core_recommend
from napkinmath.core.tools.loadtest import load_test
from napkinmath.tui.analysis import RecommendScreen
from napkinmath.tui.charts import ChartsScreen
from napkinmath.tui.dialogs import LoadTestScreen, PromptScreen
from napkinmath.tui.outputs import CapacityPanel, CostPanel
from napkinmath.tui.slow_calls import SlowCalls

USERS = "#field-workload-users"


async def test_undo_and_redo_keys_bring_back_fields_and_selects(napkin_home):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        start = main.session.profile
        await enter_text(pilot, USERS, "1234")
        main.action_choose("model.preset", "qwen3-32b")
        await pilot.pause()
        await pilot.press("ctrl+z", "ctrl+z")
        await pilot.pause()
        assert main.session.profile == start and main.query_one(USERS, Input).value == "400"
        assert main.query_one("#choice-preset", Select).value == "llama-3.1-70b"
        await pilot.press("ctrl+y", "ctrl+y")
        await pilot.pause()
        assert main.query_one("#choice-preset", Select).value == "qwen3-32b"
        assert main.query_one(USERS, Input).value == "1234"
        await pilot.press("ctrl+y")  # nothing left to redo: said, not done
        await pilot.pause()
        assert any("Nothing to redo" in str(note.message) for note in app._notifications)


async def test_pinned_baseline_shows_changes_coloured_by_whether_they_help(napkin_home):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        await pilot.press("f4")
        await pilot.pause()
        assert main.baseline == main.plan and "baseline" in main.sub_title  # its name, where there is room
        assert main.query_one("#outputs").has_class("-pinned")
        await enter_text(pilot, "#field-parallelism-tensor", "4")  # more GPUs: more users, dearer per hour
        capacity = main.query_one(CapacityPanel)
        users = capacity.change("users_served")
        assert users.plain.strip().startswith("+") and "%" in users.plain
        assert str(users.style) == str(capacity.get_component_rich_style("delta--better"))
        rent = main.query_one(CostPanel).change("per_hour")
        assert rent.plain.strip() == "+5.0 (+100%)"
        assert str(rent.style) == str(capacity.get_component_rich_style("delta--worse"))
        await pilot.press("f4")
        await pilot.pause()
        assert main.baseline is None and capacity.change("users_served").plain == ""
        assert not main.query_one("#outputs").has_class("-pinned")


async def test_recommend_answers_escape_while_searching_then_loads_a_deployment(napkin_home):
    release, calls = threading.Event(), []

    def slow_recommend(profile):
        calls.append(profile)
        if len(calls) == 1:  # the search left by Escape: its result is never shown
            release.wait(timeout=10)
            return []
        return core_recommend.recommend(profile, limit=20)

    app = make_app(slow=SlowCalls(recommend=slow_recommend))
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        before = main.session.profile
        await pilot.press("f7")
        await pilot.pause()
        assert isinstance(app.screen, RecommendScreen) and app.screen.query_one(DataTable).loading
        await pilot.press("escape")  # the search is still running: the screen answers anyway
        await pilot.pause()
        assert app.screen is main and not release.is_set()
        release.set()
        await app.workers.wait_for_complete()
        await pilot.press("f7")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen.candidates and not app.screen.query_one(DataTable).loading
        top, before = app.screen.candidates[0], main.session.profile
        await pilot.press("enter")
        await pilot.pause()
        assert main.session.profile == follow_name(before, top.profile)  # the deployment, named after itself
        result, work = plan(main.session.profile), main.session.profile.workload
        assert result.capacity.users_served == work.users
        assert result.decode.tokens_per_s_per_user >= work.target_tokens_per_s
        assert result.prefill.ttft <= work.ttft_target_s
        assert main.query_one("#choice-gpu", Select).value == top.gpu_id
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert main.session.profile == before


async def test_every_chart_draws_and_a_chart_that_cannot_be_drawn_says_why(napkin_home):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot)
        await pilot.press("f5")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ChartsScreen)
        for kind in ("context", "batch", "gpus", "custom"):
            screen.query_one("#chart-kind", Select).value = kind
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            series = screen.series
            assert series is not None and len(series.xs) >= 4
            assert any(v is not None for ys in series.lines.values() for v in ys)
            assert screen.query_one("#chart-field").display == (kind == "custom")
            assert screen.query_one(PlotextPlot).region.height > 10 and not screen.query_one(PlotextPlot).loading
            assert series.log_x == (kind != "gpus") and screen.axes is not None and "now:" in str(
                screen.query_one("#chart-note").render())
        await pilot.resize_terminal(100, 30)  # a repaint of the log-scale chart on screen
        await pilot.pause()
        drawn = screen.query_one(PlotextPlot).render()
        assert all(label in str(drawn) for label in ("1k", "4k", "16k")) and "_" not in screen.series.title
        screen.query_one("#chart-field", Select).value = "engine.max_num_seqs"  # unset: the engine default
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.series is None and "numeric field" in str(screen.query_one("#chart-note").render())


async def test_exports_are_copied_and_written_and_the_load_test_shows_its_figures(napkin_home):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        main.action_export("vllm")
        await pilot.pause()
        written = napkin_home / "exports" / "llama-3-1-70b-on-2xh100-sxm-fp8-weights.sh"
        assert written.read_text().startswith("vllm serve meta-llama/Llama-3.1-70B-Instruct")
        assert app.clipboard.startswith("vllm serve")
        main.action_export("markdown")
        await pilot.pause()
        assert app.clipboard.startswith("# Llama 3.1 70B on 2xH100 SXM")
        assert (napkin_home / "exports" / "llama-3-1-70b-on-2xh100-sxm-fp8-weights.md").is_file()
        main.action_load_test()  # the palette's "Load test…": a prompt, then the figures with their ranges
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        await pilot.press(*"64, 1000, 200", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LoadTestScreen)
        shown = str(app.screen.query_one("#load-test-figures", Static).content)
        expected = load_test(main.session.profile, 64, 1000, 200).output_tokens_per_s
        assert f"{expected.expected:,.0f} tok/s ({expected.low:,.0f}–{expected.high:,.0f})" in shown
        await pilot.press("escape")
        await pilot.pause()
        main.show_load_test("0")  # refused with a notice naming what is wrong
        await pilot.pause()
        assert app.screen is main and any("concurrency" in str(n.message) for n in app._notifications)


async def test_the_recommendations_fit_80_columns_whole(napkin_home):
    """Issue 17: no label cut at 80x24. The title wraps, and the table (the CLI's compact split, weights/KV in
    one column, the least room as "tok/s +32%") needs no sideways scrolling."""
    found = core_recommend.recommend(shipped("llama-3.1-70b-2xh100-fp8.toml"), limit=20)
    app = make_app(slow=SlowCalls(recommend=lambda profile: found))
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        await pilot.press("f7")
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.row_count == len(found) > 0
        assert table.virtual_size.width <= table.scrollable_content_region.width
        title = app.screen.query_one("#recommend-title")
        assert title.size.height >= 2 and "Enter loads one" in str(title.render())
        assert str(table.get_cell_at(Coordinate(0, 7))) == found[0].tightest
