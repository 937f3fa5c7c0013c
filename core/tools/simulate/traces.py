"""Traces from files: request lengths (JSONL, one request a line) and arrival times.

A length line is ``[input, output]`` or an object with one of the key pairs load-test exports use
(``input_tokens``/``output_tokens``, ``prompt_tokens``/``completion_tokens``, ``input_len``/``output_len``,
``prompt_len``/``output_len``); an arrival line is a number of seconds or an object with ``timestamp``,
``time_s`` or ``arrival_s``. Blank lines are skipped; any other line is refused naming its number.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ...errors import ProfileError
from .traffic import Arrivals, Lengths, arrivals_from_times

MAX_TRACE_BYTES = 64 * 1024 * 1024
MAX_TOKENS = 100_000_000
LENGTH_KEYS = (("input_tokens", "output_tokens"), ("prompt_tokens", "completion_tokens"),
               ("input_len", "output_len"), ("prompt_len", "output_len"))
TIME_KEYS = ("timestamp", "time_s", "arrival_s")


def _count(value: object) -> int | None:
    """A token count: a non-negative integer (not a bool, not a float)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS:
        return value
    return None


def _row(parsed: object) -> tuple[int, int] | None:
    pair: tuple[object, object] | None = None
    if isinstance(parsed, list) and len(parsed) == 2:
        pair = (parsed[0], parsed[1])
    elif isinstance(parsed, dict):
        pair = next(((parsed[a], parsed[b]) for a, b in LENGTH_KEYS if a in parsed and b in parsed), None)
    if pair is None:
        return None
    first, second = _count(pair[0]), _count(pair[1])
    return None if first is None or second is None else (first, second)


def _lines(text: str) -> list[tuple[int, str]]:
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _json(line: str) -> object:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def _shortened(line: str) -> str:
    """A bad line as an error message quotes it: at most 60 characters."""
    return line if len(line) <= 60 else line[:57] + "..."


def lengths_from_text(text: str, source: str) -> Lengths:
    """A length trace: every non-blank line two non-negative integers (input, output)."""
    rows: list[tuple[int, int]] = []
    for number, line in _lines(text):
        row = _row(_json(line))
        if row is None:
            shown = _shortened(line)
            raise ProfileError(f"{source}, line {number}: not two non-negative integers (input and output tokens), "
                               f"got {shown!r}; write [512, 128] or {{\"input_tokens\": 512, \"output_tokens\": 128}}")
        rows.append(row)
    if not rows:
        raise ProfileError(f"{source}: the length trace has no requests")
    inputs = sum(row[0] for row in rows) // len(rows)
    outputs = sum(row[1] for row in rows) // len(rows)
    return Lengths("trace", inputs, outputs, trace_rows=tuple(rows))


def _time(parsed: object) -> float | None:
    if isinstance(parsed, dict):
        parsed = next((parsed[key] for key in TIME_KEYS if key in parsed), None)
    if isinstance(parsed, int | float) and not isinstance(parsed, bool) and math.isfinite(parsed) and parsed >= 0:
        return float(parsed)
    return None


def arrivals_from_text(text: str, source: str) -> Arrivals:
    """An arrival trace: every non-blank line a time in seconds (>= 0, not decreasing)."""
    times: list[float] = []
    for number, line in _lines(text):
        value = _time(_json(line))
        if value is None:
            shown = _shortened(line)
            raise ProfileError(f"{source}, line {number}: not an arrival time in seconds (a number >= 0, or "
                               f"{{\"timestamp\": 1.25}}), got {shown!r}")
        if times and value < times[-1]:
            raise ProfileError(f"{source}, line {number}: {value:g} s comes before the arrival above it; times "
                               f"must not decrease")
        times.append(value)
    return arrivals_from_times(times, source)


def read_text(path: Path, what: str) -> str:
    """A trace file's text, refused (naming it) when missing, unreadable, not UTF-8 or over 64 MiB."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TRACE_BYTES + 1)
    except OSError as error:
        raise ProfileError(f"{what} {path}: cannot be read ({error.strerror or 'unreadable'})") from None
    if len(data) > MAX_TRACE_BYTES:
        raise ProfileError(f"{what} {path}: larger than {MAX_TRACE_BYTES // (1024 * 1024)} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProfileError(f"{what} {path}: not UTF-8 text") from None


def read_lengths(path: Path) -> Lengths:
    return lengths_from_text(read_text(path, "length trace"), str(path))


def read_arrivals(path: Path) -> Arrivals:
    return arrivals_from_text(read_text(path, "arrival trace"), str(path))
