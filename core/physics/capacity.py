"""How many sequences and users fit (docs/design/physics.md, "Capacity")."""

from __future__ import annotations

from math import ceil, floor

# Guards floor() against binary round-off such as 76 / 0.2 = 379.99999999999994.
_ROUNDING_SLACK = 1e-9


def kv_tokens_capacity(kv_budget: float, kv_bytes_per_token: float) -> int:
    """Tokens the KV pool holds: floor(kv_budget / kv_bytes_per_token), as vLLM reports its pool."""
    if kv_budget <= 0 or kv_bytes_per_token <= 0:
        return 0
    return floor(kv_budget / kv_bytes_per_token + _ROUNDING_SLACK)


def sequences_that_fit(kv_budget: float, sequence_bytes: float) -> int:
    """Whole sequences of this size the pool holds (paged: each holds only what it uses)."""
    if kv_budget <= 0 or sequence_bytes <= 0:
        return 0
    return floor(kv_budget / sequence_bytes + _ROUNDING_SLACK)


def capacity_users(kv_groups: int, concurrent_sequences: int, duty_cycle: float) -> int:
    """kv_groups * concurrent / duty_cycle: idle users hold no KV (flushed)."""
    return floor(kv_groups * concurrent_sequences / duty_cycle + _ROUNDING_SLACK)


def replicas_needed(users: int, duty_cycle: float, kv_groups_per_replica: int, concurrent_sequences: int) -> int | None:
    """ceil(users * duty / (kv_groups_per_replica * concurrent)); None when no sequence fits."""
    if concurrent_sequences <= 0:
        return None
    return max(1, ceil(users * duty_cycle / (kv_groups_per_replica * concurrent_sequences) - _ROUNDING_SLACK))
