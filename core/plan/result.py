"""The plan's figures: frozen dataclasses, one per group (memory, KV, capacity, decode, roofline,
prefill, cost), plus where each group comes from. ``compose.plan`` fills them; nothing here computes.

Units: bytes, seconds, FLOP/s, USD (docs/design/physics.md, "Units").
"""

from __future__ import annotations

from typing import Literal

from ..engines.vllm_pool import VllmReport
from ..records import record


@record
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
    state_used: float = 0.0  # the part of kv_used that is recurrent state (hybrid models): fixed per sequence


@record
class ShapeNeeded:
    """A parallel shape the engine accepts, offered as a remedy (core/plan/remedies.py, ``shape_that_runs``)."""

    gpus_per_replica: int  # tensor x pipeline x the profile's data ranks
    tensor: int
    pipeline: int


@record
class MemoryFigures:
    """What one GPU holds and whether it fits (docs/design/physics.md, "Memory per GPU")."""

    per_gpu: MemoryPerGpu
    fits: bool
    activations_source: str
    overhead_source: str
    gpus_needed_per_replica: int | None  # when it does not fit: the GPUs per replica of the shape that would hold it
    tensor_needed: int | None  # that shape: tensor x pipeline, one the engine accepts
    pipeline_needed: int | None
    fitting_weight_dtype: str | None  # when it does not fit: the first lower weight precision that would
    # When the weights fit but the engine will not start (one request at the workload's max context does not
    # fit the KV cache left, advice.wont_start): the shape that would hold the weights and that request;
    # None when the plan starts, when the weights do not fit (the fields above say what would) or when no
    # shape up to remedies.MAX_REPLICA_GPUS would.
    shape_to_start: ShapeNeeded | None


@record
class KvFigures:
    """The KV cache: bytes per token and per sequence, and the tokens the pool holds."""

    bytes_per_token: float
    tokens_capacity: int
    block_tokens: int  # the paged-attention block in use (the profile's, else the engine's default)
    bytes_per_sequence_avg_context: float  # KV plus recurrent state
    bytes_per_sequence_max_context: float
    longest_context_that_fits: int  # tokens: the longest request one GPU's KV budget holds (0 if none)
    state_bytes_per_sequence: float = 0.0  # recurrent state of a hybrid's linear / Mamba layers, any context


@record
class CapacityFigures:
    """How many sequences and users the deployment serves, and what limits it."""

    max_sequences_full_context: int
    concurrent_sequences: int
    concurrent_by_memory: int
    concurrent_by_speed: int | None
    kv_groups: int
    capacity_users: int
    users_served: int
    replicas_needed: int | None
    limited_by: str


@record
class DecodeFigures:
    """One decode step at the plan's batch: its time, by term, and the speeds it gives."""

    batch: float
    step_time: float
    memory_time: float
    compute_time: float
    collective_time: float
    communication_fraction: float  # of the step: TP all-reduces and pipeline sends
    engine_time: float  # the engine's own time in the step beyond the roofline (fitted, or calibrated on roofline)
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
    # The band around the expected speeds: the held-out 10th-90th percentile of measured / predicted for
    # the fitted model (docs/accuracy.md); equal to the expected value where there is no band (roofline).
    tokens_per_s_per_user_low: float
    tokens_per_s_per_user_high: float
    tokens_per_s_aggregate_low: float
    tokens_per_s_aggregate_high: float


@record
class RooflineFigures:
    """Where decode sits on the roofline: the ridge and the batch at which compute binds."""

    ridge: float
    critical_batch: int | None
    critical_batch_weights_only: int | None
    compute_busy_fraction: float
    weight_compute_path: str
    attention_compute_path: str


@record
class PrefillFigures:
    """Prefill of one average prompt: tokens per second and the time to first token."""

    tokens_per_s: float
    tokens_per_s_ideal: float  # at mfu = 1, same prompt
    tokens_per_s_peak: float
    flops_per_token: float
    arithmetic_intensity: float
    ttft: float
    ttft_ideal: float  # at mfu = 1 and the peak-spec decode step
    meets_target: bool | None
    ttft_low: float  # the band (see DecodeFigures)
    ttft_high: float


@record
class CostFigures:
    """What the deployment costs: per hour, per user-month and per million tokens."""

    per_hour: float
    per_user_month: float | None
    per_million_tokens: float | None
    own_lifetime_per_user: float | None
    own_per_hour: float


@record
class Provenance:
    """Where each group of figures comes from: "spec" (datasheet and architecture), "checkpoint" (exact
    bytes from safetensors headers or a log), "empirical default", "assumed" (an efficiency below 1 the
    user typed) or "calibrated" (back-solved from a log or a measurement)."""

    weights: str
    kv_budget: str
    decode: str  # the decode figures as a whole: calibrated when the bandwidth use or the engine time is
    prefill: str
    bandwidth: str  # the bandwidth use (mbu) alone
    engine_time: str  # the engine's own time per step: the speed kind on the fitted model; on roofline
    # "none" (step_overhead_ms and per sequence 0), "assumed" or "calibrated"
    # The speed and latency figures: "fitted" (the performance model fitted on measured load tests),
    # "extrapolated" (fitted, on a GPU or engine outside the data), "calibrated" (the fitted
    # model rescaled by a measurement), "assumed" (rescaled by hand), "roofline" (peak spec at the
    # profile's mbu/mfu and engine time) or "peak-spec" (the roofline at 100%: a ceiling, not an estimate)
    speed: str


@record
class Problem:
    """Something a user must know before trusting the plan. "error": it cannot run as planned (the
    weights do not fit, the engine refuses the settings, or one full-context request cannot be held);
    "warning": it runs but misses a target, serves fewer users than asked, or rests on an assumption."""

    severity: Literal["error", "warning"]
    message: str


@record
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
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every problem's message, errors first (the plan JSON's ``warnings``)."""
        return tuple(problem.message for problem in self.problems)

    @property
    def runs(self) -> bool:
        """Whether the deployment would start and serve: no problem of severity "error"."""
        return not any(problem.severity == "error" for problem in self.problems)
