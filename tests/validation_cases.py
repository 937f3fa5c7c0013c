"""Prediction against published measurement: the cases in tests/data/validation/, computed one way for
tests/test_validation.py and for the docs table (``python tests/validation_cases.py > docs/validation.md``).

Throughput systems (throughput.toml): a profile from the catalog GPU and model at the stated precisions
and tensor parallelism, the engine family the source names and the fitted performance model: its
uncalibrated prediction is the *default*. The ideal ceiling is the same profile at peak spec. One-point
calibration rescales the fitted model on the system's median-concurrency point (a fixed rule, not a
choice per system) and predicts the others. Two-point calibration refits the scale and the engine's own
time to the lowest and highest usable concurrencies and predicts the points between them.

vLLM start-up logs (vllm_cases.toml): a profile from the model's config.json and the deployment the
thread states; the plan's KV figures use only the engine defaults for the named vLLM version.
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from napkinmath.core.engines.performance_data import bands
from napkinmath.core.engines.vllm import DEFAULT_DRIVER_RESERVED_GIB
from napkinmath.core.engines.vllm_pool import pipeline_stages
from napkinmath.core.errors import ProfileError
from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.schema import Profile
from napkinmath.core.sources.hf_config import model_from_config
from napkinmath.core.specs.catalog import gpu_entry
from napkinmath.core.specs.specs import GIB
from napkinmath.core.tools.calibrate import calibrate_serving, calibrate_serving_points
from napkinmath.core.tools.serving import serving_profile, serving_throughput

DATA = Path(__file__).parent / "data"
THROUGHPUT = DATA / "validation" / "throughput.toml"
VLLM_CASES = DATA / "validation" / "vllm_cases.toml"
THROUGHPUT_GOAL = 0.20  # calibrated on one point, the others within 20%
KV_GOAL = 0.03  # KV cache tokens within 3% of the log, defaults only


def _precision(text: str) -> str:
    """The precision named first in a free-text field ("bf16 (not stated; ...)" -> "bf16")."""
    word = text.split()[0].strip("();,").lower() if text.strip() else "bf16"
    return "bf16" if word in ("not", "auto", "unknown") else word


def output_tokens_per_s(system: dict, point: dict) -> float:
    """The point's output tokens/s for the whole system, from whichever figure the source reports."""
    if "output_tokens_per_s" in point:
        return point["output_tokens_per_s"]
    if "output_tokens_per_s_per_gpu" in point:
        return point["output_tokens_per_s_per_gpu"] * system["gpus"]
    share = system["output_tokens"] / (system["input_tokens"] + system["output_tokens"])
    if "total_tokens_per_s" in point:
        return point["total_tokens_per_s"] * share
    return point["total_tokens_per_s_per_gpu"] * system["gpus"] * share


def system_engine(system: dict) -> str:
    """The engine family a system names: SGLang, TensorRT-LLM (NVIDIA NIM's backend) or vLLM."""
    text = system["engine"].lower()
    if "sglang" in text:
        return "sglang"
    if "tensorrt" in text or "nim" in text:
        return "trtllm"
    return "vllm"


def system_profile(system: dict) -> Profile:
    """The system as a profile with nothing measured: the catalog GPU and model at the stated precisions and
    tensor size, the engine family it names, and the fitted performance model's defaults."""
    model = {"preset": system["model"], "weight_dtype": _precision(system["weight_dtype"])}
    if not system.get("kv_cache_dtype", "").startswith("not stated"):  # else the engine's default
        model["kv_dtype"] = _precision(system["kv_cache_dtype"])
    return Profile.model_validate({
        "name": system["id"],
        "hardware": {"gpu": system["gpu"], "count": system["gpus"]},
        "model": model,
        "parallelism": {"tensor": system["tensor_parallel_size"]},
        "engine": {"name": system_engine(system)},
    })


@dataclass(frozen=True)
class ThroughputPoint:
    concurrency: int
    measured: float
    ideal: float
    calibrated: float | None  # None for the calibration point itself
    excluded: str
    two_point: float | None = None  # fitted on the lowest and highest usable points; None for those and outside them
    default: float = 0.0  # uncalibrated: the fitted model's defaults

    @property
    def default_error(self) -> float:
        return self.default / self.measured - 1

    @property
    def error(self) -> float | None:
        return None if self.calibrated is None else self.calibrated / self.measured - 1

    @property
    def two_point_error(self) -> float | None:
        return None if self.two_point is None else self.two_point / self.measured - 1


@dataclass(frozen=True)
class ThroughputSystem:
    system: dict
    calibrated_at: int
    calibration: str
    points: tuple[ThroughputPoint, ...]
    two_point_calibration: str = ""

    @property
    def meets_goal(self) -> bool:
        return all(abs(p.error) <= THROUGHPUT_GOAL for p in self.points if p.error is not None and not p.excluded)

    @property
    def two_point_meets_goal(self) -> bool:
        return all(abs(p.two_point_error) <= THROUGHPUT_GOAL for p in self.points
                   if p.two_point_error is not None and not p.excluded)


def throughput_systems() -> list[dict]:
    return tomllib.loads(THROUGHPUT.read_text())["system"]


def evaluate_system(system: dict) -> ThroughputSystem:
    profile = system_profile(system)
    isl, osl = system["input_tokens"], system["output_tokens"]
    usable = [p for p in system["points"] if not p.get("excluded")]
    ordered = sorted(usable, key=lambda p: p["concurrency"])
    anchor = ordered[len(ordered) // 2]
    at = serving_profile(profile, anchor["concurrency"], isl, osl)
    tuned = calibrate_serving(at, output_tokens_per_s(system, anchor), anchor["concurrency"])
    ends = [ordered[0], ordered[-1]]
    fitted = calibrate_serving_points(serving_profile(profile, anchor["concurrency"], isl, osl),
                                      [(output_tokens_per_s(system, p), p["concurrency"]) for p in ends])
    low, high = ends[0]["concurrency"], ends[1]["concurrency"]
    points = []
    for point in system["points"]:
        concurrency = point["concurrency"]
        default = serving_throughput(profile, concurrency, isl, osl)
        predicted = None if point is anchor else serving_throughput(tuned.profile, concurrency, isl, osl)
        between = low < concurrency < high
        two_point = serving_throughput(fitted.profile, concurrency, isl, osl).output_tokens_per_s if between else None
        points.append(ThroughputPoint(concurrency, output_tokens_per_s(system, point), default.output_tokens_per_s_ideal,
                                      None if predicted is None else predicted.output_tokens_per_s,
                                      point.get("excluded", ""), two_point, default.output_tokens_per_s))
    return ThroughputSystem(system, anchor["concurrency"], tuned.changes[0], tuple(points), fitted.changes[0])


def default_errors(results: list[ThroughputSystem]) -> list[float]:
    """Uncalibrated predicted / measured - 1 over every usable published point."""
    return [p.default_error for r in results for p in r.points if not p.excluded]


def inside_band(results: list[ThroughputSystem]) -> tuple[int, int]:
    """(usable points whose measured / uncalibrated throughput lies in the fitted model's throughput band, usable
    points): the band is the 10th-90th percentile of held-out measured / predicted (performance_data.bands)."""
    band = bands().throughput
    points = [p for r in results for p in r.points if not p.excluded]
    return sum(band.holds(p.measured, p.default) for p in points), len(points)


# ------------------------------------------------------------------------------------------ vLLM logs
def vllm_cases() -> list[dict]:
    if not VLLM_CASES.exists():
        return []
    return tomllib.loads(VLLM_CASES.read_text())["case"]


@dataclass(frozen=True)
class KvCase:
    case: dict
    predicted_tokens: int | None
    predicted_available_gib: float | None
    predicted_concurrency: float | None
    tokens_from_logged_memory: int | None  # the page arithmetic alone, from the logged available memory
    skipped: str = ""  # why the full prediction cannot be made (no GPU memory known, ...)

    @property
    def logged_tokens(self) -> int | None:
        return self.case.get("logged_kv_cache_tokens")

    @property
    def error(self) -> float | None:
        if self.predicted_tokens is None or not self.logged_tokens:
            return None
        return self.predicted_tokens / self.logged_tokens - 1


def case_memory_gib(case: dict) -> float | None:
    """The GPU memory as nvidia-smi reports it: the catalog entry the case names (``catalog_gpu``: our
    mapping of the GPU the thread names), else the total the log printed plus the default the driver keeps."""
    if case.get("catalog_gpu"):
        return gpu_entry(case["catalog_gpu"])["memory_gib"]
    if case.get("total_gpu_memory_gib") is not None:
        return case["total_gpu_memory_gib"] + DEFAULT_DRIVER_RESERVED_GIB
    return None


def case_driver_reserved_gib(case: dict) -> float | None:
    """What the driver keeps from CUDA: measured where the log prints the total vLLM saw, else the catalog's."""
    memory = case_memory_gib(case)
    if case.get("total_gpu_memory_gib") is not None and memory is not None:
        return memory - case["total_gpu_memory_gib"]
    if case.get("catalog_gpu"):
        return gpu_entry(case["catalog_gpu"]).get("driver_reserved_gib")
    return None


def case_profile(case: dict) -> Profile:
    # the released config's quantization block, where the stored copy lacks it
    released = {"quantization_config": case["quantization_config"]} if case.get("quantization_config") else None
    model, _ = model_from_config(DATA / "configs" / case["config"], overrides=released)
    model = {**model, "weight_dtype": case.get("weight_dtype", model.get("weight_dtype", "bf16"))}
    kv = case.get("kv_cache_dtype", "auto")
    if kv == "auto":  # vLLM's "auto" caches in the model's activation dtype
        kv = model["weight_dtype"] if model["weight_dtype"] in ("bf16", "fp16") else "bf16"
    model["kv_dtype"] = kv
    max_len = case["max_model_len"]
    hardware = {"name": case.get("gpu", "GPU"), "memory_gib": case_memory_gib(case) or 80.0,
                "bandwidth_tb_s": 1.0, "tflops": {"bf16": 100.0}, "count": case.get("gpus", 1),
                "driver_reserved_gib": case_driver_reserved_gib(case)}
    if case.get("catalog_gpu"):  # the architecture picks vLLM's kernels (MLA page size, MXFP4 layout)
        entry = gpu_entry(case["catalog_gpu"])
        hardware.update(name=case.get("gpu", entry["name"]), architecture=entry["architecture"],
                        interconnect=entry["interconnect"])
    if case.get("interconnect"):
        hardware["interconnect"] = case["interconnect"]
    version = re.search(r"\d+\.\d+(\.\d+)?", case.get("vllm_version", "0.11")).group(0)
    engine = {"name": "vllm", "version": version, "usage": case.get("usage", "serve"),
              "cuda_graphs": not case.get("enforce_eager", False)}
    for key in ("gpu_memory_utilization", "max_num_batched_tokens", "max_num_seqs", "block_size", "sampler"):
        if key in case:
            engine["block_tokens" if key == "block_size" else key] = case[key]
    return Profile.model_validate({
        "name": case["id"], "hardware": hardware, "model": model,
        "parallelism": {"tensor": case.get("tensor_parallel_size", 1), "pipeline": case.get("pipeline_parallel_size", 1)},
        "workload": {"max_context_tokens": max_len, "avg_context_tokens": max_len, "users": 1},
        "engine": engine,
    })


def evaluate_case(case: dict) -> KvCase:
    if not case.get("config"):
        return KvCase(case, None, None, None, None, skipped="no exact config.json (SOURCES.md)")
    profile = case_profile(case)
    result = plan(profile)
    report = result.engine
    from_memory = None
    if case.get("logged_available_kv_gib") is not None:
        first = pipeline_stages(profile.model, profile.parallelism.pipeline)[0]  # the log quotes rank 0
        from_memory = report.with_available(profile.model, profile.parallelism.tensor, first,
                                            case["logged_available_kv_gib"] * GIB).kv_cache_tokens
    if case_memory_gib(case) is None:
        return KvCase(case, None, None, None, from_memory, skipped="GPU memory not known")
    return KvCase(case, report.kv_cache_tokens, report.available_kv / GIB, report.max_concurrency, from_memory)


# ------------------------------------------------------------------------------------------ docs table
def markdown() -> str:
    out = ["# Validation: prediction against measurement", "",
           ("Generated by `python tests/validation_cases.py > docs/validation.md`; the same numbers are asserted "
           "by `tests/test_validation.py`. Sources: `tests/data/validation/SOURCES.md` and "
           "`tests/data/vllm_logs/SOURCES.md`."), ""]
    out += ["## Serving throughput (load tests)", "",
            ("Profile: catalog GPU and model at the stated precisions and TP, the engine family the source names, "
            "and the fitted performance model (core/engines/data/performance.toml) with nothing measured: "
            "*default* is that prediction, uncalibrated. *Ideal* is the same profile at peak spec (it must never be "
            "below the measurement). *One point*: the fitted model rescaled on the median-concurrency point, then "
            "predicted at the others. *Two points*: the scale and the engine's own time refitted to the lowest "
            "and highest usable concurrencies, then predicted at the points between. The goal is within "
            f"{THROUGHPUT_GOAL:.0%}. Excluded points are shown, not counted."), ""]
    results = [evaluate_system(system) for system in throughput_systems()]
    one, two = sum(r.meets_goal for r in results), sum(r.two_point_meets_goal for r in results)
    defaults = sorted(abs(e) for e in default_errors(results))
    median = (defaults[len(defaults) // 2] + defaults[(len(defaults) - 1) // 2]) / 2
    inside, usable = inside_band(results)
    out += [(f"Uncalibrated (default) median |error| over the {len(defaults)} usable points: {median:.1%}; "
             f"inside the throughput band: {inside} of {usable} ({inside / usable:.0%}). Systems within {THROUGHPUT_GOAL:.0%} everywhere: {one} of {len(results)} calibrated on one point, "
             f"{two} of {len(results)} on two."), "",
            "| system | one point | two points |", "| --- | :---: | :---: |"]
    out += [f"| {r.system['id']} | {'meets' if r.meets_goal else 'misses'} | "
            f"{'meets' if r.two_point_meets_goal else 'misses'} |" for r in results]
    out.append("")
    for result in results:
        system = result.system
        verdict = (f"one point {'meets' if result.meets_goal else 'misses'} the goal, two points "
                   f"{'meet' if result.two_point_meets_goal else 'miss'} it")
        out += [f"### {system['id']} — {verdict}", "",
                (f"{system['gpus']} × {system['gpu']}, {system['model']} {system['weight_dtype'].split()[0]}, "
                f"TP {system['tensor_parallel_size']}, {system['engine']}; {system['input_tokens']:,} in / "
                f"{system['output_tokens']:,} out. One point: {result.calibration}. Two points: "
                f"{result.two_point_calibration}. Source: {system['source']}"), "",
                ("| concurrency | measured out tok/s | default | error | ideal | ideal ≥ measured | one point | error "
                 "| two points | error | note |"),
                "| ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: | --- |"]
        for p in result.points:
            predicted = "calibration point" if p.calibrated is None else f"{p.calibrated:,.0f}"
            error = "—" if p.error is None else f"{p.error:+.1%}"
            fitted = "—" if p.two_point is None else f"{p.two_point:,.0f}"
            fitted_error = "—" if p.two_point_error is None else f"{p.two_point_error:+.1%}"
            out.append(f"| {p.concurrency} | {p.measured:,.1f} | {p.default:,.0f} | {p.default_error:+.1%} | {p.ideal:,.0f} | "
                       f"{'yes' if p.ideal >= p.measured else 'NO'} "
                       f"| {predicted} | {error} | {fitted} | {fitted_error} | {p.excluded} |")
        out.append("")
    cases = [evaluate_case(case) for case in vllm_cases()]
    out += ["## vLLM start-up KV cache", "",
            ("Predicted from the model's config.json, the GPU memory and the deployment the thread states, with "
            "only the engine defaults of the named vLLM version (activation peak, non-torch memory, CUDA graphs). "
            f"The goal is within {KV_GOAL:.0%} of the logged \"GPU KV cache size\". *From logged memory* is the page "
            "arithmetic alone, from the log's own \"Available KV cache memory\"."), "",
            ("| case | vLLM | model | GPU, parallelism | logged tokens | predicted | error | from logged memory | "
            "predicted KV GiB | logged KV GiB | defaults this log set or checks |"),
            "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for kv in cases:
        case = kv.case
        logged = f"{kv.logged_tokens:,}" if kv.logged_tokens else "—"
        predicted = f"{kv.predicted_tokens:,}" if kv.predicted_tokens is not None else kv.skipped
        error = f"{kv.error:+.1%}" if kv.error is not None else "—"
        memory = f"{kv.tokens_from_logged_memory:,}" if kv.tokens_from_logged_memory is not None else "—"
        gib = f"{kv.predicted_available_gib:.2f}" if kv.predicted_available_gib is not None else "—"
        gpu = case.get("gpu") or (f"{gpu_entry(case['catalog_gpu'])['name']} (inferred)" if case.get("catalog_gpu")
                                  else "?")
        out.append(f"| {case['id']} | {case.get('vllm_version', '?')} | {case.get('model', 'not named')} | "
                   f"{gpu} · TP {case.get('tensor_parallel_size', 1)} PP {case.get('pipeline_parallel_size', 1)} | "
                   f"{logged} | {predicted} | {error} | {memory} | {gib} | {case.get('logged_available_kv_gib', '—')} | "
                   f"{case.get('informs', '')} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    try:
        print(markdown(), end="")
    except ProfileError as error:
        sys.exit(f"validation: {error}")
