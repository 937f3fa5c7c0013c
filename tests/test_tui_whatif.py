"""Undo/redo, the pinned baseline, compare, charts, recommend and exports, through the app."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import type_into
from textual.widgets import DataTable, Input, Select
from textual_plotext import PlotextPlot

from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.files import load_profile
from napkinmath.core.profile.paths import shipped_profile
from napkinmath.tui.analysis import ChartsScreen, CompareScreen, RecommendScreen
from napkinmath.tui.app import NapkinApp
from napkinmath.tui.outputs import CapacityPanel, CostPanel

CONFIGS = Path(__file__).parent / "data" / "configs"
USERS = "#field-workload-users"


def make_app(name: str = "llama-3.1-70b-2xh100-fp8.toml") -> NapkinApp:
    path = shipped_profile(name)
    return NapkinApp(load_profile(path), path)




async def test_undo_and_redo_across_edits_presets_and_imports(napkin_home):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.inputs_mounted.wait()
        start = app.profile
        await type_into(pilot, USERS, "1234")  # four keystrokes in one field: one undo step
        after_edit = app.profile
        app.choose("model.preset", "qwen3-32b")
        await pilot.pause()
        after_preset = app.profile
        app.import_model_from(CONFIGS / "mixtral-8x7b.json", None)
        await pilot.pause()
        assert app.profile.model.experts == 8
        for expected in (after_preset, after_edit, start):
            await pilot.press("ctrl+z")
            await pilot.pause()
            assert app.profile == expected
        assert app.query_one(USERS, Input).value == "400"
        for expected in (after_edit, after_preset):
            await pilot.press("ctrl+y")
            await pilot.pause()
            assert app.profile == expected
        assert app.query_one("#choice-preset", Select).value == "qwen3-32b"


async def test_pinned_baseline_shows_changes_coloured_by_whether_they_help(napkin_home):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.inputs_mounted.wait()
        await pilot.press("f4")
        await pilot.pause()
        assert app.baseline == app.plan and "baseline:" in app.sub_title
        await type_into(pilot, "#field-parallelism-tensor", "4")  # more GPUs: more users, dearer per hour
        capacity = app.query_one(CapacityPanel)
        users = capacity.change("users_served")
        assert users.plain.strip().startswith("+") and "%" in users.plain
        assert str(users.style) == str(capacity.get_component_rich_style("delta--better"))
        rent = app.query_one(CostPanel).change("per_hour")
        assert rent.plain.strip() == "+5.0 (+100%)"
        assert str(rent.style) == str(capacity.get_component_rich_style("delta--worse"))
        await pilot.press("f4")
        await pilot.pause()
        assert app.baseline is None and capacity.change("users_served").plain == ""


async def test_compare_with_the_baseline(napkin_home):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.inputs_mounted.wait()
        app.action_pin()
        await type_into(pilot, "#field-workload-avg-context-tokens", "8192")
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        table = app.screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[0]): table.get_row_at(i) for i in range(table.row_count)}
        users = rows["Users served (users)"]
        assert str(users[1]) == str(app.plan.capacity.users_served)
        assert str(users[2]) == str(app.baseline.capacity.users_served) != str(users[1])
        assert str(users[3]).startswith("−")  # a longer context serves fewer users
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, CompareScreen)


async def test_recommend_then_load_meets_the_targets_and_can_be_undone(napkin_home):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.inputs_mounted.wait()
        before = app.profile
        await pilot.press("f7")
        await pilot.pause()
        assert isinstance(app.screen, RecommendScreen) and app.screen.candidates
        top = app.screen.candidates[0]
        await pilot.press("enter")
        await pilot.pause()
        assert app.profile == top.profile
        result = plan(app.profile)
        work = app.profile.workload
        assert result.capacity.users_served == work.users
        assert result.decode.tokens_per_s_per_user >= work.target_tokens_per_s
        assert result.prefill.ttft <= work.ttft_target_s
        assert app.query_one("#choice-gpu", Select).value == top.gpu_id
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert app.profile == before


@pytest.mark.parametrize("kind", ["context", "batch", "gpus", "custom"])
async def test_every_chart_draws(napkin_home, kind):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.inputs_mounted.wait()
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, ChartsScreen)
        app.screen.query_one("#chart-kind", Select).value = kind
        await pilot.pause()
        series = app.screen.series()
        assert len(series.xs) >= 4 and any(v is not None for ys in series.lines.values() for v in ys)
        assert app.screen.query_one("#chart-field").display == (kind == "custom")
        assert app.screen.query_one(PlotextPlot).region.height > 10


async def test_exports_are_copied_and_written(napkin_home):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.inputs_mounted.wait()
        app.export("vllm")
        await pilot.pause()
        written = napkin_home / "exports" / "llama-3-1-70b-on-2xh100-sxm-fp8-weights.sh"
        assert written.read_text().startswith("vllm serve meta-llama/Llama-3.1-70B-Instruct")
        assert app.clipboard.startswith("vllm serve")
        app.export("markdown")
        await pilot.pause()
        assert app.clipboard.startswith("# Llama 3.1 70B on 2xH100 SXM")
