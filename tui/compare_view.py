"""What the compare screen (F6) shows, as rows of text: the inputs that differ, then every figure of both
plans in the main screen's units (TTFT in ms below a second, money in $, memory in GiB or GB as set),
with the change and whether it helps the user (``core.plan.figures.delta``). No widgets here, so the
rows are tested without an app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from napkinmath.core.plan.figures import FIGURES_BY_KEY, Verdict, delta
from napkinmath.core.plan.result import Plan
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.specs import GIB

from .fields import ALL_FIELDS
from .plan_view import LIMITED_BY_WORDS, memory_text, money_text, rate_text, time_text

LIMITS = {**LIMITED_BY_WORDS, "engine": "engine refuses"}

NOT_RUNNING = "— (no run)"  # a figure of a plan that serves (Figure.served), where a plan does not run


@dataclass(frozen=True)
class Side:
    """One of the two compared: what the column is called, its profile and plan."""

    name: str
    profile: Profile
    plan: Plan


@dataclass(frozen=True)
class FigureRow:
    label: str
    now: str
    then: str
    change: str  # "" where a change means nothing (text rows)
    verdict: Verdict


def column_names(now: str, then: str, width: int) -> tuple[str, str]:
    """The two columns' headers: the profiles' names cut to ``width``, told apart when they read the same
    (equal names, or names that differ only past the cut, as an automatic name and the seed's)."""
    def cut(name: str, room: int) -> str:
        return name if len(name) <= room else name[:room - 1].rstrip() + "…"

    if cut(now, width) == cut(then, width):
        return cut(now, width - 6) + " (now)", cut(then, width - 8) + " (other)"
    return cut(now, width), cut(then, width)


def _field_text(profile: Profile, field_index: int) -> str:
    field = ALL_FIELDS[field_index]
    value = field.value_of(profile)
    if value is None:
        return "auto"
    unit = "%" if field.kind == "percent" else f" {field.unit}" if field.unit else ""
    text = field.format(value) if field.kind == "percent" else f"{value:,.6g}"
    return f"{text}{unit}"


def input_rows(now: Profile, then: Profile) -> list[tuple[str, str, str]]:
    """(label, now, other) for each input that differs: model, GPU, precisions, engine, then every field."""
    def engine(profile: Profile) -> str:
        name = profile.engine.name
        return f"{name} {profile.engine.version}" if name == "vllm" else name

    described: list[tuple[str, Callable[[Profile], str]]] = [
        ("Model", lambda p: p.model.name), ("GPU", lambda p: p.hardware.name),
        ("Weights", lambda p: p.model.weight_dtype.value), ("KV cache", lambda p: p.model.kv_dtype.value),
        ("Replicas", lambda p: f"{p.parallelism.replicas:,}"), ("Engine", engine)]
    pairs = [(label, text(now), text(then)) for label, text in described]
    pairs += [(field.label, _field_text(now, index), _field_text(then, index))
              for index, field in enumerate(ALL_FIELDS)]
    return [(label, a, b) for label, a, b in pairs if a != b]


def _count(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def figure_rows(now: Side, then: Side, units: str) -> list[FigureRow]:
    """Every figure of both plans as the main screen writes it, with the change from ``then`` to ``now``."""
    def memory(value: float | None) -> str:
        return "—" if value is None else memory_text(value * GIB, units)  # the figure holds GiB

    def tok_s(value: float | None) -> str:
        return "—" if value is None else f"{rate_text(value)} tok/s"

    def ms(value: float | None) -> str:  # the step-time figure is in ms
        return "—" if value is None else time_text(value / 1e3)

    def seconds(value: float | None) -> str:
        return "—" if value is None else time_text(value)

    formats: dict[str, tuple[str, Callable[[float | None], str]]] = {
        "capacity_users": ("Capacity (users)", _count),
        "concurrent_sequences": ("Sequences @ avg", _count),
        "tokens_per_s_per_user": ("Decode / user", tok_s),
        "tokens_per_s_aggregate": ("Decode, all", tok_s),
        "step_time_ms": ("Step time", ms),
        "prefill_tokens_per_s": ("Prefill", tok_s),
        "ttft_s": ("TTFT", seconds),
        "kv_tokens": ("KV pool / GPU", lambda v: "—" if v is None else f"{v:,.0f} tok"),
        "weights_gib": ("Weights / GPU", memory),
        "kv_budget_gib": ("KV budget / GPU", memory),
        "gpus": ("GPUs", _count),
        "per_hour": ("Rent / hour", money_text),
        "per_user_month": ("Per user-month", money_text),
        "per_million_tokens": ("Per 1M tokens", lambda v: money_text(v, 3)),
        "own_lifetime_per_user": ("Owned / user", lambda v: money_text(v, 0)),
    }
    rows = [FigureRow("Users served",
                      f"{now.plan.capacity.users_served:,} of {now.profile.workload.users:,}",
                      f"{then.plan.capacity.users_served:,} of {then.profile.workload.users:,}",
                      *_change("users_served", then.plan, now.plan, _count)),
            FigureRow("Limited by", LIMITS[now.plan.capacity.limited_by], LIMITS[then.plan.capacity.limited_by],
                      "", "same")]
    for key, (label, show) in formats.items():
        figure = FIGURES_BY_KEY[key]
        if figure.served and not (now.plan.runs and then.plan.runs):
            # a plan that cannot run has no speed, as on the main screen (issue 17: never a figure to trust)
            rows.append(FigureRow(label, show(figure.value(now.plan)) if now.plan.runs else NOT_RUNNING,
                                  show(figure.value(then.plan)) if then.plan.runs else NOT_RUNNING, "n/a", "unknown"))
            continue
        rows.append(FigureRow(label, show(figure.value(now.plan)), show(figure.value(then.plan)),
                              *_change(key, then.plan, now.plan, show)))
    return rows


def _change(key: str, before: Plan, after: Plan, show: Callable[[float | None], str]) -> tuple[str, Verdict]:
    """"+12.3 ms (+40%)" in the figure's own format, "=" when unchanged, and the verdict."""
    moved = delta(FIGURES_BY_KEY[key], before, after)
    if moved.absolute is None:
        return ("n/a" if moved.verdict == "unknown" else "="), moved.verdict
    if moved.verdict == "same":
        return "=", moved.verdict
    sign = "+" if moved.absolute > 0 else "−"
    percent = "" if moved.percent is None else f" ({sign}{abs(moved.percent):.0f}%)"
    return f"{sign}{show(abs(moved.absolute))}{percent}", moved.verdict
