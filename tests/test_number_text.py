"""Typed numbers (tui/number_text.py): suffixes, separators, simple arithmetic, and what is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from napkinmath.tui.fields import FIELDS_BY_PATH
from napkinmath.tui.number_text import MAX_DEPTH, parse_number


@pytest.mark.parametrize(("text", "value"), [
    ("800", 800), ("32,768", 32768), ("1_000", 1000), (" 12.5 ", 12.5), (".5", 0.5), ("1e3", 1000),
    ("128k", 128_000), ("1.5M", 1_500_000), ("2G", 2e9), ("2*80", 160), ("2x80", 160), ("2 × 80", 160),
    ("(8+8)/2", 8), ("-3+5", 2), ("10-2*3", 4), ("2*(3+4)", 14), ("1/4", 0.25), ("1e-3", 0.001),
])
def test_what_people_type_is_read(text, value):
    assert parse_number(text) == pytest.approx(value)


def test_token_counts_read_suffixes_in_powers_of_two():
    assert parse_number("128k", binary_suffixes=True) == 131_072
    assert parse_number("1M", binary_suffixes=True) == 2**20
    assert FIELDS_BY_PATH["workload.max_context_tokens"].parse("128k") == 131_072
    assert FIELDS_BY_PATH["workload.users"].parse("1.5k") == 1500  # users are counted in thousands
    assert FIELDS_BY_PATH["workload.duty_cycle"].parse("20%") == pytest.approx(0.2)


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"), ("abc", "not a number"), ("1e308*10", "too large"), ("1e999", "too large"),
    ("2*", "not a number"), ("(1+2", r"without its \)"), ("1/0", "division by zero"), ("3 4", "unexpected"),
    ("1,2.3.4", "unexpected"), ("inf", "not a number"), ("nan", "not a number"), ("__import__('os')", "not a number"),
    ("(" * 50 + "1" + ")" * 50, "nested"), ("-" * 100 + "1", "nested"), ("9" * 300, "too long"),
])
def test_what_is_no_number_is_refused_with_a_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_number(text)


@given(st.integers(-10**9, 10**9), st.integers(1, 10**6))  # products stay below 2**53: exact in floats
def test_sums_and_products_of_integers_come_out_exact(a, b):
    assert parse_number(f"{a}+{b}") == a + b
    assert parse_number(f"{a:,}*{b}") == a * b
    assert parse_number(f"({a})-({b})") == a - b


@given(st.text(max_size=40))
def test_any_text_gives_a_finite_number_or_a_value_error(text):
    try:
        value = parse_number(text)
    except ValueError:
        return
    assert value == value and abs(value) != float("inf")


def test_messages_speak_the_fields_units_and_are_whole():
    field = FIELDS_BY_PATH
    cases = {("workload.duty_cycle", "150"): "at most 100 %", ("workload.users", "0"): "at least 1 user",
             ("hardware.count", "1e308"): "at most 1,000,000", ("cost.hours_per_month", "0"): "at least 1 h",
             ("workload.prefix_cache_hit", "100"): "less than 100 %", ("engine.max_num_seqs", "1.5"): "a whole number, e.g. 2",
             ("hardware.purchase_price", "-1"): "at least $0", ("workload.users", "12x"): "a whole number, e.g. 8"}
    for (path, text), message in cases.items():
        with pytest.raises(ValueError) as refused:
            field[path].parse(text)
        assert str(refused.value) == message, (path, text)
    assert MAX_DEPTH >= 10
