"""`napkin loadtest --rate R` and `--slo`: the simulated open loop on the command line (issue 15), its JSON,
and bad input (one clear message naming the item, exit 2)."""

from __future__ import annotations

import json

import pytest

from napkinmath.cli.main import main
from napkinmath.core.profile.paths import shipped_profile

PROFILE = str(shipped_profile("llama-3.1-70b-2xh100-fp8.toml"))
STATISTICS = {"p50", "p90", "p99", "mean"}


def run_json(capsys, *argv: str) -> dict:
    assert main(["loadtest", PROFILE, *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_rate_gives_every_percentile_of_every_latency_with_bands(capsys):
    data = run_json(capsys, "--rate", "1.5", "--requests", "400")
    for key in ("ttft_s", "tpot_s", "itl_s", "e2e_s"):
        assert STATISTICS <= set(data[key]) and STATISTICS == set(data[key]["low"]) == set(data[key]["high"])
        assert data[key]["low"]["p99"] < data[key]["p99"] < data[key]["high"]["p99"]
        assert data[key]["p50"] <= data[key]["p90"] <= data[key]["p99"]
    assert data["output_tokens_per_s"]["mean"] > 0 and data["rate_per_s"] == 1.5
    assert (data["requests"], data["completed"], data["input_tokens"], data["output_tokens"]) == (400, 400, 2000, 500)


def test_an_slo_search_gives_the_highest_rate_and_the_percentiles_there(capsys):
    data = run_json(capsys, "--slo", "ttft_p99=2,tpot_p99=0.05", "--requests", "600")
    assert data["max_rate_per_s"] > 0 and data["rate_per_s"] == data["max_rate_per_s"]
    assert data["ttft_s"]["p99"] <= 2 and data["tpot_s"]["p99"] <= 0.05
    assert data["slo"]["users"] > 0 and data["slo"]["slo"] == {"ttft_p99": 2.0, "tpot_p99": 0.05}
    both = run_json(capsys, "--slo", "ttft_p99=2,tpot_p99=0.05", "--requests", "600", "--rate", "0.5")
    assert both["rate_per_s"] == 0.5 and both["max_rate_per_s"] == data["max_rate_per_s"]
    assert both["at_max_rate"]["ttft_s"]["p99"] == data["ttft_s"]["p99"]


def test_the_same_seed_gives_the_same_run_and_bursts_raise_the_tail(capsys):
    poisson = run_json(capsys, "--rate", "2", "--requests", "500", "--seed", "4")
    again = run_json(capsys, "--rate", "2", "--requests", "500", "--seed", "4")
    bursty = run_json(capsys, "--rate", "2", "--requests", "500", "--seed", "4", "--arrivals", "gamma:4")
    assert poisson == again and bursty["ttft_s"]["p99"] > poisson["ttft_s"]["p99"]


def test_lengths_traces_and_replicas(capsys, tmp_path):
    lengths = tmp_path / "lengths.jsonl"
    lengths.write_text("[1000, 100]\n[3000, 300]\n")
    times = tmp_path / "times.txt"
    times.write_text("0\n0.5\n0.6\n2.0\n")
    data = run_json(capsys, "--rate", "1", "--requests", "200", "--lengths", f"trace:{lengths}",
                    "--arrivals", f"trace:{times}")
    assert (data["input_tokens"], data["output_tokens"]) == (2000, 200) and data["completed"] == 200
    spread = run_json(capsys, "--rate", "1", "--requests", "200", "--lengths", "lognormal:1.5", "--input", "1000")
    assert spread["input_tokens"] == 1000 and spread["tpot_s"]["p99"] > 0
    two = run_json(capsys, "--rate", "3", "--requests", "400", "--replicas", "2")
    one = run_json(capsys, "--rate", "3", "--requests", "400")
    assert (two["instances"], two["replicas"]) == (2, 2) and two["ttft_s"]["p99"] < one["ttft_s"]["p99"]


def test_text_gives_the_percentile_table(capsys):
    assert main(["loadtest", PROFILE, "--rate", "1", "--requests", "300"]) == 0
    out = capsys.readouterr().out
    assert "At 1 requests/s:" in out and "TTFT" in out and "end to end" in out and "tok/s" in out


@pytest.mark.parametrize(("argv", "says"), [
    (["--rate", "0"], "--rate must be above 0 requests per second"),
    (["--rate", "-2"], "--rate must be above 0 requests per second"),
    (["--rate", "fast"], "--rate must be a number of requests per second"),
    (["--rate", "1", "--arrivals", "gamma:-1"], "arrivals gamma: the coefficient of variation must be between 0"),
    (["--rate", "1", "--lengths", "lognormal:-0.5"], "lengths lognormal: the coefficient of variation"),
    (["--rate", "1", "--arrivals", "uniform"], "arrivals 'uniform': use poisson, gamma:CV"),
    (["--slo", "ttft_p95=2"], "SLO key 'ttft_p95' does not exist"),
    (["--slo", "tpot_p99=-1"], "tpot_p99: the target must be a number of seconds above 0"),
    (["--rate", "1", "--requests", "0"], "--requests must be from 1"),
    (["--rate", "1", "--seed", "-3"], "--seed must be from 0"),
    (["--rate", "1", "--replicas", "two"], "--replicas must be a whole number"),
    (["--rate", "1", "--concurrency", "8"], "not both"),
    (["--rate", "1", "--lengths", "trace:/nonexistent/lengths.jsonl"], "cannot be read"),
])
def test_bad_input_is_one_clear_message_and_exit_2(capsys, argv, says):
    assert main(["loadtest", PROFILE, *argv]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_a_trace_line_that_is_not_two_counts_is_named(capsys, tmp_path):
    trace = tmp_path / "bad.jsonl"
    trace.write_text("[100, 10]\n[100, -1]\n")
    assert main(["loadtest", PROFILE, "--rate", "1", "--lengths", f"trace:{trace}"]) == 2
    assert "line 2: not two non-negative integers" in capsys.readouterr().err


def test_plan_at_slo_puts_users_at_p99_beside_the_capacity(capsys):
    assert main(["plan", PROFILE, "--json", "--at-slo"]) == 0
    data = json.loads(capsys.readouterr().out)
    found = data["users_at_slo"]
    assert found["slo"] == {"ttft_p99": 2.0, "tpot_p99": 0.05}  # the profile's 2 s TTFT and 20 tok/s targets
    assert found["users"] > 0 and found["max_rate_per_s"] > 0 and found["replicas_needed"] >= 1
    assert main(["plan", PROFILE, "--at-slo", "ttft_p99=5"]) == 0
    assert "users at p99 SLO" in capsys.readouterr().out
    assert main(["plan", PROFILE, "--at-slo", "ttft_p95=1"]) == 2
    assert "SLO key 'ttft_p95' does not exist" in capsys.readouterr().err


def test_recommend_can_rank_by_the_cost_at_the_slo(capsys):
    assert main(["recommend", PROFILE, "--limit", "2", "--rank", "slo", "--json"]) == 0
    ranked = json.loads(capsys.readouterr().out)
    assert len(ranked) == 2
    costs = [entry["per_user_month_at_slo"] for entry in ranked]
    assert costs == sorted(costs)
    for entry in ranked:
        assert entry["replicas_at_slo"] * entry["users_per_replica"] >= 400  # the profile's users


def test_plan_at_slo_without_targets_says_so(capsys):
    assert main(["plan", str(shipped_profile("b200-32b-chat-25k.toml")), "--at-slo"]) == 2
    assert "set ttft_target_s or target_tokens_per_s" in capsys.readouterr().err
