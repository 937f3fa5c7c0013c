"""The simulator's results as plain dicts (the command line's --json, the TUI's tables).

Shape (issue 15): ``ttft_s``, ``tpot_s``, ``itl_s``, ``e2e_s`` each with ``p50``, ``p90``, ``p99`` and
``mean``; ``output_tokens_per_s`` with ``mean``; ``over_time``: the queue, the running sequences and
the KV pools' use (0-1) sampled over the run. With error bands (the fitted model's low/high factors,
issue 14), each of those also carries ``low`` and ``high``: the same statistics scaled by the band.
"""

from __future__ import annotations

from typing import Any

from .capacity import SloCapacity
from .stats import SimResult, Summary

Band = tuple[float, float]  # (low, high) multiplicative factors on the expected value


def _summary(summary: Summary, band: Band | None) -> dict[str, Any]:
    shown: dict[str, Any] = summary.as_dict()
    if band is not None:
        shown["low"] = summary.scaled(band[0]).as_dict()
        shown["high"] = summary.scaled(band[1]).as_dict()
    return shown


def result_to_dict(result: SimResult, bands: dict[str, Band] | None = None) -> dict[str, Any]:
    """One run. ``bands`` maps ``ttft``, ``tpot`` (also used for ``itl`` and the decode part of ``e2e``:
    a TPOT band is a band on the step) and ``throughput`` to (low, high) factors."""
    bands = bands or {}
    throughput: dict[str, Any] = {"mean": result.output_tokens_per_s}
    if "throughput" in bands:
        low, high = bands["throughput"]
        throughput.update(low=result.output_tokens_per_s * low, high=result.output_tokens_per_s * high)
    return {
        "ttft_s": _summary(result.ttft_s, bands.get("ttft")),
        "tpot_s": _summary(result.tpot_s, bands.get("tpot")),
        "itl_s": _summary(result.itl_s, bands.get("tpot")),
        "e2e_s": _summary(result.e2e_s, bands.get("tpot")),
        "output_tokens_per_s": throughput,
        "requests_per_s": result.requests_per_s,
        "goodput_requests_per_s": result.goodput_per_s,
        "requests": result.requests,
        "completed": result.completed,
        "rejected": result.rejected,
        "preemptions": result.preemptions,
        "duration_s": result.duration_s,
        "peak_waiting": result.peak_waiting,
        "peak_kv_used": result.peak_kv_used,
        "offered_rate_per_s": result.offered_rate_per_s,
        "over_time": {"time_s": [sample.time_s for sample in result.samples],
                      "waiting": [sample.waiting for sample in result.samples],
                      "running": [sample.running for sample in result.samples],
                      "kv_used": [sample.kv_used for sample in result.samples]},
    }


def capacity_to_dict(found: SloCapacity, slo: dict[str, float], duty_cycle: float,
                     bands: dict[str, Band] | None = None) -> dict[str, Any]:
    """An SLO search: the highest rate, the users it serves, the run there and the first rate that missed."""
    return {
        "slo": dict(slo),
        "max_rate_per_s": found.max_rate_per_s,
        "missed_rate_per_s": found.missed_rate_per_s,
        "users": found.users(duty_cycle),
        "duty_cycle": duty_cycle,
        "trials": found.trials,
        "reason": found.reason,
        "at_max_rate": result_to_dict(found.at_max, bands) if found.at_max is not None else None,
    }
