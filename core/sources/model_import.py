"""One import of a model: config.json for the architecture, safetensors headers for the exact bytes.

``import_model(path)`` is what `napkin import-config` and the app's "Import config.json…" call. When
the folder holds safetensors files (or their index), the checkpoint's exact weight bytes (scales
included) replace the parameters x bytes-per-value estimate, and the result says which was used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..specs.specs import GIB
from .hf_config import config_path, model_from_config
from .param_count import ParameterCount


@dataclass(frozen=True)
class ImportedModel:
    model: dict[str, Any]  # a [model] section
    count: ParameterCount
    weights_note: str  # where the weight size comes from

    @property
    def breakdown(self) -> dict[str, int]:
        c = self.count
        return {"total": c.total, "active": c.active, "embeddings": c.embeddings, "lm_head": c.lm_head,
                "attention": c.attention, "linear_mixers": c.linear_mixers, "dense_mlp": c.dense_mlp,
                "routed_experts": c.routed_experts, "shared_experts": c.shared_experts, "routers": c.routers,
                "norms": c.norms, "mtp": c.mtp, "vision": c.vision}

    def summary_lines(self) -> list[str]:
        b = {key: value / 1e9 for key, value in self.breakdown.items()}
        return [f"{self.model['name']}: {b['total']:,.3f}B parameters, {b['active']:,.3f}B active per token",
                f"embeddings {b['embeddings']:.3f}B, lm_head {b['lm_head']:.3f}B, attention {b['attention']:.3f}B, "
                f"MLP {b['dense_mlp']:.3f}B, routed experts {b['routed_experts']:.3f}B, shared experts "
                f"{b['shared_experts']:.3f}B, routers {b['routers']:.4f}B, norms {b['norms']:.4f}B",
                *self._extra_lines(b), f"weights: {self.weights_note}", *self.count.notes]

    def _extra_lines(self, b: dict[str, float]) -> list[str]:
        """The hybrid, MTP, vision and not-modelled lines, where the model has them."""
        lines = []
        if b["linear_mixers"]:
            lines.append(f"linear-attention / Mamba layers {b['linear_mixers']:.3f}B (in the totals)")
        if b["mtp"]:
            held = "held" if self.model.get("mtp_on_gpu") else "not held: vLLM loads them only for MTP speculation"
            lines.append(f"MTP layers {b['mtp']:.3f}B, outside the totals ({held})")
        if b["vision"]:
            lines.append(f"vision tower {b['vision']:.3f}B, outside the totals (held on the GPU)")
        if self.model.get("unmodelled"):
            lines.append(f"not modelled (can change parameters, KV or state): {', '.join(self.model['unmodelled'])}")
        return lines


def import_model(path: str | Path, name: str | None = None) -> ImportedModel:
    """The [model] section for a config.json or model folder; ProfileError names the file and field."""
    model, count = model_from_config(path, name)
    folder = config_path(path).parent
    note = f"estimated as parameters x {model['weight_dtype']} bytes (no safetensors files beside the config)"
    if any(folder.glob("*.safetensors")) or any(folder.glob("*.safetensors.index.json")):
        from .safetensors_header import read_checkpoint_weights

        weights = read_checkpoint_weights(folder)
        model["checkpoint_gib"] = weights.total_bytes / GIB
        model["checkpoint_weight_dtype"] = model["weight_dtype"]
        note = (f"exact from the safetensors headers of {len(weights.files)} file(s): "
                f"{weights.total_bytes / GIB:,.2f} GiB in {weights.tensors:,} tensors, scales included")
    return ImportedModel(model=model, count=count, weights_note=note)
