"""The physics slips issue 14 found, each against a figure computed or measured independently of the code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.specs import GIB

CONFIGS = Path(__file__).parent / "data" / "configs"


def _profile(**sections) -> Profile:
    return Profile.model_validate(sections)


def test_an_fp8_override_of_a_bf16_preset_keeps_embeddings_and_head_at_16_bits():
    """vLLM's fp8 method quantizes the linear layers only (the head stays bf16: vllm-project/vllm PR #41000
    makes an fp8 head opt-in). Public vLLM logs of Llama-3.1-8B with fp8 weights print "Loading model weights
    took 8.4939 GB" (neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8-dynamic) and 8.4926 GB (``--quantization
    fp8``, v0.6.3.post1) — GiB in vLLM's wording; the bf16 checkpoint 14.99. Storing the 2 x 128,256 x 4,096
    embedding and head values at 1 byte would give 7.48 GiB."""
    fp8 = plan(_profile(hardware={"gpu": "h100-sxm"}, model={"preset": "llama-3.1-8b", "weight_dtype": "fp8"}))
    bf16 = plan(_profile(hardware={"gpu": "h100-sxm"}, model={"preset": "llama-3.1-8b"}))
    assert fp8.memory.per_gpu.weights / GIB == pytest.approx(8.49, rel=0.01)
    assert bf16.memory.per_gpu.weights / GIB == pytest.approx(14.99, rel=0.01)


def test_vllm_replicates_mlas_down_projections_on_every_tensor_rank():
    """q_a_proj and kv_a_proj_with_mqa are whole on every rank under vLLM (``DeepSeekV2FusedQkvAProjLinear``
    with ``disable_tp=True``, formerly ``ReplicatedLinear``; vllm-project/vllm
    vllm/model_executor/models/deepseek_v2.py). From DeepSeek-V3's config.json: 61 layers x 7,168 x (1,536 +
    512 + 64) fp8 values, of which a rank holds 7/8 more at TP 8 than an even split gives: ~0.75 GiB."""
    config = json.loads((CONFIGS / "deepseek-v3.json").read_text())
    width = config["q_lora_rank"] + config["kv_lora_rank"] + config["qk_rope_head_dim"]
    extra = config["num_hidden_layers"] * config["hidden_size"] * width * 1.0 * (1 - 1 / 8)
    sections = {"hardware": {"gpu": "h200", "count": 8}, "parallelism": {"tensor": 8},
                "model": {"preset": "deepseek-v3"}}
    vllm = plan(_profile(**sections, engine={"name": "vllm"})).memory.per_gpu.weights
    even = plan(_profile(**sections, engine={"name": "generic"})).memory.per_gpu.weights
    assert vllm - even == pytest.approx(extra, rel=1e-6)
    assert extra / GIB == pytest.approx(0.75, abs=0.01)


def test_a_long_moe_prompt_reads_every_expert_so_prefill_is_no_faster_than_the_weights():
    """A 2,048-token prompt routes to all 256 experts of every layer, so the pass reads all of DeepSeek-V3's
    published 671B parameters (1 byte each in fp8) over 8 x 4.8 TB/s of HBM: at least 17.5 ms, above the
    9.7 ms its FLOPs alone would take (211,000 prompt tokens/s). The peak-spec prefill rate (bare roofline
    and fitted model alike) must not beat that read."""
    read_s = 671e9 * 1.0 / 8 / 4.8e12
    for speed in ("roofline", "fitted"):
        result = plan(_profile(hardware={"gpu": "h200", "count": 8}, parallelism={"tensor": 8},
                               model={"preset": "deepseek-v3"}, engine={"speed": speed},
                               workload={"prompt_tokens": 2048, "avg_context_tokens": 4096}))
        assert result.prefill.tokens_per_s_ideal <= 2048 / read_s * 1.01, speed
        assert result.prefill.tokens_per_s <= result.prefill.tokens_per_s_ideal


def test_weights_that_do_not_fit_say_so_not_kv_memory():
    result = plan(_profile(hardware={"gpu": "l4"}, model={"preset": "llama-3.1-70b"}))
    assert not result.memory.fits
    assert result.capacity.limited_by == "weights"
