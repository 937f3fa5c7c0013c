"""The ``napkin`` command (docs/design/interfaces.md, "Command line").

napkin [PROFILE.toml]          the app, on that profile or the last one used
napkin plan PROFILE.toml       the plan as a Rich report;  --json for scripts
napkin gpus | napkin models    the catalogs, with sources; --json for scripts

Bad input of any kind ends in one paragraph on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from napkinmath.core.specs.catalog import gpu_catalog, model_catalog
from napkinmath.core.errors import ProfileError
from napkinmath.core.report.formatting import figure_number
from napkinmath.core.plan.compose import plan
from napkinmath.core.plan.json_view import plan_to_dict
from napkinmath.core.profile.files import load_profile

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3
SUBCOMMANDS = ("plan", "gpus", "models", "import-config", "detect", "sweep", "compare", "recommend", "calibrate")


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors as ProfileError-style paragraphs (exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ProfileError(f"{self.prog}: {message}. Run `{self.prog} --help` for usage.")


def _parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="napkin", description="Plan LLM serving: memory, users, speed and cost.")
    commands = parser.add_subparsers(dest="command", parser_class=_ArgumentParser)
    plan_parser = commands.add_parser("plan", help="plan a profile and print the figures")
    plan_parser.add_argument("profile", help="a profile TOML file")
    output = plan_parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable JSON (bytes, seconds, USD)")
    output.add_argument("--markdown", action="store_true", help="a Markdown report for a design doc or pull request")
    output.add_argument("--vllm", action="store_true", help="the vllm serve command line that realizes the plan")
    for name, what in (("gpus", "GPU catalog"), ("models", "model presets")):
        listing = commands.add_parser(name, help=f"list the {what} with sources")
        listing.add_argument("--json", action="store_true", help="machine-readable JSON")
    importer = commands.add_parser("import-config", help="a HuggingFace config.json (or model folder) as a [model] section")
    importer.add_argument("path", help="config.json, or a folder holding it (and *.safetensors)")
    importer.add_argument("--name", help="the model's name in the profile")
    importer.add_argument("--json", action="store_true", help="the section as JSON")
    sweeper = commands.add_parser("sweep", help="vary one field and plan each value")
    sweeper.add_argument("profile", help="a profile TOML file")
    sweeper.add_argument("--vary", required=True, metavar="FIELD=VALUES",
                         help="e.g. avg_context_tokens=2048,8192,32768 or users=100:1000:100 (start:stop:step)")
    sweeper.add_argument("--json", action="store_true", help="every figure of every point as JSON")
    recommender = commands.add_parser("recommend", help="the catalog deployments that meet the workload, cheapest first")
    recommender.add_argument("profile", help="a profile TOML file (its workload and targets)")
    recommender.add_argument("--json", action="store_true", help="the candidates as JSON")
    recommender.add_argument("--limit", type=int, default=10, help="how many (default 10)")
    recommender.add_argument("--max-gpus", type=int, default=64, help="largest deployment searched (default 64)")
    calibrator = commands.add_parser("calibrate", help="calibrate a profile from a vLLM log or a measured figure")
    calibrator.add_argument("profile", help="a profile TOML file")
    source = calibrator.add_mutually_exclusive_group(required=True)
    source.add_argument("--log", metavar="LOG", help="a vLLM start-up log (its memory profiling lines)")
    source.add_argument("--measured", metavar="WHAT=VALUE",
                        help="serving=OUTPUT_TOK_S@CONCURRENCY (a load test at the workload's prompt and output "
                             "lengths; two or more comma-separated points, e.g. serving=310@4,920@64, also fit the "
                             "engine's time per running sequence), decode=TOK_S@CONCURRENCY (aggregate), "
                             "prefill=TOK_S, or ttft=SECONDS")
    target = calibrator.add_mutually_exclusive_group()
    target.add_argument("--write", action="store_true", help="save the calibrated profile over FILE (atomically)")
    target.add_argument("--out", metavar="PATH", help="save the calibrated profile to PATH")
    comparer = commands.add_parser("compare", help="profiles side by side, with deltas against the first")
    comparer.add_argument("profiles", nargs="+", help="two or more profile TOML files")
    comparer.add_argument("--json", action="store_true", help="the figures and deltas as JSON")
    detect = commands.add_parser("detect", help="this machine's GPUs (nvidia-smi / rocm-smi) as a [hardware] section")
    detect.add_argument("--json", action="store_true", help="the GPUs and the section as JSON")
    detect.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for nvidia-smi (default 5)")
    return parser


def _console():
    from rich.console import Console

    return Console()


def _plan_command(path: str, as_json: bool, as_markdown: bool = False, as_vllm: bool = False) -> int:
    profile = load_profile(path)
    result = plan(profile)
    if as_markdown or as_vllm:
        from napkinmath.core.report.markdown import plan_markdown, vllm_command

        print(plan_markdown(profile, result) if as_markdown else vllm_command(profile, result))
        return 0
    if as_json:
        print(json.dumps(plan_to_dict(result, profile), indent=2, allow_nan=False))
    else:
        from napkinmath.tui.report import render_plan

        _console().print(render_plan(profile, result))
    return 0


def _print_listing(title: str, headers: tuple[str, ...], rows: list[tuple[str, ...]], footer: str,
                   flexible: str = "name", may_hide: bool = True) -> None:
    """A table whose columns keep their content's width; only the ``flexible`` column shrinks (with an
    ellipsis), and it is left out below 8 characters when ``may_hide``."""
    from rich.table import Table

    console = _console()
    widths = [max([len(header), *(len(row[index]) for row in rows)]) for index, header in enumerate(headers)]
    name_index = headers.index(flexible)
    room = console.width - (sum(widths) - widths[name_index] + 2 * (len(headers) - 1))
    shown = [index for index in range(len(headers)) if index != name_index or room >= 8 or not may_hide]
    widths[name_index] = max(8, min(widths[name_index], room)) if not may_hide else min(widths[name_index], room)
    table = Table(title=title, box=None, padding=(0, 1), pad_edge=False, header_style="bold underline")
    for index in shown:
        table.add_column(headers[index], no_wrap=True, overflow="ellipsis", width=widths[index],
                         justify="left" if index in (0, name_index) else "right")
    for row in rows:
        table.add_row(*(row[index] for index in shown))
    console.print(table)
    console.print(footer, style="dim")


def _gpus_command(as_json: bool) -> int:
    catalog = gpu_catalog()
    if as_json:
        print(json.dumps({gpu_id: spec.model_dump(mode="json") for gpu_id, spec in catalog.items()}, indent=2))
        return 0
    rows = []
    for gpu_id, spec in catalog.items():
        tf = spec.tflops
        rows.append((gpu_id, spec.name, f"{spec.memory_gib:.1f}", f"{spec.bandwidth_tb_s:g}",
                     *(f"{value:,.0f}" if value else "-" for value in (tf.bf16 or tf.fp16, tf.fp8, tf.fp4)),
                     f"{spec.interconnect_gb_s:,.0f}", f"{spec.tdp_w:,.0f}", f"{spec.price_per_gpu_hour:.2f}"))
    _print_listing("GPUs: dense TFLOP/s, memory as the driver reports it (GiB), link GB/s one way, rent $/h assumed",
                   ("id", "name", "GiB", "TB/s", "bf16", "fp8", "fp4", "link", "W", "$/h"), rows,
                   "Sources: `napkin gpus --json` has each entry's source; docs/catalog-gpus.md explains them.")
    return 0


def _models_command(as_json: bool) -> int:
    catalog = model_catalog()
    if as_json:
        print(json.dumps({model_id: spec.model_dump(mode="json", exclude_none=True) for model_id, spec in catalog.items()},
                         indent=2))
        return 0
    rows = []
    for model_id, spec in catalog.items():
        kv = f"{spec.kv_lora_rank}+{spec.qk_rope_head_dim}" if spec.attention == "mla" else \
            f"{spec.kv_heads_or_default}x{spec.head_dim_or_default}"
        sliding = f"{spec.sliding_window_layers}@{spec.sliding_window}" if spec.sliding_window_layers else "-"
        rows.append((model_id, spec.name, f"{spec.params_b:,.1f}B", f"{spec.active_params / 1e9:,.1f}B", str(spec.layers),
                     spec.attention, kv, sliding, spec.weight_dtype.value))
    _print_listing("Model presets: parameters counted from each published config.json",
                   ("id", "name", "params", "active", "layers", "attn", "KV/layer", "sliding", "dtype"), rows,
                   "Sources: `napkin models --json` has each entry's source; docs/catalog-models.md explains them.")
    return 0


def _import_command(path: str, name: str | None, as_json: bool) -> int:
    from napkinmath.core.sources.model_import import import_model

    imported = import_model(path, name)
    if as_json:
        print(json.dumps({"model": imported.model, "parameters": imported.breakdown, "weights": imported.weights_note},
                         indent=2))
        return 0
    import tomli_w

    print("\n".join(f"# {line}" for line in imported.summary_lines()))
    print(tomli_w.dumps({"model": imported.model}), end="")
    return 0


def _detect_command(as_json: bool, timeout_s: float) -> int:
    """Exit 0 with the GPUs found; exit 1 with the reason on stderr when there are none."""
    from dataclasses import asdict

    from napkinmath.core.sources.gpu_detect import detect_gpus, hardware_section

    detection = detect_gpus(timeout_s=timeout_s)
    section = hardware_section(detection) if detection.gpus else None
    if as_json:
        print(json.dumps({"source": detection.source, "problem": detection.problem,
                          "gpus": [asdict(gpu) for gpu in detection.gpus], "hardware": section}, indent=2))
        return 0 if detection.gpus else 1
    if not detection.gpus:
        print(f"napkin: no GPUs detected: {detection.problem}", file=sys.stderr)
        return 1
    import tomli_w

    for gpu in detection.gpus:
        known = gpu.catalog_id or "not in the catalog"
        print(f"# GPU {gpu.index}: {gpu.name}, {gpu.memory_gib:,.2f} GiB ({known})"
              + (", MIG on" if gpu.mig_enabled else ""))
    if detection.problem:
        print(f"# note: {detection.problem}")
    printable = {key: value for key, value in section.items() if value is not None}
    print(tomli_w.dumps({"hardware": printable}), end="")
    return 0


def _sweep_command(path: str, vary: str, as_json: bool) -> int:
    from napkinmath.core.plan.figures import FIGURES
    from napkinmath.core.tools.sweep import field_path, parse_values, sweep

    profile = load_profile(path)
    name, separator, values_text = vary.partition("=")
    if not separator:
        raise ProfileError(f"--vary {vary!r}: write FIELD=v1,v2,... (e.g. avg_context_tokens=2048,8192)")
    field = field_path(name.strip(), profile)
    points = sweep(profile, field, parse_values(values_text))
    if as_json:
        print(json.dumps({"field": field, "points": [
            {"value": point.value, "error": point.error, "limited_by": point.plan.capacity.limited_by if point.plan else None,
             "figures": {f.key: f.value(point.plan) for f in FIGURES} if point.plan else None} for point in points]},
            indent=2))
        return 0
    from napkinmath.core.plan.figures import FIGURES_BY_KEY

    shown = {"users_served": "users", "tokens_per_s_per_user": "tok/s/user", "tokens_per_s_aggregate": "tok/s all",
             "ttft_s": "TTFT s", "per_user_month": "$/user-mo"}
    rows = []
    for point in points:
        if point.plan is None:
            rows.append((str(point.value), *[""] * len(shown), f"refused: {point.error}"))
            continue
        rows.append((str(point.value), *(figure_number(FIGURES_BY_KEY[key].value(point.plan)) for key in shown),
                     point.plan.capacity.limited_by))
    headers = (field.split(".")[1], *shown.values(), "limited by")
    refused = "".join(f"\nrefused {point.value}: {point.error}" for point in points if point.plan is None)
    _print_listing(f"Sweep of {field} on {profile.name}", headers, rows,
                   "limited by: users (all served), memory or speed" + refused, flexible="limited by", may_hide=False)
    return 0


def _compare_command(paths: list[str], as_json: bool) -> int:
    from napkinmath.core.plan.figures import FIGURES, delta, format_delta

    if len(paths) < 2:
        raise ProfileError("napkin compare: give two or more profiles; the first is the baseline")
    profiles = [load_profile(path) for path in paths]
    plans = [plan(profile) for profile in profiles]
    if as_json:
        print(json.dumps({"profiles": [p.name for p in profiles], "files": paths, "figures": [
            {"key": f.key, "label": f.label, "unit": f.unit, "better": f.better,
             "values": [f.value(result) for result in plans],
             "deltas": [delta(f, plans[0], result).__dict__ for result in plans[1:]]} for f in FIGURES]}, indent=2))
        return 0
    rows = []
    for figure in FIGURES:
        cells = [figure_number(figure.value(result)) for result in plans]
        changes = [format_delta(delta(figure, plans[0], result)) for result in plans[1:]]
        rows.append((f"{figure.label} ({figure.unit})", *cells, *changes))
    headers = ("figure", *(Path(p).stem for p in paths), *(f"Δ {Path(p).stem}" for p in paths[1:]))
    _print_listing("Compare (deltas against the first profile)", headers, rows,
                   "better and worse are from the user's side: more users, faster, cheaper", flexible="figure",
                   may_hide=False)
    return 0


def _calibrate_command(path: str, log: str | None, measured: str | None, write: bool, out: str | None) -> int:
    from napkinmath.core.tools.calibrate import calibrate_from_log, calibrate_measured
    from napkinmath.core.profile.files import profile_to_toml, save_profile

    profile = load_profile(path)
    if log is not None:
        from napkinmath.core.sources.vllm_log import parse_vllm_log, read_vllm_log

        calibrated = calibrate_from_log(profile, parse_vllm_log(read_vllm_log(log)), source=Path(log).name)
    else:
        calibrated = calibrate_measured(profile, measured)
    for line in calibrated.changes:
        print(f"# calibrated: {line}")
    if write or out:
        saved = save_profile(calibrated.profile, out or path)
        print(f"# saved to {saved}")
    else:
        print(profile_to_toml(calibrated.profile), end="")
    return 0


def _recommend_command(path: str, as_json: bool, limit: int, max_gpus: int) -> int:
    from napkinmath.core.profile.files import profile_to_dict
    from napkinmath.core.tools.recommend import recommend

    if limit < 1 or max_gpus < 1:
        raise ProfileError("napkin recommend: --limit and --max-gpus must be at least 1")
    profile = load_profile(path)
    candidates = recommend(profile, limit=limit, max_gpus=max_gpus)
    if as_json:
        print(json.dumps([{"gpu": c.gpu_id, "gpus": c.gpus, "tensor": c.tensor, "pipeline": c.pipeline,
                           "replicas": c.replicas, "weight_dtype": c.weight_dtype, "kv_dtype": c.kv_dtype,
                           "per_user_month": c.per_user_month, "limited_by": c.limited_by, "binding": c.binding,
                           "tokens_per_s_per_user": c.plan.decode.tokens_per_s_per_user, "ttft": c.plan.prefill.ttft,
                           "profile": profile_to_dict(c.profile)} for c in candidates], indent=2))
        return 0
    if not candidates:
        print(f"napkin: no catalog deployment of up to {max_gpus} GPUs meets this workload's targets", file=sys.stderr)
        return 1
    rows = [(str(rank), c.gpu_id, f"{c.gpus}", f"TP{c.tensor} PP{c.pipeline} x{c.replicas}", c.weight_dtype, c.kv_dtype,
             f"${c.per_user_month:,.2f}", f"{c.plan.decode.tokens_per_s_per_user:,.1f}", f"{c.plan.prefill.ttft:,.2f}",
             c.binding) for rank, c in enumerate(candidates, 1)]
    _print_listing(f"Deployments for {profile.workload.users:,} users (cheapest first)",
                   ("#", "gpu", "GPUs", "split", "weights", "KV", "$/user-mo", "tok/s/user", "TTFT s", "binding"),
                   rows, "napkin recommend --json gives each candidate's whole profile", flexible="binding",
                   may_hide=False)
    return 0


def _app_command(path: str | None) -> int:
    from napkinmath.tui.app import run_app

    return run_app(path)


def run(argv: Sequence[str]) -> int:
    """Dispatch one command line; raises ProfileError for bad input."""
    argv = list(argv)
    if not argv or (argv[0] not in SUBCOMMANDS and not argv[0].startswith("-")):
        if len(argv) > 1:
            raise ProfileError(f"napkin: expected at most one profile file, got {len(argv)} arguments. "
                               f"Run `napkin --help` for usage.")
        return _app_command(argv[0] if argv else None)
    arguments = _parser().parse_args(argv)
    if arguments.command == "plan":
        return _plan_command(arguments.profile, arguments.json, arguments.markdown, arguments.vllm)
    if arguments.command == "gpus":
        return _gpus_command(arguments.json)
    if arguments.command == "models":
        return _models_command(arguments.json)
    if arguments.command == "import-config":
        return _import_command(arguments.path, arguments.name, arguments.json)
    if arguments.command == "detect":
        return _detect_command(arguments.json, arguments.timeout)
    if arguments.command == "sweep":
        return _sweep_command(arguments.profile, arguments.vary, arguments.json)
    if arguments.command == "compare":
        return _compare_command(arguments.profiles, arguments.json)
    if arguments.command == "calibrate":
        return _calibrate_command(arguments.profile, arguments.log, arguments.measured, arguments.write, arguments.out)
    if arguments.command == "recommend":
        return _recommend_command(arguments.profile, arguments.json, arguments.limit, arguments.max_gpus)
    _parser().print_help()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``napkin`` console script."""
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except ProfileError as error:
        print(f"napkin: {error}" if not str(error).startswith("napkin") else str(error), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # noqa: BLE001 - the promise is: never a traceback
        print(f"napkin: internal error ({type(error).__name__}: {error}). This is a bug; please report it "
              f"with the command and profile that caused it.", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
