"""The deployment recommender: the cheapest catalog deployments that meet every target.

The brute-force check shares only the enumeration of the search space with the module: it builds
each deployment through full profile validation, finds the fewest replicas by bisection, and
judges the targets from the plan's figures itself.
"""

from __future__ import annotations

import pytest
from conftest import shipped

from napkinmath.core.plan.compose import Plan, plan
from napkinmath.core.profile.edit import edit_profile
from napkinmath.core.profile.files import profile_from_dict, profile_from_toml_text, profile_to_dict, profile_to_toml
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.catalog import gpu_catalog
from napkinmath.core.tools.recommend import Candidate, Option, deployment_space, recommend

SEED = "b200-32b-chat-duty20.toml"
LLAMA = "llama-3.1-70b-2xh100-fp8.toml"


def with_targets(profile: Profile, tokens_per_s: float = 20.0, ttft_s: float = 2.0) -> Profile:
    profile = edit_profile(profile, "workload.target_tokens_per_s", tokens_per_s)
    return edit_profile(profile, "workload.ttft_target_s", ttft_s)


@pytest.fixture(scope="module")
def seed() -> Profile:
    return with_targets(shipped(SEED))


@pytest.fixture(scope="module")
def seed_candidates(seed) -> list[Candidate]:
    return recommend(seed)


def meets_every_target(profile: Profile, result: Plan) -> bool:
    """Written from the plan's figures, not from its meets_target flags."""
    work = profile.workload
    if not result.memory.fits or result.memory.per_gpu.kv_budget <= 0:
        return False
    if result.capacity.users_served != work.users:
        return False
    if work.target_tokens_per_s > 0 and result.decode.tokens_per_s_per_user < work.target_tokens_per_s:
        return False
    if work.ttft_target_s > 0 and result.prefill.ttft > work.ttft_target_s:
        return False
    return True


def rented_per_user_month(profile: Profile) -> float:
    return (profile.hardware.count * profile.hardware.price_per_gpu_hour * profile.cost.hours_per_month
            / profile.workload.users)


def deployment(profile: Profile, option: Option, replicas: int) -> Profile:
    """The option as a fully validated profile, built from plain data."""
    data = profile_to_dict(profile)
    data["hardware"] = {"gpu": option.gpu_id, "count": option.tensor * option.pipeline * replicas}
    data["model"] = {**data["model"], "weight_dtype": option.weight_dtype.value, "kv_dtype": option.kv_dtype.value}
    data["parallelism"] = {"tensor": option.tensor, "pipeline": option.pipeline, "data": 1, "expert": 1,
                           "replicas": replicas}
    return profile_from_dict(data)


def fewest_replicas_serving_all(profile: Profile, option: Option, max_gpus: int) -> tuple[Profile, Plan] | None:
    """Bisection over replicas (users served only grows with replicas); None past max_gpus."""
    most = max_gpus // (option.tensor * option.pipeline)
    if most < 1:
        return None
    served = lambda r: plan(deployment(profile, option, r)).capacity.users_served == profile.workload.users  # noqa: E731
    if not served(most):
        return None
    low, high = 0, most  # served(high) holds; served(low) does not (or low is 0)
    while high - low > 1:
        middle = (low + high) // 2
        if served(middle):
            high = middle
        else:
            low = middle
    chosen = deployment(profile, option, high)
    return chosen, plan(chosen)


def brute_force_cheapest(profile: Profile, max_gpus: int = 64) -> float | None:
    best = None
    for option in deployment_space(profile, max_gpus):
        found = fewest_replicas_serving_all(profile, option, max_gpus)
        if found is None or not meets_every_target(*found):
            continue
        cost = rented_per_user_month(found[0])
        best = cost if best is None else min(best, cost)
    return best


# The top choice


def test_top_choice_meets_every_target_after_a_save_and_load(seed, seed_candidates):
    top = seed_candidates[0]
    reloaded = profile_from_toml_text(profile_to_toml(top.profile), "recommended.toml")
    assert reloaded == top.profile
    result = plan(reloaded)
    assert meets_every_target(reloaded, result)
    assert result.decode.meets_target is True and result.prefill.meets_target is True
    assert result.cost.per_user_month == pytest.approx(top.per_user_month)
    assert reloaded.hardware.gpu == top.gpu_id and reloaded.hardware.count == top.gpus
    assert reloaded.parallelism.gpus == top.tensor * top.pipeline * top.replicas == top.gpus


@pytest.mark.parametrize("name", [SEED, LLAMA])
def test_nothing_cheaper_in_the_catalog_meets_the_targets(name):
    profile = with_targets(shipped(name))
    top = recommend(profile, limit=1)[0]
    cheapest = brute_force_cheapest(profile)
    assert cheapest is not None
    assert cheapest >= top.per_user_month * (1 - 1e-9)
    assert cheapest == pytest.approx(top.per_user_month)


# The ranking


def test_ranked_by_cost_then_gpus_then_precision_kept_then_speed(seed_candidates):
    from napkinmath.core.specs.precisions import bytes_per_value

    keys = [(c.per_user_month, c.gpus, -(bytes_per_value(c.weight_dtype) + bytes_per_value(c.kv_dtype)),
             -c.plan.decode.tokens_per_s_per_user) for c in seed_candidates]
    assert keys == sorted(keys)
    assert len(seed_candidates) == 10


def test_every_candidate_meets_every_target_and_matches_its_own_plan(seed_candidates):
    for candidate in seed_candidates:
        result = plan(candidate.profile)
        assert meets_every_target(candidate.profile, result)
        assert result.cost.per_user_month == candidate.per_user_month == pytest.approx(
            rented_per_user_month(candidate.profile))
        assert result.decode.tokens_per_s_per_user == candidate.plan.decode.tokens_per_s_per_user
        assert candidate.limited_by in ("memory", "speed")
        assert candidate.binding and "\n" not in candidate.binding
        # the table cell names the same target as the sentence, and its room is never negative (it meets them)
        name, room = candidate.tightest.rsplit(" +", 1)
        assert room.endswith("%") and int(room[:-1].replace(",", "")) >= 0 and len(candidate.tightest) <= 12
        prefixes = {"memory": "memory:", "users": "speed:", "tok/s": "decode speed:", "TTFT": "time to first token:"}
        assert candidate.binding.startswith(prefixes[name])


def test_replicas_are_the_fewest_that_serve_everyone(seed_candidates):
    for candidate in seed_candidates:
        if candidate.replicas > 1:
            fewer = candidate.profile.model_copy(update={
                "parallelism": candidate.profile.parallelism.model_copy(update={"replicas": candidate.replicas - 1}),
                "hardware": candidate.profile.hardware.model_copy(update={"count": candidate.gpus - candidate.tensor
                                                                          * candidate.pipeline})})
            assert plan(fewer).capacity.users_served < candidate.profile.workload.users


def test_limit_and_max_gpus_are_respected(seed):
    assert len(recommend(seed, limit=3)) == 3
    assert [c.per_user_month for c in recommend(seed, limit=3)] == [
        c.per_user_month for c in recommend(seed, limit=10)[:3]]
    small = recommend(with_targets(shipped(LLAMA)), limit=50, max_gpus=2)
    assert small and all(c.gpus <= 2 for c in small)
    with pytest.raises(ValueError):
        recommend(seed, limit=0)


def test_an_impossible_workload_gets_no_candidates(seed):
    assert recommend(with_targets(seed, tokens_per_s=100_000)) == []


def test_the_deployment_keeps_the_workload_engine_cost_and_catalog_prices(seed, seed_candidates):
    for candidate in seed_candidates:
        chosen, gpu = candidate.profile, gpu_catalog()[candidate.gpu_id]
        assert chosen.workload == seed.workload
        assert chosen.engine == seed.engine
        assert chosen.cost == seed.cost
        assert chosen.hardware.price_per_gpu_hour == gpu.price_per_gpu_hour
        assert chosen.hardware.memory_gib == gpu.memory_gib
        assert chosen.model.layers == seed.model.layers and chosen.model.params_b == seed.model.params_b
        assert chosen.model.weight_dtype.value == candidate.weight_dtype
        assert chosen.model.kv_dtype.value == candidate.kv_dtype


# The search space


def test_the_space_follows_the_rules():
    profile = edit_profile(shipped(SEED), "model.preset", "qwen2.5-7b")  # 28 heads, bf16 weights and KV
    space = deployment_space(profile)
    catalog = gpu_catalog()
    assert {option.tensor for option in space} == {1, 2, 4}  # 8 does not divide 28 heads
    assert {option.pipeline for option in space} == {1, 2, 4}
    weights = lambda gpu: {o.weight_dtype.value for o in space if o.gpu_id == gpu}  # noqa: E731
    kvs = lambda gpu: {o.kv_dtype.value for o in space if o.gpu_id == gpu}  # noqa: E731
    assert weights("a100-80gb") == {"bf16", "int4"}
    assert weights("h100-sxm") == {"bf16", "fp8", "int4"}
    assert weights("b200") == {"bf16", "fp8", "int4", "mxfp4", "nvfp4", "fp4"}
    assert kvs("a100-80gb") == {"bf16"} and kvs("h100-sxm") == {"bf16", "fp8"}
    assert {o.gpu_id for o in space} == set(catalog)
    assert len(space) == sum(3 * 3 * len(weights(g)) * len(kvs(g)) for g in catalog)
    mxfp4 = deployment_space(edit_profile(shipped(SEED), "model.preset", "gpt-oss-120b"))
    assert {o.weight_dtype.value for o in mxfp4 if o.gpu_id == "h100-sxm"} == {"mxfp4"}  # nothing smaller runs
    assert {o.weight_dtype.value for o in mxfp4 if o.gpu_id == "b200"} == {"mxfp4", "fp4"}
    assert all(o.tensor * o.pipeline <= 4 for o in deployment_space(profile, max_gpus=4))


# Other architectures


@pytest.mark.parametrize("preset", ["qwen3-30b-a3b", "deepseek-v3"])
def test_moe_and_mla_models_get_recommendations(seed, preset):
    profile = edit_profile(seed, "model.preset", preset)
    candidates = recommend(profile, limit=5)
    assert candidates
    for candidate in candidates:
        reloaded = profile_from_toml_text(profile_to_toml(candidate.profile), "recommended.toml")
        assert reloaded.model.experts == profile.model.experts and reloaded.model.attention == profile.model.attention
        assert meets_every_target(reloaded, plan(reloaded))
    if preset == "deepseek-v3":
        assert candidates[0].gpus > 1  # 671B parameters need more than one GPU


def test_without_a_speed_target_nothing_below_the_reading_speed_floor_is_recommended():
    from napkinmath.core.tools.recommend import SPEED_FLOOR_TOKENS_PER_S, recommend_notes

    profile = edit_profile(shipped(LLAMA), "workload.target_tokens_per_s", 0.0)
    candidates = recommend(profile, limit=5)
    assert candidates and all(c.plan.decode.tokens_per_s_per_user >= SPEED_FLOOR_TOKENS_PER_S for c in candidates)
    assert any("no speed target" in note for note in recommend_notes(profile))
    assert recommend_notes(with_targets(profile)) == []


def test_the_targets_title_says_what_the_search_held_deployments_to():
    """One wording for the command line's and the app's titles; without a speed target, the floor it used."""
    from napkinmath.core.tools.recommend import targets_text

    profile = shipped(LLAMA)
    assert targets_text(profile) == "400 users, ≥ 20 tok/s each, TTFT ≤ 2 s"
    floor = edit_profile(edit_profile(profile, "workload.target_tokens_per_s", 0.0), "workload.ttft_target_s", 0.0)
    assert targets_text(floor) == "400 users, ≥ 10 tok/s each (floor)"


def test_no_deployment_the_engine_refuses_is_recommended():
    for candidate in recommend(shipped(LLAMA), limit=10):
        assert candidate.plan.runs
        gpu = gpu_catalog()[candidate.gpu_id]
        assert not (candidate.weight_dtype == "nvfp4" and gpu.vendor != "nvidia")
        assert candidate.profile.model.attention_heads % candidate.tensor == 0


def test_precision_variants_of_one_deployment_at_one_cost_are_folded_into_one():
    candidates = recommend(shipped(LLAMA), limit=10)
    keys = [(c.gpu_id, c.tensor, c.pipeline, c.replicas, round(c.per_user_month, 2)) for c in candidates]
    assert len(keys) == len(set(keys))
    folded = [c for c in candidates if c.alternatives]
    assert folded, "the Llama profile has same-cost precision variants (fp8/int4 weights, bf16/fp8 KV on MI300X)"
    first = folded[0]
    assert all("weights" in text and "tok/s" in text for text in first.alternatives)
