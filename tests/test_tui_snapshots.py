"""Screens as pictures (pytest-textual-snapshot) at 120x36 and 80x24: the planner (a plan, one that will not start,
one that does not fit) and compare, each in the dark, light and ANSI themes.

Update after an intended change with `pytest tests/test_tui_snapshots.py --snapshot-update` and look
at the report before committing the new SVGs.
"""

from __future__ import annotations

import pytest
from conftest import make_app, started
from pytest_textual_snapshot import SVGImageExtension

from napkinmath.tui.fields import FIELDS_BY_PATH
from napkinmath.tui.settings import Settings

SIZES = {"wide": (120, 36), "narrow": (80, 24)}


def app_for(profile_name: str, theme: str):
    return make_app(profile_name, settings=Settings(theme=theme))


STATES = {  # what the planner shows, and the choice that leads there from the shipped 70B profile
    "plan": None,
    "wont-start": ("model.weight_dtype", "bf16"),  # the weights fit, one 32K request does not: vLLM refuses
    "does-not-fit": ("model.preset", "deepseek-v3"),  # 671B on 2 x H100
}
THEMES = ("napkin-dark", "napkin-light", "napkin-ansi")


@pytest.mark.parametrize("size", ["wide", "narrow"])
async def test_main_screen_in_every_theme(snapshot, napkin_home, size):
    """The planner, a plan that will not start and one that does not fit, each in the three themes: one app
    per size, its screen taken nine times (a snap_compare per picture would start eighteen apps)."""
    pictures = snapshot.use_extension(SVGImageExtension)
    app = app_for("llama-3.1-70b-2xh100-fp8.toml", THEMES[0])
    taken: dict[str, str] = {}
    async with app.run_test(size=SIZES[size]) as pilot:
        await started(pilot)  # the input panes come right after the first paint
        for state, choice in STATES.items():
            if choice is not None:
                app.main.action_choose(*choice)
            for theme in THEMES:
                app.theme = theme
                await pilot.pause()
                await pilot.wait_for_scheduled_animations()
                await pilot.pause()
                taken[f"{state}-{theme}"] = app.export_screenshot(title=app.title)
    for name, svg in taken.items():
        assert svg == pictures(name=name), name


@pytest.mark.parametrize("size", ["wide", "narrow"])
def test_stale_plan_after_a_bad_value(snap_compare, napkin_home, size):
    async def type_garbage(pilot):
        await started(pilot)
        pilot.app.main.action_focus_field("field-workload-users")
        await pilot.pause()
        await pilot.press("end", "x", "enter")  # typed text is applied on Enter (or after a pause)
        await pilot.pause()

    assert snap_compare(app_for("b200-32b-chat-duty20.toml", "napkin-dark"), terminal_size=SIZES[size],
                        run_before=type_garbage)


def test_help_screen(snap_compare, napkin_home):
    assert snap_compare(app_for("qwen3-30b-a3b-1xh100.toml", "napkin-dark"), terminal_size=(80, 24), press=["f1"],
                        run_before=started)


@pytest.mark.parametrize("size", ["wide", "narrow"])
def test_chart_screen(snap_compare, napkin_home, size):
    async def open_chart(pilot):
        await started(pilot)
        await pilot.press("f5")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()  # the sweep runs in a worker
        await pilot.pause()

    assert snap_compare(app_for("llama-3.1-70b-2xh100-fp8.toml", "napkin-dark"), terminal_size=SIZES[size],
                        run_before=open_chart)


@pytest.mark.parametrize("theme", ["napkin-dark", "napkin-light", "napkin-ansi"])
@pytest.mark.parametrize("size", ["wide", "narrow"])
def test_compare_screen(snap_compare, napkin_home, size, theme):
    async def compare_with_baseline(pilot):
        await started(pilot)
        pilot.app.main.action_pin()
        pilot.app.main.action_choose("hardware.gpu", "h200")
        await pilot.pause()
        await pilot.press("f6")
        await pilot.pause()
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app_for("llama-3.1-70b-2xh100-fp8.toml", theme), terminal_size=SIZES[size],
                        run_before=compare_with_baseline)


@pytest.mark.parametrize("size", ["wide", "narrow"])
def test_pinned_baseline(snap_compare, napkin_home, size):
    async def pin_then_double_tensor(pilot):
        await started(pilot)
        pilot.app.main.action_pin()
        pilot.app.main.edit_field(FIELDS_BY_PATH["parallelism.tensor"], "4")
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app_for("llama-3.1-70b-2xh100-fp8.toml", "napkin-dark"), terminal_size=SIZES[size],
                        run_before=pin_then_double_tensor)
