"""Warnings and notes a plan carries: what does not fit, what binds, what was assumed.

Each message is a plain sentence a user can act on ("short by 21.5 GiB per GPU: use 3 GPUs per
replica, or fp8 weights"). Nothing here changes a figure; it only reads the plan.
"""

from __future__ import annotations

from math import ceil
from typing import TYPE_CHECKING

from ..specs.precisions import BYTES_PER_VALUE, COMPUTE_PATH, Precision, bytes_per_value
from ..specs.specs import GIB

if TYPE_CHECKING:
    from ..profile.schema import Profile
    from .result import Plan

# Lower precisions to suggest, smallest last; fp4 only where the GPU computes it natively.
_QUANTIZE_STEPS = (Precision.fp8, Precision.int4, Precision.fp4)


def _gib(value: float) -> str:
    return f"{value / GIB:,.1f} GiB"


def gpus_needed_per_replica(profile: Profile, weights: float, fixed: float, usable: float) -> int | None:
    """Fewest GPUs per replica over which these weights would fit beside the fixed memory; None if none would."""
    room = usable - fixed
    if room <= 0:
        return None
    gpus = ceil(weights * profile.parallelism.gpus_per_replica / room * 1.000001)
    return gpus if gpus > profile.parallelism.gpus_per_replica else None


def fitting_weight_precision(profile: Profile, weights: float, fixed: float, usable: float) -> str | None:
    """The first lower weight precision that fits (fp4 only where the GPU computes it), or None."""
    current = bytes_per_value(profile.model.weight_dtype)
    for step in _QUANTIZE_STEPS:
        if BYTES_PER_VALUE[step] >= current or (step is Precision.fp4 and profile.hardware.tflops.fp4 is None):
            continue
        if weights * BYTES_PER_VALUE[step] / current + fixed < usable:
            return step.value
    return None


def _not_fitting(profile: Profile, result: Plan) -> list[str]:
    memory = result.memory.per_gpu
    need = memory.weights + memory.activations + memory.overhead
    message = (f"the model does not fit: each GPU needs {_gib(need)} (weights {_gib(memory.weights)}, "
               f"activations {_gib(memory.activations)}, overhead {_gib(memory.overhead)}) but may use "
               f"{_gib(memory.usable)}, short by {_gib(memory.shortfall)} per GPU and more for any KV cache")
    remedies = []
    if result.memory.gpus_needed_per_replica:
        remedies.append(f"spread each replica over at least {result.memory.gpus_needed_per_replica} "
                        f"{profile.hardware.name} GPUs (now {profile.parallelism.gpus_per_replica})")
    if result.memory.fitting_weight_dtype:
        remedies.append(f"quantize the weights to {result.memory.fitting_weight_dtype}")
    if remedies:
        message += ": " + ", or ".join(remedies)
    return [message]


def _capacity(profile: Profile, result: Plan) -> list[str]:
    work, capacity = profile.workload, result.capacity
    messages: list[str] = []
    if result.memory.fits and capacity.concurrent_by_memory == 0:
        messages.append(f"the model fits but no sequence of {work.avg_context_tokens:,} tokens fits in the "
                        f"{_gib(result.memory.per_gpu.kv_budget)} left for KV cache")
    elif result.memory.fits and capacity.max_sequences_full_context == 0:
        messages.append(f"not even one sequence at the full {work.max_context_tokens:,}-token context fits; "
                        f"lower max_context_tokens or add memory")
    if capacity.limited_by != "users" and capacity.replicas_needed:
        gpus = capacity.replicas_needed * profile.parallelism.gpus_per_replica
        messages.append(f"serves {capacity.users_served:,} of {work.users:,} users (limited by {capacity.limited_by}); "
                        f"all of them need {capacity.replicas_needed} replicas ({gpus} GPUs)")
    if work.target_tokens_per_s > 0 and capacity.concurrent_by_speed == 0:
        messages.append(f"even one sequence decodes at {result.decode.tokens_per_s_single_user:,.1f} tokens/s, "
                        f"below the {work.target_tokens_per_s:g} tokens/s target")
    if result.prefill.meets_target is False:
        messages.append(f"time to first token {result.prefill.ttft:,.2f} s misses the {work.ttft_target_s:g} s target")
    return messages


def _configuration(profile: Profile, result: Plan) -> list[str]:
    model, par, work, gpu = profile.model, profile.parallelism, profile.workload, profile.hardware
    messages: list[str] = []
    if model.max_context_tokens and work.max_context_tokens > model.max_context_tokens:
        messages.append(f"max_context_tokens {work.max_context_tokens:,} exceeds what {model.name} supports "
                        f"({model.max_context_tokens:,})")
    if model.attention_heads % par.tensor:
        messages.append(f"tensor parallelism {par.tensor} does not divide {model.attention_heads} attention heads; "
                        f"vLLM will refuse it")
    if model.attention == "gqa" and model.kv_heads_or_default < par.tensor:
        messages.append(f"{model.kv_heads_or_default} KV heads over {par.tensor} tensor ranks: each rank holds a "
                        f"replicated copy, so KV per GPU does not shrink past tensor = {model.kv_heads_or_default}")
    if par.expert > 1 and not model.is_moe:
        messages.append(f"parallelism.expert = {par.expert} has no effect on a dense model")
    for role, precision in (("weight", model.weight_dtype), ("KV", model.kv_dtype)):
        wanted = COMPUTE_PATH[precision]
        path = result.roofline.weight_compute_path if role == "weight" else result.roofline.attention_compute_path
        if wanted != path and wanted not in ("fp32",) and precision is not Precision.int4:
            messages.append(f"{gpu.name} has no {wanted} tensor-core path: {precision.value} {role} math runs at "
                            f"{path} (memory still shrinks)")
    if work.prompt_tokens + work.output_tokens > work.max_context_tokens:
        messages.append(f"prompt + output ({work.prompt_tokens + work.output_tokens:,} tokens) exceed "
                        f"max_context_tokens ({work.max_context_tokens:,})")
    return messages


def _notes(profile: Profile, result: Plan) -> list[str]:
    notes = list(result.notes)
    memory = result.memory
    if memory.activations_source != "profile":
        notes.append(f"activations {_gib(memory.per_gpu.activations)} per GPU: {memory.activations_source}; "
                     f"set engine.activation_gib to override")
    if memory.overhead_source != "profile":
        notes.append(f"overhead {_gib(memory.per_gpu.overhead)} per GPU: {memory.overhead_source}; "
                     f"set engine.overhead_gib to override")
    if profile.model.uses_checkpoint_bytes:
        notes.append(f"weights: the checkpoint's exact {profile.model.checkpoint_gib:,.2f} GiB from its safetensors "
                     f"headers, not parameters x {profile.model.weight_dtype.value} bytes")
    if profile.model.is_moe and profile.model.expert_params_b is None:
        notes.append("no expert_params_b given: weights assumed spread evenly over the replica's GPUs and the "
                     "expert share derived from active/total parameters and experts_per_token/experts")
    if profile.parallelism.tensor > 1 and not profile.hardware.interconnect_gb_s:
        notes.append("interconnect bandwidth unknown: tensor-parallel all-reduce time counted as zero")
    if profile.engine.mbu == 1.0 and profile.engine.mfu == 1.0:
        notes.append("mbu and mfu are 1.0: figures are peak-spec ceilings; real engines reach less")
    return notes


def with_advice(profile: Profile, result: Plan) -> Plan:
    """The plan with its warnings and notes filled in (built directly: dataclasses.replace is slow)."""
    warnings = _not_fitting(profile, result) if not result.memory.fits else []
    warnings += _capacity(profile, result) + _configuration(profile, result)
    return type(result)(result.gpus, result.memory, result.kv, result.capacity, result.decode, result.roofline,
                        result.prefill, result.cost, result.provenance, result.engine, tuple(warnings),
                        tuple(_notes(profile, result)))
