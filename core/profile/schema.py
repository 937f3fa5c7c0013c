"""The profile: one deployment what-if (hardware, model, parallelism, workload, engine, cost).

Schema: docs/design/interfaces.md, "Profile file". A ``gpu = "id"`` or ``preset = "id"`` pulls
the catalog entry and any field given beside it overrides the catalog value; the resolved profile
holds every value, so saving it writes the whole effective what-if.
"""

from __future__ import annotations

import re
from math import isclose
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from ..engines import sglang, trtllm
from ..engines.vllm import DEFAULT_VLLM_VERSION, VERSION_PATTERN, default_gpu_memory_utilization
from ..errors import ProfileError
from ..specs.catalog import gpu_entry, model_entry
from ..specs.specs import FrozenModel, GpuSpec, ModelSpec, zero_or_at_least
from ..untrusted import excerpt

SCHEMA_VERSION = 1
# Practical floors (docs/design/hostile-input.md, "Lower bounds"): no real deployment goes below them, and
# no subnormal reaches the physics.
MIN_DUTY_CYCLE = 1e-4
MIN_UTILIZATION = 0.01
# [engine] values a calibration may set (Engine.calibrated records them as set).
CALIBRATABLE = ("mbu", "mfu", "speed_scale", "step_overhead_ms", "step_overhead_per_sequence_us", "activation_gib",
                "overhead_gib")
ENGINE_NAMES = ("vllm", "sglang", "trtllm", "generic")
DEFAULT_VERSIONS = {"vllm": DEFAULT_VLLM_VERSION, "sglang": sglang.DEFAULT_SGLANG_VERSION,
                    "trtllm": trtllm.DEFAULT_TRTLLM_VERSION, "generic": DEFAULT_VLLM_VERSION}
VERSION_PATTERNS = {"vllm": VERSION_PATTERN, "generic": VERSION_PATTERN, "sglang": sglang.SGLANG_VERSION_PATTERN,
                    "trtllm": trtllm.TRTLLM_VERSION_PATTERN}
VERSION_EXAMPLES = {"vllm": "0.11 or 0.11.2", "generic": "0.11 or 0.11.2", "sglang": "0.5.9 or 0.5.6.post2",
                    "trtllm": "1.2.0 or 1.2.0rc6.post2"}
ENGINE_LABELS = {"vllm": "vLLM", "generic": "vLLM", "sglang": "SGLang", "trtllm": "TensorRT-LLM"}


def _merged_over_catalog(data: Any, id_key: str, lookup) -> Any:
    """Catalog entry first, the user's fields on top (tflops merged key by key)."""
    if not isinstance(data, dict) or not data.get(id_key):
        return data
    if not isinstance(data[id_key], str):
        raise ValueError(f"{id_key} must be a catalog id (a string), got {excerpt(data[id_key])}")
    base = dict(lookup(data[id_key]))
    merged = {**base, **data}
    if isinstance(base.get("tflops"), dict) and isinstance(data.get("tflops"), dict):
        merged["tflops"] = {**base["tflops"], **data["tflops"]}
    return merged


def default_memory_fraction(engine: str, version: str | None, memory_gib: float | None, tensor: int = 1,
                            pipeline: int = 1, data: int = 1) -> float:
    """The memory fraction an engine takes when the profile names none: vLLM's by version (0.92 from 0.21),
    TensorRT-LLM's 0.9, SGLang's from the GPU's memory, the parallelism and the version (core/engines/sglang.py;
    0.88, SGLang's own fallback, where the memory is not known)."""
    if engine == "trtllm":
        return trtllm.DEFAULT_FREE_GPU_MEMORY_FRACTION
    if engine == "sglang":
        return 0.88 if memory_gib is None else sglang.default_mem_fraction_static(memory_gib, tensor, pipeline, data,
                                                                                  version)
    return default_gpu_memory_utilization(version or DEFAULT_VERSIONS.get(engine, DEFAULT_VLLM_VERSION))


def _hardware_memory_gib(hardware: Any) -> float | None:
    """The GPU memory a raw [hardware] section gives, directly or through its catalog id; None if unknown."""
    if not isinstance(hardware, dict):
        return None
    memory = hardware.get("memory_gib")
    if memory is None and isinstance(hardware.get("gpu"), str):
        try:
            memory = gpu_entry(hardware["gpu"]).get("memory_gib")
        except (ProfileError, ValueError):
            return None
    return float(memory) if isinstance(memory, int | float) and not isinstance(memory, bool) else None


def _preset_weight_dtype(preset: str) -> Any:
    try:
        return model_entry(preset).get("weight_dtype", "bf16")
    except (ProfileError, ValueError):
        return None


class Hardware(GpuSpec):
    """The GPUs of the deployment: a catalog GPU (``gpu``) or custom fields, and how many."""

    gpu: str | None = Field(default=None, max_length=80, description="catalog id")
    count: int = Field(default=1, ge=1, le=1_000_000, description="GPUs in total")

    @model_validator(mode="before")
    @classmethod
    def _from_catalog(cls, data: Any) -> Any:
        return _merged_over_catalog(data, "gpu", gpu_entry)


class Model(ModelSpec):
    """The model served: a catalog preset (``preset``) or custom fields."""

    preset: str | None = Field(default=None, max_length=80, description="catalog id")

    @model_validator(mode="before")
    @classmethod
    def _from_catalog(cls, data: Any) -> Any:
        return _merged_over_catalog(data, "preset", model_entry)


Degree = Field(default=1, ge=1, le=4096)


class Parallelism(FrozenModel):
    """How the GPUs split the model (physics.md, "Parallelism")."""

    tensor: int = Degree
    pipeline: int = Degree
    data: int = Field(default=1, ge=1, le=4096, description="attention data-parallel ranks")
    expert: int = Field(default=1, ge=1, le=4096, description="expert-parallel ranks (overlap tensor x data)")
    replicas: int = Field(default=1, ge=1, le=1_000_000)

    @property
    def gpus_per_replica(self) -> int:
        return self.tensor * self.pipeline * self.data

    @property
    def gpus(self) -> int:
        return self.gpus_per_replica * self.replicas


class Workload(FrozenModel):
    """What the users ask of the deployment."""

    max_context_tokens: int = Field(default=32_768, ge=1, le=100_000_000)
    avg_context_tokens: int = Field(default=8_192, ge=1, le=100_000_000, description="an active sequence on average")
    prompt_tokens: int = Field(default=2_000, ge=0, le=100_000_000, description="per request")
    output_tokens: int = Field(default=500, ge=0, le=100_000_000, description="per request")
    prefix_cache_hit: float = Field(default=0.0, ge=0, lt=1, description="fraction of the prompt already cached")
    users: int = Field(default=100, ge=1, le=1_000_000_000)
    duty_cycle: float = Field(default=1.0, ge=MIN_DUTY_CYCLE, le=1,
                              description="fraction of time a user has a request in flight; at least 0.0001 "
                                          "(0.36 s an hour)")
    target_tokens_per_s: float = Field(default=0.0, ge=0, le=1e6,
                                       description="per user, decode; 0 = no target, else at least 0.01")
    ttft_target_s: float = Field(default=0.0, ge=0, le=1e6, description="0 = no target, else at least 0.001")
    concurrent_prefills: int = Field(default=1, ge=1, le=1_000_000, description="prompts sharing the prefill compute")

    @field_validator("target_tokens_per_s")
    @classmethod
    def _speed_target(cls, value: float) -> float:
        return zero_or_at_least(value, 0.01, "tokens/s (0 = no target)")

    @field_validator("ttft_target_s")
    @classmethod
    def _ttft_target(cls, value: float) -> float:
        return zero_or_at_least(value, 0.001, "s (0 = no target)")

    @model_validator(mode="after")
    def _contexts_ordered(self) -> Workload:
        if self.avg_context_tokens > self.max_context_tokens:
            raise ValueError(
                f"avg_context_tokens ({self.avg_context_tokens}) cannot exceed max_context_tokens "
                f"({self.max_context_tokens})"
            )
        return self


class Engine(FrozenModel):
    """Inference-engine settings and achieved efficiencies.

    ``name = "vllm"`` (the default) sizes activations, non-torch memory, CUDA graphs and KV pages the
    way vLLM ``version`` does (core/engines/vllm.py); ``"sglang"`` and ``"trtllm"`` follow those engines'
    memory fractions and defaults (core/engines/sglang.py, trtllm.py); ``"generic"`` uses physics.md's
    empirical anchors. Speeds come from the performance model fitted on measured load tests
    (``speed = "fitted"``, core/engines/performance.py) or from the bare roofline at ``mbu``/``mfu``
    (``speed = "roofline"``).
    """

    name: Literal["vllm", "sglang", "trtllm", "generic"] = Field(
        default="vllm", description="the serving engine: its memory accounting, scheduler defaults and fitted speed")
    version: str = Field(default=DEFAULT_VLLM_VERSION, max_length=24,
                         description="the engine's release, e.g. vLLM 0.11.2, SGLang 0.5.9, TensorRT-LLM 1.2.0")
    gpu_memory_utilization: float = Field(
        default=0.9, ge=MIN_UTILIZATION, le=1,
        description="the engine's memory fraction (vLLM gpu_memory_utilization, SGLang mem_fraction_static, "
                    "TensorRT-LLM free_gpu_memory_fraction), at least 0.01; omit for the engine's default")
    speed: Literal["fitted", "roofline"] = Field(
        default="fitted", description="fitted: the performance model fitted on measured load tests; roofline: "
                                      "peak spec at mbu/mfu plus the calibrated engine time")
    speed_scale: float = Field(default=1.0, ge=MIN_UTILIZATION, le=100,
                               description="multiplies the fitted step time (1: as fitted; set by calibration); at "
                                           "least 0.01")
    activation_gib: float | None = Field(default=None, ge=0, le=4096,
                                         description="per GPU; omit for the engine's estimate")
    overhead_gib: float | None = Field(default=None, ge=0, le=4096,
                                       description="per GPU; omit for the engine's estimate")
    max_num_batched_tokens: int | None = Field(default=None, ge=1, le=10_000_000,
                                               description="tokens per engine step; omit for vLLM's default")
    max_num_seqs: int | None = Field(default=None, ge=1, le=1_000_000,
                                     description="sequences per engine step; omit for vLLM's default")
    mixed_batches: bool | None = Field(
        default=None,
        description="a step that prefills also carries the running decodes (SGLang --enable-mixed-chunk, off by "
                    "default; vLLM and TensorRT-LLM always mix); omit for the engine's default")
    usage: Literal["serve", "llm"] = Field(default="serve", description="vllm serve, or the offline LLM class")
    cuda_graphs: bool = Field(default=True, description="false = --enforce-eager")
    block_tokens: int | None = Field(default=None, ge=1, le=65_536,
                                     description="paged-attention block; omit for vLLM's (16; 64 for MLA on Hopper)")
    sampler: Literal["native", "flashinfer"] | None = Field(
        default=None,
        description="top-k/top-p kernel of the profile run's sampler pass; omit for the version's default")
    mbu: float = Field(default=1.0, ge=MIN_UTILIZATION, le=1,
                       description="memory-bandwidth utilization achieved; at least 0.01")
    mfu: float = Field(default=1.0, ge=MIN_UTILIZATION, le=1,
                       description="model-FLOPs utilization achieved; at least 0.01")
    step_overhead_ms: float = Field(default=0.0, ge=0, le=10_000,
                                    description="engine time per decode step beyond the roofline (calibrated)")
    step_overhead_per_sequence_us: float = Field(
        default=0.0, ge=0, le=100_000,
        description="engine time per step for each running sequence, beyond the roofline (calibrated from two or "
                    "more load-test points)")
    collective_latency_us: float | None = Field(
        default=None, ge=0, le=1e5, description="per all-reduce or stage send; omit for the empirical default")
    calibration: str = Field(default="", max_length=2000, description="where calibrated values came from")
    calibrated: dict[str, float] = Field(
        default_factory=dict,
        description="the [engine] values a calibration set, as set: one edited since no longer counts as calibrated")

    @field_validator("calibrated")
    @classmethod
    def _calibratable(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(CALIBRATABLE))
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not calibrated values; use {', '.join(CALIBRATABLE)}")
        return value

    def is_calibrated(self, name: str) -> bool:
        """Whether ``name`` still holds the value a calibration set (an edit since makes it the user's)."""
        if name not in self.calibrated:
            return False
        current = getattr(self, name)
        return current is not None and isclose(current, self.calibrated[name], rel_tol=1e-9, abs_tol=1e-12)

    @field_validator("version")
    @classmethod
    def _version_number(cls, value: str, info: ValidationInfo) -> str:
        name = info.data.get("name", "vllm")
        if not re.match(VERSION_PATTERNS.get(name, VERSION_PATTERN), value.strip()):
            raise ValueError(f"{value!r} is not a {ENGINE_LABELS.get(name, name)} release number; use one like "
                             f"{VERSION_EXAMPLES.get(name, '0.11')}")
        return value.strip()

    @model_validator(mode="before")
    @classmethod
    def _engine_defaults(cls, data: Any) -> Any:
        """An omitted version is the engine's newest checked release; an omitted memory fraction its default:
        vLLM's by version (0.92 from 0.21), TensorRT-LLM's 0.9. SGLang's depends on the GPU, which the
        profile knows (``Profile._sglang_memory_fraction``); 0.88 here is SGLang's own fallback."""
        if not isinstance(data, dict) or data.get("name", "vllm") not in DEFAULT_VERSIONS:
            return data  # a bad name is refused by its own validator
        name = data.get("name", "vllm")
        if "version" not in data:
            data = {**data, "version": DEFAULT_VERSIONS[name]}
        if "gpu_memory_utilization" not in data:
            data = {**data, "gpu_memory_utilization": default_memory_fraction(name, str(data["version"]), None)}
        return data


class Cost(FrozenModel):
    """How money is counted."""

    hours_per_month: float = Field(default=730.0, ge=1, le=744, description="at least 1")
    lifetime_years: float = Field(default=4.0, ge=0.1, le=50, description="at least 0.1 (five weeks)")
    power_price_kwh: float = Field(default=0.10, ge=0, le=100)
    pue: float = Field(default=1.3, ge=1, le=5)


class Profile(FrozenModel):
    """A whole what-if. ``plan(profile)`` turns it into numbers."""

    schema_: int = Field(default=SCHEMA_VERSION, alias="schema", ge=1)
    name: str = Field(default="untitled", max_length=200)
    named: bool = Field(default=False, description="a user named it: the name stays when the model, GPUs or "
                                                   "precision change (else it follows them)")
    description: str = Field(default="", max_length=4000)
    hardware: Hardware
    model: Model
    parallelism: Parallelism = Field(default_factory=Parallelism)  # a factory: no validator built at import
    workload: Workload = Field(default_factory=Workload)
    engine: Engine = Field(default_factory=Engine)
    cost: Cost = Field(default_factory=Cost)

    model_config = FrozenModel.model_config | {"populate_by_name": True, "protected_namespaces": ()}

    @model_validator(mode="before")
    @classmethod
    def _fill_count_or_replicas(cls, data: Any) -> Any:
        """GPU count and replicas imply each other: fill whichever the file left out."""
        if not isinstance(data, dict):
            return data
        hardware, parallel = data.get("hardware"), data.get("parallelism") or {}
        if not isinstance(hardware, dict) or not isinstance(parallel, dict):
            return data
        degrees = [parallel.get(key, 1) for key in ("tensor", "pipeline", "data")]
        if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in degrees):
            return data
        per_replica = degrees[0] * degrees[1] * degrees[2]
        count = hardware.get("count")
        if count is None:
            replicas = parallel.get("replicas", 1)
            if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas >= 1:
                data = {**data, "hardware": {**hardware, "count": per_replica * replicas}}
        elif ("replicas" not in parallel and isinstance(count, int) and count % per_replica == 0
              and count >= per_replica):
            data = {**data, "parallelism": {**parallel, "replicas": count // per_replica}}
        return data

    @model_validator(mode="before")
    @classmethod
    def _engine_dependent_defaults(cls, data: Any) -> Any:
        """Defaults that depend on the engine and the rest of the profile: SGLang's mem_fraction_static from
        the GPU's memory and the parallelism (core/engines/sglang.py), and TensorRT-LLM's fp8 KV cache for
        fp8 or fp4 weights when the [model] section names no KV dtype (core/engines/trtllm.py)."""
        if not isinstance(data, dict) or not isinstance(data.get("engine"), dict):
            return data
        engine, name = data["engine"], data["engine"].get("name")
        if name == "sglang" and "gpu_memory_utilization" not in engine:
            memory = _hardware_memory_gib(data.get("hardware"))
            parallel = data.get("parallelism")
            parallel = parallel if isinstance(parallel, dict) else {}
            degrees = [parallel.get(key, 1) for key in ("tensor", "pipeline", "data")]
            if memory is not None and all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in degrees):
                version = engine.get("version")
                fraction = default_memory_fraction(name, version if isinstance(version, str) else None, memory,
                                                   degrees[0], degrees[1], degrees[2])
                data = {**data, "engine": {**engine, "gpu_memory_utilization": fraction}}
        model = data.get("model")
        if name == "trtllm" and isinstance(model, dict) and "kv_dtype" not in model:
            weights = model.get("weight_dtype")
            if weights is None and isinstance(model.get("preset"), str):
                weights = _preset_weight_dtype(model["preset"])
            if weights in {str(p.value) for p in trtllm.QUANTIZED_KV_FP8}:
                data = {**data, "model": {**model, "kv_dtype": "fp8"}}
        return data

    @model_validator(mode="after")
    def _parallelism_fits(self) -> Profile:
        par, model = self.parallelism, self.model
        if self.hardware.count != par.gpus:
            raise ValueError(
                f"hardware.count is {self.hardware.count} but parallelism gives tensor {par.tensor} x pipeline "
                f"{par.pipeline} x data {par.data} x replicas {par.replicas} = {par.gpus} GPUs; make them equal"
            )
        if par.pipeline > model.layers:
            raise ValueError(f"parallelism.pipeline ({par.pipeline}) cannot exceed the model's layers ({model.layers})")
        ranks = par.tensor * par.data
        if par.expert > ranks or ranks % par.expert:
            raise ValueError(
                f"parallelism.expert ({par.expert}) must divide tensor x data ({ranks}): expert ranks are those same "
                "GPUs"
            )
        return self
