"""Remedies a user can act on when a plan cannot run: a shape that exists, a context that fits.

A shape is tensor x pipeline GPUs per replica that the engine accepts (engines/rules.py) and whose
memory would hold the weights and one full-context request. Per GPU, the weights divide by the
GPUs of a replica, the KV cache per token by the tensor ranks (until the KV heads run out; an MLA
latent never divides) and by the pipeline stages (each holds its layers), while activations and
overhead stay (docs/design/physics.md, "Memory per GPU" and "Parallelism"). These are estimates from
the plan's own figures; tests/test_remedies.py plans every suggestion again and checks that it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from ..engines.rules import valid_tensor_sizes
from ..profile.schema import Profile

# The largest tensor-parallel group a remedy proposes: one NVLink/Infinity Fabric node of 8 GPUs,
# unless the profile already uses more (an NVL72 rack, say).
NODE_GPUS = 8
MAX_REPLICA_GPUS = 256
MARGIN = 1.05


@dataclass(frozen=True, slots=True)
class Shape:
    """A parallel shape: tensor x pipeline GPUs per replica."""

    tensor: int
    pipeline: int

    @property
    def gpus(self) -> int:
        return self.tensor * self.pipeline


def shape_words(gpus: int, tensor: int, pipeline: int, data: int, gpu_name: str | None = None) -> str:
    """A replica's shape in words: "8 × NVIDIA H100 SXM5 80GB per replica (TP 4 × DP 2)", or "8 GPUs (TP 4 × DP 2)"
    without a GPU name; pipeline and data ranks are named when there are more than one. ``gpus`` counts them all."""
    split = " × ".join(part for part in (f"TP {tensor}", f"PP {pipeline}" if pipeline > 1 else "",
                                         f"DP {data}" if data > 1 else "") if part)
    return f"{gpus} GPUs ({split})" if gpu_name is None else f"{gpus} × {gpu_name} per replica ({split})"


def _kv_scale(profile: Profile, tensor: int) -> float:
    """KV bytes per token per GPU at ``tensor`` ranks, relative to the profile's tensor size."""
    model = profile.model
    if model.attention == "mla":
        return 1.0
    heads = model.kv_heads_or_default
    return max(1.0, heads / tensor) / max(1.0, heads / profile.parallelism.tensor)


def _stage_share(layers: int, pipeline: int) -> float:
    """The busiest pipeline stage's share of the layers (vLLM splits them as evenly as it can)."""
    return ceil(layers / pipeline) / layers


def candidate_shapes(profile: Profile) -> list[Shape]:
    """Shapes a deployment would try, as engineers do: a wider tensor split within one node first (the
    sizes that split the model evenly), then pipeline stages across nodes at the widest such split."""
    par, model = profile.parallelism, profile.model
    tensors = valid_tensor_sizes(model, max(NODE_GPUS, par.tensor))
    widest = max(tensors)
    shapes = [Shape(tensor, 1) for tensor in tensors]
    shapes += [Shape(widest, pipeline) for pipeline in range(2, model.layers + 1)
               if widest * pipeline * par.data <= MAX_REPLICA_GPUS]
    return shapes


def shape_that_runs(profile: Profile, weights: float, fixed: float, usable: float, request_kv: float) -> Shape | None:
    """The first shape of ``candidate_shapes`` with more GPUs than now whose busiest GPU would hold its
    share of the weights, the fixed memory and one request's KV cache (``request_kv`` bytes per GPU now),
    with a 5% margin for what the estimate leaves out (embeddings on the first and last stage); None when
    nothing up to ``MAX_REPLICA_GPUS`` would."""
    par, layers = profile.parallelism, profile.model.layers
    now = par.tensor, _stage_share(layers, par.pipeline)
    for shape in candidate_shapes(profile):
        if shape.gpus <= par.tensor * par.pipeline:
            continue
        share = (now[0] / shape.tensor) * _stage_share(layers, shape.pipeline) / now[1]
        kv = request_kv * _kv_scale(profile, shape.tensor) * _stage_share(layers, shape.pipeline) / now[1]
        if (weights * share + fixed + kv) * MARGIN < usable:
            return shape
    return None


def longest_context_that_fits(kv_budget: float, full_per_token: float, sliding_per_token: float, window: int | None,
                              block_tokens: int) -> int:
    """The longest request (tokens, a whole number of blocks) whose KV cache fits in ``kv_budget`` bytes:
    full-attention layers hold every token, sliding layers at most their window."""
    if kv_budget <= 0:
        return 0
    if full_per_token + sliding_per_token <= 0:
        return 10**9  # no KV per token at all (no attention layers, kv_layers = 0): any length fits
    held_by_window = sliding_per_token * (window or 0)
    if window is None or full_per_token * window + sliding_per_token * window >= kv_budget:
        tokens = kv_budget / (full_per_token + sliding_per_token)
    elif full_per_token == 0:
        return 10**9  # only windows: any length fits once one window does
    else:
        tokens = (kv_budget - held_by_window) / full_per_token
    return int(tokens // block_tokens) * block_tokens
