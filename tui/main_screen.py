"""The planner screen: three input panes (plus engine & cost), the VRAM bar, the roofline, capacity, cost.

The screen drives one ``EditSession`` (tui/session.py) and shows what it holds: the plan, the profile
and the baseline live in reactives that ``data_bind`` hands to the output widgets. Field rows report
each keystroke through a callback; selects post ``CatalogChosen``. A refused value is marked on its
field, and the last good plan stays on screen, marked stale. Its keys come from the action table
(tui/actions.py); file, discovery and analysis actions come from their own modules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.command import Provider
from textual.containers import Container, Horizontal, Vertical
from textual.events import Resize
from textual.reactive import reactive, var
from textual.widget import Widget
from textual.widgets import Header, Static

from napkinmath.core.plan.result import Plan
from napkinmath.core.profile.schema import Profile

from .actions import bindings, help_rows
from .analysis_actions import AnalysisActions
from .compositor import ClusteredCompositor
from .discovery import DiscoveryActions
from .fields import Field
from .file_actions import FileActions
from .layout import HORIZONTAL_BREAKPOINTS, breakpoint_classes, compact_outputs, footer_form
from .messages import CatalogChosen
from .outputs import CapacityPanel, CostPanel, RooflineGauge
from .problems import ProblemsStrip
from .safe_text import plain
from .session import EditSession
from .settings import SettingsStore
from .slow_calls import SlowCalls
from .vram_bar import VramBar

if TYPE_CHECKING:
    from textual.widgets import Collapsible, Tabs  # the panes' widgets, imported where used (after the first frame)

    from .widgets import ChoiceRow, FieldRow, NameRow

# The problems strip's lines (a plan that runs, one that does not): under the VRAM bar at 120x36, what
# leaves the capacity panel all its rows (it has five when nothing runs); under the input pane on a
# narrow terminal, what leaves the hardware pane all of its.
WIDE_PROBLEM_LINES = (2, 3)
HEADER_USED_COLUMNS = 34  # Textual's header: its icon (8) and clock space (10), "napkinmath — " (13), a margin
NARROW_PROBLEM_LINES = (7, 7)


def _planner_commands() -> type[Provider]:
    """The palette's provider (tui/commands.py), imported when the palette first opens."""
    from .commands import PlannerCommands

    return PlannerCommands


class MainScreen(FileActions, DiscoveryActions, AnalysisActions):
    """A live what-if planner for serving an LLM."""

    BINDINGS = bindings("screen")
    COMMANDS = {_planner_commands}  # imported when the palette opens, not before the first plan
    HORIZONTAL_BREAKPOINTS = HORIZONTAL_BREAKPOINTS

    profile: var[Profile | None] = var(None, init=False)
    plan: var[Plan | None] = var(None, init=False)
    baseline: var[Plan | None] = var(None, init=False)  # the pinned plan the outputs compare against
    units: reactive[str] = reactive("GiB", init=False)
    compact: var[bool] = var(False, init=False)  # the outputs' compact rendering (tui/layout.py decides)

    def __init__(self, session: EditSession, slow: SlowCalls, settings: SettingsStore,
                 after_start: Callable[[], None] | None = None) -> None:
        super().__init__(session, slow, settings)
        self._compositor = ClusteredCompositor()  # a keystroke renders the field and the plan, not all between
        self.after_start = after_start
        self.field_rows: dict[str, FieldRow] = {}  # field path -> its row
        self.choice_rows: list[ChoiceRow] = []
        self.info_texts: dict[str, str] = {}
        self.name_row: NameRow | None = None
        self.strips: list[ProblemsStrip] = []
        self.inputs_ready = False
        self.inputs_mounted = asyncio.Event()  # set once the input panes exist (tests await it)
        self.set_reactive(MainScreen.profile, session.profile)
        self.set_reactive(MainScreen.plan, session.plan)
        self.set_reactive(MainScreen.units, settings.settings.units)

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        self.set_reactive(MainScreen.compact, compact_outputs(*self.app.size))
        self.update_classes(breakpoint_classes(self.app.size.width), update=False)
        yield Header()
        self.strips = [ProblemsStrip(*NARROW_PROBLEM_LINES, id="problems-narrow"),
                       ProblemsStrip(*WIDE_PROBLEM_LINES, id="problems-wide")]
        with Container(id="main"):
            with Vertical(id="inputs"):  # the panes are mounted right after the first paint: see _mount_inputs
                yield self._bound(self.strips[0])
            with Vertical(id="outputs"):
                yield self._bound(VramBar(id="vram"))
                yield self._bound(self.strips[1])
                with Container(id="bottom"):
                    for widget in (RooflineGauge(id="roofline"), CapacityPanel(id="capacity"), CostPanel(id="cost")):
                        yield self._bound(widget)

    @staticmethod
    def _bound(widget: Widget) -> Widget:
        return widget.data_bind(MainScreen.plan, MainScreen.profile, MainScreen.units, MainScreen.baseline,
                                MainScreen.compact)

    def on_mount(self) -> None:
        self.sub_title = self.session.title(self.title_room())
        self.call_after_refresh(self._mount_inputs)

    async def _mount_inputs(self) -> None:
        """Build the input panes once the plan is on screen.

        Its ~190 widgets take about half a second to build and style on a small machine; the figures
        need only a dozen. Painting the plan first shows the answer half a second sooner
        (bench/tui_latency.py reports both moments).
        """
        # built after the first paint, so imported then too (bench/tui_cpu.py: CPU to the first plan)
        from .footer import PlannerFooter
        from .panes import input_panes, pane_tabs
        from .widgets import ChoiceRow, FieldRow, NameRow

        panes = list(input_panes(self.session.profile, self, self.rename))
        await self.query_one("#inputs").mount(pane_tabs(), Horizontal(*panes, id="panes"),
                                              before="#problems-narrow")
        if not self.is_attached:  # quit while the panes were being built (ctrl+q at once): nothing more to show
            return
        # it lists the focused widget's keys: nothing before the fields exist
        await self.mount(PlannerFooter(footer_form(self.app.size.width)))
        self.field_rows = {row.field.path: row for row in self.query(FieldRow)}
        self.choice_rows = list(self.query(ChoiceRow))
        self.name_row = self.query_one(NameRow)
        self.inputs_ready = True
        self.show_session()
        if self.focused is None:
            self.focus_next()
        self.inputs_mounted.set()
        if self.after_start is not None:
            self.after_start()

    def on_resize(self, event: Resize) -> None:
        self.compact = compact_outputs(event.size.width, event.size.height)
        from .footer import PlannerFooter

        for footer in self.query(PlannerFooter):
            footer.form = footer_form(event.size.width)
        self.sub_title = self.session.title(self.title_room(event.size.width))

    # ----------------------------------------------------------------- showing the session
    def show_session(self, force: bool = False) -> None:
        """Plan, fields, selects, info lines, marks and title follow the session.

        The field being typed in keeps its text unless ``force`` (a whole new profile was loaded).
        """
        session = self.session
        self.profile, self.plan, self.baseline = session.profile, session.plan, session.baseline
        if self.inputs_ready:
            from .panes import model_summary, values_in_use, version_choices, version_label

            profile = session.profile
            for path, placeholder in values_in_use(profile, session.plan).items():
                field_input = self.field_rows[path].input
                if field_input.placeholder != placeholder:
                    field_input.placeholder = placeholder
            for path, row in self.field_rows.items():
                refusal = session.refused.get(path)
                row.show_error(refusal.reason if refusal else None)
                if force or refusal is None:
                    row.show_value(row.field.format(row.field.value_of(profile)), force)
            for choice in self.choice_rows:
                if choice.path == "engine.version":  # its releases and label are the engine's
                    choice.offer(version_choices(profile), version_label(profile))
                if choice.path == "model.preset" and force:
                    for name in session.session_models:
                        if name not in choice.values:
                            choice.add_option(f"{name} (imported)", name)
                choice.show_value(session.shown_value(choice.path))
            if self.name_row is not None:
                self.name_row.show_name(profile.name, force)
            self._update_static("#hardware-info", profile.hardware.name)
            self._update_static("#model-info", model_summary(profile))
        stale = session.stale_reason()
        for strip in self.strips:
            strip.stale = stale
        outputs = self.query_one("#outputs")
        outputs.set_class(session.stale, "-stale")
        outputs.set_class(session.baseline is not None, "-pinned")
        self.sub_title = session.title(self.title_room())

    def title_room(self, width: int = 0) -> int:
        """Characters the header has for the sub-title: its width (``width``, else the screen's) less the
        icon and "napkinmath — "."""
        return max(20, (width or self.size.width or self.app.size.width) - HEADER_USED_COLUMNS)

    def _update_static(self, selector: str, text: str) -> None:
        """Static.update lays the screen out again: only call it when the text really changes."""
        if self.info_texts.get(selector) != text:
            self.info_texts[selector] = text
            self.query_one(selector, Static).update(plain(text))

    # ----------------------------------------------------------------- edits
    def edit_field(self, field: Field, text: str, final: bool = True) -> None:
        """Typed text from a field row (after a pause, Enter, Tab or Up/Down): the session applies it or
        marks it refused."""
        self.session.type_text(field, text, final)
        self.show_session()
        if self.session.note:
            self.say(self.session.note, title=field.label, timeout=4)
            self.session.note = ""

    def rename(self, name: str) -> None:
        """The name row was typed in: the profile is named (emptied: named automatically again)."""
        if self.session.rename(name):
            self.show_session()
        if not name.strip() and self.name_row is not None:
            self.name_row.show_name(self.session.profile.name, force=True)

    def nudged_text(self, field: Field, text: str, direction: int, big: bool) -> str:
        return self.session.nudged(field, text, direction, big)

    def apply_typing(self) -> None:
        """Apply what is typed but waiting for a pause, before any key's action runs (ctrl+s saves what is
        on screen)."""
        for row in self.field_rows.values():
            if row.pending is not None or row.provisional:
                row.apply_pending()

    def on_catalog_chosen(self, message: CatalogChosen) -> None:
        self.action_choose(message.path, message.value)

    def action_choose(self, path: str, value: str | None) -> None:
        """Load a catalog entry or precision, or set a choice (a select or the palette)."""
        outcome = self.session.choose(path, value)
        if outcome.refused:
            self.say(outcome.refused, title="Not applied", severity="error")
        if outcome.changed:
            self.show_session(force=True)

    def action_undo(self) -> None:
        if self.session.undo():
            self.show_session(force=True)
        else:
            self.say("Nothing to undo", timeout=2)

    def action_redo(self) -> None:
        if self.session.redo():
            self.show_session(force=True)
        else:
            self.say("Nothing to redo", timeout=2)

    def action_pin(self) -> None:
        """Pin the current plan as the baseline every output compares against; pressed again, unpin."""
        if self.session.toggle_pin():
            self.say("Outputs now show their change against this plan (F4 again unpins)", title="Baseline pinned",
                     timeout=4)
        else:
            self.say("Baseline unpinned", timeout=2)
        self.show_session()

    # ----------------------------------------------------------------- moving around, look
    def action_focus_field(self, widget_id: str) -> None:
        """Move the cursor to a field, switching to its pane on narrow terminals."""
        if not self.inputs_ready:
            return
        from textual.widgets import Collapsible, Tabs

        widget = self.query_one(f"#{widget_id}")
        for section in widget.ancestors:
            if isinstance(section, Collapsible):
                section.collapsed = False
        pane = next(ancestor for ancestor in widget.ancestors if ancestor.has_class("pane"))
        self.query_one("#pane-tabs", Tabs).active = "tab-" + str(pane.id).removeprefix("pane-")
        # a pane that was hidden takes focus only once it is laid out again
        self.call_after_refresh(widget.focus)

    def on_collapsible_expanded(self, event: Collapsible.Expanded) -> None:
        """The Engine & cost pane's sections fold like an accordion: one open at a time."""
        from textual.widgets import Collapsible

        for section in self.query(Collapsible):
            if section is not event.collapsible and section.parent is event.collapsible.parent:
                section.collapsed = True

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        name = str(event.tab.id).removeprefix("tab-")
        for pane in self.query(".pane"):
            pane.set_class(pane.id == f"pane-{name}", "-active")

    def action_help(self) -> None:
        from .dialogs import HelpScreen

        self.open_dialog(HelpScreen(help_rows()))

    def action_problems(self) -> None:
        """Every problem and note of the plan, whole."""
        from .problems import ProblemsScreen

        self.open_dialog(ProblemsScreen(self.session.plan))

    def action_set_units(self, units: str) -> None:
        self.units = units
        self.settings.remember(units=units)

    def action_toggle_units(self) -> None:
        self.action_set_units("GB" if self.units == "GiB" else "GiB")
