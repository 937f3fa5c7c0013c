"""The plan's memory stage: bytes on the busiest GPU (docs/design/physics.md, "Memory per GPU").

Under vLLM the engine's own accounting (core/engines/vllm.py): the memory CUDA reports times the
utilization, weights as loaded, the profile run's activation peak per pipeline stage, non-torch memory
and CUDA graphs. Elsewhere the generic empirical defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..engines import sglang, trtllm
from ..engines.vllm import (
    cuda_graph_bytes_charged,
    default_sampler,
    default_scheduler_limits,
    engine_visible_bytes,
    loaded_expert_bytes,
    non_torch_bytes,
    replicated_mla_bytes,
)
from ..engines.vllm_hybrid import PoolLayout, attention_block_with_state
from ..engines.vllm_pool import PipelineStage, StageBudget, VllmReport, binding_stage, block_tokens_for
from ..memo import LastCall
from ..physics.memory import (
    default_activation_bytes,
    default_overhead_bytes,
    kv_budget_bytes,
    kv_bytes_per_token_per_layer_by_kind,
    usable_bytes,
    weight_bytes_held_and_read_per_gpu,
)
from ..profile.schema import Profile
from ..specs.specs import GIB, ModelSpec
from . import advice
from .result import CapacityFigures, MemoryFigures, MemoryPerGpu, ShapeNeeded


@dataclass(slots=True)  # built on every plan: unfrozen, as frozen construction costs ~1.5k instructions a field
class MemoryStage:
    """The memory stage's result: bytes on the busiest GPU, and how the engine lays out its pool."""

    usable: float
    weights: float
    activations: float
    overhead: float
    budget: float  # usable less weights, activations and overhead: negative when the model does not fit
    dense_bytes: float  # weights read per decode step by one GPU of a stage (dense part)
    expert_bytes: float  # routed experts held by one GPU of a stage
    block_tokens: int
    stage: PipelineStage | None  # vLLM: the pipeline stage whose pool binds
    cuda_graphs: float
    batched_tokens: int
    sequences: int
    activations_source: str
    overhead_source: str
    layout: PoolLayout | None = None  # vLLM: the binding stage's pool
    kv_per_layer: tuple[float, float] | None = None  # KV bytes per token of one full / one local layer on a GPU


@lru_cache(maxsize=256)
def _profile_run_source(version: str, sampler: str | None, stage_index: int, last_stage: bool, pipeline: int,
                        batched_tokens: int, sequences: int) -> str:
    """Where the vLLM activation peak comes from, for the binding pipeline stage (cached: a plan asks on every
    call, mostly with the same few arguments)."""
    if not last_stage:
        return (f"vLLM {version} profile run on pipeline stage {stage_index + 1} of {pipeline}: "
                f"{batched_tokens:,} batched tokens (the sampler runs on the last)")
    return (f"vLLM {version} profile run: {batched_tokens:,} batched tokens, "
            f"{sampler or default_sampler(version)} sampler over {min(sequences, batched_tokens):,} sequences")


# What one GPU holds of the model: (dense bytes held, dense bytes read, routed-expert bytes per rank, KV bytes per
# token of one full / one local layer, vLLM's block and its loaded expert bytes: None elsewhere).
HeldWeights = tuple[float, float, float, tuple[float, float], int | None, float | None]
# The last held_weights, reused while the model object and the other inputs repeat (core/memo.py).
_last_held = LastCall[tuple[int | str | None, ...], HeldWeights]()


def held_weights(profile: Profile) -> HeldWeights:
    """The weights and KV layout one GPU holds, which depend on the model, its split and the engine but not on
    the workload: computed once while the model object repeats (see ``_last_held``)."""
    model, par, engine, hardware = profile.model, profile.parallelism, profile.engine, profile.hardware
    tensor, expert = par.tensor, par.expert
    inputs = (tensor, par.data, expert, engine.name, engine.version, engine.block_tokens, hardware.name,
              hardware.architecture)
    held = _last_held.get(model, inputs)
    if held is not None:
        return held
    # the whole model on one tensor-parallel rank; every pipeline stage holds its share of it
    # read: no vision tower, no MTP layers
    dense_rank, read_rank, expert_rank = weight_bytes_held_and_read_per_gpu(model, tensor, 1, par.data, expert)
    if engine.name in ("vllm", "sglang"):  # MLA's down-projections are whole on every rank
        replicated = replicated_mla_bytes(model, tensor)
        dense_rank += replicated
        read_rank += replicated
    block = loaded = None
    if engine.name == "vllm":
        block = block_tokens_for(model, engine.block_tokens, hardware.name, hardware.architecture)
        loaded = loaded_expert_bytes(model, tensor, expert, engine.version, hardware.architecture)
    return _last_held.put(model, inputs, (dense_rank, read_rank, expert_rank,
                                          kv_bytes_per_token_per_layer_by_kind(model, tensor), block, loaded))


def _scheduler_limits(profile: Profile) -> tuple[int, int]:
    """(max_num_batched_tokens, max_num_seqs): the profile's, else vLLM's defaults for this GPU."""
    engine = profile.engine
    batched, sequences = default_scheduler_limits(engine.version, profile.hardware.memory_gib, profile.hardware.name,
                                                  engine.usage, profile.workload.max_context_tokens)
    return (engine.max_num_batched_tokens or batched, engine.max_num_seqs or sequences)


def _overhead(profile: Profile, vllm: bool, cuda_graphs: float) -> tuple[float, str]:
    """Non-torch memory, NCCL and CUDA graphs: the profile's, vLLM's measured model, or the generic default."""
    engine, par = profile.engine, profile.parallelism
    if engine.overhead_gib is not None:
        return engine.overhead_gib * GIB, "profile"
    if vllm:
        overhead = (non_torch_bytes(par.gpus_per_replica, par.tensor, engine.version, profile.hardware.interconnect)
                    + cuda_graphs)
        return overhead, (f"vLLM {engine.version}: non-torch memory"
                          + (" and the CUDA-graph estimate" if cuda_graphs else ""))
    source = "empirical default (physics.md anchors: non-torch memory and NCCL)"
    return default_overhead_bytes(par.gpus_per_replica), source


BindingInputs = tuple[float, float, float, int, int, int, int, int, str, int, str | None, float | None]
# The last _binding_stage, reused as ``_last_held`` is (core/memo.py).
_last_binding = LastCall[BindingInputs, StageBudget]()


def _binding_stage(model: ModelSpec, inputs: BindingInputs, kv_per_layer: tuple[float, float]) -> StageBudget:
    """vLLM's binding pipeline stage (``binding_stage``) for (usable, overhead, weights per rank, tensor, pipeline,
    expert, batched tokens, sequences, version, block, sampler, pinned activations); the last one is reused
    while the model object and these repeat (plans in a row that vary the users or the replicas). Nothing
    changes a StageBudget, its stage or its layout once built."""
    last = _last_binding.get(model, inputs)
    if last is not None:
        return last
    usable, overhead, weights, tensor, pipeline, expert, batched, sequences, version, block, sampler, pinned = inputs
    binding = binding_stage(model, usable=usable, overhead=overhead, weights_per_rank=weights, tensor=tensor,
                            pipeline=pipeline, expert=expert, batched_tokens=batched, sequences=sequences,
                            version=version, block_tokens=block, sampler=sampler, activations=pinned,
                            kv_per_layer=kv_per_layer)
    return _last_binding.put(model, inputs, binding)


def memory_stage(profile: Profile) -> MemoryStage:
    """Memory per GPU (physics.md, "Memory per GPU"); under vLLM, its own accounting (engines/vllm.py)."""
    hardware, model, par, engine = profile.hardware, profile.model, profile.parallelism, profile.engine
    vllm = engine.name == "vllm"
    if vllm:  # vLLM applies the utilization to the total CUDA reports
        usable = engine_visible_bytes(hardware.memory_gib, hardware.driver_reserved_gib) * engine.gpu_memory_utilization
    else:
        usable = usable_bytes(hardware.memory_gib, engine.gpu_memory_utilization)
    dense_rank, read_rank, expert_rank, kv_per_layer, vllm_block, loaded = held_weights(profile)
    batched_tokens, sequences = _scheduler_limits(profile)
    cuda_graphs = cuda_graph_bytes_charged(engine.version, engine.cuda_graphs) if vllm else 0.0
    overhead, overhead_source = _overhead(profile, vllm, cuda_graphs)
    pinned = engine.activation_gib * GIB if engine.activation_gib is not None else None
    stage = layout = None
    if vllm:  # weights as loaded; each pipeline stage sizes its own pool and the smallest binds
        assert vllm_block is not None  # held_weights gives vLLM's block
        block = vllm_block
        binding = _binding_stage(model, (usable, overhead, dense_rank + (expert_rank if loaded is None else loaded),
                                         par.tensor, par.pipeline, par.expert, batched_tokens, sequences,
                                         engine.version, block, engine.sampler, pinned), kv_per_layer)
        stage, weights, activations, layout = binding.stage, binding.weights, binding.activations, binding.layout
        block = attention_block_with_state(model, par.tensor, block, kv_per_layer[0])  # a hybrid's state grows it
        activations_source = "profile" if pinned is not None else _profile_run_source(
            engine.version, engine.sampler, stage.index, stage.last, par.pipeline, batched_tokens, sequences)
    else:
        block = engine.block_tokens or 16
        weights = (dense_rank + expert_rank) / par.pipeline
        activations = pinned if pinned is not None else default_activation_bytes(model)
        activations_source = ("profile" if pinned is not None
                              else "empirical default (physics.md anchors, scaled by hidden size)")
    budget = kv_budget_bytes(usable, weights, activations, overhead)
    if engine.name == "sglang":  # the fraction holds weights and pool; activations and buffers live outside it
        usable = hardware.memory_gib * GIB * engine.gpu_memory_utilization
        budget = sglang.sglang_kv_budget_bytes(hardware.memory_gib, engine.gpu_memory_utilization, weights)
        activations, overhead = 0.0, 0.0
        activations_source = overhead_source = (f"outside SGLang's mem_fraction_static "
                                                f"({engine.gpu_memory_utilization:g} of the GPU)")
    elif engine.name == "trtllm":  # the fraction applies to what is free after weights and buffers
        budget = trtllm.trtllm_kv_budget_bytes(hardware.memory_bytes, weights, activations, overhead,
                                               engine.gpu_memory_utilization)
        usable = weights + activations + overhead + budget
    return MemoryStage(usable=usable, weights=weights, activations=activations, overhead=overhead,
                   budget=budget,
                   dense_bytes=read_rank / par.pipeline, expert_bytes=expert_rank / par.pipeline,
                   block_tokens=block, stage=stage, cuda_graphs=cuda_graphs, batched_tokens=batched_tokens,
                   sequences=sequences, activations_source=activations_source, overhead_source=overhead_source,
                   layout=layout, kv_per_layer=kv_per_layer)


def memory_figures(profile: Profile, memory: MemoryStage, capacity: CapacityFigures, sequence_avg: float,
                   sequence_max: float, state: float = 0.0, report: VllmReport | None = None) -> MemoryFigures:
    """The memory bar's segments, and the remedies when the model does not fit or the engine will not start
    (``advice.wont_start``; ``report`` is vLLM's start-up report, None elsewhere). ``sequence_avg`` is one
    sequence's KV and state, ``sequence_max`` at the max context, ``state`` its state alone (a hybrid's
    linear / Mamba layers). The shape is searched only for a plan that cannot run for want of memory."""
    total, fits = profile.hardware.memory_bytes, memory.budget > 0
    sequences = capacity.users_served * profile.workload.duty_cycle / capacity.kv_groups
    kv_used = min(max(memory.budget, 0.0), sequences * sequence_avg) if fits else 0.0
    state_used = kv_used * state / sequence_avg if sequence_avg > 0 else 0.0
    fixed = memory.activations + memory.overhead
    # The remedy shape, searched only for a plan that cannot run for want of memory: it goes in the fields of
    # weights that do not fit, or in shape_to_start where the engine won't start
    needed = None
    if not fits or advice.wont_start(fits, capacity.max_sequences_full_context, report):
        needed = advice.remedy_shape(profile, memory.weights, fixed, memory.usable, sequence_max)
    shape, start = (None, needed) if fits else (needed, None)
    return MemoryFigures(
        per_gpu=MemoryPerGpu(total=total, reserved=total - memory.usable, usable=memory.usable, weights=memory.weights,
                             activations=memory.activations, overhead=memory.overhead, kv_budget=memory.budget,
                             kv_used=kv_used, free=max(memory.budget, 0.0) - kv_used,
                             shortfall=max(0.0, -memory.budget), state_used=state_used),
        fits=fits, activations_source=memory.activations_source, overhead_source=memory.overhead_source,
        gpus_needed_per_replica=shape.gpus * profile.parallelism.data if shape else None,
        tensor_needed=shape.tensor if shape else None, pipeline_needed=shape.pipeline if shape else None,
        fitting_weight_dtype=None if fits else advice.fitting_weight_precision(
            profile, memory.weights, fixed, memory.usable),
        shape_to_start=ShapeNeeded(start.gpus * profile.parallelism.data, start.tensor, start.pipeline)
        if start else None)
