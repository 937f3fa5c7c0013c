"""From a layer plan to the [model] fields that size the KV cache and the recurrent state.

KV only on attention layers (sliding or chunked ones capped by their window); a fixed state per sequence
on linear-attention and Mamba layers, sized as vLLM sizes it (``mixers.py``); full-attention layers with
their own KV layout (Gemma 4's ``global_head_dim`` / ``num_global_key_value_heads``); the sparse-attention
indexer's key cache (``index_head_dim``). docs/importing-models.md lists what each family sets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .layer_plan import Layer
from .mixers import gated_delta_net_state_bytes, mamba2_state_bytes, state_dtype_text


def window_tokens(config: dict[str, Any]) -> int | None:
    """The local layers' window: Llama 4's attention_chunk_size, sliding_window, or sliding_window_size."""
    for key in ("attention_chunk_size", "sliding_window", "sliding_window_size"):
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


@dataclass(frozen=True)
class PlanSummary:
    """What the KV and state arithmetic needs from a layer plan."""

    layers: int
    kv_heads: int
    head_dim: int
    kv_layers: int
    local_layers: int
    window: int | None
    chunked: bool
    state_layers: int
    state_bytes_per_layer: int
    global_kv_heads: int | None
    global_head_dim: int | None
    indexer_head_dim: int | None
    notes: tuple[str, ...]

    def hybrid_fields(self) -> dict[str, Any]:
        """The [model] keys that differ from a plain stack (none for a plain stack)."""
        fields: dict[str, Any] = {}
        if self.local_layers and self.window:
            fields.update(sliding_window=self.window, sliding_window_layers=self.local_layers)
            if self.chunked:
                fields["local_attention"] = "chunked"
        if self.kv_layers + self.state_layers != self.layers:
            fields["kv_layers"] = self.kv_layers
        if self.state_layers:
            fields.update(state_layers=self.state_layers, state_bytes_per_layer=self.state_bytes_per_layer)
        optional = {"global_kv_heads": self.global_kv_heads, "global_head_dim": self.global_head_dim,
                    "indexer_head_dim": self.indexer_head_dim}
        fields.update({key: value for key, value in optional.items() if value is not None})
        return fields


def _state(c: dict[str, Any], plan: list[Layer]) -> tuple[int, int, str]:
    """(state layers, bytes per layer at TP 1, a note naming the dtypes)."""
    linear = sum(1 for layer in plan if layer.mixer == "linear")
    mamba = sum(1 for layer in plan if layer.mixer == "mamba")
    if linear and mamba:
        raise ValueError("both Gated DeltaNet and Mamba layers")
    if linear:
        return linear, gated_delta_net_state_bytes(c), state_dtype_text(c, "linear")
    if mamba:
        return mamba, mamba2_state_bytes(c), state_dtype_text(c, "mamba")
    return 0, 0, ""


def summarize(c: dict[str, Any], plan: list[Layer], kv_heads: int, head_dim: int) -> PlanSummary:
    """The KV and state layout of a layer plan (see the module docstring)."""
    attention = [layer for layer in plan if layer.mixer == "attention"]
    notes: list[str] = []
    window = window_tokens(c)
    local = sum(1 for layer in attention if layer.local) if window else 0
    layer_heads = sorted({layer.kv_heads for layer in attention if layer.kv_heads})
    if len(layer_heads) > 1:
        notes.append(f"KV heads differ by layer ({layer_heads}): KV sized with the largest")
    if layer_heads:
        kv_heads = layer_heads[-1]
    global_heads = c.get("num_global_key_value_heads")
    global_dim = c.get("global_head_dim")
    full_heads = global_heads if isinstance(global_heads, int) and global_heads != kv_heads else None
    full_dim = global_dim if isinstance(global_dim, int) and global_dim != head_dim else None
    state_layers, state_bytes, dtypes = _state(c, plan)
    if state_layers:
        notes.append(f"{state_layers} recurrent layers keep {state_bytes:,} B of state per sequence each "
                     f"({dtypes}); KV on the {len(attention)} attention layers only")
    indexer = c.get("index_head_dim") if c.get("index_n_heads") and c.get("kv_lora_rank") else None
    return PlanSummary(layers=len(plan), kv_heads=kv_heads, head_dim=head_dim, kv_layers=len(attention),
                       local_layers=local, window=window if local else None,
                       chunked=bool(local and c.get("attention_chunk_size")), state_layers=state_layers,
                       state_bytes_per_layer=state_bytes, global_kv_heads=full_heads, global_head_dim=full_dim,
                       indexer_head_dim=indexer, notes=tuple(notes))
