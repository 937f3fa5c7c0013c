"""Decode: one step generates one token for each of B sequences of a KV pool.

Formulas: docs/design/physics.md, "Decode" and "Roofline". Times are for the busiest GPU of a
replica; pipeline stages run one after another, so a step is ``pipeline`` stage passes.
The step is kept as a few coefficients (``StepModel``) so that searching over B costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, exp, floor, log

from ..specs.specs import ModelSpec

ACTIVATION_BYTES = 2  # bf16 hidden states cross the interconnect in TP all-reduces


def moe_fraction_touched(tokens: float, experts: int, experts_per_token: int) -> float:
    """Share of an MoE layer's experts read when ``tokens`` route uniformly: 1 - (1 - k/E)^tokens.

    physics.md, "Decode": tokens share expert reads, so bytes per token fall as B grows.
    """
    if experts == 0:
        return 0.0
    return 1.0 - (1.0 - experts_per_token / experts) ** tokens


def attention_flops_per_token_decode(model: ModelSpec, context_tokens: float) -> float:
    """Attention FLOPs to decode one token at this context, whole model (physics.md, "Decode").

    GQA/MHA: 4 * q_heads * head_dim per attended token per layer (QK^T and AV); sliding layers
    attend to min(context, window). MLA decodes in the absorbed form: QK over kv_lora_rank +
    qk_rope_head_dim and AV over kv_lora_rank, per head.
    """
    if model.attention == "mla":
        rank, rope = model.mla_dims
        per_position = 2 * model.attention_heads * (2 * rank + rope)
        return per_position * model.layers * context_tokens
    window = context_tokens if model.sliding_window is None else min(context_tokens, model.sliding_window)
    attended = model.full_attention_layers * context_tokens + model.sliding_window_layers * window
    return 4 * model.attention_heads * model.head_dim_or_default * attended


def attention_flops_per_position_decode(model: ModelSpec) -> float:
    """Attention FLOPs per decoded token per context position, whole model, every layer attending in full
    (the sliding layers' share is capped by the caller): ``attention_flops_per_token_decode`` at context 1
    with no window."""
    if model.attention == "mla":
        latent = 2 * (model.kv_lora_rank or 0) + (model.qk_rope_head_dim or 0)
        return 2 * model.attention_heads * latent * model.layers
    return 4 * model.attention_heads * model.head_dim_or_default * model.layers


def attention_flops_per_pair_prefill(model: ModelSpec) -> float:
    """Attention FLOPs per (prompt token, attended position) pair, whole model, every layer in full
    (physics.md, "Prefill and time to first token"): QK and AV at 2 FLOPs a multiply-add. MLA prefill uses the per-head
    dimensions: QK over qk_nope + qk_rope, AV over v_head_dim."""
    if model.attention == "mla":
        qk_dim = (model.qk_nope_head_dim or model.head_dim_or_default) + (model.qk_rope_head_dim or 0)
        v_dim = model.v_head_dim or model.head_dim_or_default
        return 2 * model.attention_heads * (qk_dim + v_dim) * model.layers
    return 4 * model.attention_heads * model.head_dim_or_default * model.layers


def weight_flops_per_token(model: ModelSpec) -> float:
    """2 FLOPs per active parameter per token (one multiply-add)."""
    return 2 * model.active_params


# Latency of one small NCCL collective or point-to-point send: about 8 us over NVLink/Infinity Fabric
# and 25 us over PCIe (the order of magnitude nccl-tests reports for small messages). An empirical
# default, overridable as engine.collective_latency_us.
NVLINK_COLLECTIVE_LATENCY_US = 8.0
PCIE_COLLECTIVE_LATENCY_US = 25.0


def collectives_per_step(tensor: int, pipeline: int, layers: int) -> int:
    """Collectives one decode step waits for: 2 all-reduces per layer under TP, one send per stage boundary."""
    return (2 * layers if tensor > 1 else 0) + (pipeline - 1)


def stage_send_bytes_per_step(batch: float, hidden_size: int, pipeline: int) -> float:
    """Hidden states handed from stage to stage in one step (pipeline parallelism)."""
    return (pipeline - 1) * batch * hidden_size * ACTIVATION_BYTES


def all_reduce_bytes_per_step(batch: float, hidden_size: int, tensor: int, layers: int) -> float:
    """Bytes each GPU sends per decode step: 2 ring all-reduces per layer of batch x hidden values.

    A ring all-reduce moves 2 (tp - 1) / tp of the message per GPU (physics.md, "Parallelism").
    """
    if tensor == 1:
        return 0.0
    message = batch * hidden_size * ACTIVATION_BYTES
    return 2 * layers * 2 * (tensor - 1) / tensor * message


@dataclass(slots=True)  # built twice a plan and read in every search step: unfrozen, as frozen construction
# costs ~1.5k instructions a field
class StepModel:
    """Decode step time of one KV pool as a function of its batch B (sequences).

    memory(B)  = dense + experts * touched(B * tokens_per_pool_sequence) + kv * B
    compute(B) = compute_per_sequence * B
    step(B)    = max(memory, compute) + collectives_fixed + collectives_per_sequence * B
                 + overhead + overhead_per_sequence * B
    """

    dense_read_s: float
    expert_read_s: float
    experts: int
    experts_per_token: int
    tokens_per_pool_sequence: int
    kv_read_s_per_sequence: float
    compute_s_per_sequence: float
    weight_compute_s_per_sequence: float
    collective_s_per_sequence: float
    collective_fixed_s: float = 0.0  # per-collective latencies: paid once per step whatever the batch
    overhead_s: float = 0.0  # the engine's own time per step (scheduling, sampling, launches): calibrated
    overhead_s_per_sequence: float = 0.0  # and its share that grows with the running batch: calibrated

    def times_s(self, batch: float) -> tuple[float, float, float, float]:
        """(memory, compute, collective, engine) seconds of a step of ``batch`` sequences, in one call (see the
        class docstring); the step takes max(memory, compute) + collective + engine."""
        tokens = batch * self.tokens_per_pool_sequence
        # moe_fraction_touched(tokens, experts, experts_per_token), written out: the speed search calls this in a loop
        touched = 1.0 - (1.0 - self.experts_per_token / self.experts) ** tokens if self.experts else 0.0
        return (self.dense_read_s + self.expert_read_s * touched + self.kv_read_s_per_sequence * batch,
                self.compute_s_per_sequence * batch, self.collective_fixed_s + self.collective_s_per_sequence * batch,
                self.overhead_s + self.overhead_s_per_sequence * batch)

    def memory_time_s(self, batch: float) -> float:
        return self.times_s(batch)[0]

    def compute_time_s(self, batch: float) -> float:
        return self.compute_s_per_sequence * batch

    def collective_time_s(self, batch: float) -> float:
        return self.times_s(batch)[2]

    def step_time_s(self, batch: float) -> float:
        memory, compute, collective, engine = self.times_s(batch)
        return max(memory, compute) + collective + engine

    def engine_time_s(self, batch: float) -> float:
        """The engine's own time in a step of ``batch`` sequences, beyond the roofline (calibrated)."""
        return self.times_s(batch)[3]


def critical_batch(step: StepModel, include_kv: bool = True, upper: float = 1e9) -> float | None:
    """Smallest real B at which compute time reaches memory time; None if decode never turns compute-bound.

    physics.md, "Roofline". With ``include_kv=False`` the KV reads and attention FLOPs are left out
    (the "critical batch without KV traffic", ridge * bytes_per_param / 2 for a dense model).
    f(B) = alpha B - dense - experts (1 - q^(dB)) - kv B is convex with f(0) < 0, so it has one
    root. Dense: closed form. MoE: Newton from the right, where every expert is already read, which
    converges monotonically for a convex function.
    """
    alpha = step.compute_s_per_sequence if include_kv else step.weight_compute_s_per_sequence
    slope = alpha - (step.kv_read_s_per_sequence if include_kv else 0.0)
    if slope <= 0:
        return None
    all_weights = step.dense_read_s + step.expert_read_s  # expert_read_s is 0 for a dense model
    batch = all_weights / slope  # the crossing if every expert is read; f >= 0 here
    if not step.experts or step.experts_per_token == step.experts:
        return batch if batch <= upper else None
    rate = step.tokens_per_pool_sequence * -log(1.0 - step.experts_per_token / step.experts)
    for _ in range(64):
        untouched = exp(-rate * batch)
        value = slope * batch - step.dense_read_s - step.expert_read_s * (1.0 - untouched)
        derivative = slope - step.expert_read_s * rate * untouched
        if derivative <= 0:
            break
        following = batch - value / derivative
        if batch - following <= 1e-9 * batch:
            batch = following
            break
        batch = following
    return batch if batch <= upper else None


def largest_batch_meeting(step: StepModel, target_tokens_per_s: float, max_batch: int) -> int:
    """Largest integer B <= max_batch whose per-sequence speed 1/step(B) still meets the target.

    0 when even one sequence is too slow. step(B) only grows with B, so bisection finds it.
    """
    if max_batch < 1 or step.step_time_s(1) * target_tokens_per_s > 1.0:
        return 0
    if step.step_time_s(max_batch) * target_tokens_per_s <= 1.0:
        return max_batch
    low, high = 1, max_batch
    while high - low > 1:
        middle = (low + high) // 2
        if step.step_time_s(middle) * target_tokens_per_s <= 1.0:
            low = middle
        else:
            high = middle
    return low


def ridge_flops_per_byte(peak_flops_per_s: float, bandwidth_bytes_per_s: float) -> float:
    """The roofline's ridge point: peak FLOP/s over bandwidth (physics.md, "Roofline")."""
    return peak_flops_per_s / bandwidth_bytes_per_s


def round_batch(batch: float | None) -> int | None:
    """A crossing batch shown as whole sequences (281.25 -> 281, as the seed reads it)."""
    if batch is None:
        return None
    return max(1, floor(batch + 0.5)) if batch >= 1 else ceil(batch)
