"""The field declarations: parsing, formatting and nudging inside the range the profile schema declares."""

from __future__ import annotations

import pytest
from conftest import shipped
from hypothesis import given, settings
from hypothesis import strategies as st

from napkinmath.core.errors import ProfileError
from napkinmath.core.profile.edit import edit_profile
from napkinmath.tui.fields import ALL_FIELDS, FIELDS_BY_PATH, schema_bounds


def test_bounds_come_from_the_pydantic_fields():
    assert schema_bounds("hardware.count").low == 1 and schema_bounds("hardware.count").low_inclusive
    prefix = schema_bounds("workload.prefix_cache_hit")
    assert (prefix.low, prefix.high, prefix.high_inclusive) == (0, 1, False)
    duty = schema_bounds("workload.duty_cycle")
    assert (duty.low, duty.low_inclusive, duty.high) == (0.0001, True, 1)  # a practical floor (issue 16)
    assert schema_bounds("cost.hours_per_month").high == 744


@pytest.mark.parametrize(("path", "start", "presses", "direction", "expected"), [
    ("hardware.count", "3", 5, -1, "1"),  # ge=1
    ("workload.prefix_cache_hit", "80", 3, 1, "99"),  # lt=1: one tenth of a 10 % step short of 100 %
    ("cost.hours_per_month", "30", 5, -1, "1"),  # ge=1
    ("cost.hours_per_month", "700", 10, 1, "744"),  # le=744
    ("workload.duty_cycle", "90", 5, 1, "100"),  # le=1
    ("cost.pue", "1.1", 5, -1, "1"),  # ge=1
])
def test_nudges_stop_at_the_schema_bounds(path, start, presses, direction, expected):
    field, text = FIELDS_BY_PATH[path], start
    for _ in range(presses):
        text = field.nudged(text, direction, big=False)
    assert text == expected


def test_a_nudge_never_moves_a_value_the_wrong_way():
    hours = FIELDS_BY_PATH["cost.hours_per_month"]
    assert hours.nudged("0.5", -1, big=False) == "0.5"  # below the lowest nudge (1): Down leaves it
    assert hours.nudged("0.5", 1, big=False) == "10.5"


def test_unparsable_text_is_left_alone_and_explained():
    users = FIELDS_BY_PATH["workload.users"]
    assert users.nudged("12x", 1, big=False) == "12x"
    with pytest.raises(ValueError, match="whole number"):
        users.parse("1.5")
    with pytest.raises(ValueError, match="a number, e.g."):
        FIELDS_BY_PATH["hardware.bandwidth_tb_s"].parse("inf")
    assert FIELDS_BY_PATH["engine.activation_gib"].parse(" ") is None
    assert FIELDS_BY_PATH["workload.duty_cycle"].parse("20") == pytest.approx(0.2)
    assert FIELDS_BY_PATH["workload.users"].parse("1,000") == 1000


PROFILE = shipped("llama-3.1-70b-2xh100-fp8.toml")


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(ALL_FIELDS), direction=st.sampled_from([1, -1]), big=st.booleans(),
       presses=st.integers(1, 40))
def test_nudging_from_a_valid_value_stays_inside_the_schema(field, direction, big, presses):
    """However far Up/Down go, the value stays one the profile's own validation accepts (other fields'
    cross-checks aside, like the average context under the max)."""
    text = field.format(field.value_of(PROFILE))  # empty for an optional field left to its default
    for _ in range(presses):
        text = field.nudged(text, direction, big)
    value = field.parse(text)
    bounds = field.bounds
    if value is not None:
        assert bounds.low is None or (value >= bounds.low if bounds.low_inclusive else value > bounds.low)
        assert bounds.high is None or (value <= bounds.high if bounds.high_inclusive else value < bounds.high)
        try:
            edit_profile(PROFILE, field.path, value)
        except ProfileError as error:  # only a cross-field rule may refuse it, never the field's own range
            assert "Input should be" not in str(error), str(error)
