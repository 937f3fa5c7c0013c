"""`napkin loadtest`: the closed-loop load test on the command line, its JSON, and bad input (exit 2)."""

from __future__ import annotations

import json

import pytest

from napkinmath.cli.main import main
from napkinmath.core.profile.paths import shipped_profile

PROFILE = str(shipped_profile("llama-3.1-70b-2xh100-fp8.toml"))


def test_json_gives_every_figure_with_its_band_and_ideal_and_the_inputs(capsys):
    assert main(["loadtest", PROFILE, "--concurrency", "32", "--input", "2048", "--output", "256", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["concurrency"], data["input_tokens"], data["output_tokens"]) == (32, 2048, 256)
    for name in ("ttft_s", "tpot_s", "output_tokens_per_s"):
        figure = data[name]
        assert set(figure) == {"expected", "low", "high", "ideal"}
        assert figure["low"] < figure["expected"] < figure["high"]
    assert data["ttft_s"]["ideal"] < data["ttft_s"]["expected"]
    assert data["output_tokens_per_s"]["ideal"] > data["output_tokens_per_s"]["expected"]
    assert data["kind"] == "fitted" and data["engine"]["name"] == "vllm"


def test_text_shows_range_style_figures_and_the_profiles_lengths_by_default(capsys):
    assert main(["loadtest", PROFILE, "--concurrency", "8"]) == 0
    out = capsys.readouterr().out
    assert "8 requests in flight, 2,000 tokens in / 500 out" in out
    assert "tok/s (" in out and "–" in out and "ideal" in out


@pytest.mark.parametrize(("argv", "says"), [
    (["--concurrency", "0"], "concurrency must be a whole number of at least 1"),
    (["--concurrency", "nan"], "--concurrency must be a whole number"),
    (["--concurrency", "4", "--input", "-10"], "input tokens must be a whole number of at least 0"),
    (["--concurrency", "4", "--output", "0"], "output tokens must be a whole number of at least 1"),
    (["--concurrency", "4", "--output", "inf"], "--output must be a whole number"),
    (["--concurrency", "2.5"], "--concurrency must be a whole number"),
    ([], "--concurrency"),
])
def test_bad_input_is_one_clear_message_and_exit_2(capsys, argv, says):
    assert main(["loadtest", PROFILE, *argv]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err
