"""Everything a Load view shows for one profile, computed in one call (for a front end's worker):
the highest rate meeting the SLO and the users it serves, the percentiles at a chosen rate, and
p99 TTFT and TPOT against the rate around the maximum (for charts), each run as long and with the same
seed as the search's trials, so that the curve at the maximum is the search's own run.

``progress(text)`` is called between simulations: a front end shows the text and may raise from it to
stop the work (the exception passes through).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from ...profile.schema import Profile
from .capacity import CurvePoint, fewest_requests, latency_curve, max_rate_at_slo
from .load import Deployment, Load
from .profile_load import UsersAtSlo, sized_for_workload, workload_load
from .run import simulate
from .stats import SimResult

CURVE_SHARES = (0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5)  # of the highest rate meeting the SLO


@dataclass(frozen=True, slots=True)
class LoadAnswer:
    at_slo: UsersAtSlo
    rate_per_s: float  # the rate the percentiles are for (the chosen one, else the highest meeting the SLO)
    at_rate: SimResult | None  # None when no rate meets the SLO and none was chosen
    curve: tuple[CurvePoint, ...]


def load_answer(profile: Profile, deployment: Deployment, slo: dict[str, float], rate_per_s: float | None = None,
                load: Load | None = None, progress: Callable[[str], None] | None = None) -> LoadAnswer:
    """The search, the run at the chosen rate and the curve (module docstring)."""
    load = load or workload_load(profile)
    load = replace(load, requests=max(load.requests, fewest_requests(deployment, load)))  # as the search runs
    say = progress or (lambda text: None)

    def trial(index: int, rate: float, met: bool) -> None:
        say(f"searching: trial {index} at {rate:,.3g} requests/s {'meets' if met else 'misses'} the SLO")

    found = max_rate_at_slo(deployment, load, slo, progress=trial)
    at_slo = sized_for_workload(profile, slo, found)
    rate = rate_per_s if rate_per_s is not None else found.max_rate_per_s
    at_rate: SimResult | None = found.at_max if rate_per_s is None else None
    if at_rate is None and rate > 0:
        say(f"running {rate:,.3g} requests/s")
        at_rate = simulate(deployment, replace(load, rate_per_s=rate, concurrency=None, steady_state=False))
    base = found.max_rate_per_s or rate
    rates = sorted({round(base * share, 6) for share in CURVE_SHARES} | ({round(rate, 6)} if rate > 0 else set()))
    rates = [each for each in rates if each > 0]

    def point(index: int, each: float, _met: bool) -> None:
        say(f"drawing: {index} of {len(rates)} rates")

    curve = latency_curve(deployment, load, rates, point)  # the search's seed and length: the same runs
    return LoadAnswer(at_slo, rate, at_rate, tuple(curve))
