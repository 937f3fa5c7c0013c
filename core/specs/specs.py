"""Hardware and model specs: frozen pydantic models whose field names carry their units.

A GPU spec and a model spec are what a catalog entry holds; ``profile.py`` wraps them with the
catalog id and the deployment's own fields. Units follow docs/design/physics.md, "Units":
memory in GiB, bandwidth in decimal TB/s, compute in dense TFLOP/s, parameters in billions.
"""

from __future__ import annotations

from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ..untrusted import has_control_characters
from .precisions import COMPUTE_PATH, FALLBACK_PATHS, Precision

GIB = 2**30


def _scalar_kinds(annotation: Any) -> set[type]:
    """The scalar types a field annotation admits (``int | None`` -> {int, NoneType}); empty for others."""
    members = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    return {member for member in members if isinstance(member, type)}


NUMBER_KINDS = frozenset((int, float, bool))
# (model class, field name) -> the number kinds the field admits. A profile validates ~120 fields, each through
# the check below: reading the annotation afresh every time cost ~2M instructions a profile (pydantic's
# model_fields, typing's get_origin / get_args); a field's annotation never changes once its class is built.
_number_kinds: dict[tuple[type, str | None], frozenset[type]] = {}


def _field_number_kinds(cls: type[BaseModel], name: str | None) -> frozenset[type]:
    """The number kinds (int, float, bool) field ``name`` of ``cls`` admits; empty for other fields."""
    key = (cls, name)
    kinds = _number_kinds.get(key)
    if kinds is None:
        field = cls.model_fields.get(name or "")
        kinds = NUMBER_KINDS.intersection(_scalar_kinds(field.annotation)) if field is not None else frozenset()
        _number_kinds[key] = kinds
    return kinds


class FrozenModel(BaseModel):
    """Immutable, refuses unknown keys and non-finite numbers, and strict about numbers: a number must be a
    number (``count = "2"`` and ``users = true`` are refused, not read as 2 and 1; a whole number may stand
    for a float, a float never for a whole number), and a switch must be true or false (``1`` is not).
    Lists, tables and enum names keep pydantic's usual reading."""

    # defer_build: a model's validator is built when it first validates, not when its class is defined. The app
    # validates one Profile before its first frame (the sections inside it are part of that validator), so the
    # sections' and the catalog specs' own validators wait until a field is edited or a catalog is listed:
    # ~2.4% of the instructions to the first frame (bench/tui_start_instructions.py). The app's workers validate
    # too: pydantic builds a deferred model under a lock from 2.14 (pydantic/pydantic#13438), hence the floor
    # in pyproject.toml (before it, a model could be validated by its parent's validator while another thread
    # built it; tests/test_profile_io.py checks first builds from threads).
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, validate_default=True,
                              defer_build=True)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return value
        kinds = _number_kinds.get((cls, info.field_name))  # the cache read inline: this runs for every field
        if kinds is None:
            kinds = _field_number_kinds(cls, info.field_name)
        if not kinds:
            return value
        if bool in kinds:
            if not isinstance(value, bool):
                raise ValueError("must be true or false")
        elif isinstance(value, (bool, str)) or not isinstance(value, (int, float)):  # tuples: no union built a call
            raise ValueError("must be a whole number" if float not in kinds else "must be a number")
        elif isinstance(value, float) and float not in kinds:
            raise ValueError("must be a whole number")
        return value

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        """Text holds no terminal control: ESC/OSC sequences, C0 and C1 controls and bidirectional
        overrides are refused in every string field (tabs and newlines are allowed)."""
        if isinstance(value, str) and has_control_characters(value.replace("\n", "").replace("\t", "")):
            raise ValueError("control characters (ESC, C0/C1, bidirectional overrides) are not allowed in text")
        return value


def zero_or_at_least(value: float, floor: float, unit: str) -> float:
    """A field where 0 means "none" or "unknown": any other value must reach the practical ``floor``."""
    if 0 < value < floor:
        raise ValueError(f"use 0 or at least {floor:g} {unit}")
    return value


# Lower bounds: every positive quantity has a practical floor that no real deployment goes below, so a
# subnormal (5e-324) never reaches the physics, where 1/x overflows (docs/design/hostile-input.md).
MIN_TFLOPS = 0.01  # 10 GFLOP/s, below any accelerator's dense rate
PositiveTflops = Field(default=None, ge=MIN_TFLOPS, le=1e6, description=f"at least {MIN_TFLOPS} (10 GFLOP/s)")


class Tflops(FrozenModel):
    """Dense tensor-core TFLOP/s per GPU, by compute path. A missing key means no such path."""

    fp32: float | None = PositiveTflops
    tf32: float | None = PositiveTflops
    bf16: float | None = PositiveTflops
    fp16: float | None = PositiveTflops
    fp8: float | None = PositiveTflops
    int8: float | None = PositiveTflops
    fp6: float | None = PositiveTflops
    fp4: float | None = PositiveTflops

    @model_validator(mode="after")
    def _has_a_fallback_path(self) -> Tflops:
        if not any(getattr(self, path) for path in FALLBACK_PATHS):
            raise ValueError("give at least one of bf16, fp16 or fp32 (dense TFLOP/s), the path every engine can fall "
                             "back to")
        return self

    def compute_path(self, precision: Precision) -> str:
        """The path a precision computes on here: its own if the GPU has it, else 16-bit (physics.md)."""
        wanted = COMPUTE_PATH[precision]
        if getattr(self, wanted, None):
            return wanted
        return next(path for path in FALLBACK_PATHS if getattr(self, path))

    def flops_per_s(self, path: str) -> float:
        """Dense FLOP/s on one compute path (see ``compute_path``)."""
        return getattr(self, path) * 1e12


class GpuSpec(FrozenModel):
    """One GPU model, as a catalog entry or a custom card."""

    name: str = Field(default="custom GPU", min_length=1, max_length=120)
    vendor: str = Field(default="", max_length=40)
    architecture: str = Field(default="", max_length=40)
    memory_gib: float = Field(ge=0.25, le=4096, description="per GPU, as the driver reports it; at least 0.25")
    memory_reported: str = Field(default="", max_length=400)
    driver_reserved_gib: float | None = Field(
        default=None, ge=0, le=64,
        description="memory the driver keeps from CUDA: memory_gib less the total torch.cuda.mem_get_info reports, "
                    "which vLLM multiplies by gpu_memory_utilization; unset: 0.43 GiB")
    bandwidth_tb_s: float = Field(ge=0.001, le=1000, description="per GPU, decimal TB/s; at least 0.001 (1 GB/s)")
    tflops: Tflops
    interconnect: str = Field(default="", max_length=120)
    interconnect_gb_s: float = Field(default=0.0, ge=0, le=1e5,
                                     description="per GPU, one direction; 0 = unknown, else at least 0.1")
    tdp_w: float = Field(default=0.0, ge=0, le=1e5)
    price_per_gpu_hour: float = Field(default=0.0, ge=0, le=1e5, description="USD, rented")
    purchase_price: float = Field(default=0.0, ge=0, le=1e8, description="USD per GPU, owned")
    price_note: str = Field(default="", max_length=600)
    source: str = Field(default="", max_length=1200)
    notes: str = Field(default="", max_length=1200)

    @field_validator("interconnect_gb_s")
    @classmethod
    def _known_or_usable_link(cls, value: float) -> float:
        return zero_or_at_least(value, 0.1, "GB/s (0 = unknown)")

    @property
    def memory_bytes(self) -> float:
        return self.memory_gib * GIB

    @property
    def bandwidth_bytes_per_s(self) -> float:
        return self.bandwidth_tb_s * 1e12


Count = Field(default=None, ge=1, le=1_000_000)
MIN_PARAMS_B = 1e-6  # 1,000 parameters: smaller than any model worth planning (test models have ~100k)


class ModelSpec(FrozenModel):
    """A model architecture: enough to size weights and KV cache and count FLOPs."""

    name: str = Field(default="custom model", min_length=1, max_length=120)
    source: str = Field(default="", max_length=1200)
    params_b: float = Field(ge=MIN_PARAMS_B, le=1e5, description="total parameters, billions; at least 1e-6 (1,000)")
    active_params_b: float | None = Field(default=None, ge=MIN_PARAMS_B, le=1e5,
                                          description="per token; default params_b")
    expert_params_b: float | None = Field(default=None, ge=0, le=1e5, description="all routed experts, billions")
    layers: int = Field(ge=1, le=10_000)
    hidden_size: int = Field(ge=1, le=1_000_000)
    intermediate_size: int | None = Count
    vocab_size: int | None = Count
    attention_heads: int = Field(ge=1, le=100_000)
    kv_heads: int | None = Field(default=None, ge=1, le=100_000, description="default attention_heads (MHA)")
    head_dim: int | None = Field(default=None, ge=1, le=100_000, description="default hidden_size / attention_heads")
    attention: Literal["gqa", "mla"] = "gqa"
    kv_lora_rank: int | None = Count
    qk_rope_head_dim: int | None = Count
    qk_nope_head_dim: int | None = Count
    v_head_dim: int | None = Count
    q_lora_rank: int | None = Count
    sliding_window: int | None = Field(default=None, ge=1, le=100_000_000, description="tokens")
    sliding_window_layers: int = Field(default=0, ge=0, le=10_000, description="layers using the window")
    experts: int = Field(default=0, ge=0, le=100_000, description="routed experts per MoE layer; 0 = dense")
    experts_per_token: int = Field(default=0, ge=0, le=100_000)
    weight_dtype: Precision = Precision.bf16
    kv_dtype: Precision = Precision.bf16
    checkpoint_gib: float | None = Field(default=None, ge=1e-6, le=1e6,
                                         description="exact weight bytes from the safetensors headers, GiB; at "
                                                     "least 1e-6")
    checkpoint_weight_dtype: Precision | None = Field(default=None, description="the precision those bytes hold")
    unquantized_params_b: float | None = Field(
        default=None, ge=0, le=1e5,
        description="parameters a quantized checkpoint keeps at 16 bits (embeddings, output head, norms, routers and "
                    "the modules its quantization_config leaves out), billions; unset: all hold weight_dtype")
    max_context_tokens: int | None = Field(default=None, ge=1, le=100_000_000)
    published_params_b: float | None = Field(default=None, ge=MIN_PARAMS_B, le=1e5)
    notes: str = Field(default="", max_length=1200)
    # Hybrid and 2026 architectures (issue 13; docs/importing-models.md). All default to a plain stack.
    kv_layers: int | None = Field(default=None, ge=0, le=10_000,
                                  description="layers that keep a KV cache; unset: every layer")
    state_layers: int = Field(default=0, ge=0, le=10_000,
                              description="linear-attention / Mamba layers that keep a fixed state per sequence")
    state_bytes_per_layer: int = Field(default=0, ge=0, le=10**12,
                                       description="bytes of recurrent state one such layer keeps per sequence, TP 1")
    local_attention: Literal["sliding", "chunked"] = Field(
        default="sliding", description="how the windowed layers keep their KV: a sliding window or chunks (Llama 4)")
    global_kv_heads: int | None = Field(default=None, ge=1, le=100_000,
                                        description="full-attention layers' KV heads when unlike the others")
    global_head_dim: int | None = Field(default=None, ge=1, le=100_000,
                                        description="full-attention layers' head size when unlike the others")
    indexer_head_dim: int | None = Field(default=None, ge=1, le=100_000,
                                         description="sparse-attention indexer key size (DeepSeek-V3.2, GLM-5)")
    mtp_params_b: float | None = Field(default=None, ge=0, le=1e5,
                                       description="multi-token-prediction layers, billions; not in params_b")
    mtp_on_gpu: bool = Field(default=False, description="hold the MTP layers too: vLLM loads them only for MTP "
                                                        "speculative decoding (--speculative-config method=mtp)")
    vision_params_b: float | None = Field(default=None, ge=0, le=1e5,
                                          description="vision tower, billions; held on the GPU, not in params_b")
    unmodelled: tuple[str, ...] = Field(default=(), max_length=64,
                                        description="config fields that can change parameters, KV or state and "
                                                    "were not modelled")

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        if self.active_params_b is not None and self.active_params_b > self.params_b:
            raise ValueError(f"active_params_b ({self.active_params_b}) cannot exceed params_b ({self.params_b})")
        if self.expert_params_b is not None and self.expert_params_b >= self.params_b:
            raise ValueError(f"expert_params_b ({self.expert_params_b}) must be below params_b ({self.params_b})")
        if self.kv_heads is not None and self.kv_heads > self.attention_heads:
            raise ValueError(f"kv_heads ({self.kv_heads}) cannot exceed attention_heads ({self.attention_heads})")
        if self.attention == "mla" and (self.kv_lora_rank is None or self.qk_rope_head_dim is None):
            raise ValueError('attention = "mla" needs kv_lora_rank and qk_rope_head_dim')
        if self.sliding_window_layers > self.layers:
            raise ValueError(f"sliding_window_layers ({self.sliding_window_layers}) cannot exceed layers "
                             f"({self.layers})")
        if self.sliding_window_layers and self.sliding_window is None:
            raise ValueError("sliding_window_layers is set but sliding_window (tokens) is not")
        if bool(self.experts) != bool(self.experts_per_token):
            raise ValueError("experts and experts_per_token go together: both 0 (dense) or both set (MoE)")
        if self.experts_per_token > self.experts:
            raise ValueError(f"experts_per_token ({self.experts_per_token}) cannot exceed experts ({self.experts})")
        quantizable = self.params_b - (self.expert_params_b or 0.0)
        if self.unquantized_params_b is not None and self.unquantized_params_b > quantizable * (1 + 1e-9):
            raise ValueError(f"unquantized_params_b ({self.unquantized_params_b}) cannot exceed the parameters outside "
                             f"the routed experts ({quantizable:g}B)")
        if self.expert_params_b is not None and not self.experts:
            raise ValueError("expert_params_b is set but experts is 0 (a dense model has no routed experts)")
        return self._consistent_layers()

    def _consistent_layers(self) -> ModelSpec:
        """The layer kinds add up: KV layers and state layers within ``layers``, windows within KV layers."""
        if self.kv_layers is not None and self.kv_layers + self.state_layers > self.layers:
            raise ValueError(f"kv_layers ({self.kv_layers}) + state_layers ({self.state_layers}) cannot exceed "
                             f"layers ({self.layers})")
        if self.sliding_window_layers > self.kv_layer_count:
            raise ValueError(f"sliding_window_layers ({self.sliding_window_layers}) cannot exceed the layers that "
                             f"keep a KV cache ({self.kv_layer_count})")
        if bool(self.state_layers) != bool(self.state_bytes_per_layer):
            raise ValueError("state_layers and state_bytes_per_layer go together: both 0 or both set")
        if self.global_kv_heads is not None and self.global_kv_heads > self.attention_heads:
            raise ValueError(f"global_kv_heads ({self.global_kv_heads}) cannot exceed attention_heads "
                             f"({self.attention_heads})")
        return self

    # Derived views, in base units. Properties, not stored fields, so a profile stays what the user wrote.
    @property
    def is_moe(self) -> bool:
        return self.experts > 0

    @property
    def params(self) -> float:
        return self.params_b * 1e9

    @property
    def active_params(self) -> float:
        return (self.active_params_b if self.active_params_b is not None else self.params_b) * 1e9

    @property
    def kv_heads_or_default(self) -> int:
        return self.kv_heads if self.kv_heads is not None else self.attention_heads

    @property
    def head_dim_or_default(self) -> int:
        return self.head_dim if self.head_dim is not None else max(1, self.hidden_size // self.attention_heads)

    @property
    def uses_checkpoint_bytes(self) -> bool:
        """The exact checkpoint size applies while the weights keep the checkpoint's precision."""
        return self.checkpoint_gib is not None and self.checkpoint_weight_dtype == self.weight_dtype

    @property
    def mla_dims(self) -> tuple[int, int]:
        """(kv_lora_rank, qk_rope_head_dim) of a latent-attention model; the validator makes both present."""
        if self.kv_lora_rank is None or self.qk_rope_head_dim is None:
            raise ValueError('only attention = "mla" has a latent (kv_lora_rank, qk_rope_head_dim)')
        return self.kv_lora_rank, self.qk_rope_head_dim

    @property
    def full_attention_layers(self) -> int:
        return self.kv_layer_count - self.sliding_window_layers

    @property
    def kv_layer_count(self) -> int:
        """Layers that keep a KV cache: ``kv_layers``, else every layer not holding a recurrent state."""
        return self.kv_layers if self.kv_layers is not None else self.layers - self.state_layers

    @property
    def global_kv_heads_or_default(self) -> int:
        return self.global_kv_heads if self.global_kv_heads is not None else self.kv_heads_or_default

    @property
    def global_head_dim_or_default(self) -> int:
        return self.global_head_dim if self.global_head_dim is not None else self.head_dim_or_default
