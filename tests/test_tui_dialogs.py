"""Dialogs (issue 17, item 8): the Open list previews, filters with /, renames, duplicates and deletes without
ever losing a file; the import dialog keeps the typed text on an error and completes paths with Tab."""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import make_app, started
from textual.widgets import Input, OptionList

from napkinmath.core.errors import ProfileError
from napkinmath.core.profile.paths import shipped_profile
from napkinmath.tui.dialogs import ImportConfigScreen, QuitScreen
from napkinmath.tui.filter_list import FilteredList
from napkinmath.tui.open_dialog import OpenScreen
from napkinmath.tui.path_complete import complete_path
from napkinmath.tui.profile_files import (
    checked_name,
    delete_profile,
    duplicate_profile,
    preview,
    read_profile_bytes,
    rename_profile,
)

SMALL = shipped_profile("llama-3.1-8b-1xl4.toml")


@pytest.fixture
def folder(tmp_path):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    for name in ("alpha", "beta"):
        shutil.copy(SMALL, profiles / f"{name}.toml")
    return profiles


@pytest.mark.parametrize(("name", "says"), [("", "a name is required"), ("../up", "names a folder"),
                                            ("a/b", "names a folder"), ("..", "names a folder"),
                                            (".hidden", "starts with a dot"), ("tab\there", "control character"),
                                            ("x" * 101, "too long")])
def test_a_name_that_would_leave_the_folder_or_hide_is_refused(folder, name, says):
    with pytest.raises(ProfileError, match=says):
        checked_name(name, folder)
    assert checked_name("My plan.toml", folder) == folder / "My plan.toml"


def test_rename_duplicate_and_delete_never_lose_a_file(folder):
    original = (folder / "alpha.toml").read_bytes()
    with pytest.raises(ProfileError, match="beta.toml already exists"):
        rename_profile(folder / "alpha.toml", "beta")
    assert (folder / "alpha.toml").read_bytes() == original and (folder / "beta.toml").exists()
    gamma = rename_profile(folder / "alpha.toml", "gamma")
    assert gamma == folder / "gamma.toml" and gamma.read_bytes() == original and not (folder / "alpha.toml").exists()
    copies = [duplicate_profile(gamma, folder) for _ in range(2)]
    assert [c.name for c in copies] == ["gamma-copy.toml", "gamma-copy-2.toml"]
    assert all(c.read_bytes() == original for c in copies)
    example = duplicate_profile(SMALL, folder)  # an example is copied into the user's folder
    assert example == folder / "llama-3.1-8b-1xl4-copy.toml"
    kept = delete_profile(copies[0])
    assert not copies[0].exists() and kept.parent == folder / ".deleted" and kept.read_bytes() == original
    assert sorted(p.name for p in folder.glob("*.toml")) == ["beta.toml", "gamma-copy-2.toml", "gamma.toml",
                                                             "llama-3.1-8b-1xl4-copy.toml"]


def test_a_fifo_under_a_profile_name_is_refused_not_waited_on(folder):
    fifo = folder / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(ProfileError, match="not a regular file"):
        read_profile_bytes(fifo)
    with pytest.raises(ProfileError, match="not a regular file"):
        duplicate_profile(fifo, folder)
    assert preview(fifo).lines[-1].startswith("does not open: ")
    lines = preview(folder / "beta.toml").lines
    assert lines[0] == "Llama 3.1 8B on 1 × NVIDIA L4" and "100 users · $4.38 per user-month · changed " in lines[1]


def test_tab_completion_keeps_the_folder_as_typed(tmp_path, monkeypatch):
    (tmp_path / "models" / "qwen3").mkdir(parents=True)
    (tmp_path / "models" / "qwen2").mkdir()
    (tmp_path / "models" / "llama").mkdir()
    (tmp_path / "models" / ".cache").mkdir()
    monkeypatch.chdir(tmp_path)
    assert complete_path("mod").text == "models/"
    both = complete_path("models/q")
    assert both.text == "models/qwen" and both.choices == ("qwen2/", "qwen3/")
    assert complete_path("models/l").text == "models/llama/"
    assert complete_path("models/").choices == ("llama/", "qwen2/", "qwen3/")  # no hidden ones unless asked
    assert complete_path("models/.c").text == "models/.cache/"
    assert complete_path("nowhere/x").text == "nowhere/x" and complete_path("zz").choices == ()
    monkeypatch.setenv("HOME", str(tmp_path))
    assert complete_path("~/mo").text == "~/models/"


async def test_the_open_list_previews_filters_renames_duplicates_and_deletes(napkin_home, folder, monkeypatch):
    monkeypatch.setenv("NAPKIN_HOME", str(folder.parent))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        main.session.path = folder / "alpha.toml"  # as if opened from there
        await pilot.press("ctrl+o")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, OpenScreen)
        listing, options = dialog.query_one(FilteredList), dialog.query_one(OptionList)
        assert options.highlighted == 0 and options.has_focus  # Enter picks from the first key on
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Llama 3.1 8B on 1 × NVIDIA L4" in str(dialog.query_one("#open-preview").render())
        await pilot.press("slash", *"bet")
        assert [entry.key for entry in listing.shown] == [str(folder / "beta.toml")]
        await pilot.press("escape")  # closes the filter, not the dialog
        assert app.screen is dialog and len(listing.shown) == len(dialog.paths)
        await pilot.press("r")  # rename alpha, first to a name that would leave the folder
        answer = dialog.query_one("#open-answer", Input)
        assert answer.has_focus and answer.value == "alpha"
        answer.value = "../outside"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "names a folder" in str(dialog.query_one("#open-said").render())
        assert (folder / "alpha.toml").exists() and not (folder.parent / "outside.toml").exists()
        await pilot.press("r")
        answer.value = "gamma"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert (folder / "gamma.toml").exists() and not (folder / "alpha.toml").exists()
        assert listing.highlighted_key == str(folder / "gamma.toml") and main.session.path == folder / "gamma.toml"
        await pilot.press("d")  # duplicate gamma
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert listing.highlighted_key == str(folder / "gamma-copy.toml")
        await pilot.press("delete")
        assert "Delete gamma-copy.toml?" in str(dialog.query_one("#open-question").render())
        answer.value = "y"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not (folder / "gamma-copy.toml").exists() and len(list((folder / ".deleted").iterdir())) == 1
        examples = [i for i, entry in enumerate(listing.shown) if "example" in entry.words]
        options.highlighted = examples[0]
        await pilot.press("r")
        assert "is an example and stays as shipped" in str(dialog.query_one("#open-said").render())
        await pilot.press("enter")  # an example opens; nothing was unsaved, so nothing is asked
        await pilot.pause()
        assert app.screen is main and main.session.path == dialog.paths[examples[0]]
        main.edit_field(main_field("workload.users"), "123")
        await pilot.press("ctrl+o")
        await pilot.pause()
        await pilot.press("enter")  # unsaved: asked first; Escape stays with the edits
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen) and app.screen.doing == "open"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is main and main.session.profile.workload.users == 123 and main.session.dirty


def main_field(path):
    from napkinmath.tui.fields import FIELDS_BY_PATH

    return FIELDS_BY_PATH[path]


async def test_the_import_dialog_keeps_the_text_on_an_error_and_completes_with_tab(napkin_home, tmp_path, monkeypatch):
    (tmp_path / "models" / "tiny").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        main = await started(pilot)
        main.action_import_config()
        await pilot.pause()
        field = app.screen.query_one("#import-path", Input)
        field.value = "mod"
        for expected in ("models/", "models/tiny/"):  # one folder at a time, as a shell completes
            await pilot.press("tab")
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert field.value == expected and field.has_focus
        await pilot.press("enter")  # a folder without a config.json: refused, and asked again
        await app.workers.wait_for_complete()
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ImportConfigScreen) and dialog.query_one("#import-path", Input).value == "models/tiny/"
        assert "Not imported: " in str(dialog.query_one("#import-problem").render())
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is main


async def test_late_worker_results_leave_a_dismissed_dialog_alone(napkin_home, folder, monkeypatch):
    """A preview or a path completion that finishes after its dialog was dismissed (Escape in the same burst)
    touches none of its widgets, which Textual is removing: under load this raised NoMatches in the worker."""
    monkeypatch.setenv("NAPKIN_HOME", str(folder.parent))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause()
        await app.workers.wait_for_complete()
        dialog = app.screen
        assert isinstance(dialog, OpenScreen)
        preview_pane = dialog.query_one("#open-preview")
        preview_pane.update("before")
        path = folder / "alpha.toml"
        dialog.dismiss(None)
        dialog._show_preview(path, ("late",))  # the worker's result, arriving while the dialog leaves
        assert str(preview_pane.render()) == "before"
        await pilot.pause()
        assert app.screen is main

        main.action_import_config()
        await pilot.pause()
        importing = app.screen
        assert isinstance(importing, ImportConfigScreen)
        field = importing.query_one("#import-path", Input)
        field.value = "mod"
        importing.dismiss(None)
        importing._completed("mod", "models/", ())
        assert field.value == "mod"
        await pilot.pause()
        assert app.screen is main
