"""Where each group of a plan's figures comes from: spec, checkpoint, empirical default, assumed or calibrated.

Kinds only; the efficiencies themselves are in the profile's [engine]. A calibrated value edited by
hand afterwards reads "assumed" ([engine.calibrated] records what each calibration set).
"""

from __future__ import annotations

from ..profile.schema import Profile
from .result import Provenance


def provenance(profile: Profile, defaults_used: bool, fitted_kind: str | None = None) -> Provenance:
    """Say where the figures come from, so an estimate is never mistaken for a measurement. Kinds only:
    the efficiencies themselves are in the profile's [engine]."""
    engine = profile.engine
    # which values a calibration set (asked only when one did: the common profile has none)
    calibrated = engine.is_calibrated if engine.calibrated else _never_calibrated
    bandwidth = "calibrated" if calibrated("mbu") else ("spec" if engine.mbu == 1.0 else "assumed")
    if not engine.step_overhead_ms and not engine.step_overhead_per_sequence_us:
        engine_time = "none"
    else:
        times = (("step_overhead_ms", engine.step_overhead_ms),
                 ("step_overhead_per_sequence_us", engine.step_overhead_per_sequence_us))
        engine_times = [name for name, value in times if value]
        engine_time = "calibrated" if all(calibrated(name) for name in engine_times) else "assumed"
    if "calibrated" in (bandwidth, engine_time):
        decode = "calibrated"
    else:
        decode = "spec" if bandwidth == "spec" and engine_time == "none" else "assumed"
    prefill = "calibrated" if calibrated("mfu") else ("spec" if engine.mfu == 1.0 else "assumed")
    if calibrated("activation_gib"):
        kv_budget = "calibrated"
    else:
        kv_budget = "empirical default" if defaults_used else "spec"
    if fitted_kind is not None:  # engine.speed == "fitted": the kind engine_performance gives its coefficients
        if "calibrated" in (bandwidth, prefill):
            speed = "calibrated"
        elif "assumed" in (bandwidth, prefill):
            speed = "assumed"
        else:
            speed = fitted_kind
        decode = prefill = speed
        if engine_time == "none":  # the fitted model holds the engine's own time (per step, layer, sequence)
            engine_time = speed
    else:
        speed = "peak-spec" if decode == "spec" and prefill == "spec" else "roofline"
    return Provenance(weights="checkpoint" if profile.model.uses_checkpoint_bytes else "spec",
                      kv_budget=kv_budget, decode=decode, prefill=prefill, bandwidth=bandwidth, engine_time=engine_time,
                      speed=speed)


def _never_calibrated(name: str) -> bool:
    """``Engine.is_calibrated`` of an engine no calibration has touched."""
    return False
