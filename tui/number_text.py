"""Numbers as people type them into a spreadsheet: ``32,768``, ``128k``, ``1.5M``, ``2*80``, ``(8+8)/2``.

A small recursive-descent parser over + - * / and parentheses (no ``eval``): numbers may carry digit
separators (``,`` ``_``), an exponent (``1e3``) and a suffix: ``k`` (thousand), ``M`` (million), ``G``
(billion). A field counted in tokens reads the suffixes as context lengths are quoted, in powers of
two: ``128k`` is 131,072 tokens, as a "128K context" model holds (its ``max_position_embeddings``).
Plain Python, no Textual: the edit session and its tests use it directly.
"""

from __future__ import annotations

import math
import re

MAX_LENGTH = 200  # characters: longer text is no number anyone typed
MAX_DEPTH = 20  # nested parentheses or signs
DECIMAL = {"k": 1e3, "m": 1e6, "g": 1e9}
BINARY = {"k": 2.0**10, "m": 2.0**20, "g": 2.0**30}
_NUMBER = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?([kKmMgG]?)")


class _Parser:
    def __init__(self, text: str, binary: bool) -> None:
        self.text, self.at, self.depth = text, 0, 0
        self.suffixes = BINARY if binary else DECIMAL

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def expression(self) -> float:
        value = self.term()
        while self.peek() in ("+", "-"):
            sign = self.peek()
            self.at += 1
            value = value + self.term() if sign == "+" else value - self.term()
        return value

    def term(self) -> float:
        value = self.factor()
        while self.peek() in ("*", "/", "x"):
            operator = self.peek()
            self.at += 1
            right = self.factor()
            if operator == "/":
                if right == 0:
                    raise ValueError("division by zero")
                value /= right
            else:
                value *= right
        return value

    def factor(self) -> float:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ValueError("too deeply nested")
        try:
            char = self.peek()
            if char in ("-", "+"):
                self.at += 1
                value = self.factor()
                return -value if char == "-" else value
            if char == "(":
                self.at += 1
                value = self.expression()
                if self.peek() != ")":
                    raise ValueError("a ( without its )")
                self.at += 1
                return value
            return self.number()
        finally:
            self.depth -= 1

    def number(self) -> float:
        match = _NUMBER.match(self.text, self.at)
        if match is None:
            raise ValueError("not a number")
        self.at = match.end()
        digits, exponent, suffix = match.groups()
        if exponent is not None and abs(int(exponent)) > 400:
            raise ValueError("too large")
        value = float(digits + (f"e{exponent}" if exponent is not None else ""))
        return value * self.suffixes[suffix.lower()] if suffix else value


def parse_number(text: str, binary_suffixes: bool = False, percent: bool = False) -> float:
    """The finite number ``text`` stands for; ValueError with a short reason when it stands for none.

    ``binary_suffixes``: k, M and G are 2^10, 2^20 and 2^30 (token counts). ``percent``: a trailing
    ``%`` is allowed (the value stays in percent).
    """
    cleaned = text.strip()
    if percent:
        cleaned = cleaned.removesuffix("%").rstrip()
    if len(cleaned) > MAX_LENGTH:
        raise ValueError("too long to be a number")
    cleaned = re.sub(r"(?<=\d)[,_](?=\d)", "", cleaned)
    cleaned = re.sub(r"\s*([-+*/x×()])\s*", r"\1", cleaned.replace("×", "x"))
    if not cleaned:
        raise ValueError("empty")
    parser = _Parser(cleaned, binary_suffixes)
    value = parser.expression()
    if parser.at != len(cleaned):
        raise ValueError(f"unexpected {cleaned[parser.at]!r}")
    if not math.isfinite(value):
        raise ValueError("too large")
    return value
