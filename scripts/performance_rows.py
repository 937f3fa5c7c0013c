"""The measured-serving rows as profiles and feature arrays, for scripts/fit_performance.py.

Each usable row of tests/data/measured-serving/silicon_h100_h200_b200.csv becomes a napkinmath Profile (the
catalog GPU, the model's config.json at the row's precisions, its parallelism and engine), and the
runtime's own ``engine_performance`` gives its roofline terms and scheduler limits, so the fit and the
runtime read the same physics. Rows the planner cannot represent are left out, each with its reason.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, fields
from pathlib import Path

from napkinmath.core.engines.performance import InstanceTerms
from napkinmath.core.engines.sglang import default_chunked_prefill_size
from napkinmath.core.errors import ProfileError
from napkinmath.core.plan.compose import plan
from napkinmath.core.plan.performance import engine_performance
from napkinmath.core.profile.schema import Profile
from napkinmath.core.sources.hf_config import model_from_config
from napkinmath.core.tools.loadtest import ideal_closed_loop

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "measured-serving"
GPUS = {"h100_sxm": "h100-sxm", "h200_sxm": "h200", "b200_sxm": "b200"}
ENGINES = ("vllm", "sglang", "trtllm")
QUANT = {"fp8": "fp8", "fp8_block": "fp8", "nvfp4": "nvfp4", "int4_wo": "int4", "bf16": "bf16"}
CONFIGS = {  # model_path -> config file (PROVENANCE.md) and the family a leave-one-model-out fold holds out
    "MiniMaxAI/MiniMax-M2.5": ("MiniMaxAI--MiniMax-M2.5", "MiniMax-M2.5"),
    "Qwen/Qwen3-235B-A22B-FP8": ("Qwen--Qwen3-235B-A22B-FP8", "Qwen3-235B-A22B"),
    "Qwen/Qwen3-32B": ("Qwen--Qwen3-32B", "Qwen3-32B"),
    "nvidia/Qwen3-32B-NVFP4": ("Qwen--Qwen3-32B", "Qwen3-32B"),
    "Qwen/Qwen3.5-397B-A17B": ("Qwen--Qwen3.5-397B-A17B", "Qwen3.5-397B-A17B"),
    "deepseek-ai/DeepSeek-R1": ("deepseek-ai--DeepSeek-R1", "DeepSeek-V3/R1"),
    "nvidia/DeepSeek-R1-NVFP4": ("deepseek-ai--DeepSeek-R1", "DeepSeek-V3/R1"),
    "deepseek-ai/DeepSeek-V3": ("deepseek-ai--DeepSeek-V3", "DeepSeek-V3/R1"),
    "nvidia/DeepSeek-V3.1-NVFP4": ("deepseek-ai--DeepSeek-V3", "DeepSeek-V3/R1"),
    "meta-llama/Llama-3.1-70B": ("meta-llama--Meta-Llama-3.1-70B", "Llama-3.1-70B"),
    "meta-llama/Llama-3.1-8B-Instruct": ("meta-llama--Meta-Llama-3.1-8B", "Llama-3.1-8B"),
    "nvidia/Llama-3.1-8B-Instruct-FP8": ("meta-llama--Meta-Llama-3.1-8B", "Llama-3.1-8B"),
    "moonshotai/Kimi-K2.5": ("moonshotai--Kimi-K2.5", "Kimi-K2.5"),
    "openai/gpt-oss-120b": ("openai--gpt-oss-120b", "gpt-oss-120b"),
    "zhipuai/GLM-5": ("zai-org--GLM-5", "GLM-5"),
}
VERSIONS = {"vllm": r"^\d+\.\d+(\.\d+)?$", "sglang": r"^\d+\.\d+(\.\d+)?(\.post\d+)?$",
            "trtllm": r"^\d+\.\d+(\.\d+)?(rc\d+)?(\.post\d+)?$"}


@dataclass
class Row:
    source: dict
    profile: Profile
    family: str
    gpu: str
    engine: str
    concurrency: float  # requests in flight per attention data-parallel rank (batch_size)
    input_tokens: float
    output_tokens: float
    ttft_s: float
    tpot_s: float


def _weight_dtype(row: dict) -> str:
    if "gpt-oss" in row["model_path"]:
        return "mxfp4" if row["precision"] == "fp4" else "fp8"
    gemm = row["gemm_quant_mode"]
    return QUANT.get(gemm, "bf16") if gemm else "bf16"  # not recorded: the checkpoint's own dtype


def _number(text: str, default: float = 1.0) -> float:
    try:
        value = float(text)
    except ValueError:
        return default
    return default if math.isnan(value) else value


# Weight formats whose checkpoints aiconfigurator serves with an fp8 KV cache (generated_kv_dtype)
FP8_KV_WEIGHTS = ("fp8", "nvfp4")


def generated_kv_dtype(weight_dtype: str) -> str:
    """The KV cache dtype a row's deployment ran with. The rows do not record it; aiconfigurator infers it from the
    checkpoint's quantization (ai-dynamo/aiconfigurator aic-core/src/aiconfigurator_core/sdk/models/helpers.py,
    ``_infer_quant_modes_from_raw_config``: fp8, fp8_block and nvfp4 checkpoints get an fp8 KV cache, mxfp4,
    int4 and bf16 ones bf16) and its generator passes it to every engine (src/aiconfigurator/generator/
    module_bridge.py ``kv_cache_dtype``; config/backend_config_mapping.yaml: vLLM ``--kv-cache-dtype``, SGLang
    ``--kv-cache-dtype fp8_e4m3``, TensorRT-LLM ``kv_cache_config.dtype``, bf16 as ``auto``). So vLLM and SGLang
    rows of fp8 and nvfp4 checkpoints ran an fp8 cache (their own default is bf16) and TensorRT-LLM's gpt-oss
    (mxfp4) rows a bf16 one (TensorRT-LLM's planner default is fp8 for fp4 weights): docs/accuracy.md, step 5."""
    return "fp8" if weight_dtype in FP8_KV_WEIGHTS else "bf16"


def profile_for(row: dict) -> Profile:
    """The deployment a row measured, as a profile (engine defaults where the row records nothing)."""
    config, _ = CONFIGS[row["model_path"]]
    model, _count = model_from_config(DATA / "configs" / f"{config}.json")
    weight_dtype = _weight_dtype(row)
    model = {**model, "weight_dtype": weight_dtype, "kv_dtype": generated_kv_dtype(weight_dtype)}
    tensor, data = int(_number(row["tp_size"])), int(_number(row["attention_dp_size"]))
    expert = max(1, int(_number(row["moe_ep_size"])))
    isl, osl = int(row["isl"]), int(row["osl"])
    engine = {"name": row["backend"]}
    version = row["backend_version"]
    if version and re.match(VERSIONS[row["backend"]], version):
        engine["version"] = version
    document = {
        "name": row["id"], "hardware": {"gpu": GPUS[row["system"]], "count": tensor * data},
        "model": model,
        "parallelism": {"tensor": tensor, "data": data, "expert": expert if expert <= tensor * data else 1},
        "workload": {"max_context_tokens": isl + osl, "avg_context_tokens": isl + osl // 2, "prompt_tokens": isl,
                     "output_tokens": osl},
        "engine": engine}
    profile = Profile.model_validate(document)
    settings = generated_settings(row, profile.hardware.memory_gib, data)
    return Profile.model_validate({**document, "engine": {**engine, **settings}}) if settings else profile


GENERATED_EXTRA_TOKENS = 1500  # the generator's token budget beyond the prompt and the batch's decodes
TRTLLM_BLOCK_TOKENS = 32  # max_num_tokens is rounded up to whole KV blocks (tokens_per_block 32)


def generated_settings(row: dict, memory_gib: float, data: int) -> dict:
    """The scheduler settings aiconfigurator's generator writes for an aggregated worker, which the measured
    deployments ran with (PROVENANCE.md, "The deployments"): ai-dynamo/aiconfigurator
    src/aiconfigurator/generator/rule_plugin/benchmark/{vllm,trtllm,sglang}.rule: vLLM max_num_tokens =
    batch + isl + 1500; TensorRT-LLM the same rounded up to 32; SGLang max_prefill_tokens = isl + 1500 and
    enable_mixed_chunk, whose decodes count against the chunk (sgl-project/sglang
    python/sglang/srt/managers/schedule_policy.py, PrefillAdder's mixed_with_decode_tokens). SGLang 0.5.1
    predates the generator's SGLang support and ran at SGLang's defaults."""
    batch, isl = int(float(row["batch_size"])), int(row["isl"])
    wanted = batch + isl + GENERATED_EXTRA_TOKENS
    if row["backend"] == "vllm":
        return {"max_num_batched_tokens": wanted}
    if row["backend"] == "trtllm":
        return {"max_num_batched_tokens": -(-wanted // TRTLLM_BLOCK_TOKENS) * TRTLLM_BLOCK_TOKENS}
    if row["backend"] == "sglang" and not row["backend_version"].startswith("0.5.1"):
        chunk = default_chunked_prefill_size(memory_gib, data)
        return {"max_num_batched_tokens": min(chunk, isl + GENERATED_EXTRA_TOKENS), "mixed_batches": True}
    return {}


def exclusion(row: dict, seen: dict[tuple, list[tuple[float, float]]]) -> str | None:
    """Why a row is left out of the fit, or None (PROVENANCE.md and docs/accuracy.md give the reasons)."""
    if row["mode"] != "agg":
        return "disaggregated (prefill and decode workers apart): not modelled"
    tensor, data, pipeline = (_number(row[k]) for k in ("tp_size", "attention_dp_size", "pp_size"))
    if tensor * data * pipeline > 8:
        return "more than 8 GPUs (one NVLink node): multi-node collectives not modelled"
    match = re.search(r"silicon_concurrency=(\d+)", row["silicon_data_source"])
    if not row["attention_dp_size"] and match and float(match.group(1)) != float(row["batch_size"]):
        return "attention data-parallel size missing while the concurrency differs from batch_size"
    key = (row["system"], row["backend"], row["isl"], row["osl"], row["batch_size"], row["tp_size"],
           row["attention_dp_size"])
    measured = (float(row["silicon_ttft_ms"]), float(row["silicon_tpot_ms"]))
    if any(same_measurement(measured, earlier) for earlier in seen.get(key, ())):
        return "duplicate of a row from another source file"
    seen.setdefault(key, []).append(measured)
    return None


# Some source files round the milliseconds to 2 decimals (the gap-analysis CSVs: 231.85 where the database dump
# has 231.8478...), so a copy agrees to within half a hundredth of a millisecond, not exactly
DUPLICATE_TOLERANCE_MS = 0.0051


def same_measurement(one: tuple[float, float], other: tuple[float, float]) -> bool:
    """Whether two (TTFT, TPOT) pairs in ms are one measurement, each as its source file rounded it."""
    return all(abs(a - b) <= DUPLICATE_TOLERANCE_MS for a, b in zip(one, other, strict=True))


def _physics_check(raw: dict, profile: Profile) -> str | None:
    """A row the engine's defaults cannot hold, or one faster than the peak-spec ideal (the recorded
    deployment is not what ran: speculative decoding, say), or None."""
    perf = engine_performance(profile)
    isl, osl, concurrency = float(raw["isl"]), float(raw["osl"]), float(raw["batch_size"])
    if perf.limits.kv_capacity_tokens < isl + osl:
        return "the KV pool at the engine's default memory settings holds less than one request"
    bound = ideal_closed_loop(perf, concurrency, isl, osl)
    if bound.tpot_s > float(raw["silicon_tpot_ms"]) / 1e3 or bound.ttft_s > float(raw["silicon_ttft_ms"]) / 1e3:
        return "faster than the peak-spec ideal: not the deployment recorded (speculative decoding?)"
    return None


def load_rows(every: int = 1) -> tuple[list[Row], dict[str, int]]:
    """The usable rows and a count of the others by reason; ``every`` > 1 keeps every n-th usable row
    (a quick sample for the tests)."""
    rows, reasons, seen, usable = [], {}, {}, 0
    with (DATA / "silicon_h100_h200_b200.csv").open(newline="") as handle:
        for raw in csv.DictReader(handle):
            reason = exclusion(raw, seen)
            if reason is None and every > 1:
                usable += 1
                if usable % every:
                    continue
            if reason is None:
                try:
                    profile = profile_for(raw)
                except (ProfileError, ValueError) as error:
                    reason = f"not a valid profile: {str(error).splitlines()[0][:80]}"
            if reason is None and not plan(profile).memory.fits:
                reason = "the weights do not fit at the engine's default memory settings (the run used others)"
            elif reason is None:
                reason = _physics_check(raw, profile)
            if reason is not None:
                reasons[reason] = reasons.get(reason, 0) + 1
                continue
            rows.append(Row(raw, profile, CONFIGS[raw["model_path"]][1], raw["system"], raw["backend"],
                            float(raw["batch_size"]), float(raw["isl"]), float(raw["osl"]),
                            float(raw["silicon_ttft_ms"]) / 1e3, float(raw["silicon_tpot_ms"]) / 1e3))
    return rows, reasons


TERM_FIELDS = [field.name for field in fields(InstanceTerms)]


def feature_arrays(rows: list[Row]) -> dict:
    """Every InstanceTerms field and scheduler limit of every row, as numpy arrays (the runtime's own
    numbers)."""
    import numpy as np  # the fit's extra; the rows themselves need only the runtime
    columns: dict[str, list[float]] = {name: [] for name in TERM_FIELDS}
    for extra in ("max_num_seqs", "max_num_batched_tokens", "chunked", "mixed", "kv_capacity", "reserve", "engine",
                  "blackwell", "concurrency", "input", "output", "ttft", "tpot"):
        columns[extra] = []
    for row in rows:
        perf = engine_performance(row.profile)
        for name in TERM_FIELDS:
            columns[name].append(float(getattr(perf.step.terms, name)))
        limits = perf.limits
        columns["max_num_seqs"].append(limits.max_num_seqs)
        columns["max_num_batched_tokens"].append(limits.max_num_batched_tokens)
        columns["chunked"].append(limits.chunked_prefill)
        columns["mixed"].append(limits.mixed_batches)
        columns["kv_capacity"].append(limits.kv_capacity_tokens)
        columns["reserve"].append(limits.reserves_full_length)
        columns["engine"].append(ENGINES.index(row.engine))
        columns["blackwell"].append(row.profile.hardware.architecture == "blackwell")
        columns["concurrency"].append(row.concurrency)
        columns["input"].append(row.input_tokens)
        columns["output"].append(row.output_tokens)
        columns["ttft"].append(row.ttft_s)
        columns["tpot"].append(row.tpot_s)
    return {name: np.array(values, dtype=float) for name, values in columns.items()}
