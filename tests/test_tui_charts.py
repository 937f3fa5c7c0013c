"""The charts' axes (F5, issue 17 item 9): a log axis for context and batch, round ticks, the profile's own
point marked, words for titles. Drawn with plotext as the screen draws them, twice (a repaint)."""

from __future__ import annotations

import math

import plotext
import pytest
from conftest import shipped

from napkinmath.core.plan.compose import plan
from napkinmath.core.tools.sweep import cost_vs_gpus, field_vs_figure, speed_vs_batch, users_vs_context
from napkinmath.tui.chart_axes import linear_axis, log_axis, nice_step, tick_label
from napkinmath.tui.charts import NOW_MARKER, ChartsScreen, draw_series

LLAMA_70B = shipped("llama-3.1-70b-2xh100-fp8.toml")


def evenly_round(ticks) -> bool:
    """Evenly spaced by 1, 2 or 5 times a power of ten, each a whole multiple of that step."""
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    if len(steps) != 1:
        return False
    step = steps.pop()
    mantissa = step / 10 ** math.floor(math.log10(step))
    return round(mantissa, 6) in (1, 2, 5) and all(abs(t / step - round(t / step)) < 1e-9 for t in ticks)


@pytest.mark.parametrize(("values", "integer"), [([0, 2614.2, 1200], False), ([5.5, 13.04, 3.65], False),
                                                 ([1, 2, 3, 4, 5, 6, 7, 8], True), ([0.01, 0.37], False),
                                                 ([120_000, 3_401_070], True)])
def test_linear_ticks_are_round_and_cover_the_values(values, integer):
    axis = linear_axis(values, integer=integer)
    assert evenly_round(axis.ticks) and 2 <= len(axis.ticks) <= 7
    assert axis.low <= min(values) and axis.high >= max(values) and axis.ticks[0] == axis.low == 0
    assert not integer or all(float(t).is_integer() for t in axis.ticks)
    assert "." not in "".join(axis.labels) or not integer


def test_log_ticks_are_powers_of_two_for_counts_and_read_as_context_lengths():
    context = log_axis(range(256, 32769, 97), integer=True)
    assert context.ticks == (256, 1024, 4096, 16384) and context.labels == ("256", "1k", "4k", "16k")
    batch = log_axis([1, 3, 56], integer=True)
    assert batch.ticks == (1, 2, 4, 8, 16, 32)
    assert log_axis([0.25, 3.9]).ticks == (0.5, 1, 2)
    assert tick_label(2614.2) == "2.61k" and tick_label(1_500_000) == "1.5M" and tick_label(0.25) == "0.25"
    assert tick_label(2**20, binary=True) == "1M" and nice_step(10, integer=True) == 2


def test_each_chart_draws_on_its_axis_with_its_point_marked_and_survives_a_repaint():
    sweeps = [users_vs_context(LLAMA_70B), speed_vs_batch(LLAMA_70B), cost_vs_gpus(LLAMA_70B),
              field_vs_figure(LLAMA_70B, "workload.avg_context_tokens", "users_served", label="Average context (tok)")]
    context, batch, gpus, custom = sweeps
    assert context.log_x and batch.log_x and custom.log_x and not gpus.log_x
    served = plan(LLAMA_70B).capacity.users_served
    assert context.now_x == 4096 and context.now_y["users served"] == served and gpus.now_x == 2
    assert "_" not in custom.title and custom.title == "Users served against Average context (tok)"
    for series in sweeps:
        plotext.clear_figure()
        plotext.plot_size(100, 30)
        across, left, right = draw_series(plotext, series)
        first, second = plotext.build(), plotext.build()  # plotext's own log scale broke the second build
        assert first == second and NOW_MARKER in first
        assert all(label in first for label in across.labels + left.labels)
        assert evenly_round(left.ticks) and (right is None or evenly_round(right.ticks))
    assert draw_series(plotext, gpus)[0].ticks == (2, 4, 6, 8, 10, 12, 14, 16)  # counts that exist: no 5.5
    note = ChartsScreen.note(context)
    assert note.startswith(f"{NOW_MARKER} now: average context (tokens) 4,096: users served {served}")
