"""Screens for comparative questions: charts of sweeps and recommended deployments (compare side by side is
tui/compare_screen.py).

Every number comes from the core (``core.tools.sweep`` series, ``core.plan.figures`` deltas,
``core.tools.recommend``); these screens only lay it out. Sweeps and the recommendation search run in
worker threads (the functions come in from tui/slow_calls.py), with the table or chart marked loading
meanwhile, so Escape always answers.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Select, Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from napkinmath.core.errors import ProfileError
from napkinmath.core.plan.figures import FIGURES
from napkinmath.core.profile.schema import Profile
from napkinmath.core.tools.recommend import Candidate
from napkinmath.core.tools.sweep import Series

from .fields import ALL_FIELDS
from .safe_text import plain

SeriesFor = Callable[[Profile, str, str, str], Series]  # (profile, chart kind, field path, figure key)

CHARTS = [("Users served vs average context", "context"), ("Decode speed vs batch", "batch"),
          ("$/user-month vs GPU count", "gpus"), ("Any field vs any figure", "custom")]


class ChartsScreen(Screen[None]):
    """Sweeps drawn as charts; Escape goes back to the planner."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]
    DEFAULT_CSS = """
    ChartsScreen #chart-controls { height: 1; margin: 0 1; }
    ChartsScreen #chart-controls Select { width: 1fr; margin-right: 1; }
    ChartsScreen PlotextPlot { height: 1fr; }
    ChartsScreen #chart-note { height: auto; margin: 0 1; color: $text-muted; }
    """

    def __init__(self, profile: Profile, series_for: SeriesFor) -> None:
        super().__init__()
        self.profile = profile
        self.series_for = series_for
        self.series: Series | None = None  # the one drawn

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="chart-controls"):
            yield Select(CHARTS, value="context", allow_blank=False, compact=True, id="chart-kind")
            yield Select([(f.label, f.path) for f in ALL_FIELDS], value="workload.avg_context_tokens",
                         allow_blank=False, compact=True, id="chart-field")
            yield Select([(f"{f.label} ({f.unit})", f.key) for f in FIGURES], value="users_served",
                         allow_blank=False, compact=True, id="chart-figure")
        yield PlotextPlot(id="chart")
        yield Static("", id="chart-note")
        yield Footer()

    drawn: tuple[object, ...] | None = None  # the (kind, field, figure) on screen

    def on_mount(self) -> None:
        self.draw()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.draw()  # each select also reports its first value as it mounts: draw() skips those repeats

    def draw(self) -> None:
        """Sweep in a worker for the chosen chart (the plot shows it is loading), then plot it here."""
        choice = tuple(str(self.query_one(f"#chart-{name}", Select).value) for name in ("kind", "field", "figure"))
        if choice == self.drawn:
            return
        self.drawn = choice
        custom = choice[0] == "custom"
        self.query_one("#chart-field").display = custom
        self.query_one("#chart-figure").display = custom
        self.query_one(PlotextPlot).loading = True
        self.run_worker(lambda: self._sweep(choice), thread=True, exclusive=True, group="sweep")

    def _sweep(self, choice: tuple[str, ...]) -> None:
        try:
            series: Series | str = self.series_for(self.profile, *choice)
        except ProfileError as error:  # a field no chart can vary (an optional one left to its default)
            series = str(error)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._plot, series)

    def _plot(self, series: Series | str) -> None:
        if not self.is_attached:  # closed while the sweep ran
            return
        plot = self.query_one(PlotextPlot)
        plot.loading = False
        plt = plot.plt
        plt.clear_figure()
        if isinstance(series, str):
            self.series = None
            self.query_one("#chart-note", Static).update(plain(f"Not drawn: {series}"))
            plot.refresh()
            return
        self.series = series
        plt.title(series.title)
        plt.xlabel(series.x_label)
        for name, ys in series.lines.items():
            points = [(x, y) for x, y in zip(series.xs, ys, strict=True) if y is not None]
            if points:
                plt.plot(*zip(*points, strict=True), label=name, marker="braille")
        for name, ys in (series.right or {}).items():
            points = [(x, y) for x, y in zip(series.xs, ys, strict=True) if y is not None]
            if points:
                plt.plot(*zip(*points, strict=True), label=f"{name} (right)", yside="right", marker="braille")
        for y in (series.hlines or {}).values():
            plt.hline(y)
        for x in (series.vlines or {}).values():
            plt.vline(x)
        references = {**(series.hlines or {}), **(series.vlines or {})}
        marks = [f"— {name}: {value:,.4g}" for name, value in references.items()]
        self.query_one("#chart-note", Static).update(plain("   ".join(marks) or "Escape: back to the planner"))
        plot.refresh()


class RecommendScreen(Screen[Candidate | None]):
    """The catalog deployments that meet the workload's targets, cheapest first; Enter loads one."""

    BINDINGS = [Binding("escape", "cancel", "Back")]
    DEFAULT_CSS = """
    RecommendScreen DataTable { height: 1fr; }
    RecommendScreen #recommend-title { margin: 0 1; text-style: bold; }
    """

    def __init__(self, profile: Profile, search: Callable[[Profile], list[Candidate]]) -> None:
        super().__init__()
        self.profile = profile
        self.search = search
        self.candidates: list[Candidate] = []

    def compose(self) -> ComposeResult:
        work = self.profile.workload
        targets = [f"{work.users:,} users"]
        if work.target_tokens_per_s:
            targets.append(f"≥ {work.target_tokens_per_s:g} tok/s each")
        if work.ttft_target_s:
            targets.append(f"TTFT ≤ {work.ttft_target_s:g} s")
        yield Header()
        yield Label(f"Deployments for {', '.join(targets)}, cheapest first (Enter loads one)", id="recommend-title")
        yield DataTable(id="recommend-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("GPU", "GPUs", "split", "weights", "KV", "$/user-mo", "tok/s/user", "TTFT", "binding")
        table.loading = True
        table.focus()
        self.run_worker(self._search, thread=True, exclusive=True, group="recommend")

    def _search(self) -> None:
        candidates = self.search(self.profile)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, candidates)

    def _show(self, candidates: list[Candidate]) -> None:
        if not self.is_attached:  # closed while the search ran
            return
        self.candidates = candidates
        table = self.query_one(DataTable)
        table.loading = False
        for c in self.candidates:
            table.add_row(c.gpu_id, str(c.gpus), f"TP{c.tensor} PP{c.pipeline} ×{c.replicas}", c.weight_dtype,
                          c.kv_dtype, f"${c.per_user_month:,.2f}", f"{c.plan.decode.tokens_per_s_per_user:,.1f}",
                          f"{c.plan.prefill.ttft:,.2f} s", c.binding)
        if not self.candidates:
            self.query_one("#recommend-title", Label).update(
                "No catalog deployment of up to 64 GPUs meets these targets")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(self.candidates[event.cursor_row])

    def action_cancel(self) -> None:
        self.dismiss(None)
