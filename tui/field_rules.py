"""Rules across fields, said in the words and units of the field being typed in.

The core refuses these too (core/profile/schema.py, ``Workload._contexts_ordered`` and
``Profile._parallelism_fits``; core/profile/edit.py for the GPU count), in the profile's own terms
("avg_context_tokens (40000) cannot exceed max_context_tokens (32768)"); the planner checks them first
so that the line under the field names the other field as the screen labels it. Anything else the
core refuses is shown as the core says it, less the field's own path. Plain Python, no Textual.
"""

from __future__ import annotations

from typing import Any

from napkinmath.core.profile.schema import Profile


def _divisors(number: int) -> list[int]:
    return [size for size in range(1, number + 1) if number % size == 0]


def cross_field_reason(path: str, value: Any, profile: Profile) -> str | None:
    """Why ``value`` in ``path`` cannot go with the rest of ``profile``, or None when nothing across fields
    forbids it (the field's own range is checked by ``Field.parse``)."""
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 1:
        return None
    work, par, model = profile.workload, profile.parallelism, profile.model
    if path == "workload.avg_context_tokens" and value > work.max_context_tokens:
        return f"at most the max context, {work.max_context_tokens:,} tok"
    if path == "workload.max_context_tokens" and value < work.avg_context_tokens:
        return f"at least the average context, {work.avg_context_tokens:,} tok"
    if path == "hardware.count" and value % par.gpus_per_replica:
        per = par.gpus_per_replica
        nearest = per * max(1, round(value / per))
        return f"a multiple of {per} (GPUs per replica), e.g. {nearest:,}"
    if path == "parallelism.pipeline" and value > model.layers:
        return f"at most {model.layers} (the model's layers)"
    if path == "parallelism.expert":
        ranks = par.tensor * par.data
        if value > ranks or ranks % value:
            return f"one of {', '.join(map(str, _divisors(ranks)))} (it divides tensor × attn DP = {ranks})"
    return None


def core_reason(path: str, message: str) -> str:
    """The core's refusal without the field's own path, its trailing full stop, or pydantic's wording."""
    reason = message.removeprefix(f"{path}: ").rstrip(".")
    return reason.replace("Input should be less than or equal to", "at most").replace(
        "Input should be greater than or equal to", "at least").replace(
        "Input should be greater than", "more than").replace("Input should be less than", "less than")
