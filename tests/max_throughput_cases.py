"""Max-load throughput against TensorRT-LLM's published table, judged only: the rows of
tests/data/validation/trtllm_max_throughput.toml (NVIDIA/TensorRT-LLM/docs/source/performance/perf-overview.md,
v1.0; SOURCES.md), computed one way for tests/test_max_throughput_validation.py and for the docs table
(``python tests/max_throughput_cases.py > docs/validation-max-throughput.md``).

Each row becomes a profile: the catalog GPU and model at the table's weight precision and tensor parallelism
(MoE experts sharded over the TP ranks: the page gives no EP size; ``row_parallelism``), engine ``trtllm`` with the engine's fp8 KV default, ``kv_cache_free_gpu_mem_fraction`` 0.95 and the
``max_batch_size`` / ``max_num_tokens`` that trtllm-bench's own heuristic picks for that dataset
(``bench_settings``). trtllm-bench submits every request at once, so the prediction is the closed load test
(core/tools/loadtest.py) at a concurrency of the dataset's request count: the running batch is then whatever
max_batch_size and the KV pool allow. Nothing measured enters the profile: the prediction is the fitted
model's default. The ideal is the same load test's peak-spec ceiling.
"""

from __future__ import annotations

import math
import statistics
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

if __package__ in (None, ""):  # run as a script from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from napkinmath.core.engines.performance_data import bands
from napkinmath.core.errors import ProfileError
from napkinmath.core.plan.performance import engine_performance
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.catalog import gpu_entry, model_entry
from napkinmath.core.tools.loadtest import load_test

TABLE = Path(__file__).parent / "data" / "validation" / "trtllm_max_throughput.toml"
FITTED_BATCH = 256  # the largest TensorRT-LLM batch_size in tests/data/measured-serving (B200; 128 on H200)
FAR_BATCH = 1000  # running sequences per instance, about four times the fitted range
GOAL = 0.20  # issue 14: max-load throughput within 20% (median |error|) on other published tables
GIB = 1024**3
BYTES_PER_WEIGHT = {"nvfp4": 0.5, "fp8": 1.0}  # tuning.py BYTES_PER_ELEM: NVFP4 .5, FP8 1
KV_BYTES = 1.0  # fp8 KV cache (general.py _KV_CACHE_MAP: FP8 and NVFP4 checkpoints)
MAX_REQUESTS = 4096  # finetune_setting: "Cap total batch size to avoid decoder buffer size becoming too large"
TRTLLM_BLOCK_TOKENS = 32  # KV block (tokens_per_block) of TensorRT-LLM's PyTorch backend, as scripts/performance_rows.py
MAX_TOKENS = 32768  # finetune_setting: "Cap num tokens to avoid TRT activation buffer becoming too large"


@cache
def table() -> dict:
    """The TOML, read once (callers do not change it)."""
    return tomllib.loads(TABLE.read_text())


def kv_fraction() -> float:
    """The KV fraction the page says it used "in many cases" (0.95; some rows may have fallen back to 0.90)."""
    return table()["method"]["kv_cache_free_gpu_mem_fraction"]


def bench_max_batch_size(requests_in_kv: float, pipeline: int) -> int:
    """trtllm-bench's optimistic max_batch_size (NVIDIA/TensorRT-LLM tensorrt_llm/bench/build/tuning.py,
    ``finetune_setting``): the requests the KV estimate holds, capped at 4,096, rounded up to 32 (at least 64)
    below 256, to 128 below 1,024, else to 256."""
    raw = min(requests_in_kv, MAX_REQUESTS) / pipeline
    if raw < 256:
        return max(64, 32 * math.ceil(raw / 32))
    if raw < 1024:
        return 128 * math.ceil(raw / 128)
    return 256 * math.ceil(raw / 256)


def bench_max_num_tokens(requests_in_kv: float, pipeline: int, input_tokens: int, output_tokens: int) -> int:
    """trtllm-bench's max_num_tokens (tuning.py ``finetune_setting``): the raw batch × (1 + ISL/OSL), capped at
    32,768, rounded up to 256 (at least 2,048) below 4,096, to 512 below 8,192, else to 1,024."""
    raw = min(min(requests_in_kv, MAX_REQUESTS) / pipeline * (1 + input_tokens / output_tokens), MAX_TOKENS)
    if raw < 4096:
        return max(2048, 256 * math.ceil(raw / 256))
    if raw < 8192:
        return 512 * math.ceil(raw / 512)
    return 1024 * math.ceil(raw / 1024)


def bench_settings(deployment: dict, input_tokens: int, output_tokens: int, fraction: float) -> tuple[int, int]:
    """(max_batch_size, max_num_tokens) as trtllm-bench picks them when the command line gives neither
    (tuning.py ``calc_engine_setting``; benchmark/utils/general.py ``get_settings``). Its KV estimate: the
    GPUs' NVML total memory less param_count × bytes per weight, times the KV fraction, over fp8 KV bytes per
    token (each tensor rank holds at least one KV head) × (ISL + OSL). With chunked prefill off (its default)
    max_num_tokens is raised to at least ISL + max_batch_size. param_count is the catalog's parameter count;
    trtllm-bench reads it from the checkpoint's safetensors header, where packed fp4 weights count two to a
    byte (a smaller engine estimate, so a larger batch for the fp4 rows; the KV pool still caps what runs)."""
    model, gpu = model_entry(deployment["model"]), gpu_entry(deployment["gpu"])
    tensor, pipeline = deployment["tensor_parallel_size"], deployment["pipeline_parallel_size"]
    per_token_gib = 2 * model["layers"] * max(tensor, model["kv_heads"]) * model["head_dim"] * KV_BYTES / GIB
    gpus = tensor * pipeline
    engine_gib = model["params_b"] * 1e9 * BYTES_PER_WEIGHT[deployment["weight_dtype"]] / GIB
    cache_gib = (gpu["memory_gib"] * gpus - engine_gib) * fraction
    requests_in_kv = cache_gib / (per_token_gib * (input_tokens + output_tokens))
    batch = bench_max_batch_size(requests_in_kv, pipeline)
    tokens = bench_max_num_tokens(requests_in_kv, pipeline, input_tokens, output_tokens)
    return batch, max(tokens, input_tokens + batch)


def row_parallelism(deployment: dict, attention_dp: bool = False) -> dict:
    """The profile's parallelism: the table's TP and PP, and its EP as scripts/performance_rows.py maps it
    (``expert`` where it divides the TP ranks, else 1). The page gives no EP size for the MoE rows (``--ep
    $ep_size``, value not stated), so they hold 1: without ``--ep`` TensorRT-LLM's ``Mapping`` shards every expert
    over the TP ranks (tensorrt_llm/mapping.py: moe_tp_size = tp_size, moe_ep_size = 1). ``attention_dp`` is the
    sensitivity check for the page's MoE options (``enable_attention_dp``, ``--ep``): an MoE deployment's TP ranks
    become attention data-parallel ranks with the experts spread over them (``data`` = ``expert`` = TP)."""
    tensor, pipeline = deployment["tensor_parallel_size"], deployment["pipeline_parallel_size"]
    if attention_dp and model_entry(deployment["model"]).get("experts", 0) and tensor > 1:
        return {"tensor": 1, "pipeline": pipeline, "data": tensor, "expert": tensor}
    expert = deployment["expert_parallel_size"]
    return {"tensor": tensor, "pipeline": pipeline, "expert": expert if tensor % expert == 0 else 1}


def row_profile(deployment: dict, input_tokens: int, output_tokens: int, fraction: float | None = None,
                attention_dp: bool = False) -> Profile:
    """The deployment as trtllm-bench ran it for one dataset (module docstring); ``fraction`` replaces the KV
    fraction and ``attention_dp`` the MoE parallelism (``row_parallelism``): the sensitivity checks."""
    fraction = kv_fraction() if fraction is None else fraction
    batch, tokens = bench_settings(deployment, input_tokens, output_tokens, fraction)
    return Profile.model_validate({
        "name": f"{deployment['id']}-{input_tokens}-{output_tokens}",
        "hardware": {"gpu": deployment["gpu"], "count": deployment["gpus"]},
        "model": {"preset": deployment["model"], "weight_dtype": deployment["weight_dtype"]},  # KV: engine default
        "parallelism": row_parallelism(deployment, attention_dp),
        "workload": {"max_context_tokens": input_tokens + output_tokens, "prompt_tokens": input_tokens,
                     "output_tokens": output_tokens, "avg_context_tokens": input_tokens + output_tokens // 2},
        "engine": {"name": "trtllm", "version": table()["source"]["version"] + ".0",
                   "gpu_memory_utilization": fraction, "max_num_seqs": batch,
                   "max_num_batched_tokens": tokens},
    })


@dataclass(frozen=True)
class MaxLoadRow:
    deployment: dict
    input_tokens: int
    output_tokens: int
    requests: int  # submitted at once: the load test's concurrency
    measured: float  # output tokens/s of the whole deployment
    predicted: float  # the fitted model, uncalibrated
    ideal: float  # peak spec
    max_batch_size: int
    max_num_tokens: int
    kv_capacity_tokens: int  # per instance
    running: float  # sequences decoding together per instance
    kind: str  # fitted / extrapolated (the fit's coverage of this GPU and engine)

    @property
    def error(self) -> float:
        return self.predicted / self.measured - 1

    @property
    def ideal_ratio(self) -> float:
        return self.ideal / self.measured


def evaluate_row(deployment: dict, point: dict, requests: int, fraction: float | None = None,
                 attention_dp: bool = False) -> MaxLoadRow:
    """One row's prediction. The batch is what max_batch_size and the KV pool allow, each request holding
    its whole ISL + OSL as TensorRT-LLM's default capacity scheduler reserves it (GUARANTEED_NO_EVICT:
    tensorrt_llm/llmapi/llm_args.py ``SchedulerConfig``; the load test's ``running_sequences``)."""
    isl, osl = point["input_tokens"], point["output_tokens"]
    profile = row_profile(deployment, isl, osl, fraction, attention_dp)
    perf = engine_performance(profile)
    test = load_test(profile, requests, isl, osl, perf)
    limits = perf.limits
    return MaxLoadRow(deployment, isl, osl, requests, point["output_tokens_per_s"], test.output_tokens_per_s.expected,
                      test.output_tokens_per_s.ideal, limits.max_num_seqs, limits.max_num_batched_tokens,
                      limits.kv_capacity_tokens, test.running_per_instance, perf.kind)


def evaluate(fraction: float | None = None, attention_dp: bool = False) -> list[MaxLoadRow]:
    """Every row (``evaluate_row``)."""
    data = table()
    requests = data["method"]["num_requests"]
    return [evaluate_row(deployment, point, requests[f"{point['input_tokens']}/{point['output_tokens']}"], fraction,
                         attention_dp)
            for deployment in data["deployment"] for point in deployment["points"]]


def median_abs_error(rows: list[MaxLoadRow]) -> float:
    return statistics.median(abs(row.error) for row in rows)


BAND_GOAL = 0.70  # issue 14: at least 70% of the measurements inside the band


def inside_band_count(rows: list[MaxLoadRow]) -> int:
    """The rows whose measured / predicted throughput lies in the fitted model's throughput band (the 10th-90th
    percentile of held-out measured / predicted: core/engines/performance_data.py ``bands``)."""
    band = bands().throughput
    return sum(band.holds(row.measured, row.predicted) for row in rows)


def inside_band_share(rows: list[MaxLoadRow]) -> float:
    """``inside_band_count`` as a share of the rows."""
    return inside_band_count(rows) / len(rows)


def by_model(rows: list[MaxLoadRow]) -> dict[str, list[MaxLoadRow]]:
    groups: dict[str, list[MaxLoadRow]] = {}
    for row in rows:
        groups.setdefault(row.deployment["published_model"], []).append(row)
    return groups


def by_deployment(rows: list[MaxLoadRow]) -> dict[str, list[MaxLoadRow]]:
    groups: dict[str, list[MaxLoadRow]] = {}
    for row in rows:
        groups.setdefault(row.deployment["id"], []).append(row)
    return groups


def row_parallelism_note(deployment: dict) -> str:
    """", EP n" for an MoE deployment (the expert ranks its profile holds), else nothing."""
    if not model_entry(deployment["model"]).get("experts", 0):
        return ""
    return f", EP {row_parallelism(deployment)['expert']}"


def is_moe_across_gpus(row: MaxLoadRow) -> bool:
    """An MoE deployment over more than one tensor rank (where the page's MoE options, attention DP and EP,
    would change the deployment)."""
    return bool(model_entry(row.deployment["model"]).get("experts", 0)) and row.deployment["tensor_parallel_size"] > 1


def _figures(rows: list[MaxLoadRow]) -> str:
    return (f"median error {statistics.median(r.error for r in rows):+.1%} (|error| {median_abs_error(rows):.1%}, "
            f"{inside_band_share(rows):.0%} inside the band)")


def _summary_line(name: str, rows: list[MaxLoadRow]) -> str:
    errors = [row.error for row in rows]
    ratios = [row.ideal_ratio for row in rows]
    return (f"| {name} | {len(rows)} | {median_abs_error(rows):.1%} | {statistics.median(errors):+.1%} | "
            f"{min(errors):+.0%} to {max(errors):+.0%} | {inside_band_share(rows):.0%} | "
            f"{statistics.median(ratios):.2f}× | {min(ratios):.2f}–{max(ratios):.2f}× |")


# ------------------------------------------------------------------------------------------ docs table
def markdown() -> str:
    data, rows = table(), evaluate()
    source = data["source"]
    out = ["# Validation: max-load throughput against TensorRT-LLM's published table (judged only)", "",
           ("Generated by `python tests/max_throughput_cases.py > docs/validation-max-throughput.md`; the same "
            "numbers are asserted by `tests/test_max_throughput_validation.py`. Source: "
            f"`{source['repo']}/{source['path']}` at {source['commit']} (TensorRT-LLM {source['version']}, "
            "trtllm-bench throughput, PyTorch backend); method and caveats in "
            "`tests/data/validation/SOURCES.md`. None of these rows is in the fit."), "",
           ("Profile per row: catalog GPU and model at the table's weight precision and TP (an MoE model's experts "
            "sharded over the TP ranks, EP 1: the page gives no EP size), engine `trtllm` "
            f"(fp8 KV cache, `kv_cache_free_gpu_mem_fraction` {kv_fraction()}), and the `max_batch_size` / "
            "`max_num_tokens` trtllm-bench's heuristic picks for the dataset. *Predicted*: the closed load test "
            "of the fitted model at a concurrency of the dataset's request count (all submitted at once), "
            "uncalibrated. *Ideal*: the same load test's peak-spec ceiling. *Running*: sequences decoding "
            f"together per instance. The goal is a median |error| within {GOAL:.0%}."), "",
           (f"Median |error| over the {len(rows)} rows: **{median_abs_error(rows):.1%}**; errors "
            f"{min(r.error for r in rows):+.1%} to {max(r.error for r in rows):+.1%}. Peak-spec ideal / measured: "
            f"median {statistics.median(r.ideal_ratio for r in rows):.2f}×, "
            f"{min(r.ideal_ratio for r in rows):.2f}–{max(r.ideal_ratio for r in rows):.2f}×. Inside the throughput "
            f"band ({bands().throughput.low}–{bands().throughput.high}× expected): "
            f"{inside_band_count(rows)} of the {len(rows)} rows, {inside_band_share(rows):.1%} "
            f"(goal at least {BAND_GOAL:.0%})."), "",
           ("| model | rows | median \\|error\\| | median error | error range | inside the band | "
            "ideal / measured, median | ideal / measured, range |"),
           "| --- | ---: | ---: | ---: | --- | ---: | ---: | --- |"]
    out += [_summary_line(name, group) for name, group in by_model(rows).items()]
    out += ["", ("| deployment | rows | median \\|error\\| | median error | error range | inside the band | "
                 "ideal / measured, median | ideal / measured, range |"),
            "| --- | ---: | ---: | ---: | --- | ---: | ---: | --- |"]
    out += [_summary_line(name, group) for name, group in by_deployment(rows).items()]
    out += ["", "**Sensitivity** (the same rows, one input changed at a time):", "",
            "| variant | median \\|error\\| | median error | error range | inside the band |",
            "| --- | ---: | ---: | --- | ---: |"]
    attention_dp = evaluate(attention_dp=True)
    variants = [(f"as above (KV fraction {kv_fraction()})", rows),
                ("KV fraction 0.90 (the page's fallback)", evaluate(fraction=0.90)),
                ("MoE rows at TP > 1 as attention data-parallel ranks with EP = TP (the page's MoE options)",
                 attention_dp)]
    out += [(f"| {name} | {median_abs_error(group):.1%} | {statistics.median(r.error for r in group):+.1%} | "
             f"{min(r.error for r in group):+.0%} to {max(r.error for r in group):+.0%} | "
             f"{inside_band_share(group):.0%} |") for name, group in variants]
    moe, others = [r for r in rows if is_moe_across_gpus(r)], [r for r in rows if not is_moe_across_gpus(r)]
    out += ["", (f"MoE at TP > 1 ({len(moe)} rows: {', '.join(sorted({r.deployment['published_model'] for r in moe}))}): "
                 f"as above, {_figures(moe)}; as attention data-parallel ranks with EP = TP, "
                 f"{_figures([r for r in attention_dp if is_moe_across_gpus(r)])}. The other {len(others)} rows: "
                 f"{_figures(others)}.")]
    within = [r for r in rows if r.running <= FITTED_BATCH]
    beyond = [r for r in rows if r.running > FITTED_BATCH]
    far = [r for r in rows if r.running > FAR_BATCH]
    out += ["", (f"By running batch: {len(within)} rows run at most {FITTED_BATCH} sequences per instance (the largest "
                 f"TensorRT-LLM batch in the fitted rows), median error {statistics.median(r.error for r in within):+.1%} "
                 f"(|error| {median_abs_error(within):.1%}); {len(beyond)} run more, up to "
                 f"{max(r.running for r in rows):,.0f}, median error {statistics.median(r.error for r in beyond):+.1%} "
                 f"(|error| {median_abs_error(beyond):.1%}); of those, {len(far)} run more than {FAR_BATCH:,} "
                 f"({sum(is_moe_across_gpus(r) for r in far)} of them MoE at TP > 1): {_figures(far)}.")]
    for dtype in sorted({r.deployment["weight_dtype"] for r in rows}):
        group = [r for r in rows if r.deployment["weight_dtype"] == dtype]
        gpus = ", ".join(sorted({r.deployment["gpu"] for r in group}))
        out[-1] += (f" {dtype} rows ({gpus}): median error {statistics.median(r.error for r in group):+.1%} "
                    f"(|error| {median_abs_error(group):.1%}).")
    out.append("")
    for name, group in by_deployment(rows).items():
        deployment = group[0].deployment
        out += [f"## {name}", "",
                (f"{deployment['gpus']} × {deployment['gpu']}, {deployment['published_model']} "
                 f"({deployment['checkpoint']}), {deployment['weight_dtype']}, TP {deployment['tensor_parallel_size']}"
                 f"{row_parallelism_note(deployment)}; "
                 f"table {deployment['table']}; model {group[0].kind}."), "",
                ("| ISL/OSL | requests | max_batch_size | max_num_tokens | KV pool tokens | running | measured out tok/s "
                 "| predicted | error | ideal | ideal ≥ measured |"),
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |"]
        out += [(f"| {r.input_tokens}/{r.output_tokens} | {r.requests:,} | {r.max_batch_size:,} | {r.max_num_tokens:,} | "
                 f"{r.kv_capacity_tokens:,} | {r.running:,.0f} | {r.measured:,.0f} | {r.predicted:,.0f} | {r.error:+.1%} | "
                 f"{r.ideal:,.0f} | {'yes' if r.ideal >= r.measured else 'NO'} |") for r in group]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    try:
        print(markdown(), end="")
    except ProfileError as error:
        sys.exit(f"max-load validation: {error}")
