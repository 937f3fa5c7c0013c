"""Warnings and notes a plan carries: what does not fit, what binds, what was assumed.

Each message is a plain sentence a user can act on ("short by 21.5 GiB per GPU: use 3 GPUs per
replica, or fp8 weights"). Nothing here changes a figure; it only reads the plan.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

from ..engines.rules import expert_split_warnings, format_refusals, tensor_split_refusals, valid_tensor_sizes
from ..engines.vllm import version_warnings
from ..specs.precisions import BYTES_PER_VALUE, COMPUTE_PATH, Precision, bytes_per_value
from ..specs.specs import GIB
from .remedies import Shape, shape_that_runs, shape_words
from .result import Problem

if TYPE_CHECKING:
    from ..engines.vllm_pool import VllmReport
    from ..profile.schema import Profile
    from .result import Plan

# Lower precisions to suggest, smallest last; fp4 only where the GPU computes it natively.
_QUANTIZE_STEPS = (Precision.fp8, Precision.int4, Precision.fp4)


def _gib(value: float) -> str:
    return f"{value / GIB:,.1f} GiB"


def remedy_shape(profile: Profile, weights: float, fixed: float, usable: float, request_kv: float) -> Shape | None:
    """The smallest shape the engine accepts that holds the weights and one request (see remedies.py)."""
    return shape_that_runs(profile, weights, fixed, usable, request_kv)


def wont_start(fits: bool, sequences_full_context: int, report: VllmReport | None) -> bool:
    """Whether the weights fit but not one request at the workload's max context: vLLM refuses to start where
    its own pool holds less than one (kv_cache_utils.py ``check_enough_kv_cache_memory``: ``report``'s max
    concurrency below 1), and other engines cannot serve such a request (``sequences_full_context`` is 0)."""
    return fits and sequences_full_context == 0 and (report is None or report.max_concurrency < 1)


def fitting_weight_precision(profile: Profile, weights: float, fixed: float, usable: float) -> str | None:
    """The first lower weight precision that fits (fp4 only where the GPU computes it), or None."""
    current = bytes_per_value(profile.model.weight_dtype)
    for step in _QUANTIZE_STEPS:
        if BYTES_PER_VALUE[step] >= current or (step is Precision.fp4 and profile.hardware.tflops.fp4 is None):
            continue
        if weights * BYTES_PER_VALUE[step] / current + fixed < usable:
            return step.value
    return None


def _gpu_label(profile: Profile) -> str:
    return profile.hardware.name


def _not_fitting(profile: Profile, result: Plan) -> list[str]:
    memory = result.memory.per_gpu
    need = memory.weights + memory.activations + memory.overhead
    message = (f"the model does not fit: each GPU needs {_gib(need)} (weights {_gib(memory.weights)}, "
               f"activations {_gib(memory.activations)}, overhead {_gib(memory.overhead)}) but may use "
               f"{_gib(memory.usable)}, short by {_gib(memory.shortfall)} per GPU and more for any KV cache")
    remedies = []
    figures = result.memory
    if figures.gpus_needed_per_replica and figures.tensor_needed and figures.pipeline_needed:
        words = shape_words(figures.gpus_needed_per_replica, figures.tensor_needed, figures.pipeline_needed,
                            profile.parallelism.data, _gpu_label(profile))
        remedies.append(f"use {words}, now {profile.parallelism.gpus_per_replica}")
    if figures.fitting_weight_dtype:
        remedies.append(f"quantize the weights to {figures.fitting_weight_dtype}")
    if remedies:
        message += ": " + ", or ".join(remedies)
    return [message]


def _wont_start(profile: Profile, result: Plan) -> list[str]:
    """The weights fit but not one request at the full context: vLLM refuses to start (kv_cache_utils.py
    ``check_enough_kv_cache_memory``), and other engines cannot serve such a request."""
    if not wont_start(result.memory.fits, result.capacity.max_sequences_full_context, result.engine):
        return []
    work, kv, memory = profile.workload, result.kv, result.memory.per_gpu
    report = result.engine
    who = f"vLLM {profile.engine.version} refuses to start" if report is not None else "the engine cannot serve it"
    message = (f"one {work.max_context_tokens:,}-token request needs {_gib(kv.bytes_per_sequence_max_context)} of KV "
               f"cache per GPU but {_gib(max(memory.kv_budget, 0.0))} is left: {who}")
    remedies = []
    if kv.longest_context_that_fits > 0:
        remedies.append(f"lower the max context to at most {kv.longest_context_that_fits:,} tokens")
    shape = result.memory.shape_to_start  # computed with the figures (memory_stage.memory_figures)
    if shape is not None:
        words = shape_words(shape.gpus_per_replica, shape.tensor, shape.pipeline, profile.parallelism.data,
                            _gpu_label(profile))
        remedies.append(f"use {words}")
    if remedies:
        message += "; " + ", or ".join(remedies)
    return [message]


def _capacity(profile: Profile, result: Plan) -> list[str]:
    work, capacity = profile.workload, result.capacity
    messages: list[str] = []
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
    if model.attention == "gqa" and model.kv_heads_or_default < par.tensor:
        messages.append(f"{model.kv_heads_or_default} KV heads over {par.tensor} tensor ranks: each rank holds a "
                        f"replicated copy, so KV per GPU does not shrink past tensor = {model.kv_heads_or_default}")
    if par.expert > 1:
        messages += expert_split_warnings(model, par.expert)
    if profile.engine.name == "vllm":
        messages += version_warnings(profile.engine.version)
    if par.expert > 1 and not model.is_moe:
        messages.append(f"parallelism.expert = {par.expert} has no effect on a dense model")
    roofline = result.roofline
    for role, precision, path in (("weight", model.weight_dtype, roofline.weight_compute_path),
                                  ("KV", model.kv_dtype, roofline.attention_compute_path)):
        wanted = COMPUTE_PATH[precision]
        if wanted != path and wanted != "fp32" and precision is not Precision.int4:
            messages.append(f"{gpu.name} has no {wanted} tensor-core path: {precision.value} {role} math runs at "
                            f"{path} (memory still shrinks)")
    if model.unmodelled:
        messages.append(f"{model.name}: config fields not modelled, which can change its parameters, KV cache or "
                        f"state: {', '.join(model.unmodelled)}")
    if work.prompt_tokens + work.output_tokens > work.max_context_tokens:
        messages.append(f"prompt + output ({work.prompt_tokens + work.output_tokens:,} tokens) exceed "
                        f"max_context_tokens ({work.max_context_tokens:,})")
    return messages


def _notes(profile: Profile, result: Plan) -> list[str]:
    notes = list(result.notes)
    memory = result.memory
    if memory.activations_source != "profile":
        notes.append(_estimate_note("activations", memory.per_gpu.activations, memory.activations_source,
                                    "activation_gib"))
    if memory.overhead_source != "profile":
        notes.append(_estimate_note("overhead", memory.per_gpu.overhead, memory.overhead_source, "overhead_gib"))
    if profile.model.uses_checkpoint_bytes:
        notes.append(f"weights: the checkpoint's exact {profile.model.checkpoint_gib:,.2f} GiB from its safetensors "
                     f"headers, not parameters x {profile.model.weight_dtype.value} bytes")
    if profile.model.is_moe and profile.model.expert_params_b is None:
        notes.append("no expert_params_b given: weights assumed spread evenly over the replica's GPUs and the "
                     "expert share derived from active/total parameters and experts_per_token/experts")
    if result.kv.state_bytes_per_sequence:
        model = profile.model
        state_mib = result.kv.state_bytes_per_sequence / 2**20
        notes.append(f"{model.state_layers} linear-attention/Mamba layers keep {state_mib:,.1f} MiB of state per "
                     f"sequence per GPU whatever its length; KV only on the {model.kv_layer_count} attention layers")
    if profile.model.mtp_params_b and not profile.model.mtp_on_gpu:
        notes.append(f"{profile.model.mtp_params_b:.2f}B MTP parameters not held (vLLM loads them only for MTP "
                     f"speculative decoding; set model.mtp_on_gpu = true to plan it)")
    if profile.parallelism.tensor > 1 and not profile.hardware.interconnect_gb_s:
        notes.append("interconnect bandwidth unknown: tensor-parallel all-reduce time counted as zero")
    if profile.engine.speed == "roofline" and profile.engine.mbu == 1.0 and profile.engine.mfu == 1.0:
        notes.append("mbu and mfu are 1.0: figures are peak-spec ceilings; real engines reach less")
    return notes


@lru_cache(maxsize=256)
def _estimate_note(what: str, value: float, source: str, field: str) -> str:
    """The note on an estimated memory term (cached: plans in a row mostly share it)."""
    return f"{what} {_gib(value)} per GPU: {source}; set engine.{field} to override"


def _refusals(profile: Profile) -> list[str]:
    """Settings the engine refuses at start-up (engines/rules.py), phrased with what would start."""
    model, par, engine = profile.model, profile.parallelism, profile.engine
    reasons, split = format_refusals(engine.name, model, profile.hardware), tensor_split_refusals(model, par.tensor)
    if not reasons and not split:
        return []
    who = f"vLLM {engine.version} refuses to start" if engine.name == "vllm" else "the engine refuses to start"
    messages = [f"{who}: {reason}" for reason in reasons]
    if split:
        valid = [size for size in valid_tensor_sizes(model, max(8, par.tensor)) if size > 1]
        sizes = f" (tensor sizes that split {model.name}: {', '.join(map(str, valid))})" if valid else ""
        messages.insert(0, f"{who}: " + "; ".join(split) + sizes)
    return messages


def advise(profile: Profile, result: Plan) -> tuple[tuple[Problem, ...], tuple[str, ...]]:
    """(problems, notes) of a plan whose figures are in and whose advice is not: errors first (the weights do
    not fit, the engine refuses the settings, or one full-context request cannot be held), then warnings."""
    errors = _refusals(profile) + (_not_fitting(profile, result) if not result.memory.fits else [])
    errors += _wont_start(profile, result)
    warnings = ([] if errors else _capacity(profile, result)) + _configuration(profile, result)
    problems = tuple([Problem("error", text) for text in errors] + [Problem("warning", text) for text in warnings])
    return problems, tuple(_notes(profile, result))


def with_advice(profile: Profile, result: Plan) -> Plan:
    """The plan with its problems and notes filled in (``advise``). A plan with an error does not run: it serves
    nobody and meets no target. Built directly where nothing changes (dataclasses.replace is slow)."""
    problems, notes = advise(profile, result)
    if not problems or problems[0].severity != "error":
        return type(result)(result.gpus, result.memory, result.kv, result.capacity, result.decode, result.roofline,
                            result.prefill, result.cost, result.provenance, result.engine, problems, notes)
    return not_running(result, problems, notes)


def not_running(result: Plan, problems: tuple[Problem, ...], notes: tuple[str, ...]) -> Plan:
    """A plan with an error (``problems`` starts with one): it serves nobody and meets no target."""
    limited_by = "weights" if not result.memory.fits else "engine"
    return replace(result, problems=problems, notes=notes,
                   capacity=replace(result.capacity, limited_by=limited_by, users_served=0),
                   decode=replace(result.decode, meets_target=None, tokens_per_s_aggregate=0.0,
                                  tokens_per_s_aggregate_ideal=0.0),
                   prefill=replace(result.prefill, meets_target=None),
                   cost=replace(result.cost, per_user_month=None, per_million_tokens=None, own_lifetime_per_user=None))
