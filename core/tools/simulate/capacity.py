"""Capacity at an SLO: the highest arrival rate whose tail latencies stay under their targets.

MLPerf Inference's Server scenario defines capacity this way (Poisson arrivals; the highest rate whose
p99 TTFT and p99 TPOT meet the limits). The search brackets the rate by doubling or halving from an
optimistic first guess, then bisects until the bracket is within ``tolerance``. Every trial uses the
same seed and request count, so the same requests arrive in the same order, only closer together as
the rate rises (common random numbers, traffic.py). For one server taking one request at a time a
higher rate then never shortens any wait (Lindley's recursion W' = max(0, W + S - A) with every gap A
smaller); with batching the latencies can wiggle by a step or so from one rate to the next, which the
bisection tolerates: what it returns is a rate measured to meet the SLO with one ``tolerance`` above it
measured not to. A finite run at a rate the deployment cannot sustain can still pass when its batch
soaks up the whole run, so a trial also has to keep up (``keeps_up``): over the second half of the
arrivals, at least 90% as many requests must complete as arrive (a deployment past its throughput
completes only what it can, a stable one what comes); a run too short for that to show (a request's time
after its first token over a quarter of the run) is repeated twice as long. Each trial sends at least
``RUN_PER_CLIENT`` requests per sequence the deployment runs at once (``fewest_requests``).

Users at that rate: a user is someone with a request in flight ``duty_cycle`` of the time (the
profile's definition, docs/design/physics.md "Capacity"), so by Little's law the requests in flight,
rate × mean end-to-end latency, are the users times their duty cycle: users = rate × E2E / duty_cycle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from ...errors import ProfileError
from .engine import TtftMissed
from .load import Deployment, Load, arrival_times
from .run import simulate
from .stats import SimResult

METRICS = ("ttft", "tpot", "itl", "e2e")
STATISTICS = ("p50", "p90", "p99", "mean")
SLO_KEYS = tuple(f"{metric}_{statistic}" for metric in METRICS for statistic in STATISTICS)
TOLERANCE = 0.02  # the bracket's relative width when the search stops
RUN_PER_CLIENT = 4  # a trial sends at least this many requests per request the deployment can hold in flight
KEEP_UP = 0.9  # share of the second half's arrivals that must complete by the last send (keeps_up)
LONGEST_RUN = 200_000  # requests: a trial is lengthened up to this while too short to judge
MAX_TRIALS = 40


def check_slo(slo: dict[str, float]) -> dict[str, float]:
    """ProfileError naming the first key that is not a known target or a value that is not > 0 s."""
    if not slo:
        raise ProfileError(f"an SLO needs at least one target, e.g. ttft_p99=2,tpot_p99=0.2 "
                           f"(keys: {', '.join(SLO_KEYS)})")
    for key, value in slo.items():
        if key not in SLO_KEYS:
            raise ProfileError(f"SLO key {key!r} does not exist; use one of {', '.join(SLO_KEYS)}")
        if not (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0):
            raise ProfileError(f"SLO {key}: the target must be a number of seconds above 0, got {value!r}")
    return slo


def parse_slo(text: str) -> dict[str, float]:
    """``ttft_p99=2,tpot_p99=0.2`` as {"ttft_p99": 2.0, "tpot_p99": 0.2} (seconds)."""
    slo: dict[str, float] = {}
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        key, equals, value = part.partition("=")
        key = key.strip()
        if key not in SLO_KEYS:
            raise ProfileError(f"SLO key {key!r} does not exist; use one of {', '.join(SLO_KEYS)}")
        try:
            slo[key] = float(value) if equals else math.nan
        except ValueError:
            raise ProfileError(f"SLO {key}: {value.strip()!r} is not a number of seconds") from None
    return check_slo(slo)


def observed(result: SimResult, key: str) -> float:
    """The result's value for an SLO key, e.g. ``ttft_p99`` -> result.ttft_s.p99."""
    metric, statistic = key.split("_", 1)
    return float(getattr(getattr(result, f"{metric}_s"), statistic))


def meets(result: SimResult, slo: dict[str, float]) -> bool:
    """Every target met, and every request served (a refused request misses any SLO)."""
    return result.rejected == 0 and all(observed(result, key) <= target for key, target in slo.items())


def late_ttft_allowance(slo: dict[str, float], requests: int) -> tuple[float, int] | None:
    """(target, late first tokens allowed) for the SLO's TTFT percentile, if it has one: with k of n
    first tokens later than the target, the order statistic at rank floor(q (n - 1)) is late once
    k >= n - floor(q (n - 1)), and so is the percentile interpolated above it (stats.percentile)."""
    for key, target in slo.items():
        metric, statistic = key.split("_", 1)
        if metric == "ttft" and statistic != "mean":
            low = math.floor(float(statistic[1:]) / 100 * (requests - 1))
            return target, requests - low - 1
    return None


@dataclass(frozen=True, slots=True)
class SloCapacity:
    """The highest rate found to meet the SLO (0 when even a trickle misses it) and the run there."""

    max_rate_per_s: float
    at_max: SimResult | None  # the run at that rate (None when no rate meets the SLO)
    missed_rate_per_s: float  # the lowest rate measured to miss it (one tolerance above the max)
    trials: int
    reason: str  # why the rate is what it is, in a sentence

    def users(self, duty_cycle: float) -> int:
        """Users at that rate: rate × mean end-to-end latency / duty cycle (Little's law; module docstring)."""
        if self.at_max is None or duty_cycle <= 0:
            return 0
        return math.floor(self.max_rate_per_s * self.at_max.e2e_s.mean / duty_cycle + 1e-9)


def first_guess(deployment: Deployment, load: Load) -> float:
    """An optimistic rate: every instance running its largest batch at the unloaded step time."""
    limits, lengths = deployment.limits, load.lengths
    context = lengths.input_tokens + lengths.output_tokens
    batch = max(1, min(limits.max_num_seqs, limits.kv_capacity_tokens // max(1, context)))
    step = deployment.step.step_time_s(batch, batch * (lengths.input_tokens + lengths.output_tokens / 2), 0, 0)
    return deployment.instances * batch / (max(1, lengths.output_tokens) * step)


def fewest_requests(deployment: Deployment, load: Load) -> int:
    """``RUN_PER_CLIENT`` requests per sequence the deployment can run at once (max_num_seqs, or the KV
    pool at average context), so that a trial outlasts the batch it fills."""
    limits, lengths = deployment.limits, load.lengths
    held = max(1.0, lengths.input_tokens + lengths.output_tokens / 2)
    batch = max(1, min(limits.max_num_seqs, int(limits.kv_capacity_tokens // held)))
    return RUN_PER_CLIENT * batch * deployment.instances


def keeps_up(result: SimResult, sends: list[float]) -> tuple[bool | None, str]:
    """Whether the deployment completed requests as fast as they came over the second half of the arrivals
    (True), fell behind (False: the queue grows, a longer run would miss any SLO), or the run is too short
    to tell (None: a request's own time after its first token, on average, exceeds a quarter of the
    arrivals' span; the wait in the queue does not count, since it grows with the run when falling behind)."""
    span = sends[-1] - sends[0]
    if result.e2e_s.mean - result.ttft_s.mean > span / 4:
        return None, ""
    half = sends[0] + span / 2
    arrived = sum(1 for sent in sends if sent >= half)
    finishes = [sent + e2e for sent, e2e in zip(sends, result.e2e_each_s, strict=False)]
    completed = sum(1 for finish in finishes if half <= finish <= sends[-1])
    if completed >= KEEP_UP * arrived:
        return True, ""
    return False, (f"at {result.offered_rate_per_s or 0:,.3g} requests/s the deployment falls behind: "
                   f"{completed:,} of {arrived:,} requests sent in the second half completed by the last send")


def trial(deployment: Deployment, load: Load, rate: float, slo: dict[str, float]) -> tuple[SimResult | None, str]:
    """One run at ``rate``: (the result if it meets the SLO and keeps up, else None, why not). A run whose
    TTFT percentile has already missed stops early (``late_ttft_allowance``); a run too short to tell
    whether the deployment keeps up is repeated with twice the requests (up to ``LONGEST_RUN``)."""
    at_rate = replace(load, rate_per_s=rate, concurrency=None, steady_state=False)
    while True:
        allowance = late_ttft_allowance(slo, at_rate.requests)
        try:
            result = simulate(deployment, at_rate, slo, late_ttft=allowance)
        except TtftMissed:
            key = next(key for key in slo if key.startswith("ttft_") and key != "ttft_mean")
            return None, f"at {rate:,.3g} requests/s: {key} > {slo[key]:g} s (the run stopped once that was certain)"
        if not meets(result, slo):
            return None, _miss_reason(result, slo, rate)
        if result.rejected:
            return result, ""
        steady, why = keeps_up(result, arrival_times(at_rate))
        if steady is None and at_rate.requests * 2 <= LONGEST_RUN:
            at_rate = replace(at_rate, requests=at_rate.requests * 2)
            continue
        return (result, "") if steady is not False else (None, why)


def max_rate_at_slo(deployment: Deployment, load: Load, slo: dict[str, float], tolerance: float = TOLERANCE,
                    progress: Callable[[int, float, bool], None] | None = None) -> SloCapacity:
    """The highest open-loop rate meeting ``slo`` (see the module docstring); ``load.rate_per_s`` is ignored.
    ``progress(trial, rate, met)`` is called after every trial (for a front end's progress bar)."""
    check_slo(slo)
    if not (0 < tolerance < 1):
        raise ProfileError(f"tolerance: must be between 0 and 1, got {tolerance!r}")
    trials = 0
    good: tuple[float, SimResult] | None = None
    bad: tuple[float, str] | None = None

    def _measure(rate: float) -> bool:
        nonlocal trials, good, bad
        trials += 1
        result, why = trial(deployment, load, rate, slo)
        if result is not None:
            good = (rate, result)
        else:
            bad = (rate, why)
        if progress is not None:
            progress(trials, rate, result is not None)
        return result is not None

    load = replace(load, requests=max(load.requests, fewest_requests(deployment, load)))
    measure = _measure
    rate = first_guess(deployment, load)
    if not measure(rate):
        while good is None and trials < MAX_TRIALS // 2:
            rate /= 4
            measure(rate)
    if good is None:
        assert bad is not None
        return SloCapacity(0.0, None, bad[0], trials, bad[1])
    while bad is None and trials < MAX_TRIALS // 2:
        rate *= 2
        measure(rate)
    if bad is None:  # not expected: past the deployment's throughput a run falls behind
        raise ProfileError(f"the SLO is met even at {rate:,.3g} requests/s; no rate limit was found")
    while bad[0] / good[0] - 1 > tolerance and trials < MAX_TRIALS:
        measure(math.sqrt(good[0] * bad[0]))
    return SloCapacity(good[0], good[1], bad[0], trials, bad[1])


def _miss_reason(result: SimResult, slo: dict[str, float], rate: float) -> str:
    """Which targets the first failing rate missed, in a sentence."""
    if result.rejected:
        return f"{result.rejected} request(s) are longer than one instance's KV pool holds"
    missed = [f"{key} {observed(result, key):.3g} s > {target:g} s" for key, target in slo.items()
              if observed(result, key) > target]
    return f"at {rate:,.3g} requests/s: " + ", ".join(missed)


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One rate of a latency-against-load curve (for charts)."""

    rate_per_s: float
    ttft_p99_s: float
    tpot_p99_s: float
    output_tokens_per_s: float


def latency_curve(deployment: Deployment, load: Load, rates: list[float],
                  progress: Callable[[int, float, bool], None] | None = None) -> list[CurvePoint]:
    """p99 TTFT and TPOT at each rate (same seed and requests: the points share their arrivals)."""
    points: list[CurvePoint] = []
    for index, rate in enumerate(rates, start=1):
        result = simulate(deployment, replace(load, rate_per_s=rate, concurrency=None, steady_state=False))
        points.append(CurvePoint(rate, result.ttft_s.p99, result.tpot_s.p99, result.output_tokens_per_s))
        if progress is not None:
            progress(index, rate, True)
    return points
