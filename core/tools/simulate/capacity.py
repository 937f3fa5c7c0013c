"""Capacity at an SLO: the highest arrival rate whose tail latencies stay under their targets.

MLPerf Inference's Server scenario defines capacity this way (Poisson arrivals; the highest rate whose
p99 TTFT and p99 TPOT meet the limits). The search brackets the rate by doubling or halving from an
optimistic first guess, then bisects until the bracket is within ``tolerance``. Every trial uses the
same seed and request count, so the same requests arrive in the same order, only closer together as
the rate rises (common random numbers, traffic.py). For one server taking one request at a time a
higher rate then never shortens any wait (Lindley's recursion W' = max(0, W + S - A) with every gap A
smaller); with batching the latencies can wiggle by a step or so from one rate to the next, which the
bisection tolerates: what it returns is a rate measured to meet the SLO with one ``tolerance`` above it
measured not to.

Users at that rate: a user is someone with a request in flight ``duty_cycle`` of the time (the
profile's definition, docs/design/physics.md "Capacity"), so by Little's law the requests in flight,
rate × mean end-to-end latency, are the users times their duty cycle: users = rate × E2E / duty_cycle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from ...errors import ProfileError
from .run import Deployment, Load, simulate
from .stats import SimResult

METRICS = ("ttft", "tpot", "itl", "e2e")
STATISTICS = ("p50", "p90", "p99", "mean")
SLO_KEYS = tuple(f"{metric}_{statistic}" for metric in METRICS for statistic in STATISTICS)
TOLERANCE = 0.02  # the bracket's relative width when the search stops
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


@dataclass(frozen=True, slots=True)
class SloCapacity:
    """The highest rate found to meet the SLO (0 when even a trickle misses it) and the run there."""

    max_rate_per_s: float
    at_max: SimResult | None  # the run at that rate (None when no rate meets the SLO)
    above: SimResult  # the run one tolerance above it: the first measured to miss
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


def max_rate_at_slo(deployment: Deployment, load: Load, slo: dict[str, float], tolerance: float = TOLERANCE,
                    progress: Callable[[int, float, bool], None] | None = None) -> SloCapacity:
    """The highest open-loop rate meeting ``slo`` (see the module docstring); ``load.rate_per_s`` is ignored.
    ``progress(trial, rate, met)`` is called after every trial (for a front end's progress bar)."""
    check_slo(slo)
    if not (0 < tolerance < 1):
        raise ProfileError(f"tolerance: must be between 0 and 1, got {tolerance!r}")
    trials = 0

    def trial(rate: float) -> tuple[bool, SimResult]:
        nonlocal trials
        trials += 1
        result = simulate(deployment, replace(load, rate_per_s=rate, concurrency=None), slo)
        ok = meets(result, slo)
        if progress is not None:
            progress(trials, rate, ok)
        return ok, result

    rate = first_guess(deployment, load)
    ok, result = trial(rate)
    good: tuple[float, SimResult] | None = (rate, result) if ok else None
    bad: tuple[float, SimResult] | None = None if ok else (rate, result)
    while good is None and trials < MAX_TRIALS // 2:
        rate /= 4
        ok, result = trial(rate)
        if ok:
            good = (rate, result)
        else:
            bad = (rate, result)
    if good is None:
        assert bad is not None
        return SloCapacity(0.0, None, bad[1], trials, _miss_reason(bad[1], slo, bad[0]))
    while bad is None and trials < MAX_TRIALS // 2:
        rate *= 2
        ok, result = trial(rate)
        if ok:
            good = (rate, result)
        else:
            bad = (rate, result)
    if bad is None:
        raise ProfileError(f"the SLO is met even at {rate:,.3g} requests/s: the waiting queue absorbs any load "
                           f"when no target bounds the wait; add a TTFT or end-to-end target")
    while bad[0] / good[0] - 1 > tolerance and trials < MAX_TRIALS:
        middle = math.sqrt(good[0] * bad[0])
        ok, result = trial(middle)
        if ok:
            good = (middle, result)
        else:
            bad = (middle, result)
    return SloCapacity(good[0], good[1], bad[1], trials, _miss_reason(bad[1], slo, bad[0]))


def _miss_reason(result: SimResult, slo: dict[str, float], rate: float) -> str:
    """Which targets the first failing rate missed, in a sentence."""
    if result.rejected:
        return f"{result.rejected} request(s) are longer than one instance's KV pool holds"
    missed = [f"{key} {observed(result, key):.3g} s > {target:g} s" for key, target in slo.items()
              if observed(result, key) > target]
    return f"at {rate:,.3g} requests/s: " + ", ".join(missed)
