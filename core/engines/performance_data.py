"""The fitted coefficients and error bands, read from ``data/performance.toml`` (written by
scripts/fit_performance.py from tests/data/measured-serving; docs/accuracy.md reports the fit).

Tables ``[coefficients.ENGINE.GENERATION]`` hold every ``Coefficients`` field for vllm, sglang, trtllm
and ``generic`` (the shared coefficients, for an engine the data does not cover) on ``hopper`` and
``blackwell``. A GPU of another generation (Ampere, Ada, AMD) takes the engine's Hopper coefficients. Any GPU
the data do not hold (``FITTED_GPUS``) is an extrapolation the plan's provenance names.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache
from typing import Any

from ..packaged_data import packaged_toml
from .performance import Coefficients

FITTED_GENERATIONS = ("hopper", "blackwell")
FITTED_ENGINES = ("vllm", "sglang", "trtllm")


@dataclass(frozen=True, slots=True)
class Band:
    """Multiplicative factors around an expected figure: the 10th and 90th percentiles of measured /
    predicted on held-out measurements (leave-one-GPU-out and leave-one-model-out pooled)."""

    low: float
    high: float

    def holds(self, measured: float, expected: float) -> bool:
        """Whether a measurement lies in the band around the expected figure (measured / expected within it)."""
        return self.low <= measured / expected <= self.high

    def around_time(self, expected_s: float, ideal_s: float) -> tuple[float, float]:
        """(fastest, slowest) a time may measure: the band around ``expected_s``, its fast end stopped at the
        peak-spec ``ideal_s``, which no measurement beats (docs/design/physics.md, "The fitted performance model")."""
        return max(expected_s * self.low, ideal_s), expected_s * self.high

    def around_rate(self, expected: float, ideal: float) -> tuple[float, float]:
        """(lowest, highest) a rate may measure: the band around ``expected``, its high end stopped at ``ideal``."""
        return expected * self.low, min(expected * self.high, ideal)


@dataclass(frozen=True, slots=True)
class Bands:
    """The held-out error bands of the fitted model (docs/accuracy.md: the 10th and 90th percentiles)."""

    tpot: Band  # time per output token
    ttft: Band  # time to first token
    throughput: Band  # output tokens per second


@cache
def performance_table() -> dict[str, Any]:
    """The whole TOML file, parsed once."""
    return packaged_toml("napkinmath.core.engines", "data", "performance.toml")


@cache
def coefficients_for(engine: str, architecture: str) -> Coefficients:
    """The fitted coefficients for this engine family on this GPU generation (see the module docstring)."""
    table = performance_table()["coefficients"]
    family = engine if engine in FITTED_ENGINES else "generic"
    generation = architecture if architecture in FITTED_GENERATIONS else "hopper"
    values = table[family][generation]
    return Coefficients(**{field.name: float(values[field.name]) for field in fields(Coefficients)})


# The catalog GPUs of the measured rows: another GPU takes its generation's coefficients, an extrapolation
FITTED_GPUS = frozenset({"h100-sxm", "h200", "b200"})


def extrapolated(engine: str, gpu_id: str | None) -> bool:
    """Whether the plan's speed is an extrapolation: an engine family or a GPU the fitting data do not hold. A GPU
    of a fitted generation that is not itself in the data (H100 PCIe, GB200, B300, an RTX 5090: other memory,
    clocks or links) takes that generation's coefficients, but nothing measured it; a custom GPU (no catalog id)
    neither."""
    return engine not in FITTED_ENGINES or gpu_id not in FITTED_GPUS


@cache
def bands() -> Bands:
    """The held-out error bands (multiplicative on time for TPOT and TTFT, on rate for throughput)."""
    table = performance_table()["bands"]
    return Bands(*(Band(*map(float, table[name])) for name in ("tpot", "ttft", "throughput")))


def cross_validation() -> dict[str, Any]:
    """The fit's cross-validated errors, as the fit script wrote them (for reports)."""
    return dict(performance_table()["cross_validation"])
