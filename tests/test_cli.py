"""The `napkin` command line: JSON keys, seed figures through --json, bad input without tracebacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from napkinmath.cli.main import main
from napkinmath.core.profile.paths import shipped_profile


def run_json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def plan_json(capsys, name: str) -> dict:
    return run_json(capsys, "plan", str(shipped_profile(name)), "--json")


def test_plan_json_has_every_key_of_the_interface(capsys):
    data = plan_json(capsys, "llama-3.1-70b-2xh100-fp8.toml")
    assert set(data["memory"]["per_gpu"]) >= {"usable", "weights", "activations", "overhead", "kv_budget", "kv_used", "free"}
    assert isinstance(data["memory"]["fits"], bool)
    assert {"bytes_per_token", "tokens_capacity"} <= set(data["kv"])
    assert set(data["capacity"]) >= {"max_sequences_full_context", "concurrent_sequences", "capacity_users", "users_served",
                                     "replicas_needed", "limited_by"}
    assert set(data["decode"]) >= {"batch", "step_time", "tokens_per_s_per_user", "tokens_per_s_aggregate", "bound",
                                   "arithmetic_intensity"}
    assert set(data["roofline"]) >= {"ridge", "critical_batch", "critical_batch_weights_only"}
    assert set(data["prefill"]) >= {"tokens_per_s", "ttft"}
    assert set(data["cost"]) >= {"per_hour", "per_user_month", "per_million_tokens", "own_lifetime_per_user", "own_per_hour"}
    assert isinstance(data["warnings"], list)


def test_seed_figures_through_plan_json(capsys):
    full = plan_json(capsys, "b200-32b-chat-200k.toml")
    assert full["capacity"]["users_served"] == 6
    assert round(full["decode"]["tokens_per_s_per_user"]) == 42
    assert full["roofline"]["ridge"] == 562.5
    assert full["roofline"]["critical_batch_weights_only"] == 281
    assert full["roofline"]["critical_batch"] is None
    assert plan_json(capsys, "b200-32b-chat-25k.toml")["capacity"]["users_served"] == 48
    duty = plan_json(capsys, "b200-32b-chat-duty20.toml")
    assert round(duty["cost"]["per_user_month"], 2) == 9.60
    kimi_80k = plan_json(capsys, "kimi-k2-8xb200-80k.toml")
    assert kimi_80k["kv"]["bytes_per_token"] == 35_136
    assert round(kimi_80k["capacity"]["users_served"], -1) == 340
    assert kimi_80k["prefill"]["tokens_per_s_peak"] == pytest.approx(1.25e6)
    assert round(kimi_80k["prefill"]["tokens_per_s"], -3) == 80_000
    assert round(kimi_80k["prefill"]["ttft"]) == 1
    assert round(plan_json(capsys, "kimi-k2-8xb200-32k.toml")["capacity"]["users_served"], -1) == 850


def test_plan_report_is_readable_text(capsys):
    assert main(["plan", str(shipped_profile("b200-32b-chat-duty20.toml"))]) == 0
    out = capsys.readouterr().out
    assert "per user-month" in out and "$9.60" in out and "Memory per GPU" in out


WONT_START = ('[hardware]\ngpu = "h100-sxm"\ncount = 2\n[model]\npreset = "llama-3.1-70b"\n[parallelism]\ntensor = 2\n'
              '[workload]\nmax_context_tokens = 32768\navg_context_tokens = 8192\n')


def test_a_plan_that_will_not_start_carries_and_prints_the_shape_that_would(tmp_path, capsys):
    """The weights fit, one 32K request does not: the JSON carries the shape (memory.shape_to_start) and the
    report's warnings name that same shape."""
    path = tmp_path / "wont-start.toml"
    path.write_text(WONT_START)
    data = run_json(capsys, "plan", str(path), "--json")
    memory, shape = data["memory"], data["memory"]["shape_to_start"]
    assert data["runs"] is False and memory["fits"] is True and memory["gpus_needed_per_replica"] is None
    assert set(shape) == {"gpus_per_replica", "tensor", "pipeline"} and shape["gpus_per_replica"] > 2
    assert shape["gpus_per_replica"] == shape["tensor"] * shape["pipeline"]
    assert main(["plan", str(path)]) == 0
    report = " ".join(capsys.readouterr().out.replace("│", " ").split())
    split = f"TP {shape['tensor']}" + (f" × PP {shape['pipeline']}" if shape["pipeline"] > 1 else "")
    assert "refuses to start" in report
    assert f"use {shape['gpus_per_replica']} × NVIDIA H100 SXM5 80GB per replica ({split})" in report
    assert plan_json(capsys, "llama-3.1-8b-1xl4.toml")["memory"]["shape_to_start"] is None


def test_catalog_listings(capsys):
    gpus = run_json(capsys, "gpus", "--json")
    assert gpus["h100-sxm"]["source"] and gpus["b200"]["tflops"]["fp4"]
    models = run_json(capsys, "models", "--json")
    assert models["deepseek-v3"]["attention"] == "mla"
    assert main(["gpus"]) == 0 and "mi300x" in capsys.readouterr().out
    assert main(["models"]) == 0 and "gemma-3-27b" in capsys.readouterr().out


@pytest.mark.parametrize(("text", "expected"), [
    ("[hardware\n", "not valid TOML"),
    ('[hardware]\ngpu = "h100-sxm"\ncount = 0\n[model]\npreset = "llama-3.1-8b"\n', "hardware.count"),
    ('[hardware]\ngpu = "h100-sxm"\nbogus = 1\n[model]\npreset = "llama-3.1-8b"\n', "hardware.bogus: unknown key"),
    ('[hardware]\ngpu = "nope"\n[model]\npreset = "llama-3.1-8b"\n', "unknown GPU id 'nope'"),
    ('[hardware]\ngpu = "h100-sxm"\n[model]\npreset = "llama-3.1-8b"\n[engine]\nmfu = nan\n', "engine.mfu"),
])
def test_bad_profiles_exit_2_with_one_paragraph(tmp_path, capsys, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    assert main(["plan", str(path)]) == 2
    captured = capsys.readouterr()
    assert expected in captured.err and str(path) in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_usage_errors_exit_2(capsys):
    assert main(["plan"]) == 2
    assert "the following arguments are required: profile" in capsys.readouterr().err
    assert main(["plan", "x.toml", "--jsn"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_console_script_never_prints_a_traceback(tmp_path):
    napkin = shutil.which("napkin") or shutil.which("napkin", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert napkin, "the napkin console script is installed with the package"
    missing = subprocess.run([napkin, "plan", str(tmp_path / "missing.toml")], capture_output=True, text=True)
    assert missing.returncode == 2 and "no such file" in missing.stderr and "Traceback" not in missing.stderr
    ok = subprocess.run([napkin, "plan", str(shipped_profile("llama-3.1-8b-1xl4.toml")), "--json"],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["memory"]["fits"] is True


def test_sweep_command(capsys):
    profile = str(shipped_profile("b200-32b-chat-duty20.toml"))
    data = run_json(capsys, "sweep", profile, "--vary", "avg_context_tokens=4000,16000,32000,300000", "--json")
    assert data["field"] == "workload.avg_context_tokens"
    served = [point["figures"]["users_served"] if point["figures"] else None for point in data["points"]]
    assert served[:3] == [300, 300, 190] and served[3] is None
    assert "cannot exceed max_context_tokens" in data["points"][3]["error"]
    ranged = run_json(capsys, "sweep", profile, "--vary", "users=100:500:200", "--json")
    assert [p["value"] for p in ranged["points"]] == [100, 300, 500]
    assert main(["sweep", profile, "--vary", "avg_context_tokens=4000,32000"]) == 0
    assert "190" in capsys.readouterr().out
    assert main(["sweep", profile, "--vary", "userz=1"]) == 2
    assert "userz: not a profile field" in capsys.readouterr().err
    assert main(["sweep", profile, "--vary", "users"]) == 2


def test_compare_command(capsys):
    a, b = (str(shipped_profile(n)) for n in ("b200-32b-chat-duty20.toml", "b200-32b-chat-25k.toml"))
    data = run_json(capsys, "compare", a, b, "--json")
    users = next(f for f in data["figures"] if f["key"] == "users_served")
    assert users["values"] == [300, 48] and users["deltas"][0]["verdict"] == "worse"
    assert users["deltas"][0]["absolute"] == -252
    assert main(["compare", a, b]) == 0 and "48 (−84%)" in capsys.readouterr().out
    assert main(["compare", a]) == 2


def test_recommend_command(capsys, tmp_path):
    profile = str(shipped_profile("llama-3.1-70b-2xh100-fp8.toml"))
    candidates = run_json(capsys, "recommend", profile, "--json", "--limit", "3")
    assert len(candidates) == 3
    assert [c["per_user_month"] for c in candidates] == sorted(c["per_user_month"] for c in candidates)
    assert all(c["tokens_per_s_per_user"] >= 20 and c["ttft"] <= 2 for c in candidates)
    assert all(c["speed"] == ("fitted" if c["gpu"] in ("h100-sxm", "h200", "b200") else "extrapolated")
               for c in candidates)
    impossible = tmp_path / "impossible.toml"
    impossible.write_text(open(profile).read().replace("target_tokens_per_s = 20.0", "target_tokens_per_s = 100000.0"))
    assert main(["recommend", str(impossible)]) == 1
    assert "no catalog deployment" in capsys.readouterr().err


def test_plan_exports(capsys):
    profile = str(shipped_profile("llama-3.1-70b-2xh100-fp8.toml"))
    assert main(["plan", profile, "--vllm"]) == 0
    command = capsys.readouterr().out
    assert command.startswith("vllm serve meta-llama/Llama-3.1-70B-Instruct") and "--tensor-parallel-size 2" in command
    assert main(["plan", profile, "--markdown"]) == 0
    assert capsys.readouterr().out.startswith("# Llama 3.1 70B on 2xH100 SXM")
    assert main(["plan", profile, "--json", "--vllm"]) == 2


def test_each_subcommand_module_registers_its_commands_and_help_lists_them():
    import importlib
    import pkgutil

    from napkinmath.cli import commands
    from napkinmath.cli.registry import parser, subcommands

    modules = [importlib.import_module(f"{commands.__name__}.{m.name}") for m in pkgutil.iter_modules(commands.__path__)]
    declared = [command.name for module in modules for command in module.COMMANDS]
    assert sorted(declared) == sorted(subcommands()) and len(set(declared)) == len(declared)
    assert list(subcommands())[:3] == ["plan", "gpus", "models"]  # napkin --help keeps its order
    listing = parser().format_help()
    assert all(name in listing for name in declared)
    assert {"plan", "gpus", "models", "import-config", "detect", "sweep", "compare", "recommend", "calibrate"} <= set(declared)


def test_a_subcommand_does_not_load_textual():
    script = ("import sys\nfrom napkinmath.cli.main import main\n"
              "main(['gpus', '--json'])\n"
              "print('TEXTUAL' if any(m.split('.')[0] == 'textual' for m in sys.modules) else 'NONE', file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stderr.strip().endswith("NONE")


def test_a_plan_that_does_not_run_prints_no_speed_or_capacity_figures(tmp_path, capsys):
    """A plan whose engine will not start (or whose weights do not fit) serves nobody: the report, as the app's
    panels, shows no batch, speed, capacity or replicas for it, only that it does not run (it printed a 28 ms step,
    35 tok/s per user and 17 replicas of a deployment that never starts); the Markdown export says the same."""
    from napkinmath.core.plan.compose import plan
    from napkinmath.core.profile.files import load_profile
    from napkinmath.core.report.markdown import plan_markdown

    path = tmp_path / "wont-start.toml"
    path.write_text(WONT_START)
    assert main(["plan", str(path)]) == 0
    report = capsys.readouterr().out
    rows = {line.split("  ")[0].strip(): " ".join(line.split()) for line in report.splitlines() if "  " in line}
    for label in ("capacity", "replicas needed", "step time", "tok/s per user", "TTFT", "compute busy"):
        assert rows[label].endswith("n/a (does not run)"), (label, rows[label])
    assert "0 of" in rows["users served"] and "refuses to start" in rows["limited by"]
    profile = load_profile(path)
    markdown = plan_markdown(profile, plan(profile))
    assert "| step time | n/a (does not run) |" in markdown and "| capacity | n/a (does not run) |" in markdown
    assert main(["plan", str(shipped_profile("llama-3.1-8b-1xl4.toml"))]) == 0
    assert "does not run" not in capsys.readouterr().out


def test_compare_and_sweep_give_no_capacity_or_speed_for_a_plan_that_does_not_run(tmp_path, capsys):
    """The shared figures (core/plan/figures.py) of a plan that does not run: its capacity and speed are None in
    compare's and sweep's JSON and "- (n/a)" in compare's table (compare showed it 6% faster per user than the plan
    that serves 275 users); what it holds and costs per hour stays."""
    path = tmp_path / "wont-start.toml"
    path.write_text(WONT_START)
    running = str(shipped_profile("llama-3.1-70b-2xh100-fp8.toml"))
    data = run_json(capsys, "compare", running, str(path), "--json")
    rows = {row["key"]: row["values"] for row in data["figures"]}
    for key in ("capacity_users", "tokens_per_s_per_user", "step_time_ms", "ttft_s"):
        assert rows[key][0] is not None and rows[key][1] is None, key
    assert rows["kv_tokens"][1] is not None and rows["per_hour"][1] is not None
    assert main(["compare", running, str(path)]) == 0
    table = capsys.readouterr().out
    assert "Decode per user (tok/s)" in table
    assert next(line for line in table.splitlines() if line.startswith("Decode per user")).endswith("- (n/a)")
    swept = run_json(capsys, "sweep", str(path), "--vary", "workload.max_context_tokens=16384,32768", "--json")
    speeds = [point["figures"]["tokens_per_s_per_user"] for point in swept["points"]]
    assert speeds[0] is not None and speeds[0] > 0 and speeds[1] is None  # 16K starts, 32K does not
