"""The recommended deployments (F7). Charts are tui/charts.py, compare side by side tui/compare_screen.py.

Every number comes from the core (``core.tools.recommend``); this screen only lays it out. The search
runs in a worker thread (the function comes in from tui/slow_calls.py), with the table marked loading
meanwhile, so Escape always answers.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.widgets import DataTable, Footer, Header, Label
from textual.worker import get_current_worker

from napkinmath.core.errors import ProfileError
from napkinmath.core.profile.schema import Profile
from napkinmath.core.tools.recommend import (
    EXTRAPOLATED_NOTE_SHORT,
    Candidate,
    extrapolated_speed,
    shape_text,
    speed_text,
    targets_text,
)

from .safe_text import plain
from .stack import Page


class RecommendScreen(Page[Candidate | None]):
    """The catalog deployments that meet the workload's targets, cheapest first; Enter loads one."""

    BINDINGS = [Binding("escape", "cancel", "Back")]
    DEFAULT_CSS = """
    RecommendScreen DataTable { height: 1fr; }
    RecommendScreen #recommend-title { margin: 0 1; text-style: bold; width: 1fr; }
    RecommendScreen #recommend-note { margin: 0 1; color: $text-muted; width: 1fr; }
    """

    def __init__(self, profile: Profile, search: Callable[[Profile], list[Candidate]]) -> None:
        super().__init__()
        self.profile = profile
        self.search = search
        self.candidates: list[Candidate] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(plain(f"Deployments for {targets_text(self.profile)}, cheapest first ($/user: per user-month; "
                          f"Enter loads one)"),
                    id="recommend-title")
        yield DataTable(id="recommend-table", cursor_type="row", zebra_stripes=True)
        yield Label("", id="recommend-note")  # what a marked figure means, when one is
        yield Footer()

    def on_mount(self) -> None:
        try:
            table = self.query_one(DataTable)
        except NoMatches:  # Escape in the same burst as F7: dismissed before it was mounted
            return
        table.add_columns("GPU", "GPUs", "split", "weights/KV", "$/user", "tok/s", "TTFT", "least room")
        table.loading = True
        table.focus()
        self.run_worker(self._search, thread=True, exclusive=True, group="recommend")

    def _search(self) -> None:
        try:
            candidates = self.search(self.profile)
        except ProfileError:  # a profile the search cannot vary: nothing to recommend
            candidates = []
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, candidates)

    def _show(self, candidates: list[Candidate]) -> None:
        if self.gone:  # closed while the search ran
            return
        self.candidates = candidates
        try:
            table = self.query_one(DataTable)
        except NoMatches:
            return
        table.loading = False
        for c in self.candidates:
            cells = (c.gpu_id, str(c.gpus), shape_text(c), f"{c.weight_dtype}/{c.kv_dtype}",
                     f"${c.per_user_month:,.2f}", speed_text(c),
                     f"{c.plan.prefill.ttft:,.2f} s", c.tightest)  # the sentence: the loaded profile's description
            table.add_row(*(plain(cell) for cell in cells))  # a DataTable parses plain strings as markup
        if any(extrapolated_speed(c) for c in self.candidates):
            self.query_one("#recommend-note", Label).update(EXTRAPOLATED_NOTE_SHORT)
        if not self.candidates:
            self.query_one("#recommend-title", Label).update(
                "No catalog deployment of up to 64 GPUs meets these targets")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(self.candidates[event.cursor_row])

    def action_cancel(self) -> None:
        self.dismiss(None)
