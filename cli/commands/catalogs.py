"""``napkin gpus`` and ``napkin models``: the catalogs, with their sources."""

from __future__ import annotations

import argparse

from ..output import print_json, print_listing
from ..subcommand import Subcommand


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable JSON")


def run_gpus(arguments: argparse.Namespace) -> int:
    from napkinmath.core.specs.catalog import gpu_catalog

    catalog = gpu_catalog()
    if arguments.json:
        print_json({gpu_id: spec.model_dump(mode="json") for gpu_id, spec in catalog.items()})
        return 0
    rows = []
    for gpu_id, spec in catalog.items():
        tf = spec.tflops
        rows.append((gpu_id, spec.name, f"{spec.memory_gib:.1f}", f"{spec.bandwidth_tb_s:g}",
                     *(f"{value:,.0f}" if value else "-" for value in (tf.bf16 or tf.fp16, tf.fp8, tf.fp4)),
                     f"{spec.interconnect_gb_s:,.0f}", f"{spec.tdp_w:,.0f}", f"{spec.price_per_gpu_hour:.2f}"))
    print_listing("GPUs: dense TFLOP/s, memory as the driver reports it (GiB), link GB/s one way, rent $/h assumed",
                  ("id", "name", "GiB", "TB/s", "bf16", "fp8", "fp4", "link", "W", "$/h"), rows,
                  "Sources: `napkin gpus --json` has each entry's source; docs/catalog-gpus.md explains them.")
    return 0


def run_models(arguments: argparse.Namespace) -> int:
    from napkinmath.core.specs.catalog import model_catalog

    catalog = model_catalog()
    if arguments.json:
        print_json({model_id: spec.model_dump(mode="json", exclude_none=True) for model_id, spec in catalog.items()})
        return 0
    rows = []
    for model_id, spec in catalog.items():
        kv = (f"{spec.kv_lora_rank}+{spec.qk_rope_head_dim}" if spec.attention == "mla"
              else f"{spec.kv_heads_or_default}x{spec.head_dim_or_default}")
        sliding = f"{spec.sliding_window_layers}@{spec.sliding_window}" if spec.sliding_window_layers else "-"
        rows.append((model_id, spec.name, f"{spec.params_b:,.1f}B", f"{spec.active_params / 1e9:,.1f}B",
                     str(spec.layers), spec.attention, kv, sliding, spec.weight_dtype.value))
    print_listing("Model presets: parameters counted from each published config.json",
                  ("id", "name", "params", "active", "layers", "attn", "KV/layer", "sliding", "dtype"), rows,
                  "Sources: `napkin models --json` has each entry's source; docs/catalog-models.md explains them.")
    return 0


COMMANDS = [
    Subcommand("gpus", "list the GPU catalog with sources", add_json, run_gpus, rank=20),
    Subcommand("models", "list the model presets with sources", add_json, run_models, rank=21),
]
