"""edit_profile and with_section (core/profile/edit.py): the only way the app and the sweeps change a
profile. Tested here directly; before, only through the app (57% covered without it)."""

from __future__ import annotations

import pytest
from conftest import shipped

from napkinmath.core.errors import ProfileError
from napkinmath.core.profile.edit import edit_profile, next_whole_count, with_section
from napkinmath.core.profile.schema import Profile

LLAMA_70B = shipped("llama-3.1-70b-2xh100-fp8.toml")  # TP 2, 2 x H100, 1 replica


def test_a_field_is_set_and_the_rest_kept():
    edited = edit_profile(LLAMA_70B, "workload.users", 1234)
    assert edited.workload.users == 1234
    assert edited.model_copy(update={"workload": LLAMA_70B.workload}) == LLAMA_70B
    assert LLAMA_70B.workload.users == 400  # profiles are immutable: the original is untouched


def test_none_omits_an_optional_field_back_to_its_default():
    set_ = edit_profile(LLAMA_70B, "engine.max_num_seqs", 64)
    assert set_.engine.max_num_seqs == 64
    assert edit_profile(set_, "engine.max_num_seqs", None).engine.max_num_seqs is None


def test_loading_a_catalog_gpu_replaces_the_hardware_but_keeps_the_count():
    b200 = edit_profile(edit_profile(LLAMA_70B, "hardware.memory_gib", 70.0), "hardware.gpu", "b200")
    assert b200.hardware.gpu == "b200" and b200.hardware.count == 2
    assert b200.hardware.memory_gib == pytest.approx(179.06, abs=0.01)  # the catalog's, not the override


def test_loading_a_model_preset_replaces_the_model():
    qwen = edit_profile(LLAMA_70B, "model.preset", "qwen3-32b")
    assert qwen.model.preset == "qwen3-32b" and qwen.model.layers == 64


def test_the_gpu_count_sets_the_replicas_and_must_be_a_multiple():
    eight = edit_profile(LLAMA_70B, "hardware.count", 8)
    assert eight.parallelism.replicas == 4 and eight.parallelism.tensor == 2
    with pytest.raises(ProfileError, match=r"hardware.count: 3 GPUs is not a multiple .* = 2; use 4"):
        edit_profile(LLAMA_70B, "hardware.count", 3)


@pytest.mark.parametrize(("path", "value", "count"), [
    ("parallelism.tensor", 4, 4), ("parallelism.pipeline", 2, 4), ("parallelism.data", 3, 6),
    ("parallelism.replicas", 5, 10),
])
def test_a_parallelism_degree_recounts_the_gpus(path, value, count):
    edited = edit_profile(LLAMA_70B, path, value)
    assert edited.hardware.count == count == edited.parallelism.gpus


def test_a_parallelism_degree_keeps_the_gpu_count_and_recounts_the_replicas():
    # Issue 17: Tensor 2 -> 8 on 8 GPUs made it 32 GPUs (4 replicas kept) and 4x the rent.
    eight = edit_profile(LLAMA_70B, "hardware.count", 8)  # 4 replicas of TP 2
    wider = edit_profile(eight, "parallelism.tensor", 8)
    assert (wider.hardware.count, wider.parallelism.replicas) == (8, 1)
    back = edit_profile(wider, "parallelism.tensor", 2)
    assert (back.hardware.count, back.parallelism.replicas) == (8, 4)
    staged = edit_profile(eight, "parallelism.pipeline", 2)  # TP 2 x PP 2: 2 replicas of 4
    assert (staged.hardware.count, staged.parallelism.replicas) == (8, 2)
    # a count that does not divide grows to the next whole replica, never shrinks
    odd = edit_profile(eight, "parallelism.tensor", 3)
    assert (odd.hardware.count, odd.parallelism.replicas) == (9, 3)


@pytest.mark.parametrize(("count", "per_replica", "up", "down"), [
    (2, 2, 4, 2), (3, 2, 4, 2), (4, 2, 6, 2), (5, 2, 6, 4), (8, 8, 16, 8), (17, 8, 24, 16), (1, 1, 2, 1),
])
def test_the_gpu_count_steps_between_whole_replicas(count, per_replica, up, down):
    assert next_whole_count(count, per_replica, 1) == up
    assert next_whole_count(count, per_replica, -1) == down


def test_shrinking_tensor_caps_expert_parallelism_at_the_ranks_left():
    moe = shipped("qwen3-30b-a3b-1xh100.toml")
    wide = edit_profile(edit_profile(moe, "parallelism.tensor", 4), "parallelism.expert", 4)
    assert wide.parallelism.expert == 4
    narrow = edit_profile(wide, "parallelism.tensor", 2)  # the 4 GPUs kept: 2 replicas of TP 2
    assert narrow.parallelism.expert == 2 and narrow.hardware.count == 4 and narrow.parallelism.replicas == 2


@pytest.mark.parametrize(("path", "value", "message"), [
    ("workload.nonsense", 1, "workload.nonsense"),
    ("nonsense.users", 1, "nonsense.users: not a profile field"),
    ("workload", 1, "workload: not a profile field"),
    ("workload.users", 0, "workload.users"),
    ("workload.avg_context_tokens", 10**7, "cannot exceed max_context_tokens"),
    ("hardware.gpu", "no-such-gpu", "unknown GPU id 'no-such-gpu'"),
    ("model.preset", "no-such-model", "unknown model preset 'no-such-model'"),
    ("parallelism.tensor", 0, "parallelism.tensor"),
])
def test_a_refused_edit_names_the_field(path, value, message):
    with pytest.raises(ProfileError, match=message.replace(".", r"\.")):
        edit_profile(LLAMA_70B, path, value)


def test_with_section_replaces_a_section_whole():
    hardware = LLAMA_70B.hardware.model_dump(exclude_none=True) | {"count": 8}
    eight = with_section(LLAMA_70B, "hardware", hardware)
    assert eight.hardware.count == 8 and eight.parallelism.replicas == 4 and eight.parallelism.tensor == 2
    workload = with_section(LLAMA_70B, "workload", {"users": 7})
    assert workload.workload.users == 7 and workload.workload.max_context_tokens == 32_768  # defaults, not kept


def test_a_gpu_count_that_does_not_split_becomes_one_tensor_parallel_replica():
    hardware = LLAMA_70B.hardware.model_dump(exclude_none=True) | {"count": 3}
    three = with_section(LLAMA_70B, "hardware", hardware)
    assert (three.parallelism.tensor, three.parallelism.replicas, three.hardware.count) == (3, 1, 3)


def test_with_section_refuses_parallelism_and_bad_sections():
    with pytest.raises(ProfileError, match=r"only \[hardware\], \[model\]"):
        with_section(LLAMA_70B, "parallelism", {"tensor": 4})
    with pytest.raises(ProfileError, match="model"):
        with_section(LLAMA_70B, "model", {"layers": 2})


def test_a_default_memory_fraction_follows_the_engine_the_gpu_and_the_version():
    """Switching vLLM to SGLang took vLLM's 0.92 and release "0.30" along (an SGLang pool 8% of the GPU too large,
    at a version SGLang never had); a default fraction is worked out again for the new engine, GPU or version."""
    vllm = Profile.model_validate({"hardware": {"gpu": "h100-sxm", "count": 1}, "model": {"preset": "llama-3.1-8b"},
                                   "engine": {"name": "vllm", "version": "0.30"}})
    sglang = edit_profile(vllm, "engine.name", "sglang")
    assert sglang.engine.version == "0.5.9" and sglang.engine.gpu_memory_utilization == 0.835
    assert edit_profile(sglang, "hardware.gpu", "b200").engine.gpu_memory_utilization == 0.857
    assert edit_profile(sglang, "parallelism.tensor", 2).engine.gpu_memory_utilization == 0.834
    assert edit_profile(sglang, "engine.version", "0.5.2").engine.gpu_memory_utilization == 0.874
    assert edit_profile(vllm, "engine.version", "0.20").engine.gpu_memory_utilization == 0.9
    assert edit_profile(vllm, "engine.name", "trtllm").engine.gpu_memory_utilization == 0.9


def test_a_memory_fraction_the_user_set_stays_through_those_edits():
    vllm = Profile.model_validate({"hardware": {"gpu": "h100-sxm", "count": 1}, "model": {"preset": "llama-3.1-8b"},
                                   "engine": {"name": "vllm", "gpu_memory_utilization": 0.8}})
    for path, value in (("engine.name", "sglang"), ("engine.version", "0.20"), ("hardware.gpu", "b200")):
        assert edit_profile(vllm, path, value).engine.gpu_memory_utilization == 0.8


def test_a_default_kv_cache_dtype_follows_a_change_of_engine():
    """TensorRT-LLM stores the KV cache in fp8 by default for fp8 or fp4 weights; switching a vLLM profile to it
    kept vLLM's bf16 (a TensorRT-LLM pool half what the engine allocates), and back again kept fp8. A dtype the
    user set stays."""
    vllm = Profile.model_validate({"hardware": {"gpu": "h100-sxm", "count": 2}, "parallelism": {"tensor": 2},
                                   "model": {"preset": "llama-3.1-70b", "weight_dtype": "fp8"},
                                   "engine": {"name": "vllm"}})
    trtllm = edit_profile(vllm, "engine.name", "trtllm")
    assert str(trtllm.model.kv_dtype) == "fp8"
    assert str(edit_profile(trtllm, "engine.name", "vllm").model.kv_dtype) == "bf16"
    chosen = edit_profile(vllm, "model.kv_dtype", "fp8")
    assert str(edit_profile(chosen, "engine.name", "sglang").model.kv_dtype) == "fp8"
