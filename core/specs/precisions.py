"""Numeric precisions: bytes per stored value and the tensor-core path each one computes on.

Source: docs/design/physics.md, "Precisions". Block scales are included in the byte counts.
"""

from __future__ import annotations

from enum import StrEnum


class Precision(StrEnum):
    """A storage precision for weights or KV cache."""

    fp32 = "fp32"
    bf16 = "bf16"
    fp16 = "fp16"
    fp8 = "fp8"
    int8 = "int8"
    mxfp4 = "mxfp4"
    nvfp4 = "nvfp4"
    int4 = "int4"
    fp4 = "fp4"


BYTES_PER_VALUE: dict[Precision, float] = {
    Precision.fp32: 4.0,
    Precision.bf16: 2.0,
    Precision.fp16: 2.0,
    Precision.fp8: 1.0,
    Precision.int8: 1.0,
    Precision.mxfp4: 0.53125,  # 4 bits + one 8-bit scale per 32 values
    Precision.nvfp4: 0.5625,  # 4 bits + one fp8 scale per 16 values
    Precision.int4: 0.53125,  # GPTQ/AWQ group 128: 4 bits + fp16 scale and zero per 128
    Precision.fp4: 0.5,  # the seeds' plain napkin value
}

# Tensor-core path each storage precision would like to compute on. int4 (GPTQ/AWQ) is
# weight-only: kernels dequantize to 16 bits (W4A16), so it computes on bf16.
COMPUTE_PATH: dict[Precision, str] = {
    Precision.fp32: "fp32",
    Precision.bf16: "bf16",
    Precision.fp16: "fp16",
    Precision.fp8: "fp8",
    Precision.int8: "int8",
    Precision.mxfp4: "fp4",
    Precision.nvfp4: "fp4",
    Precision.int4: "bf16",
    Precision.fp4: "fp4",
}

# Where a GPU lacks a path, engines fall back to 16-bit math (weight-only quantization).
FALLBACK_PATHS: tuple[str, ...] = ("bf16", "fp16", "fp32")


def bytes_per_value(precision: Precision) -> float:
    """Bytes one stored value takes, block scales included (physics.md, "Precisions")."""
    return BYTES_PER_VALUE[precision]  # a str-valued enum: "fp8" and Precision.fp8 hash alike
