"""Races found by the real-terminal key fuzz (scripts/key_fuzz.py, issue 16) after the hostile-input work,
each replayed here; the guards are in tui/textual_guards.py (faults in Textual 8.2.8)."""

from __future__ import annotations

import math

from conftest import QUICK, burst, make_app, started
from textual.command import CommandList
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from napkinmath.tui.dialogs import QuitScreen

# The planner's actions that open a dialog or an analysis screen at once (ctrl+o, F1, F5-F8, the palette's).
OPENERS = ("open", "help", "save_as", "charts", "compare", "compare_with_profile", "recommend", "load",
           "load_test", "import_config", "local_models", "calibrate_log", "calibrate_measured")


async def test_a_screen_closed_in_the_moment_it_opens_does_not_crash(napkin_home):
    """ctrl+o then ctrl+q read from the terminal in one go: the dialog is pushed, and before its widgets are
    composed the quit closes it (unsaved changes: pop it, then ask) or the app exits. Textual still sent it
    Mount, and the Open dialog's on_mount found no list (NoMatches: FilteredList; 80x24, seed 1). And the
    question is asked: the push used to come before Textual's deferred pop, and was refused."""
    app = make_app(slow=QUICK)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await started(pilot)
        for name in OPENERS:
            main.session.dirty = True
            getattr(main, f"action_{name}")()
            main.request_quit()
            await pilot.pause()
            await pilot.pause(0.2)
            assert app.is_running and len(app.screen_stack) == 2, (name, app.screen_stack)
            assert isinstance(app.screen, QuitScreen), (name, app.screen_stack)  # closed, then asked
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


def removed_watchers(app) -> list[str]:
    """Watchers (data_bind, watch) still held for nodes that have been removed."""
    found = []
    for screen in app.screen_stack:
        for node in [screen, *screen.walk_children()]:
            for attribute, watchers in getattr(node, "__watchers", {}).items():
                found += [f"{node!r}.{attribute} <- {owner!r}" for owner, _ in watchers if owner._closing]
    return found


async def test_focus_changes_do_not_pile_up_footer_bindings(napkin_home):
    """The footer re-composes its keys on every focus change, each key bound to the footer's ``compact``
    (Textualize/textual#6666): the removed keys stayed on its watcher list, which every new binding scans.
    After the 80x24 fuzz's thousands of keys the app did not answer Escape or ctrl+q for 6 s (its stack:
    in ``_watch`` under ``_initialize_data_bind``). Replayed: many focus changes, the fuzz's last keys, and
    the list holds only the keys on screen."""
    app = make_app(slow=QUICK)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await started(pilot)
        footer = main.query_one(Footer)
        for _ in range(12):
            await burst(pilot, "tab", "tab", "shift+tab", "down", "tab")
        await pilot.press("ctrl+p", *"h100")
        await pilot.pause(0.4)
        await burst(pilot, "enter", "ctrl+p", "ctrl+p")
        await pilot.press(*"Units: GB")
        await pilot.pause(0.4)
        await burst(pilot, "enter", "escape", "escape")
        await pilot.pause(0.3)
        keys = len(footer.query(FooterKey))
        bound = len(getattr(footer, "__watchers", {}).get("compact", []))
        assert keys > 0 and bound <= keys, (bound, keys)
        assert removed_watchers(app) == []
        main.session.dirty = False
        await burst(pilot, "escape", "escape", "ctrl+q", "q")  # how the fuzz quits at the end
    assert app.return_code == 0


async def test_one_ctrl_q_over_a_screen_closes_it_and_asks(napkin_home):
    """With unsaved changes, ctrl+q over a dialog, an analysis screen or the palette closes it and asks at
    once (it used to close it only: the question was pushed before Textual's deferred pop, and refused)."""
    app = make_app(slow=QUICK)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await started(pilot)
        main.session.dirty = True
        for keys in (("ctrl+o",), ("f1",), ("ctrl+p",), ("f8",)):
            await pilot.press(*keys)
            await pilot.pause(0.2)
            assert app.screen is not main, keys
            await pilot.press("ctrl+q")
            await pilot.pause(0.2)
            assert isinstance(app.screen, QuitScreen) and len(app.screen_stack) == 2, (keys, app.screen_stack)
            await pilot.press("escape")  # stay
            await pilot.pause()
            assert app.screen is main, keys


async def test_keys_while_screens_are_removed_do_nothing(napkin_home):
    """Keys that reach a screen being torn down (the app quitting) found its widgets gone: the palette's
    Down/PageDown (NoMatches: CommandList in _action_command_list) and the planner's undo (NoMatches:
    #hardware-info in show_session), 5 crashes in the 80x24 and 120x36 fuzz runs. Replayed with the widgets
    removed as the teardown removes them."""
    app = make_app(slow=QUICK)
    async with app.run_test(size=(80, 24)) as pilot:
        main = await started(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        palette = app.screen
        await palette.query_one(CommandList).remove()  # what the quitting app's pruning does first
        await burst(pilot, "down", "pagedown", "up", "pagedown")
        assert app.is_running
        await palette.dismiss()
        await pilot.pause()
        await pilot.press("f2")  # an edit to undo
        await main.query_one("#panes").remove()
        app.exit()
        assert not await app.run_action("undo", main)
    assert app.return_code == 0


def test_a_log_axis_over_one_value_has_a_span():
    """A chart whose sweep had one x value drew a log axis from 1 to 1; plotext divides by the span
    (ZeroDivisionError in get_matrix_data, the 80x24 seed 1 fuzz run on F5)."""
    import plotext

    from napkinmath.tui.chart_axes import log_axis

    for integer in (True, False):
        axis = log_axis([1.0, 1.0], integer)
        assert axis.low < 1.0 < axis.high and axis.ticks, axis
        plotext.clear_figure()
        plotext.plotsize(72, 20)
        plotext.plot([0.0], [1.0])
        plotext.xlim(math.log10(axis.low), math.log10(axis.high))
        assert plotext.build()
