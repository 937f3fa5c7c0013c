"""Round ticks for the charts (F5): where to put them and how to write them.

plotext picks ticks by dividing the data's range evenly, so a chart showed 2614.2 users and 5.5 GPUs.
Here every tick is a round number inside the drawn range: on a linear axis multiples of 1, 2 or 5
times a power of ten (whole numbers only where the values are counts), on a log axis powers of two
for counts (256, 1k, 4k, ... of context, 1, 4, 16 sequences) and 1-2-5 steps per decade otherwise.
Labels are short: "1k" (1,024 on a power-of-two axis, as context lengths are written), "16k", "1.5M",
"0.25". No Textual here; tests call it directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

MAX_TICKS = 6


@dataclass(frozen=True)
class Axis:
    """One axis as drawn: its range and its ticks (values and their labels)."""

    low: float
    high: float
    ticks: tuple[float, ...]
    labels: tuple[str, ...]


def tick_label(value: float, binary: bool = False) -> str:
    """A short, exact-looking label: 1k, 16k, 1.5M, 250, 0.25 (never 2614.2). ``binary``: a power of two of
    tokens, written as context lengths are (4096 is "4k", 32768 "32k", 2**20 "1M")."""
    size = abs(value)
    if binary and size >= 1024:
        scale, suffix = (2.0**20, "M") if size >= 2**20 else (1024.0, "k")
        return f"{value / scale:g}{suffix}"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if size >= scale:
            return f"{value / scale:.3g}{suffix}"
    if size >= 1 or value == 0:
        return f"{value:.3g}"
    return f"{value:.2g}"


def nice_step(span: float, count: int = MAX_TICKS, integer: bool = False) -> float:
    """The smallest of 1, 2 or 5 times a power of ten that covers ``span`` in at most ``count`` - 1 steps."""
    raw = span / max(1, count - 1)
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1.0, 2.0, 5.0, 10.0):
        step = float(multiple * power)
        if step >= raw * (1 - 1e-9):
            return max(step, 1.0) if integer else step
    return float(10 * power)  # not reached


def linear_axis(values: Iterable[float], integer: bool = False, from_zero: bool = True) -> Axis:
    """A linear axis over ``values`` starting at a round tick (0 when every value is positive and
    ``from_zero``) and ending at the first round tick at or above the largest value."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return Axis(0.0, 1.0, (0.0, 1.0), ("0", "1"))
    low, high = min(finite), max(finite)
    if from_zero and low >= 0:
        low = 0.0
    if high == low:
        high = low + (1.0 if low == 0 else abs(low))
    step = nice_step(high - low, integer=integer)
    start, stop = math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step
    ticks = tuple(round(start + i * step, 10) for i in range(int(round((stop - start) / step)) + 1))
    return Axis(start, stop, ticks, tuple(tick_label(t) for t in ticks))


def log_axis(values: Iterable[float], integer: bool = False) -> Axis:
    """A log axis over the (positive) ``values``: powers of two for counts, else 1-2-5 steps per decade,
    thinned to at most MAX_TICKS; the range is the data's, so no tick lies outside it."""
    positive = [v for v in values if math.isfinite(v) and v > 0]
    if not positive:
        return linear_axis([], integer)
    low, high = min(positive), max(positive)
    if high == low:  # one value (a sweep left with one point): plotext divides by the span (ZeroDivisionError)
        low, high = low / 2, high * 2
    if integer:
        candidates = [2.0 ** k for k in range(math.floor(math.log2(low)), math.ceil(math.log2(high)) + 1)]
    else:
        candidates = [m * 10.0 ** k for k in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
                      for m in (1, 2, 5)]
    inside = [c for c in candidates if low * (1 - 1e-9) <= c <= high * (1 + 1e-9)]
    stride = 1
    while len(inside[::stride]) > MAX_TICKS:
        stride += 1
    ticks = tuple(inside[::stride]) or (low, high)
    return Axis(low, high, ticks, tuple(tick_label(t, binary=integer) for t in ticks))
