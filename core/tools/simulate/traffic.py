"""Who arrives when, with how many tokens: arrival processes and length distributions.

Every process draws unit-mean gaps and the run divides them by the rate, so two runs with one seed at
different rates see the same requests in the same order, only closer together (common random numbers:
what keeps the SLO search's answer monotone in the rate, capacity.py). Lengths come from their own
stream, so changing the arrivals never changes the lengths. Spec strings are the command line's:
``poisson``, ``gamma:CV``, ``fixed``, ``exponential``, ``lognormal:CV``, ``trace:FILE``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

from ...errors import ProfileError

ArrivalKind = Literal["poisson", "gamma", "trace"]
LengthKind = Literal["fixed", "exponential", "lognormal", "trace"]
MAX_CV = 100.0


def _cv(text: str, item: str) -> float:
    if not text.strip():
        raise ProfileError(f"{item}: give a coefficient of variation after the colon, e.g. {item.split()[-1]}:2")
    try:
        value = float(text)
    except ValueError:
        raise ProfileError(f"{item}: the coefficient of variation must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0 or value > MAX_CV:
        raise ProfileError(f"{item}: the coefficient of variation must be between 0 and {MAX_CV:g}, got {text}")
    return value


@dataclass(frozen=True, slots=True)
class Arrivals:
    """Poisson (gaps exponential, CV 1), Gamma with a CV (> 1 bursty, 0 evenly spaced), or a trace's
    gaps scaled to the asked rate (its burst shape kept)."""

    kind: ArrivalKind = "poisson"
    cv: float = 1.0
    trace_gaps: tuple[float, ...] = ()  # unit-mean gaps between a trace's arrivals

    def unit_gaps(self, count: int, rng: random.Random) -> list[float]:
        """``count`` gaps with mean 1; the first request arrives one gap after time 0."""
        if self.kind == "trace":
            gaps = self.trace_gaps
            return [gaps[index % len(gaps)] for index in range(count)]
        if self.kind == "poisson" or self.cv == 1.0:
            return [rng.expovariate(1.0) for _ in range(count)]
        if self.cv == 0.0:
            return [1.0] * count
        shape = 1.0 / (self.cv * self.cv)
        return [rng.gammavariate(shape, 1.0 / shape) for _ in range(count)]

    @property
    def label(self) -> str:
        return {"poisson": "Poisson", "gamma": f"Gamma CV {self.cv:g}", "trace": "trace"}[self.kind]


def arrivals_from_times(times: list[float], source: str) -> Arrivals:
    """A trace of arrival times (seconds, non-decreasing) as unit-mean gaps."""
    if len(times) < 2:
        raise ProfileError(f"{source}: an arrival trace needs at least two arrival times")
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    for line, gap in enumerate(gaps, start=2):
        if gap < 0:
            raise ProfileError(f"{source}: arrival {line} comes before the one above it; times must not decrease")
    mean = sum(gaps) / len(gaps)
    if mean <= 0:
        raise ProfileError(f"{source}: every arrival is at the same time; a trace needs time between arrivals")
    return Arrivals("trace", trace_gaps=tuple(gap / mean for gap in gaps))


def parse_arrivals(spec: str) -> Arrivals:
    """``poisson`` or ``gamma:CV`` (``trace:FILE`` is read by traces.read_arrivals)."""
    name, _, argument = spec.strip().partition(":")
    if name == "poisson" and not argument:
        return Arrivals("poisson")
    if name == "gamma":
        return Arrivals("gamma", cv=_cv(argument, "arrivals gamma"))
    raise ProfileError(f"arrivals {spec!r}: use poisson, gamma:CV (CV > 1 for bursts) or trace:FILE")


@dataclass(frozen=True, slots=True)
class Lengths:
    """Prompt and reply lengths around the means ``input_tokens`` and ``output_tokens``: fixed,
    exponential, lognormal with a CV, or a trace's rows in order (cycled when the run is longer)."""

    kind: LengthKind = "fixed"
    input_tokens: int = 1_000
    output_tokens: int = 200
    cv: float = 1.0
    trace_rows: tuple[tuple[int, int], ...] = ()

    def sample(self, count: int, rng: random.Random) -> tuple[list[int], list[int]]:
        """(prompts, replies) of ``count`` requests; a prompt has 1 token at least, a reply 1."""
        if self.kind == "trace":
            rows = self.trace_rows
            picked = [rows[index % len(rows)] for index in range(count)]
            return [max(1, row[0]) for row in picked], [max(1, row[1]) for row in picked]
        if self.kind == "fixed":
            return [max(1, self.input_tokens)] * count, [max(1, self.output_tokens)] * count
        return self._draw(self.input_tokens, count, rng), self._draw(self.output_tokens, count, rng)

    def _draw(self, mean: int, count: int, rng: random.Random) -> list[int]:
        if mean <= 0:
            return [1] * count
        if self.kind == "exponential":
            return [max(1, round(rng.expovariate(1.0 / mean))) for _ in range(count)]
        if self.cv == 0.0:
            return [mean] * count
        sigma2 = math.log1p(self.cv * self.cv)
        mu, sigma = math.log(mean) - sigma2 / 2, math.sqrt(sigma2)
        return [max(1, round(rng.lognormvariate(mu, sigma))) for _ in range(count)]

    @property
    def label(self) -> str:
        return {"fixed": "fixed", "exponential": "exponential", "lognormal": f"lognormal CV {self.cv:g}",
                "trace": "trace"}[self.kind]


def parse_lengths(spec: str, input_tokens: int, output_tokens: int) -> Lengths:
    """``fixed``, ``exponential`` or ``lognormal:CV`` around the given means (``trace:FILE``: traces.py)."""
    name, _, argument = spec.strip().partition(":")
    if name == "fixed" and not argument:
        return Lengths("fixed", input_tokens, output_tokens)
    if name == "exponential" and not argument:
        return Lengths("exponential", input_tokens, output_tokens)
    if name == "lognormal":
        return Lengths("lognormal", input_tokens, output_tokens, cv=_cv(argument, "lengths lognormal"))
    raise ProfileError(f"lengths {spec!r}: use fixed, exponential, lognormal:CV or trace:FILE")
