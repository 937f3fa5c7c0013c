"""Shared fixtures: the shipped profiles and a helper to plan one by file name."""

from __future__ import annotations

import pytest

from napkinmath.core.plan.compose import Plan, plan
from napkinmath.core.profile.files import load_profile
from napkinmath.core.profile.paths import shipped_profile
from napkinmath.core.profile.schema import Profile


def shipped(name: str) -> Profile:
    return load_profile(shipped_profile(name))


def planned(name: str) -> Plan:
    return plan(shipped(name))


@pytest.fixture
def napkin_home(tmp_path, monkeypatch):
    """An empty $NAPKIN_HOME so tests never touch the user's real config folder."""
    monkeypatch.setenv("NAPKIN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


async def type_into(pilot, selector: str, text: str) -> None:
    """Focus a field, clear it with keys and type the text, as a user would."""
    from textual.widgets import Input

    field = pilot.app.query_one(selector, Input)
    field.focus()
    await pilot.pause()
    await pilot.press("end", *["backspace"] * (len(field.value) + 1), *list(text))
    await pilot.pause()
