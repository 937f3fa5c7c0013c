"""Varied profiles for the plan-JSON regression test (tests/test_plan_golden.py) and its data.

``varied_profiles(count)`` draws ``count`` valid profiles from a fixed seed: every catalog GPU and model
preset, every engine, both speed modes, precision overrides, tensor/pipeline/data/expert degrees,
replicas, and workloads from one short prompt to contexts that do not fit, plus engine settings a user or
a calibration sets. Draws the profile schema refuses are skipped, so the same code draws the same list.
``rounded_plan(profile)`` is ``plan_to_dict`` with floats to 12 significant digits, the form
tests/data/plan_golden.json stores. Regenerate that file (only when figures change on purpose) with
``python tests/plan_cases.py --write``.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from napkinmath.core.plan.compose import plan
from napkinmath.core.plan.json_view import plan_to_dict
from napkinmath.core.profile.files import load_profile
from napkinmath.core.profile.paths import shipped_profiles
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.catalog import gpu_catalog, model_catalog

GOLDEN = Path(__file__).parent / "data" / "plan_golden.json"
SEED = 20261206
FULL_CASES = 50  # stored as whole plan JSON
DIGEST_CASES = 400  # stored as a digest of the rounded plan JSON


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {key: _round(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_round(item) for item in value]
    return value


def rounded_plan(profile: Profile) -> dict[str, Any]:
    """The plan's JSON (interfaces.md, "Plan JSON") with floats to 12 significant digits."""
    return _round(plan_to_dict(plan(profile), profile))


def digest(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:20]


def _engine(draw: random.Random) -> dict[str, Any]:
    name = draw.choice(["vllm", "vllm", "vllm", "sglang", "trtllm", "generic"])
    engine: dict[str, Any] = {"name": name}
    if name in ("vllm", "generic") and draw.random() < 0.4:
        engine["version"] = draw.choice(["0.6.3", "0.8.5", "0.10.1", "0.11.2", "0.21", "0.30", "0.31"])
    if draw.random() < 0.35:
        engine["speed"] = "roofline"
        if draw.random() < 0.6:
            engine["mbu"] = draw.choice([0.5, 0.7, 0.8, 1.0])
            engine["mfu"] = draw.choice([0.3, 0.5, 1.0])
        if draw.random() < 0.4:
            engine["step_overhead_ms"] = draw.choice([0.0, 1.5, 6.0])
            engine["step_overhead_per_sequence_us"] = draw.choice([0.0, 12.0, 40.0])
    elif draw.random() < 0.3:
        engine["speed_scale"] = draw.choice([0.8, 1.25, 1.456])
    optional = {
        "gpu_memory_utilization": [0.8, 0.85, 0.95],
        "max_num_seqs": [16, 128, 1024],
        "max_num_batched_tokens": [512, 2048, 8192, 16384],
        "cuda_graphs": [False],
        "block_tokens": [16, 32, 64],
        "usage": ["llm"],
        "sampler": ["native", "flashinfer"],
        "activation_gib": [0.5, 3.0],
        "overhead_gib": [0.25, 2.0],
        "collective_latency_us": [0.0, 8.0, 30.0],
    }
    for key, values in optional.items():
        if draw.random() < 0.12:
            engine[key] = draw.choice(values)
    return engine


def _workload(draw: random.Random) -> dict[str, Any]:
    max_context = draw.choice([512, 2_048, 8_192, 32_768, 131_072, 1_000_000])
    return {
        "max_context_tokens": max_context,
        "avg_context_tokens": max(1, int(max_context * draw.choice([0.001, 0.05, 0.25, 0.5, 1.0]))),
        "prompt_tokens": draw.choice([0, 1, 128, 2_000, 30_000]),
        "output_tokens": draw.choice([0, 1, 500, 4_000]),
        "prefix_cache_hit": draw.choice([0.0, 0.0, 0.5, 0.95]),
        "users": draw.choice([1, 7, 100, 400, 25_000, 3_000_000]),
        "duty_cycle": draw.choice([0.01, 0.2, 0.5, 1.0]),
        "target_tokens_per_s": draw.choice([0.0, 0.0, 5.0, 20.0, 80.0, 400.0]),
        "ttft_target_s": draw.choice([0.0, 0.0, 0.5, 2.0]),
        "concurrent_prefills": draw.choice([1, 1, 4]),
    }


def _raw_profile(draw: random.Random, index: int, gpus: list[str], models: list[str]) -> dict[str, Any]:
    tensor = draw.choice([1, 1, 2, 4, 8, 3])
    pipeline = draw.choice([1, 1, 1, 2, 4])
    data = draw.choice([1, 1, 1, 2, 4])
    replicas = draw.choice([1, 1, 2, 5])
    ranks = tensor * data
    expert = draw.choice([e for e in (1, 2, 4, 8, ranks) if ranks % e == 0])
    model: dict[str, Any] = {"preset": draw.choice(models)}
    if draw.random() < 0.35:
        model["weight_dtype"] = draw.choice(["bf16", "fp8", "int4", "nvfp4", "mxfp4", "fp16", "int8", "fp4"])
    if draw.random() < 0.3:
        model["kv_dtype"] = draw.choice(["bf16", "fp8", "fp16", "fp32", "int8", "fp4"])
    profile = {
        "name": f"case {index}",
        "hardware": {"gpu": draw.choice(gpus), "count": tensor * pipeline * data * replicas},
        "model": model,
        "parallelism": {"tensor": tensor, "pipeline": pipeline, "data": data, "expert": expert, "replicas": replicas},
        "workload": _workload(draw),
        "engine": _engine(draw),
    }
    if draw.random() < 0.15:
        profile["hardware"]["price_per_gpu_hour"] = draw.choice([0.0, 1.2, 9.0])
    return profile


def varied_profiles(count: int) -> list[Profile]:
    """``count`` valid profiles drawn from SEED (see the module docstring)."""
    draw = random.Random(SEED)
    gpus, models = sorted(gpu_catalog()), sorted(model_catalog())
    profiles: list[Profile] = []
    index = 0
    while len(profiles) < count:
        raw = _raw_profile(draw, index, gpus, models)
        index += 1
        try:
            profiles.append(Profile.model_validate(raw))
        except ValidationError:
            continue
    return profiles


def shipped() -> dict[str, Profile]:
    return {path.name: load_profile(path) for path in shipped_profiles()}


def golden_data() -> dict[str, Any]:
    """What tests/data/plan_golden.json holds, computed by the code as it stands."""
    profiles = varied_profiles(FULL_CASES + DIGEST_CASES)
    return {
        "about": "plan_to_dict of every shipped profile and of tests/plan_cases.py's varied profiles, floats to 12 "
                 "significant digits (the first FULL_CASES whole, the rest as sha256 digests of sorted-key JSON). "
                 "Regenerate only when figures change on purpose: python tests/plan_cases.py --write",
        "seed": SEED,
        "shipped": {name: rounded_plan(profile) for name, profile in shipped().items()},
        "varied": [rounded_plan(profile) for profile in profiles[:FULL_CASES]],
        "varied_digests": [digest(rounded_plan(profile)) for profile in profiles[FULL_CASES:]],
    }


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python tests/plan_cases.py --write  (rewrites tests/data/plan_golden.json)")
    GOLDEN.write_text(json.dumps(golden_data(), separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size:,} bytes)")
