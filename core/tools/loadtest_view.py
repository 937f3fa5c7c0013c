"""A load test (core/tools/loadtest.py) as plain data for ``napkin loadtest --json`` and as text lines.

JSON: ``{"profile", "engine", "concurrency", "input_tokens", "output_tokens", "ttft_s", "tpot_s",
"output_tokens_per_s", "running_per_instance", "waiting_per_instance", "kind", "band"}``, each figure
``{"expected", "low", "high", "ideal"}`` in seconds or tokens/s. ``ideal`` is the peak-spec ceiling (a
measurement is never better); ``low``-``high`` the held-out band.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from ..errors import ProfileError
from ..profile.schema import Profile
from .loadtest import Figure, LoadTest


def rate(value: float) -> str:
    """Whole numbers from 100 up, one decimal below."""
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def time_figure(figure: Figure) -> str:
    """"39.1 ms (28.9-52.2), ideal 14.3 ms": every value in the unit of the expected one (ms below a second)."""
    scale, unit = (1e3, "ms") if figure.expected < 1 else (1.0, "s")

    def show(value: float) -> str:
        return f"{value * scale:,.1f}" if unit == "ms" else f"{value:,.2f}"

    return f"{show(figure.expected)} {unit} ({show(figure.low)}–{show(figure.high)}), ideal {show(figure.ideal)} {unit}"


def rate_figure(figure: Figure) -> str:
    """"52 tok/s (41-60), ideal 90 tok/s"."""
    return (f"{rate(figure.expected)} tok/s ({rate(figure.low)}–{rate(figure.high)}), "
            f"ideal {rate(figure.ideal)} tok/s")


KIND_TEXT = {
    "fitted": "the performance model fitted on measured load tests",
    "extrapolated": "the fitted model, extrapolated (this GPU or engine is not in its data)",
    "calibrated": "the fitted model, calibrated on a measurement",
    "assumed": "the fitted model, rescaled by hand",
    "roofline": "the bare roofline at the profile's efficiencies and engine time (speed = \"roofline\"; no band)",
}
BAND_TEXT = "range: the 10th-90th percentile of measured / predicted on held-out load tests"


def load_test_dict(profile: Profile, test: LoadTest) -> dict[str, Any]:
    data = asdict(test)
    return {"profile": {"name": profile.name, "gpu": profile.hardware.name, "model": profile.model.name,
                        "gpus": profile.parallelism.gpus},
            "engine": {"name": profile.engine.name, "version": profile.engine.version}, **data,
            "band": BAND_TEXT}


def load_test_lines(profile: Profile, test: LoadTest) -> list[str]:
    instances = profile.parallelism.data * profile.parallelism.replicas
    lines = [f"Load test of {profile.name}: {test.concurrency:,} requests in flight, {test.input_tokens:,} tokens in / "
             f"{test.output_tokens:,} out ({profile.engine.name} {profile.engine.version}, {instances} engine "
             f"instance{'s' * (instances != 1)})",
             f"  time to first token   {time_figure(test.ttft_s)}",
             f"  time per output token {time_figure(test.tpot_s)}",
             f"  output tokens/s       {rate_figure(test.output_tokens_per_s)}",
             f"  running per instance  {test.running_per_instance:,.0f}"
             + (f", {test.waiting_per_instance:,.0f} waiting for KV memory" if test.waiting_per_instance else ""),
             f"From {KIND_TEXT.get(test.kind, test.kind)}; {BAND_TEXT}; ideal: peak spec, nothing waiting."]
    return lines


def whole_count(name: str, text: str | None, default: int) -> int:
    """A count as typed (``--concurrency 64``, the app's prompt): a whole number, else ProfileError naming
    ``name``; ``default`` when nothing was typed. The range is load_test's to check."""
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise ProfileError(f"{name} must be a whole number, got {text.strip()!r}") from None
    if not math.isfinite(value) or value != int(value):
        raise ProfileError(f"{name} must be a whole number, got {text.strip()!r}")
    return int(value)


def load_test_request(text: str, profile: Profile) -> tuple[int, int, int]:
    """"64" or "64, 8192, 1024" (concurrency, input and output tokens; the workload's prompt and output
    lengths by default) as the app's prompt takes it."""
    parts = [part.strip() for part in text.split(",")]
    if not 1 <= len(parts) <= 3:
        raise ProfileError(f"{text.strip()!r}: give the concurrency, optionally followed by input and output "
                           f"tokens (64 or 64, 8192, 1024)")
    parts += [""] * (3 - len(parts))
    work = profile.workload
    return (whole_count("the concurrency", parts[0], 0), whole_count("the input tokens", parts[1], work.prompt_tokens),
            whole_count("the output tokens", parts[2], work.output_tokens))
