"""F5: sweeps drawn as charts, on axes a reader can trust at a glance.

Context and batch are swept evenly on a log scale and drawn on one (a linear axis squeezed 256 to 4k
of a 32k context into a tenth of the width); every tick is a round number (tui/chart_axes.py); the
profile's own point is marked on each line and named under the chart; titles and axis names are
words, not profile keys. The sweep runs in a worker thread (tui/slow_calls.py), the plot marked
loading meanwhile, so Escape always answers. Every number comes from ``core.tools.sweep``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.widgets import Footer, Header, Select, Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from napkinmath.core.errors import ProfileError
from napkinmath.core.plan.figures import FIGURES
from napkinmath.core.profile.schema import Profile
from napkinmath.core.tools.sweep import Series

from .chart_axes import Axis, linear_axis, log_axis, tick_label
from .fields import ALL_FIELDS
from .safe_text import plain
from .stack import Page

SeriesFor = Callable[[Profile, str, str, str], Series]  # (profile, chart kind, field path, figure key)

CHARTS = [("Users served vs average context", "context"), ("Decode speed vs batch", "batch"),
          ("$/user-month vs GPU count", "gpus"), ("Any field vs any figure", "custom")]
NOW_MARKER = "◆"
FEW_COUNTS = 10  # an integer x axis with this many values or fewer has a tick at each


def x_axis(series: Series) -> Axis:
    """Log for context and batch; the swept counts themselves when there are few (2, 4, ... 16 GPUs: never
    a tick at a count that cannot be deployed); else round steps."""
    integer = all(float(x).is_integer() for x in series.xs)
    if series.log_x:
        return log_axis(series.xs, integer=integer)
    if integer and len(series.xs) <= FEW_COUNTS:
        ticks = tuple(float(x) for x in sorted(set(series.xs)))
        return Axis(ticks[0], ticks[-1], ticks, tuple(tick_label(x) for x in ticks))
    return linear_axis(series.xs, integer=integer, from_zero=False)


def y_axis(lines: dict[str, list[float | None]], extra: list[float]) -> Axis:
    """A linear axis from 0 (or the lowest value, if negative) over every y of these lines and ``extra``."""
    values = [y for ys in lines.values() for y in ys if y is not None] + extra
    integer = all(float(y).is_integer() for y in values)
    return linear_axis(values, integer=integer)


def draw_series(plt: Any, series: Series) -> tuple[Axis, Axis, Axis | None]:
    """Draw ``series`` with plotext's ``plt`` (cleared): lines, the profile's point, round ticks, reference lines.
    Returns the axes drawn (x, left y, right y)."""
    plt.title(series.title)
    plt.xlabel(series.x_label + (" (log scale)" if series.log_x else ""))
    now = series.now_y or {}
    horizontal = list((series.hlines or {}).values())
    left = y_axis(series.lines, [y for name, y in now.items() if y is not None and name in series.lines]
                  + horizontal)
    right = y_axis(series.right, [y for name, y in now.items() if y is not None and name in series.right]) \
        if series.right else None
    across = x_axis(series)
    # A log axis is drawn as log10(x) on a linear one, ticks placed there and labelled with x: plotext's own
    # xscale("log") rewrites the figure's data in place at each build, so the second repaint took the log
    # of a log (wrong lines, or a math domain error once a value reached 0).
    def position(x: float) -> float:
        return math.log10(max(x, 1e-12)) if series.log_x else float(x)

    for side, lines, axis in (("left", series.lines, left), ("right", series.right or {}, right)):
        for name, ys in lines.items():
            points = [(position(x), y) for x, y in zip(series.xs, ys, strict=True) if y is not None]
            if points:
                plt.plot(*zip(*points, strict=True), label=name if side == "left" else f"{name} (right)",
                         marker="braille", yside=side)
            y = now.get(name)
            if series.now_x is not None and y is not None and (series.now_x > 0 or not series.log_x):
                plt.scatter([position(series.now_x)], [y], marker=NOW_MARKER, yside=side)
        if axis is not None:
            number = 1 if side == "left" else 2  # plotext's axis numbers (its stubs type these as numbers)
            plt.ylim(axis.low, axis.high, yside=number)
            plt.yticks(list(axis.ticks), list(axis.labels), yside=number)
    plt.xlim(position(across.low), position(across.high))
    plt.xticks([position(tick) for tick in across.ticks], list(across.labels))
    for y in horizontal:
        plt.hline(y)
    for x in (series.vlines or {}).values():
        plt.vline(position(x))
    return across, left, right


class ChartsScreen(Page[None]):
    """Sweeps drawn as charts; Escape goes back to the planner."""

    BINDINGS = [Binding("escape", "back", "Back")]
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
        self.axes: tuple[Axis, Axis, Axis | None] | None = None  # x, left y, right y as drawn

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
        try:
            selects = [self.query_one(f"#chart-{name}", Select) for name in ("kind", "field", "figure")]
        except NoMatches:  # a select reported its value while the screen is still composing or already leaving
            return
        choice = tuple(str(select.value) for select in selects)
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
        if self.gone:  # closed while the sweep ran
            return
        try:
            plot = self.query_one(PlotextPlot)
        except NoMatches:  # its widgets are being removed: the screen is going away
            return
        plot.loading = False
        plt = plot.plt
        plt.clear_figure()
        if isinstance(series, str):
            self.series, self.axes = None, None
            self.query_one("#chart-note", Static).update(plain(f"Not drawn: {series}"))
            plot.refresh()
            return
        self.series = series
        self.axes = draw_series(plt, series)
        self.query_one("#chart-note", Static).update(plain(self.note(series)))
        plot.refresh()

    @staticmethod
    def note(series: Series) -> str:
        """Under the chart: the profile's own point, then the reference lines, in words."""
        parts = []
        if series.now_x is not None:
            values = ", ".join(f"{name} {tick_label(y) if abs(y) >= 1000 else f'{y:,.4g}'}"
                               for name, y in (series.now_y or {}).items() if y is not None)
            parts.append(f"{NOW_MARKER} now: {series.x_label} {series.now_x:,.4g}: {values}")
        references = {**(series.hlines or {}), **(series.vlines or {})}
        parts += [f"— {name}: {value:,.4g}" for name, value in references.items()]
        return "   ".join(parts) or "Escape: back to the planner"
