"""The plan as plain data for ``napkin plan --json`` (docs/design/interfaces.md, "Plan JSON").

Sizes in bytes, times in seconds, money in USD. Keys may be added; they do not change meaning.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..profile.schema import Profile
from .result import Plan


def plan_to_dict(result: Plan, profile: Profile | None = None) -> dict[str, Any]:
    """Every figure of the plan, nested as in interfaces.md, plus the profile's name and GPU count."""
    data = asdict(result)
    data["warnings"] = list(result.warnings)
    data["runs"] = result.runs
    data["notes"] = list(result.notes)
    if profile is not None:
        data = {"profile": {"name": profile.name, "gpu": profile.hardware.name, "model": profile.model.name}, **data}
    return data
