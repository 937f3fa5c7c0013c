"""Import a HuggingFace config.json (or a model folder) as a [model] section.

Handles dense and MoE models; GQA/MHA/MQA and MLA attention; sliding-window layers given by
``layer_types``, ``sliding_window_pattern`` or a window on every layer; an explicit ``head_dim``;
tied or untied embeddings; biases; shared experts and leading dense layers; a nested
``text_config`` (multimodal checkpoints); and ``quantization_config`` for the weight precision.
Every refusal names the file and the field.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ProfileError, describe_validation_error
from ..specs.precisions import Precision, bytes_per_value
from ..specs.specs import ModelSpec
from .extras import mtp_parameters, vision_parameters
from .files import read_file_text
from .layer_plan import UnmodelledArchitecture, layer_plan
from .layer_summary import PlanSummary, summarize
from .param_count import ParameterCount, count_parameters, experts_of
from .unmodelled import size_mismatch, unmodelled_fields

MAX_CONFIG_BYTES = 5_000_000
REQUIRED = ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size")
TIED_BY_DEFAULT = ("gemma", "gemma2", "gemma3", "gemma3_text")  # HF config classes whose default is tied
TORCH_DTYPES = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp32", "half": "fp16", "float": "fp32"}


def config_path(path: str | Path) -> Path:
    """The config.json itself: the path, or config.json inside a model folder."""
    path = Path(path)
    return path / "config.json" if path.is_dir() else path


def read_config(path: str | Path) -> dict[str, Any]:
    """The parsed config, with a multimodal ``text_config`` merged over the top level."""
    file = config_path(path)
    try:
        data = json.loads(read_file_text(file, MAX_CONFIG_BYTES, "config.json"))
    except ProfileError:  # the reader's refusal (a FIFO, a device, too large, no such file) says it all
        raise
    except json.JSONDecodeError as error:
        raise ProfileError(f"{file}: not a JSON file ({str(error)[:120]})") from None
    except RecursionError:
        raise ProfileError(f"{file}: JSON nested too deeply to be a config.json") from None
    except ValueError:  # int() refuses integers of more than 4,300 digits
        raise ProfileError(f"{file}: a number in it is too long to be a config value") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{file}: a config.json is a JSON object, got {type(data).__name__}")
    text = data.get("text_config") or data.get("llm_config")
    if isinstance(text, dict):
        data = {**{k: v for k, v in data.items() if k not in ("text_config", "llm_config")}, **text,
                "model_type": text.get("model_type", data.get("model_type"))}
    return data


def _required_int(config: dict[str, Any], key: str, file: Path) -> int:
    value = _optional_int(config, key, file)
    if value is None:
        raise ProfileError(f"{file}: {key} is missing; napkinmath needs {', '.join(REQUIRED)}")
    return value


def _optional_int(config: dict[str, Any], key: str, file: Path) -> int | None:
    value = config.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > 10**8:
        raise ProfileError(f"{file}: {key} must be a whole number from 1 to 100,000,000 (got {_shown(value)})")
    return value


def _shown(value: Any) -> str:
    """A bounded excerpt of a bad value for a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def weight_precision(config: dict[str, Any]) -> str:
    """The checkpoint's weight precision from quantization_config, else its torch dtype."""
    quant = config.get("quantization_config") or {}
    method = str(quant.get("quant_method", "")).lower()
    if method == "fp8" or str(quant.get("quant_algo", "")).upper() == "FP8":
        return "fp8"
    if method == "mxfp4":
        return "mxfp4"
    if str(quant.get("quant_algo", "")).upper() == "NVFP4":
        return "nvfp4"
    if method in ("gptq", "awq", "bitsandbytes") or quant.get("load_in_4bit"):
        return "int8" if quant.get("bits") == 8 or quant.get("load_in_8bit") else "int4"
    if method == "compressed-tensors":
        for group in (quant.get("config_groups") or {}).values():
            weights = group.get("weights") or {}
            if weights.get("num_bits") == 8:
                return "fp8" if weights.get("type") == "float" else "int8"
            if weights.get("num_bits") == 4:
                return "nvfp4" if weights.get("type") == "float" else "int4"
    return TORCH_DTYPES.get(str(config.get("torch_dtype") or config.get("dtype") or "bfloat16"), "bf16")


def unquantized_parameters(config: dict[str, Any], count: ParameterCount, precision: str) -> int | None:
    """Parameters a quantized checkpoint keeps at 16 bits, None for a 16-bit one.

    vLLM (and the checkpoints) never quantize the embeddings, the output head, the norms or the MoE
    routers; quantization_config may leave more out: ``modules_to_not_convert`` (gpt-oss: attention and
    router) or compressed-tensors' ``ignore`` (often attention). Those names are matched by kind.
    """
    if bytes_per_value(Precision(precision)) >= 2:  # precision: weight_precision(config)
        return None
    quant = config.get("quantization_config") or {}
    skipped = " ".join(str(name) for name in (quant.get("modules_to_not_convert") or []) + (quant.get("ignore") or []))
    kept = count.embeddings + count.lm_head + count.norms + count.routers
    if "attn" in skipped:
        kept += count.attention
    if "shared_expert" in skipped:
        kept += count.shared_experts
    return kept


def default_name(config: dict[str, Any], file: Path) -> str:
    """The config's own _name_or_path, else the file's stem (deepseek-v3.json), else its folder's name."""
    named = str(config.get("_name_or_path") or "").rstrip("/").split("/")[-1]
    if named:
        return named
    return file.stem if file.stem != "config" else (file.parent.name or "imported model")


def _check_shapes(c: dict[str, Any], file: Path) -> None:
    """Refuse, naming the key, the shapes the counting below cannot read (hostile or broken configs)."""
    quant = c.get("quantization_config")
    if quant is not None and not isinstance(quant, dict):
        raise ProfileError(f"{file}: quantization_config must be a JSON object, got {type(quant).__name__}")
    quant = quant or {}
    groups = quant.get("config_groups")
    if groups is not None and not (isinstance(groups, dict) and all(isinstance(g, dict) for g in groups.values())):
        raise ProfileError(f"{file}: quantization_config.config_groups must map names to objects")
    for group in (groups or {}).values():
        if not isinstance(group.get("weights") or {}, dict):
            raise ProfileError(f"{file}: quantization_config.config_groups.*.weights must be an object")
    for key in ("ignore", "modules_to_not_convert"):
        names = quant.get(key)
        if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
            raise ProfileError(f"{file}: quantization_config.{key} must be a list of module names")
    for key in ("max_position_embeddings", "intermediate_size", "moe_intermediate_size", "num_key_value_heads",
                "head_dim"):
        _optional_int(c, key, file)


def _section(c: dict[str, Any], file: Path, name: str | None, count: ParameterCount,
             summary: PlanSummary) -> dict[str, Any]:
    """The [model] section (plain data) from the config and its count."""
    hidden, heads = c["hidden_size"], c["num_attention_heads"]
    weights = weight_precision(c)
    model: dict[str, Any] = {
        "name": name or default_name(c, file),
        "source": f"imported from {file}",
        "params_b": count.total / 1e9,
        "active_params_b": count.active / 1e9,
        "layers": summary.layers,
        "hidden_size": hidden,
        "attention_heads": heads,
        "kv_heads": summary.kv_heads,
        "head_dim": summary.head_dim,
        "attention": "mla" if c.get("kv_lora_rank") else "gqa",
        "weight_dtype": weights,
        "kv_dtype": "fp16" if c.get("torch_dtype") == "float16" else "bf16",
    }
    optional = {"intermediate_size": c.get("intermediate_size"), "vocab_size": c.get("vocab_size"),
                "max_context_tokens": c.get("max_position_embeddings"), "kv_lora_rank": c.get("kv_lora_rank"),
                "qk_rope_head_dim": c.get("qk_rope_head_dim"), "qk_nope_head_dim": c.get("qk_nope_head_dim"),
                "v_head_dim": c.get("v_head_dim"), "q_lora_rank": c.get("q_lora_rank")}
    model.update({key: value for key, value in optional.items() if value is not None})
    model.update(summary.hybrid_fields())
    experts, per_token = experts_of(c)
    if experts:
        model.update(experts=experts, experts_per_token=per_token, expert_params_b=count.routed_experts / 1e9)
    unquantized = unquantized_parameters(c, count, weights)
    if unquantized is not None:
        model["unquantized_params_b"] = unquantized / 1e9
    if count.mtp:
        model["mtp_params_b"] = count.mtp / 1e9
    if count.vision:
        model["vision_params_b"] = count.vision / 1e9
    if count.notes:
        model["notes"] = "; ".join(count.notes)[:1200]
    return model


def model_from_config(path: str | Path, name: str | None = None,
                      overrides: dict[str, Any] | None = None) -> tuple[dict[str, Any], ParameterCount]:
    """A validated [model] section (plain data) and the parameter breakdown behind it. ``overrides``
    replaces top-level config keys (a copy that lost its ``quantization_config``, say)."""
    file = config_path(path)
    c = {**read_config(path), **(overrides or {})}
    blocks = c.get("layers_block_type") or c.get("hybrid_override_pattern")
    if c.get("num_hidden_layers") is None and isinstance(blocks, list | str) and blocks:
        c["num_hidden_layers"] = len(blocks)  # Nemotron 3 Ultra states only the block list
    hidden, _, heads, _ = (_required_int(c, key, file) for key in REQUIRED)
    _check_shapes(c, file)
    kv_heads = _optional_int(c, "num_key_value_heads", file) or (1 if c.get("multi_query") else heads)
    head_dim = (_optional_int(c, "head_dim", file) or _optional_int(c, "attention_head_dim", file)
                or hidden // heads)
    experts, _ = experts_of(c)
    if experts and not c.get("moe_intermediate_size") and not c.get("intermediate_size") \
            and not c.get("expert_intermediate_size"):
        raise ProfileError(f"{file}: an MoE config needs moe_intermediate_size or intermediate_size")
    tied = c.get("tie_word_embeddings", c.get("model_type") in TIED_BY_DEFAULT)
    try:
        plan = layer_plan(c, experts)
        if any(layer.ffn == "dense" and not layer.ffn_width for layer in plan):
            _required_int(c, "intermediate_size", file)
        count = count_parameters(c, plan, heads, kv_heads, head_dim, bool(tied))
        mtp, mtp_note = mtp_parameters(c, plan[-1], heads, kv_heads, head_dim)
        vision, vision_note = vision_parameters(c, hidden)
        summary = summarize(c, plan, kv_heads, head_dim)
    except UnmodelledArchitecture as error:
        raise ProfileError(f"{file}: cannot model this architecture: {error}") from None
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError) as error:
        field = error.args[0] if isinstance(error, KeyError) and error.args else None
        what = f"{field} is missing or malformed" if isinstance(field, str) else "a field has an unexpected shape"
        raise ProfileError(f"{file}: cannot count the parameters of this {c.get('model_type') or 'model'} "
                           f"config: {what}") from None
    # The import summary prints MTP and vision lines of its own; the [model] notes keep them for the profile.
    uncounted = (vision_note,) if vision_note and not vision else ()
    count = replace(count, mtp=mtp, vision=vision, notes=uncounted + summary.notes)
    model = _section(c, file, name, count, summary)
    kept = [note for note in (mtp_note and f"{mtp_note}: {mtp / 1e9:.3f}B, not in the totals",
                              vision and f"{vision_note}: {vision / 1e9:.3f}B, not in the totals") if note]
    if kept:
        model["notes"] = "; ".join(kept + ([model["notes"]] if model.get("notes") else []))[:1200]
    unmodelled = unmodelled_fields(c) + ([] if vision or not c.get("vision_config") else ["vision_config"])
    if unmodelled:
        model["unmodelled"] = tuple(sorted(set(unmodelled)))[:64]
    mismatch = size_mismatch(str(model["name"]) + " " + file.stem, count.total, count.active, count.embeddings,
                             mtp + vision)
    if mismatch:
        model["notes"] = "; ".join(filter(None, [model.get("notes", ""), mismatch]))[:1200]
    try:
        ModelSpec.model_validate(model)
    except ValidationError as error:
        raise ProfileError(describe_validation_error(error, f"{file} (as a [model] section)")) from None
    return model, count
