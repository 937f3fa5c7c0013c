"""Rank recommended deployments by what they cost when sized for users at the SLO, not at the mean.

``recommend`` (core/tools/recommend.py) sizes each candidate's replicas from the plan's capacity (memory,
and speed at the mean). Here each candidate's one replica is simulated under Poisson arrivals, its users
at the SLO found (profile_load.users_at_slo), the replicas the workload's users then need, and the cost
per user-month of that many replicas. Candidates no rate serves within the SLO go last.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ...plan.performance import engine_performance
from ...profile.edit import edit_profile
from ...profile.schema import Profile
from ..recommend import Candidate
from .profile_load import Performance, UsersAtSlo, users_at_slo


@dataclass(frozen=True, slots=True)
class RankedAtSlo:
    candidate: Candidate
    at_slo: UsersAtSlo  # for ONE replica of the candidate
    replicas: int | None  # replicas the workload's users need at the SLO
    per_user_month: float | None  # USD, rented, at the workload's users with those replicas


def one_replica(profile: Profile) -> Profile:
    """The candidate with a single replica (its GPUs per replica kept)."""
    per_replica = profile.parallelism.gpus_per_replica
    return edit_profile(edit_profile(profile, "parallelism.replicas", 1), "hardware.count", per_replica)


def rank_by_users_at_slo(candidates: list[Candidate],
                         performance_of: Callable[[Profile], Performance] = engine_performance,
                         slo: dict[str, float] | None = None,
                         progress: Callable[[int, int], None] | None = None) -> list[RankedAtSlo]:
    """Candidates re-ranked by cost per user-month when sized at the SLO; ``progress(done, total)``."""
    ranked: list[RankedAtSlo] = []
    for index, candidate in enumerate(candidates, start=1):
        single = one_replica(candidate.profile)
        found = users_at_slo(single, performance_of(single), slo)
        replicas = math.ceil(single.workload.users / found.users - 1e-9) if found.users > 0 else None
        cost = None
        if replicas is not None:
            per_replica_hour = candidate.plan.cost.per_hour / candidate.replicas
            cost = per_replica_hour * replicas * single.cost.hours_per_month / single.workload.users
        ranked.append(RankedAtSlo(candidate, found, replicas, cost))
        if progress is not None:
            progress(index, len(candidates))
    ranked.sort(key=lambda entry: (entry.per_user_month is None, entry.per_user_month or 0.0))
    return ranked
