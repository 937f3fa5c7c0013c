"""The app under hostile input and fast keys (issue 16): each race found through a real terminal replayed as
its key sequence; untrusted text shown as text wherever a name, path or message appears; FIFOs that leave
the screen answering and ctrl+q quitting within a second; save as that asks before replacing another
profile. (The real-terminal key fuzz is tests/test_key_fuzz.py.)"""

from __future__ import annotations

import html
import json
import os
import re
import stat
import struct
import time
from pathlib import Path

from conftest import QUICK, burst, make_app, started
from textual.command import CommandPalette
from textual.widgets import Input, Label, OptionList

from napkinmath.core.profile.files import load_profile, save_profile
from napkinmath.core.profile.paths import shipped_profile
from napkinmath.tui.app import NapkinApp
from napkinmath.tui.dialogs import ImportConfigScreen, LocalModelsScreen, ReplaceScreen, SaveAsScreen
from napkinmath.tui.file_actions import opening_profile
from napkinmath.tui.settings import Settings, load_settings

CONFIGS = Path(__file__).parent / "data" / "configs"
MARKUP = ("[/]", "[bold red]MODEL[/]", "[@click=app.quit]x[/]")
MINIMAL = '[hardware]\ngpu = "h100-sxm"\n\n[model]\npreset = "llama-3.1-8b"\n'


def on_screen(app) -> str:
    """The screen's text as drawn (the SVG's text without its tags and escapes)."""
    return html.unescape(re.sub(r"<[^>]+>", "", app.export_screenshot())).replace("\xa0", " ")


def notices(app) -> str:
    return "\n".join(str(note.message) for note in app._notifications)


def palettes(app) -> int:
    return sum(isinstance(screen, CommandPalette) for screen in app.screen_stack)


def app_on(path: Path, settings: Settings | None = None) -> NapkinApp:
    """The app as `napkin PATH` starts it: the profile, or the default with the reason it could not open."""
    profile, opened, problem = opening_profile(str(path) if path is not None else None, settings or Settings())
    return NapkinApp(profile, opened, problem, settings)


# ---- races replayed (each crashed the app before) --------------------------------------------------

RACES = [
    # ctrl+p, F1 (or F5, ctrl+o), ctrl+p: DuplicateIds '--command-palette', 4 of 4 runs before
    ("ctrl+p", "f1", "ctrl+p"), ("ctrl+p", "f5", "ctrl+p"), ("ctrl+p", "ctrl+o", "ctrl+p"),
    ("ctrl+p", "ctrl+p", "escape", "ctrl+p"),
    # ctrl+p then PageDown in one burst: KeyError: 0 in OptionList._move_page, 5 of 5 before
    ("ctrl+p", "pagedown"), ("ctrl+o", "pageup"),
    ("ctrl+o", "enter", "enter"),  # a double Enter: the result set twice (InvalidStateError), the planner popped
    ("f5", "escape", "escape"),  # Escape twice on charts: ScreenStackError
    ("f7", "escape"),  # dismissed before it was mounted: NoMatches DataTable
    ("ctrl+o", "ctrl+o", "ctrl+s", "f7"),  # four dialogs stacked before (issue 17)
]


async def test_fast_key_bursts_never_crash_or_stack_screens(napkin_home):
    """Each burst as one press (no pause between its keys), then the screen stack is checked: at most one
    dialog (or the palette) over the planner, never two palettes; Escape brings the planner back."""
    app = make_app(slow=QUICK)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        for keys in RACES:
            await burst(pilot, *keys)
            assert palettes(app) <= 1 and len(app.screen_stack) <= 2, (keys, app.screen_stack)
            for _ in range(3):
                await pilot.press("escape")
            await pilot.pause()
            assert app.screen is app.main, keys
    assert app.return_code != 1


async def test_palette_commands_then_more_keys_in_one_burst(napkin_home):
    """Selecting a command dismisses the palette; the next keys of the burst must not dismiss again or start
    a search on the closing palette (ScreenStackError, NoMatches: CommandList). Of Textual's own system
    commands only Quit is offered (its Theme opened a second palette, its Screenshot writes files)."""
    app = make_app(slow=QUICK)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert [command.title for command in app.get_system_commands(app.screen)] == ["Quit"]
        for command in ("Show keys", "Open profile"):
            await pilot.press("ctrl+p", *command)
            await pilot.pause(0.3)
            await burst(pilot, "enter", "enter", "escape", "x")
            assert palettes(app) == 0 and len(app.screen_stack) <= 2, command
            await pilot.press("escape", "escape")
            await pilot.pause()
        app.main.session.dirty = True  # ctrl+q under a dialog closes it and asks once
        await pilot.press("ctrl+o", "ctrl+q", "ctrl+q")
        await pilot.pause()
        assert type(app.screen).__name__ == "QuitScreen" and len(app.screen_stack) == 2
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


# ---- untrusted text shown as text ------------------------------------------------------------------


def gpu_tool(folder: Path, name: str) -> Path:
    folder.mkdir(exist_ok=True)
    tool = folder / "nvidia-smi"
    tool.write_text(f"#!/bin/sh\nprintf '0, %s, 81559, 550.54.15, Disabled\\n' '{name}'\n")
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return folder


async def settle(pilot, app) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_untrusted_text_is_shown_as_text_everywhere_in_the_app(napkin_home, tmp_path, monkeypatch):
    """`napkin 'draft[/].toml'`; profiles named with markup; refused fields, file names, tensor names, cache
    folders and GPU names with brackets or escape sequences. Each reached a notice, a title or a list
    through Textual markup and crashed the app (or styled it, or made an action clickable) before."""
    cache = tmp_path / "hub"
    snapshot = cache / "models--[--]x" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text((CONFIGS / "llama-3.1-8b.json").read_text())
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    app = app_on(tmp_path / "draft[/].toml")
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        assert "draft[/].toml" in notices(app)  # at start: the profile asked for could not be opened

        name = " ".join(MARKUP)
        main.replace_profile(main.session.profile.model_copy(update={"name": name}))
        await pilot.pause()
        assert name in main.sub_title and name in on_screen(app)  # literally on screen: nothing styled or clickable
        await pilot.press("f5", "escape", "f6", "escape")

        files = {"[bold]x[/].toml": "[bold]x[/].toml", "esc\x1b]0;PWNED\x07.toml": "esc\\x1b]0;PWNED\\x07.toml"}
        folder = tmp_path / "runs"
        folder.mkdir()
        (folder / "[old] llama.toml").write_text("[hardware\n")
        files["runs/[old] llama.toml"] = "runs/[old] llama.toml"
        (tmp_path / "dtype.toml").write_text(MINIMAL + 'weight_dtype = "[/]"\n')
        files["dtype.toml"] = "model.weight_dtype"
        (tmp_path / "key.toml").write_text(MINIMAL + '"[/]" = 1\n')
        files["key.toml"] = "model.[/]"
        for file_name, shown in files.items():
            main.open_profile(tmp_path / file_name)
            await settle(pilot, app)
            assert shown in notices(app), file_name

        model = tmp_path / "model"
        model.mkdir()
        (model / "config.json").write_text((CONFIGS / "llama-3.1-8b.json").read_text())
        header = json.dumps({"[/]": {"dtype": "Q4_K", "shape": [2], "data_offsets": [0, 4]}}).encode()
        (model / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 4)
        main.import_model_from(model, None)
        await settle(pilot, app)
        assert "tensor '[/]' has unknown dtype" in notices(app)

        main.action_local_models()
        await settle(pilot, app)
        assert isinstance(app.screen, LocalModelsScreen)
        assert "[/]x" in str(app.screen.query_one("#models-list #filter-options", OptionList).get_option_at_index(0).prompt)
        await pilot.press("escape")

        path = os.environ["PATH"]
        for gpu, shown in (("[/]", "[/]"), ("[@click=app.quit]x[/]", "[@click=app.quit]x[/]"),
                           ("GPU\x1b]0;PWNED\x07", "GPU\\x1b]0;PWNED\\x07")):
            tools = gpu_tool(tmp_path / f"bin{len(shown)}", gpu)
            monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{path}")
            main.action_detect_gpus()
            await settle(pilot, app)
            assert shown in notices(app), gpu
        assert "\x1b" not in notices(app) and app.screen is main
    assert app.return_code != 1


# ---- FIFOs: the screen keeps answering, ctrl+q quits within a second -------------------------------


def test_fifo_settings_and_last_profile_do_not_hold_the_start(napkin_home, tmp_path):
    napkin_home.mkdir(parents=True)
    os.mkfifo(tmp_path / "last.toml")
    (napkin_home / "settings.toml").write_text(f'last_profile = "{tmp_path / "last.toml"}"\n')
    started_at = time.monotonic()
    settings = load_settings()
    profile, opened, _ = opening_profile(None, settings)
    assert settings.last_profile == str(tmp_path / "last.toml") and opened == shipped_profile(
        "llama-3.1-70b-2xh100-fp8.toml")
    (napkin_home / "settings.toml").unlink()
    os.mkfifo(napkin_home / "settings.toml")
    assert load_settings() == Settings()
    assert time.monotonic() - started_at < 1.0


async def test_fifos_everywhere_leave_the_screen_answering_and_ctrl_q_quick(napkin_home, tmp_path, monkeypatch):
    """A FIFO as the profile at start, as a profile to open, as a safetensors index to import and as the HF
    cache's refs/main: each is refused or skipped without blocking, and ctrl+q quits within a second."""
    os.mkfifo(tmp_path / "fifo.toml")
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text((CONFIGS / "llama-3.1-8b.json").read_text())
    os.mkfifo(model / "model.safetensors.index.json")
    repository = tmp_path / "hub" / "models--org--model"
    (repository / "snapshots" / "abc").mkdir(parents=True)
    (repository / "snapshots" / "abc" / "config.json").write_text((CONFIGS / "llama-3.1-8b.json").read_text())
    (repository / "refs").mkdir()
    os.mkfifo(repository / "refs" / "main")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    started_at = time.monotonic()
    app = app_on(tmp_path / "fifo.toml")
    assert time.monotonic() - started_at < 1.0
    async with app.run_test(size=(80, 24)) as pilot:
        main = await started(pilot)
        assert "named pipe" in notices(app)
        app.clear_notifications()
        main.open_profile(tmp_path / "fifo.toml")
        assert any(worker.group == "open" for worker in app.workers)  # read off the UI thread
        await settle(pilot, app)
        assert "named pipe" in notices(app)
        app.clear_notifications()
        main.action_import_config()
        await pilot.pause()
        assert isinstance(app.screen, ImportConfigScreen)
        app.screen.query_one("#import-path", Input).value = str(model)
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ImportConfigScreen)  # the dialog stays open, saying why it could not import
        assert "named pipe" in str(app.screen.query_one("#import-problem", Label).render())
        await pilot.press("escape")
        await settle(pilot, app)
        main.action_local_models()
        await settle(pilot, app)
        assert app.screen.query_one("#models-list #filter-options", OptionList).option_count == 1
        started_at = time.monotonic()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.return_code == 0 and time.monotonic() - started_at < 1.0  # exit() set it: quitting


# ---- save as asks before replacing another profile -------------------------------------------------


async def test_save_as_and_the_save_before_quitting_ask_before_replacing_another_profile(napkin_home):
    profiles = napkin_home / "profiles"
    profiles.mkdir(parents=True)
    mine = save_profile(load_profile(shipped_profile("llama-3.1-8b-1xl4.toml")), profiles / "mine.toml")
    before = mine.read_bytes()
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        main.session.dirty = True
        await pilot.press("ctrl+q", "s")  # the save before quitting: a shipped example is saved under a name
        await pilot.pause()
        assert isinstance(app.screen, SaveAsScreen)
        app.screen.query_one("#save-name", Input).value = "mine"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReplaceScreen) and mine.read_bytes() == before
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert app.screen is main and mine.read_bytes() == before
        main.action_save_as()
        await pilot.pause()
        app.screen.query_one("#save-name", Input).value = "MINE!"  # a different spelling of the same file
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReplaceScreen)
        await pilot.press("n")  # keep it: back to naming, nothing written
        await pilot.pause()
        assert isinstance(app.screen, SaveAsScreen) and mine.read_bytes() == before
        await pilot.press("enter", "y")
        await pilot.pause()
        assert app.screen is main and load_profile(mine) == main.session.profile and not main.session.dirty
