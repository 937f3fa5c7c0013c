"""core/tools/sweep.py: the data behind `napkin sweep` and the app's charts. Tested here directly; before,
only through the app's charts (51% covered without them)."""

from __future__ import annotations

import pytest
from conftest import shipped

from napkinmath.core.errors import ProfileError
from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.edit import edit_profile
from napkinmath.core.tools.sweep import (
    cost_vs_gpus,
    field_path,
    field_upper_bound,
    field_vs_figure,
    parse_values,
    speed_vs_batch,
    sweep,
    users_vs_context,
)

LLAMA_70B = shipped("llama-3.1-70b-2xh100-fp8.toml")


@pytest.mark.parametrize(("name", "path"), [("users", "workload.users"), ("tensor", "parallelism.tensor"),
                                            ("cost.pue", "cost.pue"), ("memory_gib", "hardware.memory_gib")])
def test_field_path_from_a_key_or_a_section_key(name, path):
    assert field_path(name, LLAMA_70B) == path


@pytest.mark.parametrize(("name", "message"), [("userz", "userz: not a profile field"),
                                               ("workload.userz", "workload.userz: not a profile field"),
                                               ("name", "ambiguous")])
def test_field_path_refuses_unknown_and_ambiguous_names(name, message):
    with pytest.raises(ProfileError, match=message):
        field_path(name, LLAMA_70B)


def test_parse_values_lists_ranges_and_words():
    assert parse_values("1, 2,4") == [1, 2, 4]
    assert parse_values("0.5,1.5") == [0.5, 1.5]
    assert parse_values("100:500:200") == [100, 300, 500]
    assert parse_values("0:1:0.25") == [0, 0.25, 0.5, 0.75, 1]
    assert parse_values("fp8,bf16") == ["fp8", "bf16"]
    for bad, message in (("1:0:1", "step > 0"), ("0:100000:1", "10,000"), (" , ", "needs FIELD=")):
        with pytest.raises(ProfileError, match=message):
            parse_values(bad)


def test_sweep_plans_each_value_and_keeps_refusals_as_points():
    points = sweep(LLAMA_70B, "workload.avg_context_tokens", [2048, 8192, 10**9])
    assert [point.value for point in points] == [2048, 8192, 10**9]
    assert points[0].plan == plan(edit_profile(LLAMA_70B, "workload.avg_context_tokens", 2048))
    assert points[0].plan.capacity.users_served >= points[1].plan.capacity.users_served
    assert points[2].plan is None and "avg_context_tokens" in points[2].error


def test_users_vs_context_runs_up_to_the_max_context():
    series = users_vs_context(LLAMA_70B)
    assert series.xs[0] == 256 and series.xs[-1] == LLAMA_70B.workload.max_context_tokens
    assert series.xs == sorted(set(series.xs))
    served, capacity = series.lines["users served"], series.lines["capacity"]
    assert all(s is not None and c is not None and s <= c for s, c in zip(served, capacity, strict=True))
    assert served[0] >= served[-1]  # a longer context never serves more
    assert "400 wanted" in series.title


def test_speed_vs_batch_slows_each_user_and_marks_the_target():
    series = speed_vs_batch(LLAMA_70B)
    per_user, in_all = series.lines["tok/s per user"], series.right["tok/s in all"]
    assert series.xs[0] == pytest.approx(1, abs=0.5) and len(series.xs) >= 4
    assert per_user[0] > per_user[-1] and in_all[-1] > in_all[0]
    assert series.hlines == {"speed target": LLAMA_70B.workload.target_tokens_per_s}


def test_cost_vs_gpus_adds_replicas():
    series = cost_vs_gpus(LLAMA_70B, replicas=4)
    assert series.xs == [2, 4, 6, 8]
    served = series.right["users served"]
    assert served == sorted(served) and served[-1] == LLAMA_70B.workload.users


def test_field_vs_figure_spans_a_quarter_to_four_times_within_the_field_bounds():
    users = field_vs_figure(LLAMA_70B, "workload.users", "users_served", points=8)
    assert users.xs[0] == 100 and users.xs[-1] == 1600 and len(users.xs) == 8
    duty = field_vs_figure(LLAMA_70B, "workload.duty_cycle", "per_user_month", points=8)
    assert max(duty.xs) <= 1 and "per_user_month" not in duty.title
    assert field_upper_bound(LLAMA_70B.workload, "prefix_cache_hit") < 1
    with pytest.raises(ProfileError, match="a chart needs a numeric field"):
        field_vs_figure(LLAMA_70B, "engine.max_num_seqs", "users_served")  # unset: nothing to span
