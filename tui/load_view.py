"""The Load view (F8): how many users the deployment serves at p99, not at the mean (issue 15).

The SLO targets (p99 TTFT in seconds, p99 TPOT in milliseconds, from the workload's targets) and a rate
to look at are typed at the top; Enter in any of them runs the search again. Every figure comes from
the core (``core.tools.simulate.answer.load_answer``: the highest Poisson rate meeting the SLO, the users
and replicas it means, the percentiles at the chosen rate, p99 TTFT and TPOT against the rate); the
search runs in a worker thread (the function comes in from tui/slow_calls.py) and says how far it got,
so the screen keeps answering keys, and a new search stops the one running.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.widgets import DataTable, Footer, Header, Input, Label, Static
from textual.worker import get_current_worker
from textual_plotext import PlotextPlot

from napkinmath.core.errors import ProfileError
from napkinmath.core.profile.schema import Profile
from napkinmath.core.report.formatting import money, seconds
from napkinmath.core.tools.simulate.answer import LoadAnswer
from napkinmath.core.tools.simulate.load import positive_number
from napkinmath.core.tools.simulate.profile_load import workload_targets

from .chart_axes import linear_axis, log_axis
from .safe_text import plain
from .stack import Page

# (profile, SLO, the rate to look at or None for the highest meeting it, progress(text)) -> the answer
LoadFor = Callable[[Profile, dict[str, float], float | None, Callable[[str], None]], LoadAnswer]
METRICS = (("TTFT", "ttft_s"), ("TPOT", "tpot_s"), ("ITL", "itl_s"), ("End to end", "e2e_s"))
DEFAULT_TTFT_S, DEFAULT_TPOT_MS = 2.0, 200.0  # MLPerf's Server limits, when the workload sets no target


def target_text(value: float, decimals: int) -> str:
    """A target as the field shows it (and the search then uses): 30 tok/s is "33.3" ms, not "33.3333"."""
    return f"{round(value, decimals):g}"


class _Stopped(Exception):
    """The worker was cancelled (a newer search replaced it): stop simulating."""


def default_targets(profile: Profile) -> tuple[float, float]:
    """(p99 TTFT s, p99 TPOT ms) from the workload's targets, else MLPerf's Server limits."""
    slo = workload_targets(profile)  # the same targets the CLI's and the recommender's searches use
    return slo.get("ttft_p99", DEFAULT_TTFT_S), slo.get("tpot_p99", DEFAULT_TPOT_MS / 1e3) * 1e3


def parse_positive(text: str, item: str, unit: str) -> float:
    """A number above 0, or a ProfileError naming the item."""
    return positive_number(text, f"{item}: {text.strip()!r} is not a number of {unit}",
                           f"{item}: must be a number of {unit} above 0, got {text.strip()}")


class LoadScreen(Page[None]):
    """Users at SLO, percentiles at a rate, p99 against the rate; Escape goes back to the planner."""

    BINDINGS = [Binding("escape", "back", "Back")]
    DEFAULT_CSS = """
    LoadScreen #load-controls { height: 1; margin: 0 1; }
    LoadScreen #load-controls Label { margin-right: 1; }
    LoadScreen #load-controls Input { width: 8; margin-right: 1; }
    LoadScreen #load-summary { height: auto; margin: 1 1 0 1; }
    LoadScreen #load-progress { height: 1; margin: 0 1; color: $text-muted; }
    LoadScreen DataTable { height: 6; margin: 0 1; }
    LoadScreen #load-charts { height: 1fr; }
    LoadScreen PlotextPlot { width: 1fr; }
    """

    def __init__(self, profile: Profile, answer_for: LoadFor) -> None:
        super().__init__()
        self.profile = profile
        self.answer_for = answer_for
        self.answer: LoadAnswer | None = None  # the one shown

    def compose(self) -> ComposeResult:
        ttft, tpot = default_targets(self.profile)
        yield Header()
        with Horizontal(id="load-controls"):
            yield Label("p99 TTFT ≤")
            yield Input(target_text(ttft, 2), id="load-ttft", compact=True, tooltip="seconds")
            yield Label("s  TPOT ≤")
            yield Input(target_text(tpot, 1), id="load-tpot", compact=True, tooltip="milliseconds")
            yield Label("ms  at")
            yield Input("", placeholder="max", id="load-rate", compact=True, tooltip="requests/s; blank: the max")
            yield Label("req/s  (Enter runs)")
        yield Static("", id="load-summary")
        yield Static("", id="load-progress")
        yield DataTable(id="load-table", cursor_type="none", zebra_stripes=True)
        with Horizontal(id="load-charts"):
            yield PlotextPlot(id="load-ttft-chart")
            yield PlotextPlot(id="load-tpot-chart")
        yield Footer()

    def on_mount(self) -> None:
        try:
            table = self.query_one(DataTable)
        except NoMatches:  # Escape in the same burst as F8: dismissed before it was mounted
            return
        table.add_column("", width=10)
        for label in ("p50", "p90", "p99", "mean"):
            table.add_column(label, width=10)
        self.run_search()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.run_search()

    def asked_for(self) -> tuple[dict[str, float], float | None]:
        """The SLO and rate typed, or a ProfileError naming the field that is not a number above 0."""
        ttft = parse_positive(self.query_one("#load-ttft", Input).value, "p99 TTFT target", "seconds")
        tpot = parse_positive(self.query_one("#load-tpot", Input).value, "p99 TPOT target", "milliseconds")
        rate_text = self.query_one("#load-rate", Input).value.strip()
        rate = parse_positive(rate_text, "rate", "requests/s") if rate_text else None
        return {"ttft_p99": ttft, "tpot_p99": tpot / 1e3}, rate

    def run_search(self) -> None:
        """Search in a worker (a running one is cancelled and stops at its next step); the figures on
        screen stay until the new ones come, or stay for good when the input is refused."""
        try:
            slo, rate = self.asked_for()
        except ProfileError as error:
            self.query_one("#load-progress", Static).update(plain(f"Not run: {error}"))
            return
        self.query_one("#load-progress", Static).update("Searching…")
        self.run_worker(lambda: self._search(slo, rate), thread=True, exclusive=True, group="load")

    def _search(self, slo: dict[str, float], rate: float | None) -> None:
        worker = get_current_worker()

        def progress(text: str) -> None:
            if worker.is_cancelled:
                raise _Stopped
            self.app.call_from_thread(self._progress, text)

        try:
            result: LoadAnswer | str = self.answer_for(self.profile, slo, rate, progress)
        except _Stopped:
            return
        except ProfileError as error:
            result = str(error)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show, result)

    def _progress(self, text: str) -> None:
        if not self.gone:
            self.query_one("#load-progress", Static).update(plain(f"{text[0].upper()}{text[1:]}…"))

    def _show(self, answer: LoadAnswer | str) -> None:
        if self.gone:  # closed while the search ran
            return
        progress = self.query_one("#load-progress", Static)
        if isinstance(answer, str):
            progress.update(plain(f"Not run: {answer}"))
            return
        progress.update("")
        self.answer = answer
        self.query_one("#load-summary", Static).update(plain(summary(self.profile, answer)))
        table = self.query_one(DataTable)
        table.clear()
        if answer.at_rate is not None:
            for label, name in METRICS:
                figures = getattr(answer.at_rate, name)
                table.add_row(label, *(seconds(getattr(figures, key)) for key in ("p50", "p90", "p99", "mean")))
        ttft_target, tpot_target = answer.at_slo.slo.get("ttft_p99"), answer.at_slo.slo.get("tpot_p99")
        self._chart("#load-ttft-chart", "p99 TTFT, s (log scale)", [p.ttft_p99_s for p in answer.curve],
                    ttft_target, log=True)
        self._chart("#load-tpot-chart", "p99 TPOT, ms", [p.tpot_p99_s * 1e3 for p in answer.curve],
                    tpot_target * 1e3 if tpot_target is not None else None)

    def _chart(self, selector: str, title: str, values: list[float], target: float | None, log: bool = False) -> None:
        """One latency against the rate, with the SLO as a line and the chosen rate marked."""
        assert self.answer is not None
        plot = self.query_one(selector, PlotextPlot)
        plt = plot.plt
        plt.clear_figure()
        plt.title(title)
        plt.xlabel("requests/s (— SLO, │ this rate)")
        if log:  # drawn as log10 on a linear axis with its ticks labelled: plotext's yscale("log") rewrites the
            # figure's data at each build, so the next repaint (a theme change) took the log of a log and crashed
            axis = log_axis([value for value in values if value > 0] + ([target] if target else []))
            values = [math.log10(max(value, 1e-12)) for value in values]
            target = math.log10(target) if target else None
            plt.yticks([math.log10(tick) for tick in axis.ticks], list(axis.labels))
        else:  # round ticks (tui/chart_axes.py), as the charts (F5) have: plotext's own read 22.6, 46.3, 70.1
            axis = linear_axis(values + ([target] if target is not None else []), from_zero=False)
            plt.ylim(axis.low, axis.high)
            plt.yticks(list(axis.ticks), list(axis.labels))
        rates = [point.rate_per_s for point in self.answer.curve]
        across = linear_axis(rates + ([self.answer.rate_per_s] if self.answer.rate_per_s > 0 else []),
                             from_zero=False)
        plt.xlim(across.low, across.high)
        plt.xticks(list(across.ticks), list(across.labels))
        if rates:
            plt.plot(rates, values, marker="braille")
        if target is not None:
            plt.hline(target, "red")
        if self.answer.rate_per_s > 0:
            plt.vline(self.answer.rate_per_s, "orange")
        plot.refresh()


def summary(profile: Profile, answer: LoadAnswer) -> str:
    """The users at SLO in one paragraph (the core's figures, formatted)."""
    found, work = answer.at_slo, profile.workload
    targets = " and ".join(f"p99 {key.split('_')[0].upper()} ≤ {seconds(value)}" for key, value in found.slo.items())
    if found.max_rate_per_s <= 0:
        return f"No rate meets {targets}: {found.reason}."
    replicas = profile.parallelism.replicas
    needed = "" if found.replicas_needed is None else \
        f"; {work.users:,} users need {found.replicas_needed:,} replica{'s' if found.replicas_needed != 1 else ''}"
    return (f"At most {found.max_rate_per_s:,.3g} requests/s meet {targets}: {found.users:,} users at a "
            f"{work.duty_cycle:.0%} duty cycle on {replicas:,} replica{'s' if replicas != 1 else ''}{needed}, "
            f"{money(found.cost_per_user_month)} per user-month. Percentiles at {answer.rate_per_s:,.3g} "
            f"requests/s; charts: the SLO as a line, this rate marked.")
