"""A load test (core/tools/loadtest.py) as plain data for ``napkin loadtest --json`` and as text lines.

JSON: ``{"profile", "engine", "concurrency", "input_tokens", "output_tokens", "ttft_s", "tpot_s",
"output_tokens_per_s", "running_per_instance", "waiting_per_instance", "kind", "band"}``, each figure
``{"expected", "low", "high", "ideal"}`` in seconds or tokens/s. ``ideal`` is the peak-spec ceiling (a
measurement is never better); ``low``-``high`` the held-out band.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..profile.schema import Profile
from .loadtest import Figure, LoadTest


def seconds(value: float) -> str:
    """Milliseconds below a second, seconds above (as core/report/formatting.py writes them)."""
    return f"{value * 1e3:,.1f} ms" if value < 1 else f"{value:,.2f} s"


def rate(value: float) -> str:
    """Whole numbers from 100 up, one decimal below."""
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"

KIND_TEXT = {
    "fitted": "the performance model fitted on measured load tests",
    "extrapolated": "the fitted model, extrapolated (this GPU generation or engine is not in its data)",
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


def figure_text(figure: Figure, show) -> str:
    """"52 tok/s (41-60)" style: the expected value, its band, and the peak-spec ideal."""
    return f"{show(figure.expected)} ({show(figure.low)}–{show(figure.high)}), ideal {show(figure.ideal)}"


def load_test_lines(profile: Profile, test: LoadTest) -> list[str]:
    instances = profile.parallelism.data * profile.parallelism.replicas
    lines = [f"Load test of {profile.name}: {test.concurrency:,} requests in flight, {test.input_tokens:,} tokens in / "
             f"{test.output_tokens:,} out ({profile.engine.name} {profile.engine.version}, {instances} engine "
             f"instance{'s' * (instances != 1)})",
             f"  time to first token   {figure_text(test.ttft_s, seconds)}",
             f"  time per output token {figure_text(test.tpot_s, seconds)}",
             f"  output tokens/s       {figure_text(test.output_tokens_per_s, lambda v: f'{rate(v)} tok/s')}",
             f"  running per instance  {test.running_per_instance:,.0f}"
             + (f", {test.waiting_per_instance:,.0f} waiting for KV memory" if test.waiting_per_instance else ""),
             f"From {KIND_TEXT.get(test.kind, test.kind)}; {BAND_TEXT}; ideal: peak spec, nothing waiting."]
    return lines
