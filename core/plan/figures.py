"""The figures a user compares: one declaration each (key, label, unit, which way is better).

Shared by the pinned baseline in the app, `napkin compare` and `napkin sweep`, so a figure means
the same thing everywhere. ``delta`` says how far a plan moved from a baseline and whether that is
better for the user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ..specs.specs import GIB
from .result import Plan


@dataclass(frozen=True)
class Figure:
    """One output figure that compare and the baseline diff read from a plan. ``served``: the figure describes a
    deployment that serves (its capacity and speed), so a plan that does not run (its weights do not fit or the
    engine refuses to start) has none: ``value`` is None there, as the app's panels show no figure for it."""

    key: str
    label: str
    unit: str
    better: Literal["higher", "lower", "neither"]
    read: Callable[[Plan], float | None]
    served: bool = False

    def value(self, plan: Plan) -> float | None:
        """The figure of ``plan``; None where the plan has none (see the class docstring; costs per user of a
        plan that serves nobody)."""
        return None if self.served and not plan.runs else self.read(plan)


FIGURES: tuple[Figure, ...] = (
    Figure("users_served", "Users served", "users", "higher", lambda p: p.capacity.users_served),
    Figure("capacity_users", "Capacity", "users", "higher", lambda p: p.capacity.capacity_users, served=True),
    Figure("concurrent_sequences", "Sequences at avg ctx", "per pool", "higher",
           lambda p: p.capacity.concurrent_sequences, served=True),
    Figure("tokens_per_s_per_user", "Decode per user", "tok/s", "higher", lambda p: p.decode.tokens_per_s_per_user,
           served=True),
    Figure("tokens_per_s_aggregate", "Decode, all users", "tok/s", "higher", lambda p: p.decode.tokens_per_s_aggregate,
           served=True),
    Figure("step_time_ms", "Step time", "ms", "lower", lambda p: p.decode.step_time * 1e3, served=True),
    Figure("prefill_tokens_per_s", "Prefill", "tok/s", "higher", lambda p: p.prefill.tokens_per_s, served=True),
    Figure("ttft_s", "TTFT", "s", "lower", lambda p: p.prefill.ttft, served=True),
    Figure("kv_tokens", "KV pool", "tokens/GPU", "higher", lambda p: p.kv.tokens_capacity),
    Figure("weights_gib", "Weights per GPU", "GiB", "lower", lambda p: p.memory.per_gpu.weights / GIB),
    Figure("kv_budget_gib", "KV budget per GPU", "GiB", "higher", lambda p: p.memory.per_gpu.kv_budget / GIB),
    Figure("gpus", "GPUs", "GPUs", "neither", lambda p: p.gpus),
    Figure("per_hour", "Rent per hour", "$", "lower", lambda p: p.cost.per_hour),
    Figure("per_user_month", "Per user-month", "$", "lower", lambda p: p.cost.per_user_month),
    Figure("per_million_tokens", "Per 1M tokens", "$", "lower", lambda p: p.cost.per_million_tokens),
    Figure("own_lifetime_per_user", "Owned, per user", "$", "lower", lambda p: p.cost.own_lifetime_per_user),
)
FIGURES_BY_KEY = {figure.key: figure for figure in FIGURES}


Verdict = Literal["better", "worse", "same", "unknown"]


@dataclass(frozen=True)
class Delta:
    """A figure's change against the baseline, and whether it is better."""

    absolute: float | None
    percent: float | None  # None when the baseline is 0 or missing
    verdict: Verdict


def delta(figure: Figure, baseline: Plan, current: Plan) -> Delta:
    """How far ``current`` moved from ``baseline`` on one figure, and whether that helps the user."""
    before, after = figure.value(baseline), figure.value(current)
    if before is None or after is None:
        return Delta(None, None, "same" if before is after else "unknown")
    change = after - before
    percent = change / before * 100 if before else None
    verdict: Verdict
    if abs(change) <= 1e-12 * max(1.0, abs(before)) or figure.better == "neither":
        verdict = "same" if abs(change) <= 1e-12 * max(1.0, abs(before)) else "unknown"
    else:
        verdict = "better" if (change > 0) == (figure.better == "higher") else "worse"
    return Delta(change, percent, verdict)


def format_delta(value: Delta, digits: int = 1) -> str:
    """"+40 (+18%)", "−2.3 (−5%)", "=" when unchanged."""
    if value.absolute is None:
        return "n/a"
    if value.verdict == "same":
        return "="
    sign = "+" if value.absolute > 0 else "−"
    magnitude = abs(value.absolute)
    number = f"{magnitude:,.0f}" if magnitude >= 100 else f"{magnitude:,.{digits}f}"
    percent = "" if value.percent is None else f" ({'+' if value.percent > 0 else '−'}{abs(value.percent):.0f}%)"
    return f"{sign}{number}{percent}"
