"""Percentiles and the run's results.

Percentiles interpolate linearly between order statistics, as numpy's default (and so
``vllm bench serve``, which reports ``np.percentile``) does. Inter-token latency is a distribution
over tokens, not requests: every gap between two tokens of one request counts once (weighted
percentiles over the engine's steps, each weighted by the decodes it carried).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PERCENTILES = (50.0, 90.0, 99.0)


@dataclass(frozen=True, slots=True)
class Summary:
    """p50, p90, p99 and mean of one latency, seconds (0 when there is nothing to summarise)."""

    p50: float
    p90: float
    p99: float
    mean: float

    def as_dict(self) -> dict[str, float]:
        return {"p50": self.p50, "p90": self.p90, "p99": self.p99, "mean": self.mean}

    def scaled(self, factor: float) -> Summary:
        return Summary(self.p50 * factor, self.p90 * factor, self.p99 * factor, self.mean * factor)


EMPTY = Summary(0.0, 0.0, 0.0, 0.0)


def percentile(ordered: Sequence[float], percent: float) -> float:
    """The ``percent`` percentile of sorted values, linear between order statistics (numpy's default)."""
    if not ordered:
        return 0.0
    rank = percent / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(values: Sequence[float]) -> Summary:
    if not values:
        return EMPTY
    ordered = sorted(values)
    p50, p90, p99 = (percentile(ordered, percent) for percent in PERCENTILES)
    return Summary(p50, p90, p99, sum(ordered) / len(ordered))


def summarise_weighted(pairs: Sequence[tuple[float, int]]) -> Summary:
    """The same for values that each occur ``weight`` times (the gaps of one step, once per decode)."""
    ordered = sorted(pair for pair in pairs if pair[1] > 0)
    total = sum(weight for _, weight in ordered)
    if total == 0:
        return EMPTY
    mean = sum(value * weight for value, weight in ordered) / total
    p50, p90, p99 = _weighted(ordered, total)
    return Summary(p50, p90, p99, mean)


def _weighted(ordered: list[tuple[float, int]], total: int) -> list[float]:
    """The values at ranks ``percent/100·(total-1)`` of the expanded list, interpolated like ``percentile``
    (one pass for all of PERCENTILES)."""
    ranks = [percent / 100 * (total - 1) for percent in PERCENTILES]
    found: list[float] = []
    seen, index = 0, 0
    for rank in ranks:
        low, fraction = int(rank), rank - int(rank)
        while low >= seen + ordered[index][1]:
            seen += ordered[index][1]
            index += 1
        value = ordered[index][0]
        if fraction and low + 1 >= seen + ordered[index][1] and index + 1 < len(ordered):
            value += (ordered[index + 1][0] - value) * fraction
        found.append(value)
    return found


@dataclass(frozen=True, slots=True)
class Sample:
    """The deployment at one moment: requests queued, running, and the KV pools' use (0-1)."""

    time_s: float
    waiting: int
    running: int
    kv_used: float


@dataclass(frozen=True, slots=True)
class SimResult:
    """What a load test would report, plus what only a simulator sees (queue, KV, preemptions)."""

    requests: int
    completed: int
    rejected: int  # longer than one instance's KV pool holds: a server refuses them
    duration_s: float  # first arrival to last completion
    ttft_s: Summary
    tpot_s: Summary
    itl_s: Summary
    e2e_s: Summary
    output_tokens_per_s: float
    requests_per_s: float
    goodput_per_s: float  # completed requests that met the SLO (every target given), per second
    preemptions: int
    samples: tuple[Sample, ...]
    offered_rate_per_s: float | None  # None for a closed loop
    ttft_each_s: tuple[float, ...] = ()  # every completed request's TTFT, in the order they were sent
    e2e_each_s: tuple[float, ...] = ()

    @property
    def peak_waiting(self) -> int:
        return max((sample.waiting for sample in self.samples), default=0)

    @property
    def peak_kv_used(self) -> float:
        return max((sample.kv_used for sample in self.samples), default=0.0)
