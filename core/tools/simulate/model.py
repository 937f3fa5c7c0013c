"""What the simulator needs from an engine: a step-time model and the scheduler's limits.

The interface is the fitted performance model's (issue 14; ``engine_performance(profile)`` in
core/engines/performance.py): ``step.step_time_s(decode_sequences, kv_tokens_read, prefill_tokens,
prefill_attended_tokens)`` for ONE engine instance, and that instance's ``SchedulerLimits``. Anything with
those attributes plugs in: the fitted model, a calibrated one, or the synthetic models below (tests and
benchmarks use them, so that every figure they check has a closed form).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ...errors import ProfileError


class StepTimeModel(Protocol):
    """Seconds for one engine step (one forward pass) of one instance; monotone in every argument."""

    def step_time_s(self, decode_sequences: float, kv_tokens_read: float, prefill_tokens: float,
                    prefill_attended_tokens: float) -> float: ...


class Limits(Protocol):
    """The scheduler's limits for one instance (issue 14's ``SchedulerLimits``)."""

    @property
    def max_num_seqs(self) -> int: ...
    @property
    def max_num_batched_tokens(self) -> int: ...
    @property
    def chunked_prefill(self) -> bool: ...
    @property
    def mixed_batches(self) -> bool: ...
    @property
    def kv_capacity_tokens(self) -> int: ...
    @property
    def block_tokens(self) -> int: ...
    @property
    def reserves_full_length(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class SchedulerLimits:
    """A plain ``Limits``: vLLM V1's defaults for chunked prefill and mixed batches."""

    max_num_seqs: int
    max_num_batched_tokens: int
    kv_capacity_tokens: int
    block_tokens: int = 16
    chunked_prefill: bool = True
    mixed_batches: bool = True
    reserves_full_length: bool = False  # admission reserves prompt + reply (TensorRT-LLM's GUARANTEED_NO_EVICT)


def checked_limits(limits: Limits) -> Limits:
    """ProfileError naming the first limit that cannot run a request."""
    for name in ("max_num_seqs", "max_num_batched_tokens", "kv_capacity_tokens", "block_tokens"):
        value = getattr(limits, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ProfileError(f"scheduler limit {name} must be a whole number of at least 1, got {value!r}")
    return limits


@dataclass(frozen=True, slots=True)
class LinearStepModel:
    """A step time affine in every argument: what a roofline with engine time reduces to when one
    regime dominates. ``LinearStepModel(fixed_s=0.02)`` is a constant step, the M/D/1 check's server."""

    fixed_s: float
    per_sequence_s: float = 0.0
    per_kv_token_s: float = 0.0
    per_prefill_token_s: float = 0.0
    per_attended_pair_s: float = 0.0

    def step_time_s(self, decode_sequences: float, kv_tokens_read: float, prefill_tokens: float,
                    prefill_attended_tokens: float) -> float:
        return (self.fixed_s + self.per_sequence_s * decode_sequences + self.per_kv_token_s * kv_tokens_read
                + self.per_prefill_token_s * prefill_tokens + self.per_attended_pair_s * prefill_attended_tokens)


@dataclass(frozen=True, slots=True)
class RooflineStepModel:
    """max(memory time, compute time) plus engine time: a step reads the weights once and every decode's
    KV, and does 2·params FLOPs per token plus attention; the slower of the two sets the step
    (docs/design/physics.md, "Roofline"). For tests of a kinked (non-affine) model."""

    weights_s: float  # reading the weights once
    kv_token_s: float  # reading one token of KV
    flop_token_s: float  # the dense FLOPs of one token
    attended_pair_s: float  # attention FLOPs of one (query, key) pair
    engine_s: float = 0.0

    def step_time_s(self, decode_sequences: float, kv_tokens_read: float, prefill_tokens: float,
                    prefill_attended_tokens: float) -> float:
        memory = self.weights_s + self.kv_token_s * kv_tokens_read
        compute = (self.flop_token_s * (decode_sequences + prefill_tokens)
                   + self.attended_pair_s * (prefill_attended_tokens + kv_tokens_read))
        return max(memory, compute) + self.engine_s
