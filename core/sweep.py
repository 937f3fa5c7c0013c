"""Vary one field over values and plan each: the data behind `napkin sweep` and the app's charts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from napkinmath.core.errors import ProfileError
from napkinmath.core.plan import Plan, plan
from napkinmath.core.profile import Profile
from napkinmath.core.profile_edit import edit_profile

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
        raise ProfileError(f"{name}: not a profile field (section.key, e.g. workload.avg_context_tokens)")
    owners = [section for section in SECTIONS if name in type(getattr(profile, section)).model_fields]
    if len(owners) == 1:
        return f"{owners[0]}.{name}"
    if owners:
        raise ProfileError(f"{name}: ambiguous, it is in {', '.join(owners)}; write section.{name}")
    raise ProfileError(f"{name}: not a profile field (e.g. avg_context_tokens, users, tensor, memory_gib)")


def parse_values(text: str) -> list[float | int | str]:
    """"1,2,4" or "1000:32000:1000" (start:stop:step, stop included) as numbers; other words stay text."""
    text = text.strip()
    if text.count(":") == 2:
        start, stop, step = (float(part) for part in text.split(":"))
        if step <= 0 or stop < start:
            raise ProfileError(f"{text}: a range is start:stop:step with step > 0 and stop >= start")
        count = int((stop - start) / step + 1e-9) + 1
        if count > 10_000:
            raise ProfileError(f"{text}: {count:,} values; keep a sweep under 10,000")
        values = [start + i * step for i in range(count)]
        return [int(v) if float(v).is_integer() else v for v in values]
    values: list[float | int | str] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            number = float(part)
            values.append(int(number) if number.is_integer() and "." not in part else number)
        except ValueError:
            values.append(part)
    if not values:
        raise ProfileError("--vary needs FIELD=v1,v2,... or FIELD=start:stop:step")
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
