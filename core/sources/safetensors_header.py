"""Exact weight bytes of a safetensors checkpoint, read from its headers only (never the data).

Format (huggingface/safetensors README, "Format"): 8 bytes N (unsigned 64-bit little-endian), then
N bytes of UTF-8 JSON mapping tensor name -> {"dtype", "shape", "data_offsets": [begin, end]}
(offsets relative to the first byte after the header) plus an optional "__metadata__" map of
strings, then the raw data. A sharded checkpoint adds "model.safetensors.index.json":
{"metadata": {"total_size": ...}, "weight_map": {tensor: shard file}} (transformers' sharding).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from math import prod
from pathlib import Path

from ..errors import ProfileError
from ..untrusted import printable, shown_path
from .files import open_regular_file, read_at_most, read_file_bytes

# Bits per element: huggingface/safetensors safetensors/src/tensor.rs, Dtype::bitsize (v0.6+),
# which also adds the sub-byte F4 / F6_* types and C64 (complex, two F32 parts).
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "I16": 16, "U16": 16, "F16": 16,
    "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "I64": 64, "U64": 64, "F64": 64, "C64": 64,
    "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}
# The reference reader refuses headers above 100,000,000 bytes (tensor.rs, MAX_HEADER_SIZE).
MAX_HEADER_BYTES = 100_000_000
LENGTH_FIELD_BYTES = 8
REQUIRED_KEYS = ("dtype", "shape", "data_offsets")

# Quantization side tensors, matched on the last dotted part of the name: block/group scales
# (DeepSeek-V3 FP8 "weight_scale_inv", gpt-oss MXFP4 "*_scales", compressed-tensors and ModelOpt
# "weight_scale", "weight_scale_2", "input_scale", "k_scale"), GPTQ/AWQ ".scales", ".qzeros" and
# ".g_idx", and zero points ("*_zero_point"). They hold no model parameters.
SCALE_SUFFIXES = ("_scale", "_scale_inv", "_scale_2", "_scales", "_zero_point")
SCALE_NAMES = frozenset({"scales", "qzeros", "g_idx"})
# Packed 4-bit weights in an integer container: gpt-oss MXFP4 "*_blocks" (U8, two per byte),
# GPTQ/AWQ ".qweight" (I32, eight per word), compressed-tensors "weight_packed" (I32). Each
# element holds bits/4 values. A 4-bit weight stored as plain U8 ".weight" (ModelOpt NVFP4)
# cannot be told apart by name and counts one parameter per byte.
PACKED_SUFFIXES = ("_blocks", "_packed")
PACKED_NAMES = frozenset({"qweight"})
PACKED_DTYPES = frozenset({"U8", "I8", "I32", "U32"})


@dataclass(frozen=True)
class TensorHeader:
    """One tensor's header entry; ``bytes`` is end - begin of its data_offsets."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    bytes: int


@dataclass(frozen=True)
class CheckpointWeights:
    """What a checkpoint's weights take on disk, summed over every shard's header."""

    files: tuple[str, ...]
    tensors: int
    total_bytes: int
    bytes_by_dtype: dict[str, int] = field(hash=False)
    scale_bytes: int
    parameters: int


def _fail(path: Path, what: str, expected: str) -> ProfileError:
    return ProfileError(f"{shown_path(path)}: {printable(what, 300)}; expected {expected}.")  # names may be huge


def _read_header_bytes(path: Path) -> tuple[bytes, int]:
    """(header JSON bytes, data-section bytes), reading only the 8-byte N and the N header bytes."""
    # The header length is file content: messages never print it (a link to a secret must not leak it).
    with open_regular_file(path, "safetensors file") as (handle, file_bytes):
        if file_bytes < LENGTH_FIELD_BYTES:
            raise _fail(path, f"file is {file_bytes} bytes", "a safetensors file (8-byte header length first)")
        (header_bytes,) = struct.unpack("<Q", read_at_most(handle, LENGTH_FIELD_BYTES, path))
        if header_bytes > MAX_HEADER_BYTES:
            raise _fail(path, "header length field is too large", f"at most {MAX_HEADER_BYTES} bytes")
        if LENGTH_FIELD_BYTES + header_bytes > file_bytes:
            raise _fail(path, f"header length runs past the end of the {file_bytes}-byte file",
                        "a header that fits in the file")
        raw = read_at_most(handle, header_bytes, path)
    return raw, file_bytes - LENGTH_FIELD_BYTES - header_bytes


def _parse_json_object(path: Path, raw: bytes, what: str) -> dict:
    """Strict UTF-8, then JSON, then a JSON object (the spec's header is a dict)."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:  # its text would quote a byte of the file
        raise _fail(path, f"{what} is not UTF-8 text", "a JSON object") from None
    except (ValueError, RecursionError) as error:
        raise _fail(path, f"{what} is not valid JSON ({_json_problem(error)})", "a JSON object") from None
    if not isinstance(value, dict):
        raise _fail(path, f"{what} is a JSON {type(value).__name__}", "a JSON object")
    return value


def _json_problem(error: Exception) -> str:
    """A JSON error in words without quoting the file: the decoder's message and place, or the limit hit."""
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at line {error.lineno}, column {error.colno}"
    return "nested too deep" if isinstance(error, RecursionError) else "an integer of more than 4,300 digits"


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def expected_tensor_bytes(dtype: str, shape: tuple[int, ...]) -> int | None:
    """Bytes = elements * bits / 8 (tensor.rs, Metadata::validate); None when not whole bytes."""
    bits = prod(shape) * DTYPE_BITS[dtype]
    return bits // 8 if bits % 8 == 0 else None


def _tensor_header(path: Path, name: str, entry: object, data_bytes: int) -> TensorHeader:
    """Check one header entry against the spec: types, offsets within the data, size = shape."""
    where = f"tensor {name!r}"
    missing = [key for key in REQUIRED_KEYS if key not in entry] if isinstance(entry, dict) else ["an object"]
    if missing or not isinstance(entry, dict):
        raise _fail(path, f"{where} is missing {', '.join(missing)}", f"an object with {', '.join(REQUIRED_KEYS)}")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        raise _fail(path, f"{where} has unknown dtype {dtype!r}", f"one of {', '.join(DTYPE_BITS)}")
    if not isinstance(shape, list) or not all(_is_count(dim) for dim in shape):
        raise _fail(path, f"{where} has shape {shape!r}", "a list of non-negative integers")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_count(o) for o in offsets):
        raise _fail(path, f"{where} has data_offsets {offsets!r}", "[begin, end], non-negative integers")
    begin, end = offsets
    if end < begin or end > data_bytes:
        raise _fail(path, f"{where} has data_offsets [{begin}, {end}]",
                    f"begin <= end <= {data_bytes} (the data section's size)")
    expected = expected_tensor_bytes(dtype, tuple(shape))
    if expected != end - begin:
        needs = "a fractional byte count" if expected is None else f"{expected} bytes"
        raise _fail(path, f"{where} spans {end - begin} bytes but {dtype} {shape} needs {needs}",
                    "end - begin = elements x dtype size")
    return TensorHeader(name=name, dtype=dtype, shape=tuple(shape), bytes=end - begin)


def _check_no_overlap(path: Path, spans: list[tuple[int, int, str]]) -> None:
    """The reference reader lays tensors back to back; overlapping spans would count bytes twice."""
    previous_end, previous = 0, ""
    for begin, end, name in sorted(spans):
        if begin < previous_end:
            raise _fail(path, f"tensor {name!r} overlaps tensor {previous!r}", "disjoint data_offsets")
        previous_end, previous = max(previous_end, end), name


def read_safetensors_header(path) -> dict[str, TensorHeader]:
    """Every tensor in one .safetensors file, by name, from its header alone."""
    path = Path(path)
    raw, data_bytes = _read_header_bytes(path)
    header = _parse_json_object(path, raw, "header")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _fail(path, "__metadata__ is not a map of strings", 'a {"key": "value"} object')
    tensors = {name: _tensor_header(path, name, entry, data_bytes) for name, entry in header.items()}
    _check_no_overlap(path, [(e["data_offsets"][0], e["data_offsets"][1], n) for n, e in header.items()])
    return tensors


def is_scale_tensor(name: str) -> bool:
    """A quantization scale / zero-point tensor, by its last dotted name part (rule above)."""
    leaf = name.rsplit(".", 1)[-1]
    return leaf in SCALE_NAMES or leaf.endswith(SCALE_SUFFIXES)


def values_per_element(tensor: TensorHeader) -> int:
    """4-bit values per stored element: bits/4 for packed integer tensors (rule above), else 1."""
    leaf = tensor.name.rsplit(".", 1)[-1]
    packed = leaf in PACKED_NAMES or leaf.endswith(PACKED_SUFFIXES)
    return DTYPE_BITS[tensor.dtype] // 4 if packed and tensor.dtype in PACKED_DTYPES else 1


def _shards_from_index(index: Path) -> list[Path]:
    """Shard files named by an index's weight_map, which must be plain names in its folder."""
    raw = read_file_bytes(index, MAX_HEADER_BYTES, "safetensors index")
    body = _parse_json_object(index, raw, "index")
    weight_map = body.get("weight_map")
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise _fail(index, "has no weight_map of tensor -> shard file", '{"weight_map": {"tensor": "file"}}')
    shards = []
    for shard in sorted(set(weight_map.values())):
        if Path(shard).name != shard or shard in ("", ".", ".."):
            raise _fail(index, f"weight_map names {shard!r}", "shard file names in the index's folder")
        if not (index.parent / shard).is_file():
            raise _fail(index, f"weight_map names shard {shard!r}, which is missing", "every shard beside the index")
        shards.append(index.parent / shard)
    return shards


def checkpoint_files(path) -> list[Path]:
    """Shards to read: an index's list, one .safetensors file, or a folder's index or files."""
    path = Path(path)
    if path.is_dir():
        indexes = sorted(path.glob("*.safetensors.index.json"))
        if len(indexes) > 1:
            raise _fail(path, f"folder holds {len(indexes)} index files", "one; pass the index path itself")
        if indexes:
            return _shards_from_index(indexes[0])
        shards = sorted(p for p in path.glob("*.safetensors") if p.is_file())
        if not shards:
            raise _fail(path, "folder holds no *.safetensors file and no *.safetensors.index.json",
                        "a checkpoint folder")
        return shards
    if not path.is_file():
        raise _fail(path, "no such file or folder", "a .safetensors file, an index .json or a folder")
    return _shards_from_index(path) if path.suffix == ".json" else [path]


def read_checkpoint_weights(path) -> CheckpointWeights:
    """Sum every shard's header: bytes, bytes per dtype, scale bytes and parameter count."""
    seen: dict[str, Path] = {}
    bytes_by_dtype: dict[str, int] = {}
    scale_bytes = parameters = 0
    shards = checkpoint_files(path)
    for shard in shards:
        for name, tensor in read_safetensors_header(shard).items():
            if name in seen:
                raise _fail(shard, f"tensor {name!r} is also in {seen[name].name}", "each tensor in one shard")
            seen[name] = shard
            bytes_by_dtype[tensor.dtype] = bytes_by_dtype.get(tensor.dtype, 0) + tensor.bytes
            if is_scale_tensor(name):
                scale_bytes += tensor.bytes
            else:
                parameters += prod(tensor.shape) * values_per_element(tensor)
    return CheckpointWeights(
        files=tuple(sorted(shard.name for shard in shards)), tensors=len(seen),
        total_bytes=sum(bytes_by_dtype.values()), bytes_by_dtype=dict(sorted(bytes_by_dtype.items())),
        scale_bytes=scale_bytes, parameters=parameters,
    )
