"""The safetensors header reader: exact bytes from headers only, and refusal of broken files.

Files are written by hand in the huggingface/safetensors layout: 8-byte little-endian header
length N, N bytes of JSON, then the data (zeros here, or a sparse hole).
"""

from __future__ import annotations

import json
import os
import struct
import time

import pytest

from napkinmath.core.errors import ProfileError
from napkinmath.core.sources import safetensors_header as st
from napkinmath.core.sources.safetensors_header import (
    CheckpointWeights,
    TensorHeader,
    read_checkpoint_weights,
    read_safetensors_header,
)

DTYPE_BYTES = {"BF16": 2, "F32": 4, "F8_E4M3": 1, "U8": 1, "I32": 4, "F16": 2}


def header_for(tensors: dict[str, tuple[str, list[int]]]) -> dict:
    """A valid header with tensors laid back to back, in the given order."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, (dtype, shape) in tensors.items():
        size = DTYPE_BYTES[dtype]
        for dim in shape:
            size *= dim
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    return header


def data_bytes(header: dict) -> int:
    return max((e["data_offsets"][1] for n, e in header.items() if n != "__metadata__"), default=0)


def write_raw(path, header_bytes: bytes, data_size: int, length: int | None = None):
    """Write N, the header bytes, and data_size zero bytes; ``length`` overrides N."""
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(header_bytes) if length is None else length))
        handle.write(header_bytes)
        handle.write(b"\0" * data_size)
    return path


def write_safetensors(path, header: dict, data_size: int | None = None):
    raw = json.dumps(header).encode()
    return write_raw(path, raw, data_bytes(header) if data_size is None else data_size)


def write_checkpoint(path, tensors: dict[str, tuple[str, list[int]]]):
    return write_safetensors(path, header_for(tensors))


# ---- good checkpoints ---------------------------------------------------------------------------


def test_bf16_single_file(tmp_path):
    path = write_checkpoint(tmp_path / "model.safetensors", {
        "model.embed_tokens.weight": ("BF16", [1000, 64]),
        "model.layers.0.self_attn.q_proj.weight": ("BF16", [64, 64]),
        "model.layers.0.input_layernorm.weight": ("BF16", [64]),
    })
    weights = read_checkpoint_weights(path)
    params = 1000 * 64 + 64 * 64 + 64
    assert weights == CheckpointWeights(
        files=("model.safetensors",), tensors=3, total_bytes=2 * params,
        bytes_by_dtype={"BF16": 2 * params}, scale_bytes=0, parameters=params,
    )
    headers = read_safetensors_header(path)
    assert headers["model.layers.0.input_layernorm.weight"] == TensorHeader(
        name="model.layers.0.input_layernorm.weight", dtype="BF16", shape=(64,), bytes=128)
    assert "__metadata__" not in headers


def test_fp8_block_scales_counted_apart(tmp_path):
    # DeepSeek-V3: F8_E4M3 weights with one F32 weight_scale_inv per 128x128 block.
    path = write_checkpoint(tmp_path / "model.safetensors", {
        "model.layers.0.mlp.down_proj.weight": ("F8_E4M3", [256, 512]),
        "model.layers.0.mlp.down_proj.weight_scale_inv": ("F32", [2, 4]),
        "model.layers.0.input_layernorm.weight": ("BF16", [512]),
    })
    weights = read_checkpoint_weights(path)
    assert weights.bytes_by_dtype == {"BF16": 1024, "F32": 32, "F8_E4M3": 256 * 512}
    assert weights.total_bytes == 256 * 512 + 32 + 1024
    assert weights.scale_bytes == 32
    assert weights.parameters == 256 * 512 + 512
    assert weights.tensors == 3


def test_mxfp4_blocks_count_two_values_per_byte(tmp_path):
    # gpt-oss: U8 *_blocks [experts, rows, blocks, 16] hold 32 FP4 values per 16 bytes; U8 *_scales.
    path = write_checkpoint(tmp_path / "model.safetensors", {
        "model.layers.0.mlp.experts.gate_up_proj_blocks": ("U8", [4, 64, 2, 16]),
        "model.layers.0.mlp.experts.gate_up_proj_scales": ("U8", [4, 64, 2]),
        "model.layers.0.mlp.experts.gate_up_proj_bias": ("BF16", [4, 64]),
    })
    weights = read_checkpoint_weights(path)
    blocks = 4 * 64 * 2 * 16
    assert weights.parameters == 2 * blocks + 4 * 64
    assert weights.scale_bytes == 4 * 64 * 2
    assert weights.bytes_by_dtype == {"BF16": 2 * 4 * 64, "U8": blocks + 4 * 64 * 2}


def test_gptq_qweight_counts_eight_values_per_word(tmp_path):
    path = write_checkpoint(tmp_path / "model.safetensors", {
        "layers.0.q_proj.qweight": ("I32", [8, 64]),
        "layers.0.q_proj.qzeros": ("I32", [1, 8]),
        "layers.0.q_proj.scales": ("F16", [1, 64]),
        "layers.0.q_proj.g_idx": ("I32", [64]),
    })
    weights = read_checkpoint_weights(path)
    assert weights.parameters == 8 * 8 * 64
    assert weights.scale_bytes == 32 + 128 + 256


def test_scale_naming_rule():
    for name in ("a.weight_scale_inv", "a.weight_scale", "a.input_scale", "a.weight_scale_2",
                 "a.gate_up_proj_scales", "a.scales", "a.qzeros", "a.weight_zero_point", "a.k_scale"):
        assert st.is_scale_tensor(name), name
    for name in ("a.weight", "a.scale_proj.weight", "a.gate_up_proj_blocks", "a.bias", "a.qweight"):
        assert not st.is_scale_tensor(name), name


def write_sharded(folder):
    folder.mkdir()
    first = {"a.weight": ("BF16", [16, 16]), "b.weight": ("BF16", [16])}
    second = {"c.weight": ("F32", [8, 8])}
    write_checkpoint(folder / "model-00001-of-00002.safetensors", first)
    write_checkpoint(folder / "model-00002-of-00002.safetensors", second)
    weight_map = {n: "model-00001-of-00002.safetensors" for n in first}
    weight_map |= {n: "model-00002-of-00002.safetensors" for n in second}
    index = folder / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {"total_size": 512 + 32 + 256}, "weight_map": weight_map}))
    return index


def test_sharded_through_folder_and_index(tmp_path):
    index = write_sharded(tmp_path / "ckpt")
    write_checkpoint(tmp_path / "ckpt" / "consolidated.safetensors", {"x": ("BF16", [4])})  # not in the index
    expected = CheckpointWeights(
        files=("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"),
        tensors=3, total_bytes=512 + 32 + 256, bytes_by_dtype={"BF16": 544, "F32": 256},
        scale_bytes=0, parameters=256 + 16 + 64,
    )
    assert read_checkpoint_weights(index.parent) == expected
    assert read_checkpoint_weights(index) == expected
    assert read_checkpoint_weights(str(index)) == expected


def test_folder_without_index_reads_every_file(tmp_path):
    write_checkpoint(tmp_path / "b.safetensors", {"y": ("BF16", [2])})
    write_checkpoint(tmp_path / "a.safetensors", {"x": ("F32", [3])})
    weights = read_checkpoint_weights(tmp_path)
    assert weights.files == ("a.safetensors", "b.safetensors")
    assert weights.total_bytes == 16


def test_empty_and_zero_size_tensors(tmp_path):
    path = write_checkpoint(tmp_path / "m.safetensors", {"empty": ("F32", [0, 4]), "scalar": ("F32", [])})
    weights = read_checkpoint_weights(path)
    assert (weights.tensors, weights.total_bytes, weights.parameters) == (2, 4, 1)


def test_sub_byte_dtype_from_upstream_table(tmp_path):
    path = write_raw(tmp_path / "m.safetensors",
                     json.dumps({"w": {"dtype": "F4", "shape": [4, 8], "data_offsets": [0, 16]}}).encode(), 16)
    weights = read_checkpoint_weights(path)
    assert (weights.total_bytes, weights.parameters) == (16, 32)


# ---- hostile and broken input: always ProfileError, naming the file ----------------------------


def entry(dtype="BF16", shape=(2, 2), offsets=(0, 8)) -> dict:
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def broken_files(tmp_path):
    """name -> (path to read, file the message must name)."""
    cases = {}

    def file(name, header_bytes, data_size, length=None):
        path = write_raw(tmp_path / f"{name}.safetensors", header_bytes, data_size, length)
        cases[name] = (path, path)

    def header(name, value, data_size=8):
        file(name, json.dumps(value).encode(), data_size)

    short = tmp_path / "four_bytes.safetensors"
    short.write_bytes(b"\x01\x00\x00\x00")
    cases["four_bytes"] = (short, short)
    file("length_2_63", b"{}", 0, length=2**63)
    file("length_past_file", b"{}", 0, length=1000)
    file("bad_json", b"{not json", 0)
    file("bad_utf8", b'{"\xff": 1}', 0)
    header("json_list", [entry()])
    header("missing_offsets", {"w": {"dtype": "BF16", "shape": [2, 2]}})
    header("entry_not_object", {"w": [1, 2]})
    header("shape_strings", {"w": entry(shape=("2", "2"))})
    header("shape_bool", {"w": entry(shape=(True, 8))})
    header("offsets_three", {"w": {**entry(), "data_offsets": [0, 4, 8]}})
    header("offsets_negative", {"w": entry(offsets=(-8, 0))})
    header("offsets_reversed", {"w": entry(shape=(0,), offsets=(8, 0))})
    header("offsets_past_end", {"w": entry(offsets=(0, 8))}, data_size=4)
    header("offsets_disagree", {"w": entry(shape=(4, 4), offsets=(0, 8))})
    header("unknown_dtype", {"w": entry(dtype="Q4_K")})
    header("dtype_not_string", {"w": entry(dtype=16)})
    header("metadata_not_strings", {"__metadata__": {"n": 1}, "w": entry()})
    header("overlap", {"w": entry(), "v": entry()})
    file("huge_int", b'{"w": {"dtype": "BF16", "shape": [' + b"9" * 5000 + b'], "data_offsets": [0, 8]}}', 8)

    missing = tmp_path / "missing_shard"
    missing.mkdir()
    write_checkpoint(missing / "model-00001-of-00002.safetensors", {"a": ("BF16", [2])})
    index = missing / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": {"a": "model-00001-of-00002.safetensors",
                                                "b": "model-00002-of-00002.safetensors"}}))
    cases["index_missing_shard_folder"] = (missing, index)
    cases["index_missing_shard_path"] = (index, index)

    escape = tmp_path / "escape"
    escape.mkdir()
    (escape / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": "../x.safetensors"}}))
    cases["index_escapes_folder"] = (escape, escape / "model.safetensors.index.json")
    no_map = tmp_path / "no_map.json"
    no_map.write_text(json.dumps({"metadata": {}}))
    cases["index_without_weight_map"] = (no_map, no_map)

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.json").write_text("{}")
    cases["empty_folder"] = (empty, empty)
    cases["no_such_path"] = (tmp_path / "nope", tmp_path / "nope")

    dup = tmp_path / "dup"
    dup.mkdir()
    write_checkpoint(dup / "a.safetensors", {"shared.weight": ("BF16", [2])})
    write_checkpoint(dup / "b.safetensors", {"shared.weight": ("BF16", [2])})
    cases["duplicate_across_shards"] = (dup, dup / "b.safetensors")
    return cases


BROKEN = [
    "four_bytes", "length_2_63", "length_past_file", "bad_json", "bad_utf8", "json_list",
    "missing_offsets", "entry_not_object", "shape_strings", "shape_bool", "offsets_three",
    "offsets_negative", "offsets_reversed", "offsets_past_end", "offsets_disagree", "unknown_dtype",
    "dtype_not_string", "metadata_not_strings", "overlap", "huge_int", "index_missing_shard_folder",
    "index_missing_shard_path", "index_escapes_folder", "index_without_weight_map", "empty_folder",
    "no_such_path", "duplicate_across_shards",
]


@pytest.mark.parametrize("case", BROKEN)
def test_broken_input_is_a_profile_error_naming_the_file(tmp_path, case):
    cases = broken_files(tmp_path)
    assert sorted(cases) == sorted(BROKEN)
    path, named = cases[case]
    with pytest.raises(ProfileError) as caught:
        read_checkpoint_weights(path)
    message = str(caught.value)
    assert str(named) in message
    assert "expected" in message


def test_messages_say_what_is_wrong(tmp_path):
    cases = broken_files(tmp_path)
    expectations = {
        "four_bytes": "file is 4 bytes", "length_2_63": "header length field is too large", "length_past_file": "past the end",
        "unknown_dtype": "unknown dtype 'Q4_K'", "offsets_disagree": "needs 32 bytes",
        "missing_offsets": "data_offsets", "index_missing_shard_path": "model-00002-of-00002",
        "duplicate_across_shards": "also in a.safetensors", "json_list": "JSON list",
    }
    for case, phrase in expectations.items():
        with pytest.raises(ProfileError) as caught:
            read_checkpoint_weights(cases[case][0])
        assert phrase in str(caught.value), (case, str(caught.value))


# ---- only the header is read --------------------------------------------------------------------


def test_huge_sparse_file_reads_header_only(tmp_path, monkeypatch):
    # One BF16 [32768, 32768] tensor = 2 GiB of data, left as a sparse hole (no disk used).
    header = {"lm_head.weight": entry(shape=(32768, 32768), offsets=(0, 2**31))}
    raw = json.dumps(header).encode()
    path = write_raw(tmp_path / "big.safetensors", raw, 0)
    os.truncate(path, 8 + len(raw) + 2**31)

    read_bytes = []
    real_read_at_most = st.read_at_most

    def counting_read_at_most(handle, count, path=""):
        data = real_read_at_most(handle, count, path)
        read_bytes.append(len(data))
        return data

    monkeypatch.setattr(st, "read_at_most", counting_read_at_most)
    start = time.perf_counter()
    weights = read_checkpoint_weights(path)
    elapsed = time.perf_counter() - start
    assert weights.total_bytes == 2**31
    assert weights.parameters == 32768 * 32768
    assert sum(read_bytes) == 8 + len(raw)
    assert elapsed < 1.0


def test_mutated_files_raise_only_profile_error(tmp_path):
    """Truncations and byte flips of a valid file: either a correct read or a ProfileError."""
    import random

    path = write_checkpoint(tmp_path / "m.safetensors", {"a": ("BF16", [4, 4]), "b.weight_scale": ("F32", [2])})
    good = path.read_bytes()
    rng = random.Random(0)
    for _ in range(400):
        blob = bytearray(good)
        if rng.random() < 0.3:
            blob = blob[: rng.randrange(len(blob))]
        for _ in range(rng.randint(1, 3)):
            if blob:
                blob[rng.randrange(min(len(blob), len(good) - 40))] = rng.randrange(256)
        path.write_bytes(bytes(blob))
        try:
            read_checkpoint_weights(path)
        except ProfileError as error:
            assert str(path) in str(error)
