"""The simulator's results as JSON-ready dicts, and the latency curve the TUI charts (issue 15)."""

from __future__ import annotations

import json

import pytest

from napkinmath.core.tools.simulate.capacity import latency_curve, max_rate_at_slo
from napkinmath.core.tools.simulate.model import LinearStepModel, SchedulerLimits
from napkinmath.core.tools.simulate.report import capacity_to_dict, result_to_dict
from napkinmath.core.tools.simulate.run import Deployment, Load, simulate
from napkinmath.core.tools.simulate.traffic import Lengths

DEPLOYMENT = Deployment(LinearStepModel(0.008, per_sequence_s=2e-5, per_kv_token_s=2e-8, per_prefill_token_s=2e-5),
                        SchedulerLimits(128, 8192, 300_000))
LOAD = Load(rate_per_s=2.0, requests=400, lengths=Lengths("exponential", 1_000, 200))


def test_a_run_has_every_percentile_of_every_latency():
    shown = result_to_dict(simulate(DEPLOYMENT, LOAD))
    for key in ("ttft_s", "tpot_s", "itl_s", "e2e_s"):
        assert set(shown[key]) == {"p50", "p90", "p99", "mean"}
        assert 0 < shown[key]["p50"] <= shown[key]["p90"] <= shown[key]["p99"]
    assert shown["output_tokens_per_s"]["mean"] > 0 and shown["completed"] == 400
    over_time = shown["over_time"]
    assert len(over_time["time_s"]) == len(over_time["waiting"]) == len(over_time["kv_used"]) > 100
    assert max(over_time["running"]) > 1 and all(0 <= used <= 1 for used in over_time["kv_used"])
    json.dumps(shown)  # plain data only


def test_bands_scale_every_statistic():
    run = simulate(DEPLOYMENT, LOAD)
    shown = result_to_dict(run, {"ttft": (0.8, 1.5), "tpot": (0.9, 1.2), "throughput": (0.7, 1.1)})
    assert shown["ttft_s"]["low"]["p99"] == pytest.approx(0.8 * run.ttft_s.p99)
    assert shown["tpot_s"]["high"]["mean"] == pytest.approx(1.2 * run.tpot_s.mean)
    assert shown["output_tokens_per_s"]["low"] == pytest.approx(0.7 * run.output_tokens_per_s)


def test_an_slo_search_reports_its_rate_users_and_the_run_there():
    slo = {"ttft_p99": 1.0, "tpot_p99": 0.05}
    found = max_rate_at_slo(DEPLOYMENT, LOAD, slo)
    shown = capacity_to_dict(found, slo, duty_cycle=0.25)
    assert shown["max_rate_per_s"] == found.max_rate_per_s > 0
    assert shown["users"] == found.users(0.25) > 0
    assert shown["at_max_rate"]["ttft_s"]["p99"] <= 1.0
    json.dumps(shown)


def test_the_latency_curve_rises_with_the_rate():
    rates = [1.0, 6.0, 20.0, 30.0]
    points = latency_curve(DEPLOYMENT, LOAD, rates)
    assert [point.rate_per_s for point in points] == rates
    ttft = [point.ttft_p99_s for point in points]
    assert ttft == sorted(ttft) and ttft[-1] > 3 * ttft[0]
    assert [point.tpot_p99_s for point in points] == sorted(point.tpot_p99_s for point in points)
