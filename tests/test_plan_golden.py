"""plan() keeps every figure: the plan JSON of every shipped profile and of 450 varied profiles
(tests/plan_cases.py) against tests/data/plan_golden.json, floats to 12 significant digits.

The stored figures were computed before plan() was made faster (issue 14, plan() at most 60 us), so a
speed-up that moves any figure fails here. When figures change on purpose (a refit, a physics fix),
regenerate the file with ``python tests/plan_cases.py --write`` and say why in the commit.
"""

from __future__ import annotations

import json

import pytest
from plan_cases import FULL_CASES, GOLDEN, digest, rounded_plan, shipped, varied_profiles

EXPECTED = json.loads(GOLDEN.read_text())
VARIED = varied_profiles(len(EXPECTED["varied"]) + len(EXPECTED["varied_digests"]))


def test_the_stored_cases_are_the_drawn_cases():
    assert len(EXPECTED["varied"]) == FULL_CASES
    assert len(EXPECTED["varied_digests"]) >= 400
    assert [case["profile"]["name"] for case in EXPECTED["varied"]] == [p.name for p in VARIED[:FULL_CASES]]


@pytest.mark.parametrize("name", sorted(EXPECTED["shipped"]))
def test_shipped_profile_plans_as_stored(name):
    assert rounded_plan(shipped()[name]) == EXPECTED["shipped"][name]


def test_every_shipped_profile_is_stored():
    assert sorted(shipped()) == sorted(EXPECTED["shipped"])


@pytest.mark.parametrize("index", range(FULL_CASES))
def test_varied_profile_plans_as_stored(index):
    assert rounded_plan(VARIED[index]) == EXPECTED["varied"][index]


def test_more_varied_profiles_plan_as_stored():
    moved = [profile.name for profile, expected in zip(VARIED[FULL_CASES:], EXPECTED["varied_digests"], strict=True)
             if digest(rounded_plan(profile)) != expected]
    assert not moved, f"{len(moved)} plans moved, e.g. {moved[:5]}"


def test_the_varied_cases_cover_every_engine_speed_and_outcome():
    from napkinmath.core.plan.compose import plan

    seen = {(p.engine.name, p.engine.speed, plan(p).capacity.limited_by) for p in VARIED}
    for engine in ("vllm", "sglang", "trtllm", "generic"):
        for speed in ("fitted", "roofline"):
            for limited_by in ("users", "memory", "speed", "weights", "engine"):
                assert (engine, speed, limited_by) in seen
