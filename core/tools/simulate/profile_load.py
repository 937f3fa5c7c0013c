"""A profile as a simulation: its engine's performance as the deployment, its workload as the load and
the SLO, and "users at SLO" beside the plan's capacity by memory and by speed (issue 15).

The performance object is issue 14's ``engine_performance(profile)`` (core/plan/performance.py):
``step`` and ``limits`` of one instance, ``instances`` in the deployment, ``request_overhead_s`` and
``bands``. This module never runs inside ``plan()``: a search costs tens of simulations, so the command
line and the TUI call ``users_at_slo`` on their own (in a worker, for the TUI).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from ...errors import ProfileError
from ...physics.cost import cost_per_user_month
from ...plan.compose import plan
from ...plan.performance import engine_performance
from ...profile.schema import Profile
from .capacity import SloCapacity, max_rate_at_slo
from .load import Deployment, Load, Router
from .model import Limits, StepTimeModel
from .stats import SimResult
from .traffic import Arrivals, Lengths

SEARCH_REQUESTS = 2_000  # requests per trial of a profile's SLO search (p99 from the worst 20)


class Band(Protocol):
    @property
    def low(self) -> float: ...
    @property
    def high(self) -> float: ...


class Bands(Protocol):
    """Issue 14's error bands: low/high factors on expected TTFT, TPOT and throughput."""

    @property
    def ttft(self) -> Band: ...
    @property
    def tpot(self) -> Band: ...
    @property
    def throughput(self) -> Band: ...


class Performance(Protocol):
    """What ``engine_performance(profile)`` returns (docs: PERF_MODEL interface, issue 14)."""

    @property
    def step(self) -> StepTimeModel: ...
    @property
    def limits(self) -> Limits: ...
    @property
    def instances(self) -> int: ...
    @property
    def request_overhead_s(self) -> float: ...
    @property
    def bands(self) -> Bands: ...


def band_factors(performance: Performance) -> dict[str, tuple[float, float]]:
    """The bands as report.result_to_dict takes them."""
    bands = performance.bands
    return {name: (band.low, band.high) for name, band in
            (("ttft", bands.ttft), ("tpot", bands.tpot), ("throughput", bands.throughput))}


def deployment_for(profile: Profile, performance: Performance, router: Router = "least_outstanding") -> Deployment:
    """The profile's engine instances; TensorRT-LLM admits a request only when the pool holds it at full
    length (engine.py, ``reserve``), vLLM and SGLang allocate as it grows and preempt."""
    return Deployment(performance.step, performance.limits, performance.instances,
                      performance.request_overhead_s, router)


def workload_lengths(profile: Profile) -> Lengths:
    """The workload's prompt and reply, fixed (the plan's own per-request figures)."""
    work = profile.workload
    return Lengths("fixed", work.prompt_tokens, max(1, work.output_tokens))


def workload_targets(profile: Profile) -> dict[str, float]:
    """The targets the workload sets, as p99 SLOs in seconds: TTFT target, and TPOT = 1 / per-user decode
    target; empty when it sets none (the load page then offers MLPerf's limits)."""
    work, slo = profile.workload, {}
    if work.ttft_target_s > 0:
        slo["ttft_p99"] = work.ttft_target_s
    if work.target_tokens_per_s > 0:
        slo["tpot_p99"] = 1.0 / work.target_tokens_per_s
    return slo


def workload_slo(profile: Profile) -> dict[str, float]:
    """The workload's targets as p99 SLOs, or a ProfileError when it sets none."""
    slo = workload_targets(profile)
    if not slo:
        raise ProfileError("workload: set ttft_target_s or target_tokens_per_s (or pass an SLO such as "
                           "ttft_p99=2,tpot_p99=0.2) to find the users served at an SLO")
    return slo


def workload_load(profile: Profile, requests: int = SEARCH_REQUESTS, seed: int = 0,
                  arrivals: Arrivals | None = None, lengths: Lengths | None = None,
                  rate_per_s: float | None = None, concurrency: int | None = None) -> Load:
    """The profile's workload as a load: its lengths and prefix hits unless others are given."""
    return Load(rate_per_s=rate_per_s, concurrency=concurrency, requests=requests, seed=seed,
                arrivals=arrivals or Arrivals(), lengths=lengths or workload_lengths(profile),
                prefix_cache_hit=profile.workload.prefix_cache_hit)


@dataclass(frozen=True, slots=True)
class UsersAtSlo:
    """Users the deployment serves while p99 latencies meet the SLO; replicas and cost for the workload."""

    slo: dict[str, float]
    max_rate_per_s: float
    users: int  # rate × mean end-to-end latency / duty cycle (capacity.py, Little's law)
    users_per_replica: float
    replicas_needed: int | None  # for the workload's users; None when no rate meets the SLO
    cost_per_user_month: float | None
    at_max: SimResult | None
    reason: str


def users_at_slo(profile: Profile, performance: Performance | None = None, slo: dict[str, float] | None = None,
                 load: Load | None = None, router: Router = "least_outstanding") -> UsersAtSlo:
    """The highest Poisson rate meeting ``slo`` (default: the workload's targets), and what it means in
    users, replicas and cost. The plan's cost per hour prices the whole deployment. ``performance``
    defaults to the profile's fitted engine (``engine_performance``)."""
    performance = performance or engine_performance(profile)
    slo = slo if slo is not None else workload_slo(profile)
    load = load or workload_load(profile)
    found = max_rate_at_slo(deployment_for(profile, performance, router), load, slo)
    return sized_for_workload(profile, slo, found)


def sized_for_workload(profile: Profile, slo: dict[str, float], found: SloCapacity) -> UsersAtSlo:
    """A search's highest rate in users (at the workload's duty cycle), the replicas the workload's users
    need and the cost per user-month (the plan's cost per hour prices the whole deployment)."""
    work, replicas = profile.workload, profile.parallelism.replicas
    users = found.users(work.duty_cycle)
    per_replica = users / replicas
    needed = math.ceil(work.users / per_replica - 1e-9) if per_replica > 0 else None
    per_hour = plan(profile).cost.per_hour
    cost = cost_per_user_month(per_hour, users, profile.cost.hours_per_month)
    return UsersAtSlo(slo, found.max_rate_per_s, users, per_replica, needed, cost, found.at_max, found.reason)
