"""``plan(profile) -> Plan``: every figure of a deployment, computed once, frozen.

Composes the small functions of memory.py, capacity.py, decode.py, prefill.py and cost.py in the
order of docs/design/physics.md. A model that does not fit still gets a plan that says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from napkinmath.core.plan import advice
from napkinmath.core.physics.capacity import (
    capacity_users,
    kv_tokens_capacity,
    replicas_needed,
    sequences_that_fit,
)
from napkinmath.core.physics.cost import (
    cost_per_hour,
    cost_per_million_tokens,
    cost_per_user_month,
    own_cost_per_hour,
    own_lifetime_cost_per_user,
)
from napkinmath.core.physics.decode import (
    NVLINK_COLLECTIVE_LATENCY_US,
    PCIE_COLLECTIVE_LATENCY_US,
    StepModel,
    all_reduce_bytes_per_step,
    attention_flops_per_token_decode,
    collectives_per_step,
    critical_batch,
    largest_batch_meeting,
    moe_fraction_touched,
    ridge_flops_per_byte,
    round_batch,
    stage_send_bytes_per_step,
    weight_flops_per_token,
)
from napkinmath.core.physics.memory import (
    default_activation_bytes,
    default_overhead_bytes,
    kv_budget_bytes,
    kv_bytes_per_token_split,
    sequence_kv_bytes,
    sequence_kv_bytes_read,
    usable_bytes,
    weight_bytes_per_gpu,
)
from napkinmath.core.physics.prefill import (
    attention_flops_per_token_prefill,
    prefill_tokens_per_s,
    ttft_s,
)
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.specs import GIB
from napkinmath.core.engines.vllm import (
    PipelineStage,
    VllmReport,
    binding_stage,
    block_tokens_for,
    cuda_graph_bytes_charged,
    default_sampler,
    default_scheduler_limits,
    engine_visible_bytes,
    loaded_expert_bytes,
    non_torch_bytes,
    vllm_report,
)


@dataclass(frozen=True, slots=True)
class MemoryPerGpu:
    """Bytes on the busiest GPU. total = reserved + usable; usable = weights + activations + overhead + kv_budget."""

    total: float
    reserved: float
    usable: float
    weights: float
    activations: float
    overhead: float
    kv_budget: float
    kv_used: float
    free: float
    shortfall: float  # weights + activations + overhead beyond usable; 0 when the model fits


@dataclass(frozen=True, slots=True)
class MemoryFigures:
    per_gpu: MemoryPerGpu
    fits: bool
    activations_source: str
    overhead_source: str
    gpus_needed_per_replica: int | None  # when it does not fit: the fewest GPUs per replica that would hold it
    fitting_weight_dtype: str | None  # when it does not fit: the first lower weight precision that would


@dataclass(frozen=True, slots=True)
class KvFigures:
    bytes_per_token: float
    tokens_capacity: int
    block_tokens: int  # the paged-attention block in use (the profile's, else the engine's default)
    bytes_per_sequence_avg_context: float
    bytes_per_sequence_max_context: float


@dataclass(frozen=True, slots=True)
class CapacityFigures:
    max_sequences_full_context: int
    concurrent_sequences: int
    concurrent_by_memory: int
    concurrent_by_speed: int | None
    kv_groups: int
    capacity_users: int
    users_served: int
    replicas_needed: int | None
    limited_by: str


@dataclass(frozen=True, slots=True)
class DecodeFigures:
    batch: float
    step_time: float
    memory_time: float
    compute_time: float
    collective_time: float
    communication_fraction: float  # of the step: TP all-reduces and pipeline sends
    engine_time: float  # the engine's own time in the step beyond the roofline (calibrated; 0 by default)
    tokens_per_s_per_user: float
    tokens_per_s_aggregate: float
    tokens_per_s_single_user: float
    tokens_per_s_per_user_ideal: float  # at full bandwidth and FLOPs (mbu = mfu = 1): the peak-spec ceiling
    tokens_per_s_aggregate_ideal: float  # the same users at the peak-spec step time
    step_time_ideal: float
    bytes_per_step: float
    bound: str
    arithmetic_intensity: float
    meets_target: bool | None


@dataclass(frozen=True, slots=True)
class RooflineFigures:
    ridge: float
    critical_batch: int | None
    critical_batch_weights_only: int | None
    compute_busy_fraction: float
    weight_compute_path: str
    attention_compute_path: str


@dataclass(frozen=True, slots=True)
class PrefillFigures:
    tokens_per_s: float
    tokens_per_s_ideal: float  # at mfu = 1, same prompt
    tokens_per_s_peak: float
    flops_per_token: float
    arithmetic_intensity: float
    ttft: float
    ttft_ideal: float  # at mfu = 1 and the peak-spec decode step
    meets_target: bool | None


@dataclass(frozen=True, slots=True)
class CostFigures:
    per_hour: float
    per_user_month: float | None
    per_million_tokens: float | None
    own_lifetime_per_user: float | None
    own_per_hour: float


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where each group of figures comes from: "spec" (datasheet and architecture), "checkpoint" (exact
    bytes from safetensors headers or a log), "empirical default", "assumed" (an efficiency below 1 the
    user typed) or "calibrated" (back-solved from a log or a measurement)."""

    weights: str
    kv_budget: str
    decode: str  # the decode figures as a whole: calibrated when the bandwidth use or the engine time is
    prefill: str
    bandwidth: str  # the bandwidth use (mbu) alone
    engine_time: str  # the engine's own time per step (step_overhead_ms and per sequence); "none" when 0


@dataclass(frozen=True, slots=True)
class Plan:
    """Every figure of one profile, plus what limits it and what to watch out for."""

    gpus: int
    memory: MemoryFigures
    kv: KvFigures
    capacity: CapacityFigures
    decode: DecodeFigures
    roofline: RooflineFigures
    prefill: PrefillFigures
    cost: CostFigures
    provenance: Provenance
    engine: VllmReport | None  # what vLLM would print at start-up; None for the generic engine
    warnings: tuple[str, ...]
    notes: tuple[str, ...]


def _step_model(profile: Profile, dense_bytes: float, expert_bytes: float, sequence_read_bytes: float,
                weight_flops: float, attention_flops: float, weight_flops_per_s: float,
                attention_flops_per_s: float, mbu: float, mfu: float, engine_time: bool) -> StepModel:
    """Decode-step coefficients for the busiest GPU: pipeline stages run in turn, TP ranks in parallel.
    ``engine_time`` adds the engine's own time per step (fixed and per running sequence); the peak-spec
    step leaves it out."""
    hardware, model, par, engine = profile.hardware, profile.model, profile.parallelism, profile.engine
    bandwidth = hardware.bandwidth_bytes_per_s * mbu
    stages = par.pipeline
    weight_compute = weight_flops / (par.tensor * weight_flops_per_s * mfu)
    link = hardware.interconnect_gb_s * 1e9
    per_sequence_bytes = (all_reduce_bytes_per_step(1, model.hidden_size, par.tensor, model.layers)
                          + stage_send_bytes_per_step(1, model.hidden_size, par.pipeline))
    collective = per_sequence_bytes / link if link else 0.0
    latency_us = engine.collective_latency_us
    if latency_us is None:
        latency_us = PCIE_COLLECTIVE_LATENCY_US if "pcie" in hardware.interconnect.lower() else NVLINK_COLLECTIVE_LATENCY_US
    fixed = collectives_per_step(par.tensor, par.pipeline, model.layers) * latency_us * 1e-6
    return StepModel(
        dense_read_s=stages * dense_bytes / bandwidth,
        expert_read_s=stages * expert_bytes / bandwidth,
        experts=model.experts,
        experts_per_token=model.experts_per_token,
        tokens_per_pool_sequence=par.data,
        kv_read_s_per_sequence=stages * sequence_read_bytes / bandwidth,
        compute_s_per_sequence=weight_compute + attention_flops / (par.tensor * attention_flops_per_s * mfu),
        weight_compute_s_per_sequence=weight_compute,
        collective_s_per_sequence=collective,
        collective_fixed_s=fixed,
        overhead_s=engine.step_overhead_ms * 1e-3 if engine_time else 0.0,
        overhead_s_per_sequence=engine.step_overhead_per_sequence_us * 1e-6 if engine_time else 0.0,
    )


def _provenance(profile: Profile, defaults_used: bool) -> Provenance:
    """Say where the figures come from, so an estimate is never mistaken for a measurement. Kinds only:
    the efficiencies themselves are in the profile's [engine]."""
    engine = profile.engine
    bandwidth = "calibrated" if engine.is_calibrated("mbu") else ("spec" if engine.mbu == 1.0 else "assumed")
    engine_times = [name for name in ("step_overhead_ms", "step_overhead_per_sequence_us") if getattr(engine, name)]
    if not engine_times:
        engine_time = "none"
    else:
        engine_time = "calibrated" if all(engine.is_calibrated(name) for name in engine_times) else "assumed"
    if "calibrated" in (bandwidth, engine_time):
        decode = "calibrated"
    else:
        decode = "spec" if bandwidth == "spec" and engine_time == "none" else "assumed"
    prefill = "calibrated" if engine.is_calibrated("mfu") else ("spec" if engine.mfu == 1.0 else "assumed")
    if engine.is_calibrated("activation_gib"):
        kv_budget = "calibrated"
    else:
        kv_budget = "empirical default" if defaults_used else "spec"
    return Provenance(weights="checkpoint" if profile.model.uses_checkpoint_bytes else "spec",
                      kv_budget=kv_budget, decode=decode, prefill=prefill, bandwidth=bandwidth, engine_time=engine_time)


def _profile_run_source(version: str, sampler: str | None, stage: PipelineStage, pipeline: int, batched_tokens: int,
                        sequences: int) -> str:
    """Where the vLLM activation peak comes from, for the binding pipeline stage."""
    if not stage.last:
        return (f"vLLM {version} profile run on pipeline stage {stage.index + 1} of {pipeline}: "
                f"{batched_tokens:,} batched tokens (the sampler runs on the last)")
    return (f"vLLM {version} profile run: {batched_tokens:,} batched tokens, "
            f"{sampler or default_sampler(version)} sampler over {min(sequences, batched_tokens):,} sequences")


def _scheduler_limits(profile: Profile) -> tuple[int, int]:
    """(max_num_batched_tokens, max_num_seqs): the profile's, else vLLM's defaults for this GPU."""
    engine = profile.engine
    batched, sequences = default_scheduler_limits(engine.version, profile.hardware.memory_gib, profile.hardware.name,
                                                  engine.usage, profile.workload.max_context_tokens)
    return (engine.max_num_batched_tokens or batched, engine.max_num_seqs or sequences)


def plan(profile: Profile) -> Plan:
    """Plan one profile (physics.md end to end). Never raises for a valid profile."""
    hardware, model, par, work, engine = (profile.hardware, profile.model, profile.parallelism,
                                          profile.workload, profile.engine)
    gpus_per_replica = par.gpus_per_replica

    # Memory per GPU
    total = hardware.memory_bytes
    vllm = engine.name == "vllm"
    if vllm:  # vLLM applies the utilization to the total CUDA reports
        usable = engine_visible_bytes(hardware.memory_gib, hardware.driver_reserved_gib) * engine.gpu_memory_utilization
    else:
        usable = usable_bytes(hardware.memory_gib, engine.gpu_memory_utilization)
    # the whole model on one tensor-parallel rank; every pipeline stage holds its share of it
    dense_rank, expert_rank = weight_bytes_per_gpu(model, par.tensor, 1, par.data, par.expert)
    dense_bytes, expert_bytes = dense_rank / par.pipeline, expert_rank / par.pipeline
    batched_tokens, sequences = _scheduler_limits(profile)
    cuda_graphs = cuda_graph_bytes_charged(engine.version, engine.cuda_graphs) if vllm else 0.0
    if engine.overhead_gib is not None:
        overhead, overhead_source = engine.overhead_gib * GIB, "profile"
    elif vllm:
        overhead = non_torch_bytes(gpus_per_replica, par.tensor, engine.version, hardware.interconnect) + cuda_graphs
        overhead_source = (f"vLLM {engine.version}: non-torch memory"
                           + (" and the CUDA-graph estimate" if cuda_graphs else ""))
    else:
        overhead = default_overhead_bytes(gpus_per_replica)
        overhead_source = "empirical default (physics.md anchors: non-torch memory and NCCL)"
    pinned = engine.activation_gib * GIB if engine.activation_gib is not None else None
    block = block_tokens_for(model, engine.block_tokens, hardware.name, hardware.architecture) if vllm \
        else (engine.block_tokens or 16)
    stage = None
    if vllm:  # weights as loaded; each pipeline stage sizes its own pool and the smallest binds
        loaded = loaded_expert_bytes(model, par.tensor, par.expert, engine.version, hardware.architecture)
        binding = binding_stage(model, usable=usable, overhead=overhead,
                                weights_per_rank=dense_rank + (expert_rank if loaded is None else loaded),
                                tensor=par.tensor, pipeline=par.pipeline, expert=par.expert,
                                batched_tokens=batched_tokens, sequences=sequences, version=engine.version,
                                block_tokens=block, sampler=engine.sampler, activations=pinned)
        stage, weights, activations = binding.stage, binding.weights, binding.activations
        activations_source = "profile" if pinned is not None else _profile_run_source(
            engine.version, engine.sampler, stage, par.pipeline, batched_tokens, sequences)
    else:
        weights = dense_bytes + expert_bytes
        activations = pinned if pinned is not None else default_activation_bytes(model)
        activations_source = ("profile" if pinned is not None
                              else "empirical default (physics.md anchors, scaled by hidden size)")
    budget = kv_budget_bytes(usable, weights, activations, overhead)
    fits = budget > 0

    # KV cache and capacity
    full_per_token, sliding_per_token = kv_bytes_per_token_split(model, par.tensor, par.pipeline)
    window = model.sliding_window if model.sliding_window_layers else None
    bytes_per_token = full_per_token + sliding_per_token
    sequence_avg = sequence_kv_bytes(full_per_token, sliding_per_token, work.avg_context_tokens, window, block)
    sequence_max = sequence_kv_bytes(full_per_token, sliding_per_token, work.max_context_tokens, window, block)
    report = None
    if vllm:
        report = vllm_report(model, available_kv=budget, tensor=par.tensor, stage=stage,
                             max_model_len=work.max_context_tokens, batched_tokens=batched_tokens, sequences=sequences,
                             block_tokens=block, cuda_graph_charged=cuda_graphs, version=engine.version)
    concurrent_by_memory = sequences_that_fit(budget, sequence_avg)
    kv_groups_per_replica = par.data
    kv_groups = kv_groups_per_replica * par.replicas

    # Decode step model (needs the compute paths)
    weight_path = hardware.tflops.compute_path(model.weight_dtype)
    attention_path = hardware.tflops.compute_path(model.kv_dtype)
    weight_flops_per_s = hardware.tflops.flops_per_s(weight_path)
    attention_flops_per_s = hardware.tflops.flops_per_s(attention_path)
    sequence_read = sequence_kv_bytes_read(full_per_token, sliding_per_token, work.avg_context_tokens, window)
    weight_flops = weight_flops_per_token(model)
    attention_decode = attention_flops_per_token_decode(model, work.avg_context_tokens)
    step = _step_model(profile, dense_bytes, expert_bytes, sequence_read, weight_flops, attention_decode,
                       weight_flops_per_s, attention_flops_per_s, engine.mbu, engine.mfu, engine_time=True)
    ideal_step = step
    has_engine_time = engine.step_overhead_ms > 0 or engine.step_overhead_per_sequence_us > 0
    if engine.mbu < 1 or engine.mfu < 1 or has_engine_time:  # the same step at peak spec (ideal vs expected)
        ideal_step = _step_model(profile, dense_bytes, expert_bytes, sequence_read, weight_flops, attention_decode,
                                 weight_flops_per_s, attention_flops_per_s, 1.0, 1.0, engine_time=False)

    concurrent_by_speed = None
    if work.target_tokens_per_s > 0 and concurrent_by_memory > 0:
        concurrent_by_speed = largest_batch_meeting(step, work.target_tokens_per_s, concurrent_by_memory)
    speed_binds = concurrent_by_speed is not None and concurrent_by_speed < concurrent_by_memory
    concurrent = concurrent_by_speed if speed_binds else concurrent_by_memory
    capacity = capacity_users(kv_groups, concurrent, work.duty_cycle)
    users_served = min(work.users, capacity)
    if work.users <= capacity:
        limited_by = "users"
    else:
        limited_by = "speed" if speed_binds else "memory"

    batch = max(1.0, min(float(concurrent) if concurrent else 1.0, users_served * work.duty_cycle / kv_groups))
    step_time = step.step_time_s(batch)
    memory_time, compute_time = step.memory_time_s(batch), step.compute_time_s(batch)
    collective_time = step.collective_time_s(batch)
    touched = moe_fraction_touched(batch * par.data, model.experts, model.experts_per_token)
    bytes_per_step = dense_bytes + expert_bytes * touched + batch * sequence_read
    flops_per_step = batch * (weight_flops + attention_decode) / (par.tensor * par.pipeline)
    aggregate = users_served * work.duty_cycle / step_time  # the whole deployment; 0 when nobody fits
    meets_speed = None if work.target_tokens_per_s <= 0 else 1 / step_time >= work.target_tokens_per_s

    ridge = ridge_flops_per_byte(weight_flops_per_s, hardware.bandwidth_bytes_per_s)
    critical = critical_batch(step, include_kv=True)
    critical_weights = critical_batch(step, include_kv=False)

    # Prefill
    prefill_attention = attention_flops_per_token_prefill(model, work.prompt_tokens)
    prefill_rate = prefill_tokens_per_s(gpus_per_replica, weight_flops, weight_flops_per_s,
                                        prefill_attention, attention_flops_per_s, engine.mfu)
    prefill_peak = gpus_per_replica * weight_flops_per_s / weight_flops
    ttft = ttft_s(work.prompt_tokens, work.prefix_cache_hit, prefill_rate, work.concurrent_prefills, step_time)
    step_time_ideal = ideal_step.step_time_s(batch)
    ttft_ideal = ttft_s(work.prompt_tokens, work.prefix_cache_hit, prefill_rate / engine.mfu, work.concurrent_prefills,
                        step_time_ideal)
    meets_ttft = None if work.ttft_target_s <= 0 else ttft <= work.ttft_target_s
    # The prefill point on the roofline: one pass over the uncached prompt reads the weights once
    # and writes each token's KV, per GPU of the busiest stage.
    prompt_pass = max(1.0, work.prompt_tokens * (1 - work.prefix_cache_hit))
    prefill_bytes = (dense_bytes + expert_bytes * moe_fraction_touched(prompt_pass, model.experts, model.experts_per_token)
                     + prompt_pass * bytes_per_token)
    prefill_intensity = prompt_pass * (weight_flops + prefill_attention) / (par.tensor * par.pipeline) / prefill_bytes

    # Cost
    per_hour = cost_per_hour(par.gpus, hardware.price_per_gpu_hour)
    kv_used = min(max(budget, 0.0), (users_served * work.duty_cycle / kv_groups) * sequence_avg) if fits else 0.0

    result = Plan(
        gpus=par.gpus,
        memory=MemoryFigures(
            per_gpu=MemoryPerGpu(total=total, reserved=total - usable, usable=usable, weights=weights,
                                 activations=activations, overhead=overhead, kv_budget=budget, kv_used=kv_used,
                                 free=max(budget, 0.0) - kv_used, shortfall=max(0.0, -budget)),
            fits=fits, activations_source=activations_source, overhead_source=overhead_source,
            gpus_needed_per_replica=None if fits else advice.gpus_needed_per_replica(
                profile, weights, activations + overhead, usable),
            fitting_weight_dtype=None if fits else advice.fitting_weight_precision(
                profile, weights, activations + overhead, usable)),
        kv=KvFigures(bytes_per_token=bytes_per_token, block_tokens=block,
                     tokens_capacity=report.kv_cache_tokens if report else kv_tokens_capacity(budget, bytes_per_token),
                     bytes_per_sequence_avg_context=sequence_avg, bytes_per_sequence_max_context=sequence_max),
        capacity=CapacityFigures(
            max_sequences_full_context=sequences_that_fit(budget, sequence_max), concurrent_sequences=concurrent,
            concurrent_by_memory=concurrent_by_memory, concurrent_by_speed=concurrent_by_speed, kv_groups=kv_groups,
            capacity_users=capacity, users_served=users_served,
            replicas_needed=replicas_needed(work.users, work.duty_cycle, kv_groups_per_replica, concurrent),
            limited_by=limited_by),
        decode=DecodeFigures(
            batch=batch, step_time=step_time, memory_time=memory_time, compute_time=compute_time,
            collective_time=collective_time, communication_fraction=collective_time / step_time,
            engine_time=step.engine_time_s(batch), tokens_per_s_per_user=1 / step_time,
            tokens_per_s_aggregate=aggregate, tokens_per_s_single_user=1 / step.step_time_s(1.0),
            tokens_per_s_per_user_ideal=1 / step_time_ideal,
            tokens_per_s_aggregate_ideal=users_served * work.duty_cycle / step_time_ideal, step_time_ideal=step_time_ideal,
            bytes_per_step=bytes_per_step, bound="compute" if compute_time > memory_time else "memory",
            arithmetic_intensity=flops_per_step / bytes_per_step, meets_target=meets_speed),
        roofline=RooflineFigures(
            ridge=ridge, critical_batch=round_batch(critical), critical_batch_weights_only=round_batch(critical_weights),
            compute_busy_fraction=compute_time / step_time, weight_compute_path=weight_path,
            attention_compute_path=attention_path),
        prefill=PrefillFigures(tokens_per_s=prefill_rate, tokens_per_s_ideal=prefill_rate / engine.mfu,
                               tokens_per_s_peak=prefill_peak,
                               flops_per_token=weight_flops + prefill_attention,
                               arithmetic_intensity=prefill_intensity, ttft=ttft, ttft_ideal=ttft_ideal,
                               meets_target=meets_ttft),
        cost=CostFigures(
            per_hour=per_hour,
            per_user_month=cost_per_user_month(per_hour, users_served, profile.cost.hours_per_month),
            per_million_tokens=cost_per_million_tokens(per_hour, aggregate),
            own_lifetime_per_user=own_lifetime_cost_per_user(par.gpus, hardware.purchase_price, users_served),
            own_per_hour=own_cost_per_hour(par.gpus, hardware.purchase_price, profile.cost.lifetime_years,
                                           hardware.tdp_w, profile.cost.pue, profile.cost.power_price_kwh)),
        provenance=_provenance(profile, engine.activation_gib is None or engine.overhead_gib is None),
        engine=report,
        warnings=(),
        notes=(),
    )
    return advice.with_advice(profile, result)

