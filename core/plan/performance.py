"""``engine_performance(profile)``: the fitted step-time model and the scheduler of one engine instance.

What the load test (core/tools/loadtest.py), the plan's speed figures and a serving simulator step with.
The roofline terms come from the profile's model, GPUs and parallelism (docs/design/physics.md), the
weights per GPU from the plan's memory stage (the engine's own accounting), the coefficients from
``engines/data/performance.toml`` for the profile's engine and GPU generation (engines/performance_data.py).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from ..engines import sglang, trtllm
from ..engines.performance import Coefficients, InstanceTerms, StepTimeModel
from ..engines.performance_data import Band, Bands, bands, coefficients_for, extrapolated
from ..engines.vllm import default_scheduler_limits
from ..memo import LastCall
from ..physics.decode import (
    ACTIVATION_BYTES,
    attention_flops_per_pair_prefill,
    attention_flops_per_position_decode,
    weight_flops_per_token,
)
from ..physics.memory import (
    expert_params_split,
    kv_bytes_per_token_split,
    state_bytes_per_sequence,
    vocab_matrix_bytes,
)
from ..profile.schema import Profile
from ..records import record
from ..specs.specs import ModelSpec
from .memory_stage import MemoryStage, memory_stage

NO_BAND = Bands(Band(1.0, 1.0), Band(1.0, 1.0), Band(1.0, 1.0))  # the bare roofline has no measured spread
# Expert dispatch and combine send hidden states in fp8 (DeepEP / TensorRT-LLM all-to-all): 1 byte a value.
DISPATCH_BYTES = 1


@record
class SchedulerLimits:
    """One engine instance's scheduler (see /work/notes/PERF_MODEL.md and docs/accuracy.md)."""

    max_num_seqs: int  # running sequences at most
    max_num_batched_tokens: int  # tokens per step at most, decode tokens included
    chunked_prefill: bool  # a prompt may be split across steps
    mixed_batches: bool  # decodes ride in the steps that prefill (False: a prefill step stalls them)
    kv_capacity_tokens: int  # tokens the instance's KV pool holds
    block_tokens: int
    # admission reserves a request's whole length (prompt + reply) and never preempts: TensorRT-LLM's default
    # capacity scheduler, GUARANTEED_NO_EVICT (core/engines/trtllm.py); vLLM and SGLang allocate as it grows
    reserves_full_length: bool = False


@record
class EnginePerformance:
    """The engine's step model, scheduler limits and bands for one profile (engine_performance)."""

    step: StepTimeModel
    limits: SchedulerLimits
    instances: int  # engine instances in the deployment: attention data-parallel ranks x replicas
    request_overhead_s: float  # per request outside the engine, added to TTFT
    bands: Bands
    kind: str  # "fitted", "calibrated" or "extrapolated" (fitted on other GPUs / engines)


def _scheduler(profile: Profile, memory: MemoryStage) -> tuple[int, int, bool, bool, bool]:
    """(max batched tokens, max sequences, chunked prefill, mixed batches, admission reserves a request's whole
    length) with the profile's overrides."""
    engine, hardware, par = profile.engine, profile.hardware, profile.parallelism
    reserves = False  # vLLM and SGLang allocate a sequence's KV as it grows
    if engine.name == "sglang":
        tokens = sglang.default_chunked_prefill_size(hardware.memory_gib, par.data, engine.version)
        sequences, chunked, mixed = sglang.DEFAULT_MAX_RUNNING_REQUESTS, sglang.CHUNKED_PREFILL, sglang.MIXED_BATCHES
    elif engine.name == "trtllm":
        tokens, sequences = trtllm.DEFAULT_MAX_NUM_TOKENS, trtllm.DEFAULT_MAX_BATCH_SIZE
        chunked, mixed, reserves = trtllm.CHUNKED_PREFILL, trtllm.MIXED_BATCHES, trtllm.RESERVES_FULL_LENGTH
    elif engine.name == "vllm":
        tokens, sequences, chunked, mixed = memory.batched_tokens, memory.sequences, True, True
    else:
        tokens, sequences = default_scheduler_limits("0.30", hardware.memory_gib, hardware.name, engine.usage,
                                                     profile.workload.max_context_tokens)
        chunked, mixed = True, True
    mixed = mixed if engine.mixed_batches is None else engine.mixed_batches
    return engine.max_num_batched_tokens or tokens, engine.max_num_seqs or sequences, chunked, mixed, reserves


# The last instance_terms, reused while the model object and the other inputs repeat (core/memo.py); ``_terms``
# below keeps more of them, but looking one up there hashes the model.
_last_terms = LastCall[tuple[float | int, ...], InstanceTerms]()


def instance_terms(profile: Profile, memory: MemoryStage) -> InstanceTerms:
    """The peak-spec roofline terms of one instance (docs/design/physics.md; busiest GPU, stages in turn)."""
    par, model, hardware = profile.parallelism, profile.model, profile.hardware
    tflops = hardware.tflops
    inputs = (hardware.bandwidth_bytes_per_s, tflops.flops_per_s(tflops.compute_path(model.weight_dtype)),
              tflops.flops_per_s(tflops.compute_path(model.kv_dtype)), hardware.interconnect_gb_s * 1e9,
              par.tensor, par.pipeline, par.data, par.expert, memory.dense_bytes, memory.expert_bytes)
    terms = _last_terms.get(model, inputs)
    return terms if terms is not None else _last_terms.put(model, inputs, _terms(model, *inputs))


@lru_cache(maxsize=512)
def _terms(model: ModelSpec, bandwidth: float, gemm_flops_per_s: float, attention_flops_per_s: float, link: float,
           tensor: int, stages: int, data: int, expert: int, dense_bytes: float, expert_bytes: float) -> InstanceTerms:
    """``instance_terms`` for hashable inputs (the GPU as its bandwidth, FLOP/s on the weights' and the KV
    cache's compute paths, and link bytes/s): a sweep that varies only the workload reuses them."""
    attention_flops = attention_flops_per_s * tensor
    # the input embedding is a lookup: a step reads its rows, not the table (the output head is read)
    embedding = vocab_matrix_bytes(model) / tensor
    full, sliding = kv_bytes_per_token_split(model, tensor, stages)
    share = model.sliding_window_layers / model.layers
    decode_per_position = attention_flops_per_position_decode(model)
    prefill_per_pair = attention_flops_per_pair_prefill(model)
    _, experts = expert_params_split(model)
    expert_flops = 2 * experts * model.experts_per_token / model.experts if model.is_moe else 0.0
    gemm_flops = weight_flops_per_token(model) - 2 * (model.vocab_size or 0) * model.hidden_size - expert_flops
    moe_layers = model.layers if model.is_moe else 0
    expert_group = tensor * data
    dispatch = model.is_moe and (expert > 1 or data > 1)
    all_reduce = 2 * model.layers * model.hidden_size * ACTIVATION_BYTES * 2 * (tensor - 1) / tensor
    all_to_all = (2 * moe_layers * model.hidden_size * DISPATCH_BYTES * min(model.experts_per_token, expert_group)
                  * (expert_group - 1) / expert_group) if dispatch else 0.0
    sends = (stages - 1) * model.hidden_size * ACTIVATION_BYTES
    return InstanceTerms(
        dense_read_s=stages * max(0.0, dense_bytes - embedding / stages) / bandwidth,
        expert_read_s=stages * expert_bytes / bandwidth, experts=model.experts,
        experts_per_token=model.experts_per_token, data_ranks=data,
        kv_full_s_per_token=stages * full / bandwidth, kv_sliding_s_per_token=stages * sliding / bandwidth,
        state_s_per_sequence=stages * 2 * state_bytes_per_sequence(model, tensor, stages) / bandwidth,
        window=(model.sliding_window or 0) if model.sliding_window_layers else 0,
        gemm_s_per_token=max(0.0, gemm_flops) / (tensor * gemm_flops_per_s),
        expert_gemm_s_per_token=expert_flops / (tensor * gemm_flops_per_s),
        attention_decode_full_s=decode_per_position * (1 - share) / attention_flops,
        attention_decode_sliding_s=decode_per_position * share / attention_flops,
        attention_prefill_full_s=prefill_per_pair * (1 - share) / attention_flops,
        attention_prefill_sliding_s=prefill_per_pair * share / attention_flops,
        comm_s_per_token=(all_reduce + all_to_all + sends) / link if link else 0.0,
        collectives=(2 * model.layers if tensor > 1 else 0) + (2 * moe_layers if dispatch else 0) + stages - 1,
        layers=model.layers, moe_layers=moe_layers, int4=model.weight_dtype == "int4")


def _kv_capacity_tokens(profile: Profile, memory: MemoryStage, kv_tokens: int | None) -> int:
    if kv_tokens is not None:
        return kv_tokens
    full, sliding = kv_bytes_per_token_split(profile.model, profile.parallelism.tensor, profile.parallelism.pipeline,
                                             memory.kv_per_layer)
    per_token = full + sliding
    return int(memory.budget // per_token) if memory.budget > 0 and per_token > 0 else 0


def _coefficients(profile: Profile) -> tuple[Coefficients, str]:
    """The fitted coefficients, rescaled by the profile's calibration; on ``speed = "roofline"`` the peak-spec
    terms with the profile's engine time (the scheduling shares stay as fitted)."""
    engine, hardware = profile.engine, profile.hardware
    fitted = coefficients_for(engine.name, hardware.architecture)
    if engine.speed == "roofline":
        bare = replace(Coefficients.neutral(), arrival_wait=fitted.arrival_wait, cohort=fitted.cohort,
                       test_cycles=fitted.test_cycles)
        return bare.scaled(1.0, engine.step_overhead_ms * 1e-3, engine.step_overhead_per_sequence_us * 1e-6), "roofline"
    kind = "extrapolated" if extrapolated(engine.name, hardware.gpu) else "fitted"
    scale = engine.speed_scale
    adds_step, adds_sequence = engine.step_overhead_ms * 1e-3, engine.step_overhead_per_sequence_us * 1e-6
    if scale == 1.0 and not adds_step and not adds_sequence:
        return fitted, kind
    calibrated = engine.is_calibrated("speed_scale") or engine.is_calibrated("step_overhead_ms") \
        or engine.is_calibrated("step_overhead_per_sequence_us")
    scaled = fitted.scaled(scale, adds_step, adds_sequence)
    return scaled, "calibrated" if calibrated else "assumed"


def engine_performance(profile: Profile, memory: MemoryStage | None = None,
                       kv_tokens: int | None = None) -> EnginePerformance:
    """The step model, scheduler limits and bands of the profile's engine (see the module docstring).
    ``memory`` and ``kv_tokens`` (the engine's printed pool) reuse what a plan already computed."""
    memory = memory or memory_stage(profile)
    engine, par = profile.engine, profile.parallelism
    coefficients, kind = _coefficients(profile)
    step = StepTimeModel(instance_terms(profile, memory), coefficients, engine.mbu, engine.mfu)
    tokens, sequences, chunked, mixed, reserves = _scheduler(profile, memory)
    limits = SchedulerLimits(max_num_seqs=sequences, max_num_batched_tokens=tokens, chunked_prefill=chunked,
                             mixed_batches=mixed, kv_capacity_tokens=_kv_capacity_tokens(profile, memory, kv_tokens),
                             block_tokens=memory.block_tokens, reserves_full_length=reserves)
    band = NO_BAND if kind == "roofline" else bands()
    return EnginePerformance(step=step, limits=limits, instances=par.data * par.replicas,
                             request_overhead_s=coefficients.request_s, bands=band, kind=kind)
