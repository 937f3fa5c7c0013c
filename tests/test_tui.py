"""Pilot tests: the app as a user drives it, key by key."""

from __future__ import annotations

import pytest
from conftest import type_into
from textual.command import CommandPalette
from textual.widgets import Input, OptionList, Select, Tabs

from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.files import load_profile, save_profile
from napkinmath.core.profile.paths import shipped_profile, shipped_profiles
from napkinmath.tui.app import KEY_MAP, NapkinApp, opening_profile
from napkinmath.tui.outputs import VramBar
from napkinmath.tui.screens import HelpScreen, OpenScreen, QuitScreen, SaveAsScreen
from napkinmath.tui.settings import Settings, load_settings
from napkinmath.tui.widgets import FieldRow

AVG_CONTEXT = "#field-workload-avg-context-tokens"
TENSOR = "#field-parallelism-tensor"
WIDE, NARROW = (120, 36), (80, 24)


def make_app(name: str = "llama-3.1-70b-2xh100-fp8.toml", settings: Settings | None = None) -> NapkinApp:
    path = shipped_profile(name)
    return NapkinApp(load_profile(path), path, settings=settings)




def vram_text(app: NapkinApp) -> str:
    return str(app.query_one(VramBar).render())


async def test_changing_average_context_changes_users_served(napkin_home):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await app.inputs_mounted.wait()
        before = app.plan.capacity.users_served
        await type_into(pilot, AVG_CONTEXT, "16384")
        assert app.profile.workload.avg_context_tokens == 16384
        assert app.plan.capacity.users_served < before
        assert "16384" in app.query_one(AVG_CONTEXT, Input).value


async def test_changing_gpu_count_changes_the_vram_bar(napkin_home):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await app.inputs_mounted.wait()
        bar_before, weights_before = vram_text(app), app.plan.memory.per_gpu.weights
        await type_into(pilot, TENSOR, "4")
        assert app.profile.hardware.count == 4
        assert app.query_one("#field-hardware-count", Input).value == "4"  # the count follows tensor
        assert app.plan.memory.per_gpu.weights == pytest.approx(weights_before / 2)
        assert vram_text(app) != bar_before and "4 ×" in vram_text(app)


async def test_a_bad_value_is_flagged_and_the_last_plan_kept(napkin_home):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await app.inputs_mounted.wait()
        await type_into(pilot, AVG_CONTEXT, "3000")
        good_plan, good_profile = app.plan, app.profile
        assert good_profile.workload.avg_context_tokens == 3000
        await pilot.press("x")  # "3000x"
        await pilot.pause()
        row = app.query_one(f"{AVG_CONTEXT}-row", FieldRow)
        assert row.has_class("-invalid")
        assert "whole number" in str(app.query_one(f"{AVG_CONTEXT}-error").render())
        assert app.profile == good_profile and app.plan == good_plan
        assert app.query_one("#outputs").has_class("-stale")
        assert app.sub_title.startswith("⚠ stale plan: Average context")
        await type_into(pilot, AVG_CONTEXT, "99999999")  # a number, but above max context: the core refuses it
        assert "cannot exceed max_context_tokens" in str(app.query_one(f"{AVG_CONTEXT}-error").render())
        await type_into(pilot, AVG_CONTEXT, "2048")
        assert not row.has_class("-invalid") and not app.query_one("#outputs").has_class("-stale")
        assert app.profile.workload.avg_context_tokens == 2048


async def test_a_field_refused_because_of_another_recovers_when_that_one_changes(napkin_home):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await app.inputs_mounted.wait()
        await type_into(pilot, AVG_CONTEXT, "40000")  # above the 32768 max context
        assert app.query_one(f"{AVG_CONTEXT}-row").has_class("-invalid")
        await type_into(pilot, "#field-workload-max-context-tokens", "65536")
        assert not app.query_one(f"{AVG_CONTEXT}-row").has_class("-invalid")
        assert app.profile.workload.avg_context_tokens == 40000


async def test_save_then_open_through_the_ui_returns_the_same_profile(napkin_home):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await app.inputs_mounted.wait()
        await type_into(pilot, AVG_CONTEXT, "6000")
        edited = app.profile
        assert app.dirty
        await pilot.press("ctrl+s")  # a shipped example: asks a name first
        await pilot.pause()
        assert isinstance(app.screen, SaveAsScreen)
        name_input = app.screen.query_one("#save-name", Input)
        name_input.value = ""
        await pilot.press(*list("my what if"), "enter")
        await pilot.pause()
        saved = napkin_home / "profiles" / "my-what-if.toml"
        assert saved.is_file() and not app.dirty
        assert load_profile(saved) == edited
        await type_into(pilot, AVG_CONTEXT, "1000")  # change it again, then open the saved one
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, OpenScreen)
        options = app.screen.query_one(OptionList)
        options.highlighted = next(i for i, path in enumerate(app.screen.paths) if path == saved)
        await pilot.press("enter")
        await pilot.pause()
        assert app.profile == edited
        assert app.query_one(AVG_CONTEXT, Input).value == "6000"
        await pilot.press("ctrl+s")  # now it has a file of its own: saves without asking
        await pilot.pause()
        assert not isinstance(app.screen, SaveAsScreen)


async def test_loading_a_gpu_from_the_select_refills_the_hardware(napkin_home):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await app.inputs_mounted.wait()
        app.query_one("#choice-gpu", Select).value = "h200"
        await pilot.pause()
        assert app.profile.hardware.gpu == "h200"
        assert app.query_one("#field-hardware-memory-gib", Input).value == "140.401"
        assert app.plan.capacity.users_served > 0


async def test_the_sampler_select_sets_the_kernel_and_goes_back_to_the_version_default(napkin_home):
    app = make_app("llama-3.1-70b-2xh100-fp8.toml")
    async with app.run_test(size=WIDE) as pilot:
        await app.inputs_mounted.wait()
        select = app.query_one("#choice-sampler", Select)
        assert select.value == "default" and app.profile.engine.sampler is None
        before = app.plan.memory.per_gpu.activations
        select.value = "native"
        await pilot.pause()
        assert app.profile.engine.sampler == "native"
        assert app.plan.memory.per_gpu.activations > before  # the sort path holds more per logit
        select.value = "default"
        await pilot.pause()
        assert app.profile.engine.sampler is None and app.plan.memory.per_gpu.activations == before


async def test_choosing_the_gpu_already_chosen_keeps_the_overrides(napkin_home):
    app = make_app("b200-32b-chat-200k.toml")
    async with app.run_test(size=WIDE) as pilot:
        await app.inputs_mounted.wait()
        app.choose("hardware.gpu", "b200")
        await pilot.pause()
        assert app.profile.hardware.memory_gib == pytest.approx(178.8139, abs=1e-3)  # not the catalog's 179.06
        assert not app.dirty


async def test_a_model_that_does_not_fit_says_so_on_the_bar(napkin_home):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await app.inputs_mounted.wait()
        app.choose("model.preset", "llama-3.1-405b")
        await pilot.pause()
        text = vram_text(app)
        assert "does not fit" in text and "short by" in text and "per replica" in text


async def test_palette_goes_to_a_field_by_its_label(napkin_home):
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await app.inputs_mounted.wait()
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*list("Go to: Average context"))
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is app.query_one(AVG_CONTEXT)
        assert app.query_one("#pane-tabs", Tabs).active == "tab-workload"  # narrow: its pane is shown
        assert app.query_one("#pane-workload").display


async def test_palette_loads_a_model_preset(napkin_home):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await app.inputs_mounted.wait()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*list("Load model: Qwen3 32B"))
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.profile.model.preset == "qwen3-32b"


async def test_every_key_in_the_help_screen_does_what_it_says(napkin_home, tmp_path):
    listed = {key for key, _ in KEY_MAP}
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await app.inputs_mounted.wait()
        # ? and F1: this list
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            shown = str(app.screen.query_one("#help-keys").render())
            assert all(key_name in shown for key_name in listed)
            await pilot.press("escape")
            await pilot.pause()
        # Tab / Shift+Tab
        app.query_one(AVG_CONTEXT).focus()
        await pilot.press("tab")
        assert app.focused is app.query_one("#field-workload-prompt-tokens")
        await pilot.press("shift+tab")
        assert app.focused is app.query_one(AVG_CONTEXT)
        # Up / Down, Shift+Up / Shift+Down
        await pilot.press("up")
        await pilot.pause()
        assert app.profile.workload.avg_context_tokens == 4096 + 512
        await pilot.press("down")
        await pilot.pause()
        assert app.profile.workload.avg_context_tokens == 4096
        await pilot.press("shift+up")
        await pilot.pause()
        assert app.profile.workload.avg_context_tokens == 4096 + 8192
        await pilot.press("shift+down")
        await pilot.pause()
        assert app.profile.workload.avg_context_tokens == 4096
        # Enter opens a list, Enter again picks
        app.query_one("#choice-weight-dtype").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one("#choice-weight-dtype", Select).expanded
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.profile.model.weight_dtype.value != "fp8"
        # F2: units
        await pilot.press("f2")
        assert app.units == "GB" and " GB" in vram_text(app)
        await pilot.press("f2")
        assert app.units == "GiB"
        # F3: theme
        first = app.theme
        await pilot.press("f3")
        assert app.theme != first and load_settings().theme == app.theme
        # ctrl+p: the palette
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press("escape")
        await pilot.pause()
        # ctrl+o: open
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, OpenScreen)
        await pilot.press("escape")
        await pilot.pause()
        # ctrl+s: save, asking a name the first time
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SaveAsScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert not app.dirty and app.profile_path.is_file()
        # ctrl+q: quits at once when nothing is unsaved
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0 or app._exit_renderables is not None or not app.is_running


async def test_left_and_right_switch_panes_on_a_narrow_terminal(napkin_home):
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        await app.inputs_mounted.wait()
        tabs = app.query_one("#pane-tabs", Tabs)
        tabs.focus()
        await pilot.press("right")
        await pilot.pause()
        assert tabs.active == "tab-model" and app.query_one("#pane-model").display
        assert not app.query_one("#pane-hardware").display
        await pilot.press("left")
        await pilot.pause()
        assert tabs.active == "tab-hardware"


async def test_quitting_with_unsaved_changes_asks_first(napkin_home):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await app.inputs_mounted.wait()
        await type_into(pilot, AVG_CONTEXT, "5000")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen) and app.is_running
        await pilot.press("escape")  # stay
        await pilot.pause()
        assert not isinstance(app.screen, QuitScreen) and app.dirty
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("q")  # quit without saving
        await pilot.pause()
    assert not app.is_running


async def test_theme_and_units_persist(napkin_home):
    app = make_app(settings=Settings())
    async with app.run_test(size=WIDE) as pilot:
        await app.inputs_mounted.wait()
        app.set_theme("napkin-ansi")
        app.set_units("GB")
        await pilot.pause()
    settings = load_settings()
    assert (settings.theme, settings.units) == ("napkin-ansi", "GB")
    again = make_app(settings=settings)
    async with again.run_test(size=WIDE):
        await again.inputs_mounted.wait()
        assert again.theme == "napkin-ansi" and again.units == "GB"


def test_start_up_opens_the_last_profile_or_the_default_and_says_why(napkin_home, tmp_path):
    last = save_profile(load_profile(shipped_profile("llama-3.1-8b-1xl4.toml")), tmp_path / "last.toml")
    profile, path, problem = opening_profile(None, Settings(last_profile=str(last)))
    assert path == last and problem is None and profile.model.preset == "llama-3.1-8b"
    broken = tmp_path / "broken.toml"
    broken.write_text("[hardware\n")
    profile, path, problem = opening_profile(str(broken), Settings())
    assert path is None and "not valid TOML" in problem and "default profile" in problem
    profile, path, problem = opening_profile(None, Settings(last_profile=str(tmp_path / "gone.toml")))
    assert problem is None and path.name == "llama-3.1-70b-2xh100-fp8.toml"


async def test_a_broken_file_opens_the_default_with_a_notice(napkin_home, tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[hardware]\ngpu = 'h100-sxm'\ncount = -1\n[model]\npreset = 'llama-3.1-8b'\n")
    profile, path, problem = opening_profile(str(broken), Settings())
    app = NapkinApp(profile, path, problem)
    async with app.run_test(size=WIDE) as pilot:
        await app.inputs_mounted.wait()
        await pilot.pause()
        assert any("hardware.count" in str(note.message) for note in app._notifications)


@pytest.mark.parametrize("path", shipped_profiles(), ids=lambda p: p.stem)
async def test_every_shipped_profile_opens_in_the_app(napkin_home, path):
    # seed profiles with an inline model (no preset) leave the preset list blank
    app = NapkinApp(load_profile(path), path)
    async with app.run_test(size=NARROW) as pilot:
        await app.inputs_mounted.wait()
        await pilot.pause()
        preset = app.query_one("#choice-preset", Select)
        assert preset.value == (app.profile.model.preset or Select.NULL)
        assert app.plan == plan(app.profile) and not app.dirty
