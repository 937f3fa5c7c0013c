"""A profile as a simulation: users at SLO beside the plan's capacity (issue 15).

These tests stand in a synthetic performance object for issue 14's ``engine_performance(profile)``
(same attributes), so that every figure checked has a closed form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
from conftest import shipped

from napkinmath.core.errors import ProfileError
from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.edit import edit_profile
from napkinmath.core.tools.simulate.model import LinearStepModel, SchedulerLimits
from napkinmath.core.tools.simulate.profile_load import (
    users_at_slo,
    workload_load,
    workload_slo,
)


@dataclass(frozen=True)
class FakeBand:
    low: float
    high: float


@dataclass(frozen=True)
class FakeBands:
    ttft: FakeBand = FakeBand(0.8, 1.3)
    tpot: FakeBand = FakeBand(0.9, 1.1)
    throughput: FakeBand = FakeBand(0.9, 1.1)


@dataclass(frozen=True)
class FakePerformance:
    step: LinearStepModel
    limits: SchedulerLimits
    instances: int = 1
    request_overhead_s: float = 0.02
    bands: FakeBands = FakeBands()


PERFORMANCE = FakePerformance(LinearStepModel(0.012, per_sequence_s=3e-5, per_kv_token_s=3e-8,
                                              per_prefill_token_s=4e-5), SchedulerLimits(256, 8192, 300_000))


def chat_profile():
    profile = shipped("b200-32b-chat-duty20.toml")
    profile = edit_profile(profile, "workload.ttft_target_s", 2.0)
    return edit_profile(profile, "workload.target_tokens_per_s", 20.0)


def test_the_workload_targets_become_p99_slos():
    assert workload_slo(chat_profile()) == {"ttft_p99": 2.0, "tpot_p99": pytest.approx(0.05)}
    bare = edit_profile(edit_profile(chat_profile(), "workload.ttft_target_s", 0.0), "workload.target_tokens_per_s", 0.0)
    with pytest.raises(ProfileError, match="set ttft_target_s or target_tokens_per_s"):
        workload_slo(bare)


def test_the_workload_is_the_load():
    profile = edit_profile(chat_profile(), "workload.prefix_cache_hit", 0.5)
    load = workload_load(profile, rate_per_s=1.0)
    assert (load.lengths.input_tokens, load.lengths.output_tokens) == (4000, 500)
    assert load.prefix_cache_hit == 0.5


def test_users_at_slo_follow_littles_law_and_price_the_deployment():
    profile = chat_profile()
    found = users_at_slo(profile, PERFORMANCE)
    assert found.max_rate_per_s > 0 and found.at_max is not None
    assert found.at_max.ttft_s.p99 <= 2.0 and found.at_max.tpot_s.p99 <= 0.05
    assert found.users == math.floor(found.max_rate_per_s * found.at_max.e2e_s.mean / 0.2 + 1e-9)
    assert found.replicas_needed == math.ceil(300 / found.users)
    per_hour = plan(profile).cost.per_hour
    assert found.cost_per_user_month == pytest.approx(per_hour * profile.cost.hours_per_month / found.users)


def test_a_lower_duty_cycle_means_more_users_at_the_same_rate():
    busy = users_at_slo(edit_profile(chat_profile(), "workload.duty_cycle", 1.0), PERFORMANCE)
    idle = users_at_slo(chat_profile(), PERFORMANCE)
    assert busy.max_rate_per_s == idle.max_rate_per_s
    assert idle.users == pytest.approx(5 * busy.users, abs=5)


def test_recommendations_rank_by_cost_at_the_slo():
    from napkinmath.core.tools.recommend import recommend
    from napkinmath.core.tools.simulate.rank import rank_by_users_at_slo

    profile = chat_profile()
    candidates = recommend(profile, limit=3)
    assert candidates
    ranked = rank_by_users_at_slo(candidates, lambda one: PERFORMANCE)
    assert {id(entry.candidate) for entry in ranked} == {id(candidate) for candidate in candidates}
    costs = [entry.per_user_month for entry in ranked if entry.per_user_month is not None]
    assert costs == sorted(costs)
    for entry in ranked:
        assert entry.at_slo.users > 0 and entry.replicas == math.ceil(300 / entry.at_slo.users)
