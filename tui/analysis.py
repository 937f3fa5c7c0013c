"""Screens for comparative questions: charts of sweeps, compare side by side, recommended deployments.

Every number comes from the core (``core.sweep`` series, ``core.figures`` deltas, ``core.recommend``);
these screens only lay it out.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Label, Select, Static
from textual_plotext import PlotextPlot

from napkinmath.core.plan.figures import FIGURES, delta, format_delta
from napkinmath.core.report.formatting import figure_number
from napkinmath.core.plan.result import Plan
from napkinmath.core.profile.schema import Profile
from napkinmath.core.tools.recommend import Candidate, recommend
from napkinmath.core.tools.sweep import Series, cost_vs_gpus, field_vs_figure, speed_vs_batch, users_vs_context
from napkinmath.tui.fields import ALL_FIELDS

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

    def __init__(self, profile: Profile) -> None:
        super().__init__()
        self.profile = profile

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

    def series(self) -> Series:
        kind = self.query_one("#chart-kind", Select).value
        if kind == "batch":
            return speed_vs_batch(self.profile)
        if kind == "gpus":
            return cost_vs_gpus(self.profile)
        if kind == "custom":
            return field_vs_figure(self.profile, str(self.query_one("#chart-field", Select).value),
                                   str(self.query_one("#chart-figure", Select).value))
        return users_vs_context(self.profile)

    def draw(self) -> None:
        choice = tuple(self.query_one(f"#chart-{name}", Select).value for name in ("kind", "field", "figure"))
        if choice == self.drawn:
            return
        self.drawn = choice
        custom = self.query_one("#chart-kind", Select).value == "custom"
        self.query_one("#chart-field").display = custom
        self.query_one("#chart-figure").display = custom
        series = self.series()
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_figure()
        plt.title(series.title)
        plt.xlabel(series.x_label)
        for name, ys in series.lines.items():
            points = [(x, y) for x, y in zip(series.xs, ys) if y is not None]
            if points:
                plt.plot(*zip(*points), label=name, marker="braille")
        for name, ys in (series.right or {}).items():
            points = [(x, y) for x, y in zip(series.xs, ys) if y is not None]
            if points:
                plt.plot(*zip(*points), label=f"{name} (right)", yside="right", marker="braille")
        for y in (series.hlines or {}).values():
            plt.hline(y)
        for x in (series.vlines or {}).values():
            plt.vline(x)
        marks = [f"— {name}: {value:,.4g}" for name, value in {**(series.hlines or {}), **(series.vlines or {})}.items()]
        self.query_one("#chart-note", Static).update("   ".join(marks) or "Escape: back to the planner")
        plot.refresh()


class CompareScreen(Screen[None]):
    """Two plans figure by figure: the current one and a baseline or another profile."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]
    DEFAULT_CSS = """
    CompareScreen DataTable { height: 1fr; }
    CompareScreen #compare-title { margin: 0 1; text-style: bold; }
    """

    def __init__(self, current: tuple[str, Plan], other: tuple[str, Plan]) -> None:
        super().__init__()
        self.current, self.other = current, other

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label(f"{self.current[0]}  vs  {self.other[0]} (the change is the current plan's)", id="compare-title")
        yield DataTable(id="compare-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("figure", "current", "other", "change")
        styles = {"better": "green", "worse": "red"}
        for figure in FIGURES:
            now, then = figure.value(self.current[1]), figure.value(self.other[1])
            moved = delta(figure, self.other[1], self.current[1])
            table.add_row(f"{figure.label} ({figure.unit})", _number(now), _number(then),
                          Text(format_delta(moved), style=styles.get(moved.verdict, "dim")))
        table.focus()


def _number(value: float | None) -> Text:
    return Text(figure_number(value, "—"), justify="right")


class RecommendScreen(Screen[Candidate | None]):
    """The catalog deployments that meet the workload's targets, cheapest first; Enter loads one."""

    BINDINGS = [Binding("escape", "cancel", "Back")]
    DEFAULT_CSS = """
    RecommendScreen DataTable { height: 1fr; }
    RecommendScreen #recommend-title { margin: 0 1; text-style: bold; }
    """

    def __init__(self, profile: Profile) -> None:
        super().__init__()
        self.profile = profile
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
        self.candidates = recommend(self.profile, limit=20)
        table = self.query_one(DataTable)
        table.add_columns("GPU", "GPUs", "split", "weights", "KV", "$/user-mo", "tok/s/user", "TTFT", "binding")
        for c in self.candidates:
            table.add_row(c.gpu_id, str(c.gpus), f"TP{c.tensor} PP{c.pipeline} ×{c.replicas}", c.weight_dtype,
                          c.kv_dtype, f"${c.per_user_month:,.2f}", f"{c.plan.decode.tokens_per_s_per_user:,.1f}",
                          f"{c.plan.prefill.ttft:,.2f} s", c.binding)
        if not self.candidates:
            self.query_one("#recommend-title", Label).update("No catalog deployment of up to 64 GPUs meets these targets")
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(self.candidates[event.cursor_row])

    def action_cancel(self) -> None:
        self.dismiss(None)
