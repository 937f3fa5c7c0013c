"""The Load view (F8): users at SLO, percentiles at a rate, p99 against the rate (issue 15).

The search runs in a worker: the tests pass a search that waits for the test and check that the screen
answers keys meanwhile (a search on the UI thread would hold the key until it finished). The answer
comes from the core on a synthetic engine (same shape as the fitted one) so the test is fast.
"""

from __future__ import annotations

import math
import threading

from conftest import make_app, started
from textual.widgets import DataTable, Input, Static

from napkinmath.core.tools.simulate.answer import load_answer
from napkinmath.core.tools.simulate.load import Deployment, Load
from napkinmath.core.tools.simulate.model import LinearStepModel, SchedulerLimits
from napkinmath.core.tools.simulate.traffic import Lengths
from napkinmath.tui.load_view import LoadScreen, summary, target_text
from napkinmath.tui.slow_calls import SlowCalls

DEPLOYMENT = Deployment(LinearStepModel(0.012, per_sequence_s=3e-5, per_kv_token_s=3e-8, per_prefill_token_s=4e-5),
                        SchedulerLimits(256, 8192, 300_000))
LOAD = Load(requests=600, lengths=Lengths("fixed", 2_000, 300))


def synthetic(profile, slo, rate, progress):
    return load_answer(profile, DEPLOYMENT, slo, rate, LOAD, progress)


def held():
    release, asked = threading.Event(), []

    def waiting(profile, slo, rate, progress):
        asked.append((slo, rate))
        progress("searching: trial 1")
        release.wait(timeout=10)
        return synthetic(profile, slo, rate, progress)

    return waiting, release, asked


async def load_view_answered(pilot):
    """The Load view (F8) opened over a started app, its search finished and shown."""
    await started(pilot)
    await pilot.press("f8")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return pilot.app.screen


async def test_the_load_view_searches_in_a_worker_and_keeps_answering_keys(napkin_home):
    search, release, asked = held()
    app = make_app(slow=SlowCalls(load_answer=search))
    async with app.run_test(size=(120, 36)) as pilot:
        await started(pilot)
        await pilot.press("f8")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LoadScreen)
        (worker,) = [worker for worker in app.workers if worker.group == "load"]
        rate = screen.query_one("#load-rate", Input)
        rate.focus()
        await pilot.press("3")
        await pilot.pause()
        assert rate.value == "3" and worker.is_running  # the key was handled while the search ran
        assert "Searching" in str(screen.query_one("#load-progress", Static).render())
        release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert asked[0] == ({"ttft_p99": 2.0, "tpot_p99": 0.05}, None)  # the workload's targets (20 tok/s)
        table = screen.query_one(DataTable)
        assert table.row_count == 4 and screen.answer is not None
        assert "requests/s meet" in str(screen.query_one("#load-summary", Static).render())
        await pilot.press("f3")  # a repaint of the log-scale TTFT chart (plotext's own log scale crashed here)
        await pilot.pause()
        assert app.screen is screen and app.is_running
        await pilot.press("enter")  # the rate typed: a new search at 3 requests/s
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert asked[-1][1] == 3.0 and screen.answer.rate_per_s == 3.0
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main


async def test_a_target_that_is_not_a_number_is_refused_naming_it_and_the_figures_stay(napkin_home):
    app = make_app(slow=SlowCalls(load_answer=synthetic))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await load_view_answered(pilot)
        shown = screen.answer
        assert shown is not None
        screen.query_one("#load-ttft", Input).value = "soon"
        screen.query_one("#load-ttft", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        progress = str(screen.query_one("#load-progress", Static).render())
        assert "p99 TTFT target: 'soon' is not a number of seconds" in progress
        assert screen.answer is shown and not [w for w in app.workers if w.is_running]


def test_the_summary_says_users_replicas_and_cost():
    from conftest import shipped

    profile = shipped("llama-3.1-70b-2xh100-fp8.toml")
    answer = synthetic(profile, {"ttft_p99": 2.0, "tpot_p99": 0.05}, None, lambda text: None)
    text = summary(profile, answer)
    assert f"{answer.at_slo.users:,} users" in text and "per user-month" in text
    assert answer.curve and answer.at_rate is not None


def test_the_targets_show_as_a_person_would_type_them():
    """30 tok/s is a 33.3 ms TPOT target in the field (it showed "33.3333"); the search uses what is shown."""
    assert [target_text(1e3 / 30, 1), target_text(50.0, 1), target_text(2.0, 2), target_text(0.25, 2)] == \
        ["33.3", "50", "2", "0.25"]


async def test_the_load_charts_have_round_ticks(napkin_home):
    """Issue 17, item 9 for the Load view's charts too: plotext's own ticks read 0.8, 1.7, 2.7 requests/s
    and 22.6, 46.3, 70.1 ms; the axes are tui/chart_axes.py's, as the charts (F5) are."""
    import re

    from textual_plotext import PlotextPlot

    app = make_app(slow=SlowCalls(load_answer=synthetic))
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await load_view_answered(pilot)
        for chart in ("#load-ttft-chart", "#load-tpot-chart"):
            plot = screen.query_one(chart, PlotextPlot)
            lines = [line.rstrip() for line in plot.plt.build().splitlines()]
            axis = next(index for index, line in enumerate(lines) if "└" in line)
            labels = [float(label) for label in re.findall(r"\d+(?:\.\d+)?", re.sub(r"\x1b\[[0-9;]*m", "",
                                                                                       lines[axis + 1]))]
            steps = {round(b - a, 9) for a, b in zip(labels, labels[1:], strict=False)}
            assert len(labels) >= 3 and len(steps) == 1, lines[axis + 1]
            (step,) = steps
            assert step / 10 ** math.floor(math.log10(step)) in (1, 2, 5), labels
