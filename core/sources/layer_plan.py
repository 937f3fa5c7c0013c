"""What each decoder layer of a config.json is: its token mixer and its feed-forward block.

A config states its layer kinds in one of several dialects, read here into one list of ``Layer``:

- full vs sliding/linear attention: ``layer_types`` (Qwen3.5/3.6, Gemma 3/4, gpt-oss, Step),
  ``full_attention_interval``, ``sliding_window_pattern``, MiMo-V2's ``hybrid_layer_pattern`` (1 = sliding),
  MiniMax's ``attn_type_list`` (1 = full softmax attention, 0 = lightning linear attention);
- Mamba-2 hybrids: ``hybrid_override_pattern`` (Nemotron-H: ``M`` Mamba, ``*`` attention, ``-`` MLP,
  ``E`` MoE) or ``layers_block_type`` (``mamba``/``attention``/``mlp``/``moe``), one block per entry;
- heterogeneous layers: DeciLM/Nemotron-NAS ``block_configs`` (per-layer KV heads, FFN width, no-ops);
- which layers are MoE: ``decoder_sparse_step`` + ``mlp_only_layers`` (Qwen-MoE),
  ``first_k_dense_replace`` + ``moe_layer_freq`` as a number or a per-layer list (DeepSeek, GLM, MiMo-V2,
  MiniMax-M3), ``interleave_moe_layer_step`` / ``moe_layers`` (Llama 4).

Refusals name the family and the field (``UnmodelledArchitecture``). Sources: the HF transformers
modelling files of each family (qwen3_5, qwen3_next, gemma4, llama4, nemotron_h) and vLLM's
(vllm-project/vllm, vllm/model_executor/models/nemotron_h.py, nemotron_nas.py, llama4.py, minimax_m2.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Mixer = Literal["attention", "linear", "mamba", "none"]
Ffn = Literal["dense", "moe", "none"]

# Fields that describe layers some other way than the dialects above, the family that uses them and what
# they are: with them the parameters or the cache would be wrong, so the import refuses the config.
REFUSED = {
    "compress_ratios": ("DeepSeek-V4", "compressed sparse attention (CSA/HCA)"),
    "hc_mult": ("DeepSeek-V4", "hyper-connections"),
    "linear_attn_config": ("Kimi Linear", "Kimi Delta Attention layers"),
    "sparse_attention_config": ("MiniMax-M3", "MiniMax sparse attention"),
}


class UnmodelledArchitecture(ValueError):
    """The config describes layers napkinmath does not model; the message names the family and field."""


@dataclass(frozen=True, slots=True)
class Layer:
    mixer: Mixer = "attention"
    local: bool = False  # a sliding (or chunked) attention window
    ffn: Ffn = "dense"
    kv_heads: int | None = None  # this layer's own KV heads (NAS), else the model's
    ffn_width: int | None = None  # this layer's own dense FFN width (NAS), else the model's


def _pattern_layers(c: dict[str, Any]) -> list[Layer] | None:
    """Nemotron-H blocks: one mixer per entry of hybrid_override_pattern or layers_block_type."""
    pattern = c.get("hybrid_override_pattern")
    kinds = c.get("layers_block_type")
    if isinstance(pattern, str) and pattern:
        symbols = {"M": ("mamba", "none"), "*": ("attention", "none"), "-": ("none", "dense"), "E": ("none", "moe")}
        unknown = sorted(set(pattern) - set(symbols))
        if unknown:
            raise UnmodelledArchitecture(f"hybrid_override_pattern has block kinds {unknown} "
                                         f"({c.get('model_type')}): napkinmath knows M, *, - and E")
        return [Layer(mixer=symbols[s][0], ffn=symbols[s][1]) for s in pattern]  # type: ignore[arg-type]
    if isinstance(kinds, list) and kinds:
        names = {"mamba": ("mamba", "none"), "attention": ("attention", "none"), "mlp": ("none", "dense"),
                 "moe": ("none", "moe")}
        unknown = sorted({str(k) for k in kinds} - set(names))
        if unknown:
            raise UnmodelledArchitecture(f"layers_block_type has block kinds {unknown} ({c.get('model_type')}): "
                                         f"napkinmath knows {', '.join(names)}")
        return [Layer(mixer=names[k][0], ffn=names[k][1]) for k in kinds]  # type: ignore[arg-type]
    return None


def _ffn_mult_width(mult: float, hidden: int) -> int:
    """DeciLM's FFN width: int(2 * ffn_mult * hidden / 3) rounded up to a multiple of 256
    (vllm-project/vllm, vllm/model_executor/models/nemotron_nas.py ``_ffn_mult_to_intermediate_size``)."""
    width = int(2 * mult * hidden / 3)
    return width if width % 256 == 0 else width + 256 - width % 256


def _block_config_layers(c: dict[str, Any]) -> list[Layer] | None:
    blocks = c.get("block_configs")
    if not isinstance(blocks, list) or not blocks or not all(isinstance(b, dict) for b in blocks):
        return None
    layers = []
    for index, block in enumerate(blocks):
        attention, ffn = block.get("attention") or {}, block.get("ffn") or {}
        if attention.get("replace_with_linear") or ffn.get("replace_with_linear"):
            raise UnmodelledArchitecture(f"block_configs[{index}] replaces a sublayer with a linear layer "
                                         f"({c.get('model_type')}): not modelled")
        if attention.get("window_length") or attention.get("sparsify") or ffn.get("sparsify"):
            raise UnmodelledArchitecture(f"block_configs[{index}] has window_length/sparsify "
                                         f"({c.get('model_type')}): not modelled")
        heads = c["num_attention_heads"]
        group = attention.get("n_heads_in_group")
        width = ffn.get("intermediate_size") or (_ffn_mult_width(ffn["ffn_mult"], c["hidden_size"])
                                                 if ffn.get("ffn_mult") is not None else None)
        layers.append(Layer(mixer="none" if attention.get("no_op") else "attention",
                            kv_heads=None if attention.get("no_op") else heads // group,
                            ffn="none" if ffn.get("no_op") else "dense", ffn_width=width))
    return layers


def _mixers(c: dict[str, Any], count: int) -> list[tuple[Mixer, bool]]:
    """(mixer, local window) per layer for a plain decoder stack."""
    kinds = c.get("layer_types")
    if isinstance(kinds, list) and len(kinds) >= count:
        out: list[tuple[Mixer, bool]] = []
        for kind in kinds[:count]:
            kind = str(kind)
            if kind in ("linear_attention", "mamba"):
                out.append(("linear" if kind == "linear_attention" else "mamba", False))
            elif "sliding" in kind or "chunked" in kind:
                out.append(("attention", True))
            elif kind in ("full_attention", "attention"):
                out.append(("attention", False))
            else:
                raise UnmodelledArchitecture(f"layer_types has '{kind[:40]}' ({c.get('model_type')}): napkinmath "
                                             "knows full_attention, sliding_attention, chunked_attention, "
                                             "linear_attention")
        return out
    chunk = c.get("attention_chunk_size")
    if isinstance(chunk, int) and chunk > 0:  # Llama 4: RoPE layers attend within chunks, NoPE layers globally
        rope = c.get("no_rope_layers")
        if not (isinstance(rope, list) and len(rope) >= count):
            interval = c.get("no_rope_layer_interval") or 4
            rope = [int((i + 1) % interval != 0) for i in range(count)]
        return [("attention", bool(flag)) for flag in rope[:count]]
    interval = c.get("full_attention_interval")
    if isinstance(interval, int) and interval > 0 and c.get("linear_num_value_heads"):
        return [("attention", False) if (i + 1) % interval == 0 else ("linear", False) for i in range(count)]
    pattern = c.get("hybrid_layer_pattern")
    if isinstance(pattern, list) and len(pattern) >= count:  # MiMo-V2: 1 = sliding-window attention
        return [("attention", bool(flag)) for flag in pattern[:count]]
    softmax = c.get("attn_type_list")
    if isinstance(softmax, list) and len(softmax) >= count:  # MiniMax: 1 = softmax attention
        if not all(flag == 1 for flag in softmax[:count]):
            raise UnmodelledArchitecture(f"attn_type_list has lightning (linear) attention layers "
                                         f"({c.get('model_type')}): not modelled")
        return [("attention", False)] * count
    window = c.get("sliding_window")
    if isinstance(window, int) and not isinstance(window, bool) and window > 0:
        return [("attention", flag) for flag in _sliding_flags(c, count, window)]
    return [("attention", False)] * count


def _sliding_flags(c: dict[str, Any], count: int, window: int) -> list[bool]:
    """Which layers slide when no layer list says so: Gemma 3's sliding_window_pattern (every n-th layer
    global), Gemma 2's alternation, else every layer, unless the window is switched off
    (``use_sliding_window: false``, Qwen2/3) or as long as the context."""
    pattern = c.get("sliding_window_pattern")
    if isinstance(pattern, int) and pattern > 1:
        return [(i + 1) % pattern != 0 for i in range(count)]
    if c.get("model_type") == "gemma2":
        return [i % 2 == 0 for i in range(count)]
    if c.get("use_sliding_window") is False or window >= (c.get("max_position_embeddings") or 0) > 0:
        return [False] * count
    return [True] * count


def moe_flags(c: dict[str, Any], count: int, experts: int) -> list[bool]:
    """Which layers are MoE, as each family's modelling code decides (see the module docstring)."""
    if not experts:
        return [False] * count
    if c.get("decoder_sparse_step"):
        dense_only = set(c.get("mlp_only_layers") or [])
        return [(i + 1) % c["decoder_sparse_step"] == 0 and i not in dense_only for i in range(count)]
    if isinstance(c.get("moe_layers"), list):
        chosen = set(c["moe_layers"])
        return [i in chosen for i in range(count)]
    if c.get("interleave_moe_layer_step"):
        step = c["interleave_moe_layer_step"]
        return [i % step == step - 1 for i in range(count)]
    frequency = c.get("moe_layer_freq")
    if isinstance(frequency, list):
        if len(frequency) < count:
            raise UnmodelledArchitecture(f"moe_layer_freq lists {len(frequency)} layers for {count}")
        return [bool(flag) for flag in frequency[:count]]
    first_dense = c.get("first_k_dense_replace") or 0
    frequency = frequency or 1
    return [i >= first_dense and i % frequency == 0 for i in range(count)]


def layer_plan(c: dict[str, Any], experts: int) -> list[Layer]:
    """One ``Layer`` per decoder layer (Nemotron-H: per block)."""
    family = str(c.get("model_type") or "unknown")
    refused = [field for field in REFUSED if c.get(field) not in (None, 0, [], {})]
    if refused:
        names = sorted({REFUSED[field][0] for field in refused})
        what = "; ".join(f"{field} ({REFUSED[field][1]})" for field in refused)
        raise UnmodelledArchitecture(f"{'/'.join(names)}-style config ({family}): {what} not modelled, so its "
                                     "parameters and KV cache would be wrong")
    blocks = _pattern_layers(c)
    if blocks is not None:
        return blocks
    nas = _block_config_layers(c)
    if nas is not None:
        return nas
    count = c["num_hidden_layers"]
    mixers = _mixers(c, count)
    moe = moe_flags(c, count, experts)
    return [Layer(mixer=mixer, local=local, ffn="moe" if flag else "dense")
            for (mixer, local), flag in zip(mixers, moe, strict=True)]
