"""The simulator's inputs: spec strings, traces, SLOs; bad input refused naming the item (issue 15)."""

from __future__ import annotations

import json
import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napkinmath.core.errors import ProfileError
from napkinmath.core.tools.simulate.capacity import SLO_KEYS, parse_slo
from napkinmath.core.tools.simulate.model import LinearStepModel, SchedulerLimits
from napkinmath.core.tools.simulate.run import Deployment, Load, simulate
from napkinmath.core.tools.simulate.traces import (
    arrivals_from_text,
    lengths_from_text,
    read_arrivals,
    read_lengths,
)
from napkinmath.core.tools.simulate.traffic import Arrivals, Lengths, parse_arrivals, parse_lengths

DEPLOYMENT = Deployment(LinearStepModel(0.01, per_sequence_s=1e-4, per_prefill_token_s=1e-5),
                        SchedulerLimits(32, 4096, 200_000))


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf")])
def test_a_rate_that_is_not_above_zero_is_refused(rate):
    with pytest.raises(ProfileError, match="rate: the arrival rate must be a number above 0"):
        simulate(DEPLOYMENT, Load(rate_per_s=rate))


@pytest.mark.parametrize("spec, item", [("gamma:-1", "arrivals gamma"), ("lognormal:-0.5", "lengths lognormal"),
                                        ("gamma:x", "arrivals gamma"), ("lognormal:nan", "lengths lognormal")])
def test_a_negative_or_odd_cv_is_refused_naming_it(spec, item):
    parse = parse_arrivals if spec.startswith("gamma") else (lambda text: parse_lengths(text, 100, 10))
    with pytest.raises(ProfileError, match=item):
        parse(spec)


@pytest.mark.parametrize("spec, match", [("uniform", "arrivals 'uniform': use poisson, gamma:CV"),
                                         ("poisson:2", "arrivals 'poisson:2': use"),
                                         ("gamma", "arrivals gamma: give a coefficient of variation"),
                                         ("exponential:3", "lengths 'exponential:3': use fixed"),
                                         ("lognormal", "lengths lognormal: give a coefficient of variation")])
def test_an_unknown_distribution_is_refused_with_the_choices(spec, match):
    with pytest.raises(ProfileError, match=match):
        parse_arrivals(spec) if spec.split(":")[0] in ("uniform", "poisson", "gamma") else parse_lengths(spec, 1, 1)


@pytest.mark.parametrize("line", ["[1, -2]", "[1.5, 2]", "[1, 2, 3]", "hello", "{\"input_tokens\": 1}",
                                  "[true, 3]", "{\"prompt_tokens\": \"12\", \"completion_tokens\": 3}", "[[1], 2]"])
def test_a_trace_line_that_is_not_two_non_negative_integers_is_refused_naming_the_line(line):
    text = "[100, 20]\n\n" + line + "\n[5, 5]\n"
    with pytest.raises(ProfileError, match=r"trace.jsonl, line 3: not two non-negative integers"):
        lengths_from_text(text, "trace.jsonl")


def test_length_traces_accept_load_test_exports_and_cycle():
    text = "\n".join([json.dumps([300, 40]), json.dumps({"input_tokens": 100, "output_tokens": 10}),
                      json.dumps({"prompt_tokens": 200, "completion_tokens": 20}),
                      json.dumps({"input_len": 50, "output_len": 5})])
    lengths = lengths_from_text(text, "export")
    prompts, outputs = lengths.sample(6, random.Random(0))
    assert prompts == [300, 100, 200, 50, 300, 100] and outputs == [40, 10, 20, 5, 40, 10]
    assert (lengths.input_tokens, lengths.output_tokens) == (162, 18)


def test_files_are_read_and_refused_by_name(tmp_path):
    trace = tmp_path / "lengths.jsonl"
    trace.write_text("[10, 2]\n[20, 4]\n")
    assert read_lengths(trace).trace_rows == ((10, 2), (20, 4))
    with pytest.raises(ProfileError, match="missing.jsonl: cannot be read"):
        read_lengths(tmp_path / "missing.jsonl")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ProfileError, match="not UTF-8"):
        read_arrivals(binary)


def test_an_arrival_trace_keeps_its_shape_scaled_to_the_rate():
    arrivals = arrivals_from_text("0\n1\n1.5\n{\"timestamp\": 4.5}\n", "times")
    assert arrivals.unit_gaps(4, random.Random(0)) == pytest.approx([2 / 3, 1 / 3, 2, 2 / 3])
    run = simulate(DEPLOYMENT, Load(rate_per_s=2, requests=4, arrivals=arrivals, lengths=Lengths("fixed", 10, 2)))
    assert run.completed == 4
    with pytest.raises(ProfileError, match="times, line 2: 4 s comes before"):
        arrivals_from_text("5\n4\n", "times")
    with pytest.raises(ProfileError, match="times, line 1: not an arrival time"):
        arrivals_from_text("-1\n2\n", "times")


@pytest.mark.parametrize("text, match", [("ttft_p95=2", "SLO key 'ttft_p95' does not exist"),
                                         ("ttft_p99=2,latency=3", "SLO key 'latency' does not exist"),
                                         ("tpot_p99=fast", "tpot_p99: 'fast' is not a number"),
                                         ("ttft_p99=-1", "ttft_p99: the target must be a number of seconds above 0"),
                                         ("ttft_p99", "ttft_p99: the target must be"), ("", "at least one target")])
def test_bad_slos_are_refused_naming_the_key(text, match):
    with pytest.raises(ProfileError, match=match):
        parse_slo(text)


def test_slo_keys_parse():
    assert parse_slo("ttft_p99=2, tpot_p99=0.2") == {"ttft_p99": 2.0, "tpot_p99": 0.2}
    assert {"ttft_p99", "tpot_p90", "itl_p99", "e2e_mean"} <= set(SLO_KEYS)


@pytest.mark.parametrize("load, match", [(Load(requests=0, rate_per_s=1), "requests: must be"),
                                         (Load(concurrency=0), "concurrency: must be"),
                                         (Load(), "either an arrival rate"),
                                         (Load(rate_per_s=1, prefix_cache_hit=1.0), "prefix_cache_hit"),
                                         (Load(rate_per_s=1, lengths=Lengths("fixed", 10, 0)), "output >= 1")])
def test_bad_loads_are_refused_naming_the_item(load, match):
    with pytest.raises(ProfileError, match=match):
        simulate(DEPLOYMENT, load)


def test_bad_limits_are_refused_naming_the_limit():
    with pytest.raises(ProfileError, match="max_num_seqs"):
        simulate(Deployment(LinearStepModel(0.01), SchedulerLimits(0, 10, 10)), Load(rate_per_s=1))


@pytest.mark.parametrize("kind, cv", [("exponential", 1.0), ("lognormal", 0.5), ("lognormal", 2.0)])
def test_length_distributions_keep_their_mean_and_spread(kind, cv):
    prompts, _ = Lengths(kind, 1_000, 100, cv=cv).sample(40_000, random.Random(5))
    assert statistics.fmean(prompts) == pytest.approx(1_000, rel=0.04)
    assert statistics.pstdev(prompts) / statistics.fmean(prompts) == pytest.approx(cv, rel=0.1)


@pytest.mark.parametrize("cv", [0.5, 1.0, 3.0])
def test_gamma_gaps_have_mean_one_and_the_cv_asked(cv):
    gaps = Arrivals("gamma", cv=cv).unit_gaps(40_000, random.Random(9))
    assert statistics.fmean(gaps) == pytest.approx(1, rel=0.05)
    assert statistics.pstdev(gaps) == pytest.approx(cv, rel=0.1)


@settings(max_examples=25, deadline=None)
@given(seqs=st.integers(1, 16), budget=st.integers(64, 4096), pool=st.integers(2_000, 40_000),
       chunked=st.booleans(), mixed=st.booleans(), rate=st.floats(0.5, 200), instances=st.integers(1, 3),
       cv=st.floats(0, 3), seed=st.integers(0, 1_000))
def test_any_small_deployment_serves_every_request_it_can_hold(seqs, budget, pool, chunked, mixed, rate, instances,
                                                                cv, seed):
    deployment = Deployment(LinearStepModel(0.005, per_sequence_s=1e-4, per_kv_token_s=1e-7, per_prefill_token_s=1e-5),
                            SchedulerLimits(seqs, budget, pool, chunked_prefill=chunked, mixed_batches=mixed),
                            instances=instances)
    load = Load(rate_per_s=rate, requests=120, seed=seed, lengths=Lengths("lognormal", 800, 60, cv=cv))
    run = simulate(deployment, load)
    assert run.completed + run.rejected == 120
    assert all(0 <= sample.kv_used <= 1 for sample in run.samples)
    assert run.ttft_s.p99 <= run.e2e_s.p99 + 1e-12 and run.ttft_s.p50 > 0
    assert simulate(deployment, load) == run
