"""The Markdown report and the ``vllm serve`` command exports (core/report/markdown.py)."""

from __future__ import annotations

import re
import shlex

import pytest
from conftest import shipped

from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.files import load_profile
from napkinmath.core.profile.paths import shipped_profiles
from napkinmath.core.profile.schema import Profile
from napkinmath.core.report.markdown import PLACEHOLDER_MODEL, plan_markdown, vllm_command

SHIPPED = shipped_profiles()

# Every flag the exporter may write, as `vllm serve --help` lists them.
VLLM_FLAGS = {
    "--tensor-parallel-size", "--pipeline-parallel-size", "--data-parallel-size", "--enable-expert-parallel",
    "--max-model-len", "--kv-cache-dtype", "--gpu-memory-utilization", "--max-num-seqs", "--quantization",
    "--block-size", "--dtype", "--trust-remote-code",
}


def _profile(**sections) -> Profile:
    data = {"name": "test", "hardware": {"gpu": "h100-sxm", "count": 1}, "model": {"preset": "llama-3.1-8b"}}
    data.update(sections)
    return Profile.model_validate(data)


def _argv(command: str) -> list[str]:
    """The command as a shell would split it: comments dropped, backslash continuations joined."""
    lines = [line for line in command.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for line in lines[:-1]:
        assert line.endswith(" \\"), line
    assert not lines[-1].endswith("\\")
    return shlex.split(" ".join(line.removesuffix("\\").strip() for line in lines))


def _options(command: str) -> dict[str, str | None]:
    argv = _argv(command)
    assert argv[:2] == ["vllm", "serve"]
    options: dict[str, str | None] = {}
    rest = argv[3:]
    i = 0
    while i < len(rest):
        flag = rest[i]
        assert flag.startswith("--"), rest
        if i + 1 < len(rest) and not rest[i + 1].startswith("--"):
            options[flag], i = rest[i + 1], i + 2
        else:
            options[flag], i = None, i + 1
    return options


def _cells(row: str) -> list[str]:
    """A GFM table row's cells, split on unescaped pipes."""
    inner = row.strip()
    assert inner.startswith("|") and inner.endswith("|"), row
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", inner[1:-1])]


def _tables(markdown: str) -> dict[str, list[list[str]]]:
    """Each table under its `## heading`: rows of cells (the header row first, the delimiter row dropped)."""
    tables: dict[str, list[list[str]]] = {}
    heading = None
    for line in markdown.splitlines():
        if line.startswith("## "):
            heading = line[3:]
        elif line.startswith("|"):
            tables.setdefault(heading, []).append(_cells(line))
    for rows in tables.values():
        assert len(rows) >= 3
        assert all(re.fullmatch(r"-{3,}:?", cell) for cell in rows[1]), rows[1]
        assert {len(row) for row in rows} == {len(rows[0])}, rows
        del rows[1]
    return tables


def _figure(table: list[list[str]], label: str) -> list[str]:
    return next(row[1:] for row in table if row[0] == label)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_profile_exports(path):
    profile = load_profile(path)
    result = plan(profile)
    markdown = plan_markdown(profile, result)
    assert markdown.startswith(f"# {profile.name}\n")
    assert markdown == plan_markdown(profile, result)  # stable
    tables = _tables(markdown)
    assert list(tables) == ["Deployment", "Memory per GPU", "Capacity", "Speed", "Roofline", "Cost"]
    assert f"of {profile.workload.users:,} served on {result.gpus:,} × {profile.hardware.name}" in markdown
    command = vllm_command(profile, result)
    options = _options(command)
    assert set(options) <= VLLM_FLAGS
    assert options["--max-model-len"] == str(profile.workload.max_context_tokens)
    assert options["--max-num-seqs"] == str(max(1, result.capacity.concurrent_sequences))
    assert options["--gpu-memory-utilization"] == str(profile.engine.gpu_memory_utilization)


def test_duty_cycle_seed_figures():
    profile = shipped("b200-32b-chat-duty20.toml")
    tables = _tables(plan_markdown(profile, plan(profile)))
    assert _figure(tables["Cost"], "per user-month") == ["$9.60"]
    assert _figure(tables["Capacity"], "users served") == ["300 of 300"]
    assert _figure(tables["Capacity"], "capacity") == ["380 users"]
    assert _figure(tables["Deployment"], "Duty cycle") == ["20%"]
    assert _figure(tables["Roofline"], "ridge") == ["562.5 FLOP/B (fp8)"]
    assert "**300 users of 300 served on 1 × " in plan_markdown(profile, plan(profile))


def test_llama_70b_markdown():
    profile = shipped("llama-3.1-70b-2xh100-fp8.toml")
    result = plan(profile)
    markdown = plan_markdown(profile, result)
    tables = _tables(markdown)
    assert _figure(tables["Deployment"], "Weights") == ["fp8"]
    assert _figure(tables["Deployment"], "KV cache") == ["bf16"]
    assert _figure(tables["Deployment"], "Parallelism") == ["TP 2 · PP 1 · DP 1 · EP 1 · replicas 1"]
    assert _figure(tables["Memory per GPU"], "usable")[1] == "89.5%"  # 0.9 of the 79.2 GiB CUDA shows vLLM
    assert _figure(tables["Speed"], "decode tok/s per user")[1] == "20 tok/s: met"
    assert _figure(tables["Speed"], "TTFT")[1] == "2.00 s: met"
    assert "## Warnings" in markdown and "## Notes" in markdown
    assert "limited by KV memory" in markdown


def test_model_that_does_not_fit_says_so():
    profile = _profile(hardware={"gpu": "l4", "count": 1}, model={"preset": "llama-3.1-405b"})
    result = plan(profile)
    assert not result.memory.fits
    markdown = plan_markdown(profile, result)
    assert "**The model does not fit**" in markdown
    assert re.search(r"each GPU is short by [\d,.]+ GiB\.", markdown)  # with its unit
    assert _figure(_tables(markdown)["Memory per GPU"], "shortfall")
    assert "the model does not fit" in markdown.split("## Warnings")[1]
    command = vllm_command(profile, result)
    assert "does not fit" in command
    assert _options(command)["--max-num-seqs"] == "1"


def test_pipes_are_escaped():
    profile = _profile(name="a | b", hardware={"gpu": "h100-sxm", "count": 1, "name": "H100 | custom"},
                       model={"preset": "llama-3.1-8b", "name": "Llama | 8B"})
    markdown = plan_markdown(profile, plan(profile))
    tables = _tables(markdown)  # checks every row has as many cells as its header
    assert _figure(tables["Deployment"], "GPU") == [r"H100 \| custom (`h100-sxm`)"]
    assert _figure(tables["Deployment"], "Model") == [r"Llama \| 8B (`llama-3.1-8b`)"]


def test_llama_70b_vllm_command():
    profile = shipped("llama-3.1-70b-2xh100-fp8.toml")
    result = plan(profile)
    command = vllm_command(profile, result)
    argv = _argv(command)
    assert argv[2] == "meta-llama/Llama-3.1-70B-Instruct"
    options = _options(command)
    assert options["--tensor-parallel-size"] == "2"
    assert options["--max-model-len"] == "32768"
    assert options["--gpu-memory-utilization"] == "0.9"
    assert options["--quantization"] == "fp8"
    assert options["--max-num-seqs"] == str(result.capacity.concurrent_sequences)
    for absent in ("--pipeline-parallel-size", "--data-parallel-size", "--enable-expert-parallel",
                   "--kv-cache-dtype", "--block-size"):
        assert absent not in options
    assert not command.startswith("#")


def test_model_id_overrides_the_preset():
    profile = shipped("llama-3.1-70b-2xh100-fp8.toml")
    assert _argv(vllm_command(profile, plan(profile), "my org/my model"))[2] == "my org/my model"


def test_kimi_seed_gets_data_and_expert_parallel_and_a_placeholder():
    profile = shipped("kimi-k2-8xb200-80k.toml")
    command = vllm_command(profile, plan(profile))
    options = _options(command)
    assert options["--data-parallel-size"] == "8"
    assert "--enable-expert-parallel" in options and options["--enable-expert-parallel"] is None
    assert options["--tensor-parallel-size"] == "1"
    assert options["--kv-cache-dtype"] == "fp8"
    assert "--quantization" not in options
    assert _argv(command)[2] == PLACEHOLDER_MODEL
    comments = [line for line in command.splitlines() if line.startswith("#")]
    assert any("fill in" in line and PLACEHOLDER_MODEL in line for line in comments)
    assert any("pre-quantized" in line for line in comments)


def test_kv_fp8_adds_kv_cache_dtype():
    bf16 = _profile()
    fp8 = _profile(model={"preset": "llama-3.1-8b", "kv_dtype": "fp8"})
    assert "--kv-cache-dtype" not in _options(vllm_command(bf16, plan(bf16)))
    assert _options(vllm_command(fp8, plan(fp8)))["--kv-cache-dtype"] == "fp8"


def test_fp8_checkpoint_needs_no_quantization_flag():
    profile = _profile(hardware={"gpu": "h100-sxm", "count": 8}, parallelism={"tensor": 8},
                       model={"preset": "deepseek-v3"})
    options = _options(vllm_command(profile, plan(profile)))
    assert "--quantization" not in options
    assert _argv(vllm_command(profile, plan(profile)))[2] == "deepseek-ai/DeepSeek-V3"


def test_int4_weights_need_a_pre_quantized_checkpoint():
    profile = _profile(model={"preset": "llama-3.1-8b", "weight_dtype": "int4"})
    command = vllm_command(profile, plan(profile))
    assert "--quantization" not in _options(command)
    assert "pre-quantized int4 checkpoint" in command


def test_multi_replica_profile_gets_the_replica_comment():
    profile = _profile(hardware={"gpu": "h100-sxm", "count": 8}, parallelism={"tensor": 2, "pipeline": 2},
                       model={"preset": "llama-3.1-70b"})
    assert profile.parallelism.replicas == 2
    command = vllm_command(profile, plan(profile))
    assert command.splitlines()[0] == "# run 2 replicas of this command behind a load balancer (one per 4 GPUs)"
    options = _options(command)
    assert options["--tensor-parallel-size"] == "2"
    assert options["--pipeline-parallel-size"] == "2"


def test_block_size_only_when_not_16():
    default = _profile()
    custom = _profile(engine={"block_tokens": 32})
    assert "--block-size" not in _options(vllm_command(default, plan(default)))
    assert _options(vllm_command(custom, plan(custom)))["--block-size"] == "32"
