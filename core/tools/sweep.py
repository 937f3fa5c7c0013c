"""Vary one field over values and plan each: the data behind `napkin sweep` and the app's charts."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil, isfinite
from typing import Any

from ..errors import ProfileError
from ..plan.compose import Plan, plan
from ..profile.edit import edit_profile
from ..profile.schema import Profile
from ..untrusted import excerpt, printable

MAX_SWEEP_VALUES = 10_000
SECTIONS = ("hardware", "model", "parallelism", "workload", "engine", "cost")


@dataclass(frozen=True)
class SweepPoint:
    value: Any
    plan: Plan | None
    error: str | None  # why this value was refused


def field_path(name: str, profile: Profile) -> str:
    """A field's "section.key" from either that or a key name unique across sections ("avg_context_tokens")."""
    if "." in name:
        section, key = name.split(".", 1)
        if section in SECTIONS and key in type(getattr(profile, section)).model_fields:
            return name
        raise ProfileError(f"{printable(name, 80)}: not a profile field (section.key, e.g. "
                           "workload.avg_context_tokens)")
    owners = [section for section in SECTIONS if name in type(getattr(profile, section)).model_fields]
    if len(owners) == 1:
        return f"{owners[0]}.{name}"
    if owners:
        raise ProfileError(f"{name}: ambiguous, it is in {', '.join(owners)}; write section.{name}")
    raise ProfileError(f"{printable(name, 80)}: not a profile field (e.g. avg_context_tokens, users, tensor, "
                       "memory_gib)")


def _finite(part: str, text: str) -> float:
    """One number of a start:stop:step range; ProfileError unless it is a finite number."""
    try:
        number = float(part)
    except ValueError:
        number = float("nan")
    if not isfinite(number):
        raise ProfileError(f"--vary: {excerpt(part)} in {excerpt(text)} is not a finite number; a range is "
                           "start:stop:step, e.g. 100:1000:100")
    return number


def parse_values(text: str) -> list[float | int | str]:
    """"1,2,4" or "1000:32000:1000" (start:stop:step, stop included) as numbers; other words stay text."""
    text = text.strip()
    if text.count(":") == 2:
        start, stop, step = (_finite(part, text) for part in text.split(":"))
        if step <= 0 or stop < start:
            raise ProfileError(f"{excerpt(text)}: a range is start:stop:step with step > 0 and stop >= start")
        count = int((stop - start) / step + 1e-9) + 1
        if count > MAX_SWEEP_VALUES:
            raise ProfileError(f"{excerpt(text)}: {count:,} values; keep a sweep under {MAX_SWEEP_VALUES:,}")
        return [int(v) if float(v).is_integer() else v for v in (start + i * step for i in range(count))]
    values: list[float | int | str] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            number = float(part)
        except ValueError:
            values.append(part)
            continue
        if not isfinite(number):
            raise ProfileError(f"--vary: {excerpt(part)} is not a finite number; give values like 100,200 or "
                               "100:1000:100")
        values.append(int(number) if number.is_integer() and "." not in part else number)
    if not values:
        raise ProfileError("--vary needs FIELD=v1,v2,... or FIELD=start:stop:step")
    if len(values) > MAX_SWEEP_VALUES:
        raise ProfileError(f"--vary: {len(values):,} values; keep a sweep under {MAX_SWEEP_VALUES:,}")
    return values


def sweep(profile: Profile, path: str, values: list[Any]) -> list[SweepPoint]:
    """Plan the profile once per value; a refused value is a point with its reason, not an exception."""
    points = []
    for value in values:
        try:
            points.append(SweepPoint(value, plan(edit_profile(profile, path, value)), None))
        except ProfileError as error:
            points.append(SweepPoint(value, None, str(error)))
    return points


@dataclass(frozen=True)
class Series:
    """What a chart draws: x values and one or two named y lines, plus reference lines."""

    title: str
    x_label: str
    xs: list[float]
    lines: dict[str, list[float | None]]  # name -> y values (None where a point was refused)
    right: dict[str, list[float | None]] | None = None  # lines against a second y axis
    hlines: dict[str, float] | None = None  # name -> y (e.g. the speed target)
    vlines: dict[str, float] | None = None  # name -> x (e.g. the critical batch)
    log_x: bool = False  # xs spread evenly on a log scale (context, batch): draw them on one
    now_x: float | None = None  # the profile's own point: its x, and each line's y there (same names)
    now_y: dict[str, float | None] | None = None


def _spread(low: float, high: float, points: int, integer: bool) -> list[float]:
    """points values from low to high, evenly on a log scale (whole numbers, without repeats, if integer)."""
    if high <= low:
        return [low]
    values = [low * (high / low) ** (i / (points - 1)) for i in range(points)]
    if integer:
        return sorted({max(1, round(v)) for v in values})
    return values


def users_vs_context(profile: Profile, points: int = 24) -> Series:
    """Users served and capacity as the average context grows to the maximum."""
    work, now = profile.workload, plan(profile)
    values = _spread(min(256, work.max_context_tokens), work.max_context_tokens, points, integer=True)
    results = sweep(profile, "workload.avg_context_tokens", values)
    return Series(f"Users served against average context ({profile.workload.users:,} wanted)",
                  "average context (tokens)", [p.value for p in results],
                  {"users served": [p.plan.capacity.users_served if p.plan else None for p in results],
                   "capacity": [p.plan.capacity.capacity_users if p.plan else None for p in results]},
                  log_x=True, now_x=work.avg_context_tokens,
                  now_y={"users served": now.capacity.users_served, "capacity": now.capacity.capacity_users})


def speed_vs_batch(profile: Profile, points: int = 32) -> Series:
    """Decode tokens/s per user and in all as the batch per KV pool grows, to what memory holds."""
    base = plan(profile)
    groups, duty = base.capacity.kv_groups, profile.workload.duty_cycle
    top = max(2, base.capacity.concurrent_by_memory)
    free = edit_profile(profile, "workload.target_tokens_per_s", 0.0)  # no speed cap while sweeping
    batches = _spread(1, top, points, integer=True)
    plans = [plan(edit_profile(free, "workload.users", max(1, ceil(b * groups / duty - 1e-9)))) for b in batches]
    critical = base.roofline.critical_batch or base.roofline.critical_batch_weights_only
    marks = {"critical batch (ridge)": float(critical)} if critical and critical <= top * 1.5 else None
    target = profile.workload.target_tokens_per_s
    return Series("Decode speed against batch per KV pool", "sequences decoding together (batch per pool)",
                  [p.decode.batch for p in plans],
                  {"tok/s per user": [p.decode.tokens_per_s_per_user for p in plans]},
                  right={"tok/s in all": [p.decode.tokens_per_s_aggregate for p in plans]},
                  hlines={"speed target": target} if target > 0 else None, vlines=marks, log_x=True,
                  now_x=base.decode.batch, now_y={"tok/s per user": base.decode.tokens_per_s_per_user,
                                                  "tok/s in all": base.decode.tokens_per_s_aggregate})


def cost_vs_gpus(profile: Profile, replicas: int = 8) -> Series:
    """Rent per user-month as replicas (hence GPUs) are added."""
    per_replica, now = profile.parallelism.gpus_per_replica, plan(profile)
    results = sweep(profile, "parallelism.replicas", list(range(1, replicas + 1)))
    return Series("Cost per user-month against GPU count", "GPUs",
                  [p.value * per_replica for p in results],
                  {"$ per user-month": [p.plan.cost.per_user_month if p.plan else None for p in results]},
                  right={"users served": [p.plan.capacity.users_served if p.plan else None for p in results]},
                  now_x=profile.parallelism.gpus,
                  now_y={"$ per user-month": now.cost.per_user_month, "users served": now.capacity.users_served})


def field_upper_bound(section: Any, key: str) -> float:
    """The largest value a field's own validation allows (its ``le``, or just under its ``lt``)."""
    bound = float("inf")
    for rule in type(section).model_fields[key].metadata:
        if getattr(rule, "le", None) is not None:
            bound = min(bound, float(rule.le))
        if getattr(rule, "lt", None) is not None:
            bound = min(bound, float(rule.lt) * (1 - 1e-6))
    return bound


def field_vs_figure(profile: Profile, path: str, figure_key: str, points: int = 24, label: str = "") -> Series:
    """Any output figure as one numeric field goes from a quarter to four times its value (evenly on a log
    scale). ``label``: the field as the user knows it ("Average context (tok)"), else its key."""
    from ..plan.figures import FIGURES_BY_KEY

    section, key = path.split(".")
    current = getattr(getattr(profile, section), key)
    if not isinstance(current, int | float) or isinstance(current, bool):
        raise ProfileError(f"{path}: a chart needs a numeric field")
    figure = FIGURES_BY_KEY[figure_key]
    integer = isinstance(current, int)
    low, high = (current / 4, current * 4) if current else (0.0, 1.0)
    high = min(high, field_upper_bound(getattr(profile, section), key))
    values = _spread(max(low, 1 if integer else 1e-3), high, points, integer)
    results = sweep(profile, path, values)
    name = f"{figure.label} ({figure.unit})"
    return Series(f"{figure.label} against {label or key}", label or key, [p.value for p in results],
                  {name: [figure.value(p.plan) if p.plan else None for p in results]},
                  log_x=len(values) > 1, now_x=current, now_y={name: figure.value(plan(profile))})
