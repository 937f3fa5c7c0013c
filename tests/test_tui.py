"""Pilot tests: what needs a screen, key by key. The editing rules themselves are unit-tested on the edit
session (tests/test_session.py); these check that the screen shows them and that keys reach them."""

from __future__ import annotations

from conftest import enter_text, make_app, started, type_into, vram_text
from textual.command import CommandPalette
from textual.widgets import Input, Label, OptionList, Select, Tabs

from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.files import load_profile, save_profile
from napkinmath.core.profile.paths import shipped_profile, shipped_profiles
from napkinmath.tui import widgets
from napkinmath.tui.actions import ACTIONS, help_rows
from napkinmath.tui.app import NapkinApp
from napkinmath.tui.dialogs import HelpScreen, QuitScreen, SaveAsScreen
from napkinmath.tui.file_actions import opening_profile
from napkinmath.tui.open_dialog import OpenScreen
from napkinmath.tui.settings import Settings, load_settings
from napkinmath.tui.widgets import FieldRow

AVG_CONTEXT = "#field-workload-avg-context-tokens"
TENSOR = "#field-parallelism-tensor"
WIDE, NARROW = (120, 36), (80, 24)


async def test_typing_in_fields_updates_the_outputs_and_the_other_fields(napkin_home):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        main = await started(pilot)
        before = main.plan.capacity.users_served
        await type_into(pilot, AVG_CONTEXT, "16384")
        assert main.plan is main.session.plan and main.plan.capacity.users_served < before
        assert main.query_one(AVG_CONTEXT, Input).value == "16384"
        bar_before = vram_text(main)
        await type_into(pilot, TENSOR, "4")
        assert main.query_one("#field-hardware-count", Input).value == "4"  # the count follows tensor
        assert any(str(note.message).startswith("GPUs 2 → 4: 1 replica of 4 GPUs") for note in app._notifications)
        assert vram_text(main) != bar_before and "4 ×" in vram_text(main)
        assert main.sub_title.endswith("•")


async def test_a_bad_value_is_flagged_and_the_outputs_marked_stale(napkin_home, monkeypatch):
    monkeypatch.setattr(widgets, "APPLY_AFTER_S", 0.05)  # typed text is applied once typing pauses
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        main = await started(pilot)
        await enter_text(pilot, AVG_CONTEXT, "3000")
        good_plan = main.plan
        await pilot.press("x")  # "3000x"
        await pilot.pause(0.3)
        row = main.query_one(f"{AVG_CONTEXT}-row", FieldRow)
        assert row.has_class("-invalid") and main.plan == good_plan
        assert "whole number" in str(main.query_one(f"{AVG_CONTEXT}-error").render())
        assert main.query_one("#outputs").has_class("-stale")
        assert main.sub_title.startswith("⚠ stale plan: Average context")
        await enter_text(pilot, "#field-workload-max-context-tokens", "65536")  # another field: still stale
        assert main.query_one(AVG_CONTEXT, Input).value == "3000x" and row.has_class("-invalid")
        await enter_text(pilot, AVG_CONTEXT, "2048")
        assert not row.has_class("-invalid") and not main.query_one("#outputs").has_class("-stale")
        assert not main.query_one(f"{AVG_CONTEXT}-error").display


async def test_save_then_open_through_the_ui_returns_the_same_profile(napkin_home):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        main = await started(pilot)
        await enter_text(pilot, AVG_CONTEXT, "6000")
        edited = main.session.profile
        await pilot.press("ctrl+s")  # a shipped example: asks a name first
        await pilot.pause()
        assert isinstance(app.screen, SaveAsScreen)
        app.screen.query_one("#save-name", Input).value = ""
        await pilot.press(*list("my what if"), "enter")
        await pilot.pause()
        saved = napkin_home / "profiles" / "my-what-if.toml"
        assert load_profile(saved) == edited and not main.session.dirty and not main.sub_title.endswith("•")
        assert load_settings().last_profile == str(saved)
        await enter_text(pilot, AVG_CONTEXT, "1000")  # change it again, then open the saved one
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, OpenScreen)
        app.screen.query_one(OptionList).highlighted = app.screen.paths.index(saved)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen)  # the edit to 1000 is unsaved: asked first, as on quit
        assert "o: open without saving" in str(app.screen.query_one("Label:last-of-type", Label).render())
        await pilot.press("o")
        await pilot.pause()
        assert main.session.profile == edited and main.query_one(AVG_CONTEXT, Input).value == "6000"
        await pilot.press("ctrl+s")  # now it has a file of its own: saves without asking
        await pilot.pause()
        assert not isinstance(app.screen, SaveAsScreen) and not main.session.dirty
        await pilot.press("ctrl+q")  # quits at once when nothing is unsaved
        await pilot.pause()
        assert app.return_code == 0 and not isinstance(app.screen, QuitScreen)


async def test_the_selects_load_catalog_entries_and_choices(napkin_home):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        main = await started(pilot)
        main.query_one("#choice-gpu", Select).value = "h200"
        await pilot.pause()
        assert main.session.profile.hardware.gpu == "h200"
        # the name follows the plan (issue 17: it stayed "Llama 3.1 70B on 2xH100 SXM") until the user names it
        name = main.query_one("#field-name", Input)
        assert name.value == "Llama 3.1 70B on 2 × H200, FP8 weights" and main.sub_title == name.value + " •"
        name.focus()
        await pilot.press("ctrl+u", *"h200 test", "enter")
        await pilot.pause()
        assert main.sub_title == "h200 test •" and main.session.profile.named
        assert main.query_one("#field-hardware-memory-gib", Input).value == "140.401"
        sampler = main.query_one("#choice-sampler", Select)
        assert sampler.value == "default" and main.session.profile.engine.sampler is None
        sampler.value = "native"
        await pilot.pause()
        assert main.session.profile.engine.sampler == "native"
        sampler.value = "default"  # the unset choice: omitted from the profile again
        await pilot.pause()
        assert main.session.profile.engine.sampler is None


async def test_the_palette_goes_to_a_field_and_loads_a_preset(napkin_home):
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        main = await started(pilot)
        for query in ("Go to: Average context", "Load model: Qwen3 32B"):
            await pilot.press("ctrl+p")
            await pilot.pause()
            assert isinstance(app.screen, CommandPalette)
            app.screen.query_one(Input).value = query  # as if typed: the palette searches on each change
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause()
            if query.startswith("Go to"):
                assert main.focused is main.query_one(AVG_CONTEXT)
                assert main.query_one("#pane-tabs", Tabs).active == "tab-workload"  # narrow: its pane is shown
                assert main.query_one("#pane-workload").display
        assert main.session.profile.model.preset == "qwen3-32b"


async def test_every_key_in_the_help_screen_does_what_it_says(napkin_home):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        main = await started(pilot)
        for key in ("question_mark", "f1"):  # ? and F1: the list, made from the action table
            main.query_one("#choice-gpu").focus()
            await pilot.press(key)
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen) and app.screen.focused.id == "help-scroll"
            shown = str(app.screen.query_one("#help-keys").render())
            assert all(keys in shown and what in shown for keys, what in help_rows())
            await pilot.press("escape")
            await pilot.pause()
        app.query_one(AVG_CONTEXT).focus()  # Tab / Shift+Tab
        await pilot.press("tab")
        assert main.focused is main.query_one("#field-workload-prompt-tokens")
        await pilot.press("shift+tab")
        assert main.focused is main.query_one(AVG_CONTEXT)
        for key, expected in (("up", 4096 + 512), ("down", 4096), ("shift+up", 4096 + 8192), ("shift+down", 4096)):
            await pilot.press(key)
            await pilot.pause()
            assert main.session.profile.workload.avg_context_tokens == expected
        main.query_one("#choice-weight-dtype").focus()  # Enter opens a list, Enter again picks
        await pilot.press("enter")
        await pilot.pause()
        assert main.query_one("#choice-weight-dtype", Select).expanded
        await pilot.press("down", "enter")
        await pilot.pause()
        assert main.session.profile.model.weight_dtype.value != "fp8"
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert main.session.profile.model.weight_dtype.value == "fp8"
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert main.session.profile.model.weight_dtype.value != "fp8"
        await pilot.press("f2")
        assert main.units == "GB" and " GB" in vram_text(main)
        await pilot.press("f2")
        assert main.units == "GiB"
        first = app.theme
        await pilot.press("f3")
        assert app.theme != first and load_settings().theme == app.theme
        await pilot.press("f4")
        assert main.session.baseline is not None
        # The other keys are pressed where their screens are checked: ctrl+p in the palette test, ctrl+s,
        # ctrl+o and ctrl+q (nothing unsaved) in the save/open test, ctrl+q (unsaved) in the quit test,
        # F5, F6 and F7 in tests/test_tui_whatif.py.


def test_the_help_lists_every_bound_key_and_the_footer_every_main_one():
    from napkinmath.tui.actions import bindings

    listed = " ".join(keys for keys, _ in help_rows())
    bound = [binding for scope in ("screen", "app") for binding in bindings(scope)
             if binding.action != "help_quit"]  # Textual's own ctrl+c hint ("press ctrl+q to quit"), kept hidden
    for binding in bound:
        first = binding.key.split(",")[0]
        assert (binding.key_display or first).replace("question_mark", "?").lower() in listed.lower(), binding.key
        assert binding.show, f"{binding.key} ({binding.action}) is bound but not in the footer"
    assert {"f2", "f3", "f6", "f7", "ctrl+y"} <= {binding.key for binding in bound}
    palette = [row for row in ACTIONS if row.palette]
    assert len({row.palette for row in palette}) == len(palette)  # no two palette entries alike


def test_every_palette_command_and_binding_names_an_action_that_exists():
    from textual.actions import parse

    from napkinmath.tui.actions import bindings
    from napkinmath.tui.commands import planner_commands
    from napkinmath.tui.main_screen import MainScreen

    actions = [action for _, action, _ in planner_commands([("GPU", "choice-gpu")])]
    actions += [f"app.{b.action}" for b in bindings("app")] + [b.action for b in bindings("screen")]
    assert len(actions) > 60
    for action in actions:
        destination, name, _ = parse(action)
        owner = NapkinApp if destination == "app" else MainScreen
        assert callable(getattr(owner, f"action_{name}", None)), action


async def test_left_and_right_switch_panes_on_a_narrow_terminal_and_the_footer_lists_the_keys(napkin_home):
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        main = await started(pilot)
        shown = {key for key, active in app.active_bindings.items() if active.binding.show}
        assert {"ctrl+s", "ctrl+o", "ctrl+z", "ctrl+y", "f2", "f3", "f4", "f5", "f6", "f7", "ctrl+q"} <= shown
        tabs = main.query_one("#pane-tabs", Tabs)
        tabs.focus()
        await pilot.press("right")
        await pilot.pause()
        assert tabs.active == "tab-model" and main.query_one("#pane-model").display
        assert not main.query_one("#pane-hardware").display
        await pilot.press("left")
        await pilot.pause()
        assert tabs.active == "tab-hardware"


async def test_quitting_with_unsaved_changes_asks_first(napkin_home):
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        await started(pilot)
        await enter_text(pilot, AVG_CONTEXT, "5000")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen) and app.return_code is None
        await pilot.press("escape")  # stay
        await pilot.pause()
        assert not isinstance(app.screen, QuitScreen) and app.main.session.dirty and app.return_code is None
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("q")  # quit without saving
        await pilot.pause()
        assert app.return_code == 0


async def test_theme_and_units_persist(napkin_home):
    app = make_app(settings=Settings())
    async with app.run_test(size=WIDE) as pilot:
        main = await started(pilot)
        app.action_set_theme("napkin-ansi")
        main.action_set_units("GB")
        await pilot.pause()
    settings = load_settings()
    assert (settings.theme, settings.units) == ("napkin-ansi", "GB")
    again = make_app(settings=settings)  # the next start takes them up before anything is drawn
    assert again.theme == "napkin-ansi" and again.main.units == "GB"


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
        await started(pilot)
        notices = [note for note in app._notifications if "hardware.count" in str(note.message)]
        assert notices and not notices[0].markup  # a file's text is shown as text, never as markup


async def test_every_shipped_profile_shows_in_the_app(napkin_home):
    # seed profiles with an inline model (no preset) leave the preset list blank
    app = make_app()
    async with app.run_test(size=NARROW) as pilot:
        main = await started(pilot)
        for path in shipped_profiles():
            main.open_profile(path)
            await pilot.pause()
            profile = main.session.profile
            assert profile == load_profile(path) and main.plan == plan(profile) and not main.session.dirty
            assert main.query_one("#choice-preset", Select).value == (profile.model.preset or Select.NULL)
            assert main.query_one("#field-workload-users", Input).value == str(profile.workload.users)
            room = main.title_room()  # a long name is cut to the room, with an ellipsis
            assert main.sub_title == (profile.name[:room - 1].rstrip() + "…" if len(profile.name) > room
                                      else profile.name), profile.name



async def test_the_engine_select_offers_every_engine_a_profile_can_name(napkin_home):
    """SGLang and TensorRT-LLM were planned from a file but not offered by the select (it showed "custom" for them);
    a switch takes the engine's newest release and, where the KV dtype was the old engine's default, the new one's
    (core/profile/edit.py)."""
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        main = await started(pilot)
        engine = main.query_one("#choice-engine", Select)
        engine.value = "sglang"
        await pilot.pause()
        profile = main.session.profile
        assert profile.engine.name == "sglang" and profile.engine.version == "0.5.9"
        version = main.query_one("#choice-vllm-version", Select)
        assert version.value == "0.5.9"  # the version select offers the engine's releases (it showed "custom")
        assert str(main.query_one("#choice-vllm-version-row Label").render()) == "SGLang"
        engine.value = "trtllm"
        await pilot.pause()
        profile = main.session.profile
        assert profile.engine.name == "trtllm" and str(profile.model.kv_dtype) == "fp8"  # fp8 weights
        assert engine.value == "trtllm" and version.value == profile.engine.version
