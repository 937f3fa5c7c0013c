"""The command line at 80 columns and in a pipe, and what it says about its own input (issue 17, item 10):
tables that keep their labels, recommend's notes and folded variants, vLLM flags vLLM would refuse,
--version, repeated flags, all-refused sweeps, every problem of a profile at once, unknown versions."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from napkinmath.cli.main import main
from napkinmath.core.plan.figures import FIGURES
from napkinmath.core.profile.paths import shipped_profile
from napkinmath.core.report.vllm_flags import highest_startable_utilization

LLAMA_70B = str(shipped_profile("llama-3.1-70b-2xh100-fp8.toml"))
THREE = [str(shipped_profile(name)) for name in ("llama-3.1-70b-2xh100-fp8.toml", "llama-3.1-8b-1xl4.toml",
                                                  "qwen3-30b-a3b-1xh100.toml")]


@pytest.fixture
def columns_80(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


def edited(tmp_path, source: str, old: str, new: str, name: str = "edited.toml") -> str:
    text = open(source).read()
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return str(path)


def test_compare_in_a_pipe_keeps_every_label_and_fits_80_columns():
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    done = subprocess.run([sys.executable, "-m", "napkinmath.cli.main", "compare", *THREE], capture_output=True,
                          text=True, env=env, check=True)
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    for figure in FIGURES:  # in full, at the start of a row
        assert any(line.startswith(f"{figure.label} ({figure.unit})") for line in lines), figure.label
    for stem in ("llama-3.1-8b-1xl4", "qwen3-30b-a3b-1xh"):  # headers after the profiles (cut past 18)
        assert any(stem in line for line in lines if line.startswith("figure"))
    served = next(line for line in lines if line.startswith("Users served"))
    assert "(−64%)" in served  # 100 of the 8B against 280 of the 70B, in brackets beside the value
    assert "limited by memory" in done.stderr and done.stderr.startswith("napkin: warning: ")


def test_recommend_at_80_columns_says_what_it_assumed_and_lists_the_folded_variants(capsys, tmp_path, columns_80):
    no_target = edited(tmp_path, LLAMA_70B, "target_tokens_per_s = 20.0", "target_tokens_per_s = 0")
    assert main(["recommend", no_target, "--limit", "3"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0].startswith("note: the profile sets no speed target")
    assert "≥ 10 tok/s each" in out  # the floor it searched with, in the title
    rows = [line.split() for line in lines if line[:2].strip().isdigit()]
    assert len(rows) == 3 and all(float(row[-2].rstrip("*")) >= 10 for row in rows)  # nobody below reading speed
    # an MI300X leads (cheapest): its speed is marked an extrapolation and the note under the table says so
    assert rows[0][1] == "mi300x" and rows[0][-2].endswith("*") and "* extrapolated speed" in out
    assert "tightest: " in out and "same cost: " in out and "int4 weights, fp8 KV" in out
    assert main(["recommend", no_target, "--limit", "1", "--json"]) == 0
    captured = capsys.readouterr()
    assert "napkin: note: the profile sets no speed target" in captured.err
    assert '"alternatives": [' in captured.out


def test_plan_vllm_warns_about_flags_vllm_refuses(capsys, tmp_path):
    assert highest_startable_utilization(80, 0.35) == 0.99  # 0.37 GiB of CUDA context on 79.65 GiB
    assert highest_startable_utilization(24, 0.5) == 0.98
    assert main(["plan", LLAMA_70B, "--vllm"]) == 0
    captured = capsys.readouterr()
    assert "# warning" not in captured.out and "--gpu-memory-utilization" not in captured.err
    full = edited(tmp_path, LLAMA_70B, "gpu_memory_utilization = 0.9",
                  "gpu_memory_utilization = 1.0\nmax_num_batched_tokens = 16")
    assert main(["plan", full, "--vllm"]) == 0
    captured = capsys.readouterr()
    assert "--gpu-memory-utilization 1.0 \\" in captured.out  # still the command the plan stands for
    for err in (captured.err, captured.out):  # on stderr, and as comments in the command
        assert "--gpu-memory-utilization 1.0 asks for" in err and "use at most 0.99" in err
        assert "--max-num-batched-tokens 16 is below --max-num-seqs" in err


def test_version_and_repeated_flags(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    from importlib.metadata import version

    assert capsys.readouterr().out.strip() == f"napkin {version('napkinmath')}"
    assert main(["sweep", LLAMA_70B, "--vary", "users=1,2", "--vary", "tensor=4"]) == 2
    assert "--vary given twice" in capsys.readouterr().err
    assert main(["plan", LLAMA_70B, "--json", "--json"]) == 2
    assert "--json given twice" in capsys.readouterr().err
    assert main(["recommend", LLAMA_70B, "--limit=2", "--limit", "3"]) == 2
    assert "--limit given twice" in capsys.readouterr().err


def test_a_sweep_whose_every_value_is_refused_is_an_error(capsys, columns_80):
    assert main(["sweep", LLAMA_70B, "--vary", "avg_context_tokens=40000,50000"]) == 2
    err = capsys.readouterr().err
    assert "every value of workload.avg_context_tokens was refused" in err and "40000" in err and "50000" in err
    assert main(["sweep", LLAMA_70B, "--vary", "avg_context_tokens=1024,40000"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.rstrip().endswith("refused") for line in lines)
    assert any("refused: workload: avg_context_tokens (40000) cannot exceed" in line for line in lines)


def test_every_problem_of_a_profile_at_once(capsys, tmp_path):
    path = tmp_path / "two.toml"
    path.write_text('[hardware]\ngpu = "h100-sxm"\nbogus = 1\n[workload]\nusers = -100\n')
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert "[model] is missing" in err and "hardware.bogus: unknown key" in err and "workload.users" in err
    assert err.count("\n") == 1  # one paragraph


def test_an_unknown_vllm_version_is_named_with_the_versions_known(capsys, tmp_path):
    newer = edited(tmp_path, LLAMA_70B, "[engine]", '[engine]\nversion = "0.99"')
    known = "(0.30, 0.21, 0.20, 0.10, 0.9, 0.8, 0.6): planned as 0.30"
    assert main(["plan", newer]) == 0
    out = " ".join(capsys.readouterr().out.replace("│", " ").split())  # the report's warnings panel, unwrapped
    assert "vLLM 0.99 is newer than the releases" in out
    assert known in out
    for argv in (["plan", newer, "--vllm"], ["compare", LLAMA_70B, newer], ["recommend", newer, "--limit", "1"],
                 ["sweep", newer, "--vary", "users=10,20"]):
        assert main(argv) == 0
        err = capsys.readouterr().err
        assert f"napkin: warning: {newer}: vLLM 0.99 is newer" in err and known in err, argv
