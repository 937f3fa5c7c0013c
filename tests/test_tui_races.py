"""Races found by the real-terminal key fuzz (scripts/key_fuzz.py, issue 16) after the hostile-input work,
each replayed here; the guards are in tui/textual_guards.py (faults in Textual 8.2.8)."""

from __future__ import annotations

from conftest import make_app, started
from test_tui_hostile import QUICK

# The planner's actions that open a dialog or an analysis screen at once (ctrl+o, F1, F5-F8, the palette's).
OPENERS = ("open", "help", "save_as", "charts", "compare", "compare_with_profile", "recommend", "load",
           "load_test", "import_config", "local_models", "calibrate_log", "calibrate_measured")


async def test_a_screen_closed_in_the_moment_it_opens_does_not_crash(napkin_home):
    """ctrl+o then ctrl+q read from the terminal in one go: the dialog is pushed, and before its widgets are
    composed the quit closes it (unsaved changes: pop it, then ask) or the app exits. Textual still sent it
    Mount, and the Open dialog's on_mount found no list (NoMatches: FilteredList; 80x24, seed 1)."""
    app = make_app(slow=QUICK)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await started(pilot)
        for name in OPENERS:
            main.session.dirty = True
            getattr(main, f"action_{name}")()
            main.request_quit()
            await pilot.pause()
            await pilot.pause(0.2)
            assert app.is_running and len(app.screen_stack) <= 2, (name, app.screen_stack)
            while app.screen is not main:
                app.screen.dismiss(None)  # type: ignore[arg-type]
                await pilot.pause()
    for name in ("open", "recommend"):  # nothing unsaved: ctrl+q exits while the screen is being built
        app = make_app(slow=QUICK)
        async with app.run_test(size=(80, 24)) as pilot:
            main = await started(pilot)
            getattr(main, f"action_{name}")()
            app.exit()
            await pilot.pause()
        assert app.return_code == 0, name

