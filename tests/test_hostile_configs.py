"""Hostile model imports (issue 16): config.json files, safetensors headers and their index that are not
files, never end, leak what they point at, or hold shapes the importer must refuse. Each is refused by
``napkin import-config`` with exit 2, one clean paragraph naming the file, and no file changed."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
from hostile_support import assert_refused, deadline, fifo, needs_dev_zero, run_napkin, unchanged

CONFIGS = Path(__file__).parent / "data" / "configs"
LLAMA = json.loads((CONFIGS / "llama-3.1-8b.json").read_text())


def model_folder(tmp_path: Path, name: str, config: dict | None = None, raw: str | None = None) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "config.json").write_text(raw if raw is not None else json.dumps(config or LLAMA))
    return folder


def safetensors_bytes(header: dict, data: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def bf16_entry(shape=(2, 2), begin=0):
    size = 2 * shape[0] * shape[1]
    return {"dtype": "BF16", "shape": list(shape), "data_offsets": [begin, begin + size]}


def refuse_import(capsys, folder: Path, *names: str) -> str:
    with unchanged(folder.parent):
        return assert_refused(run_napkin(capsys, "import-config", str(folder)), *names)


# ---- config.json ---------------------------------------------------------------------------------


def test_fifo_config_is_refused_without_blocking(tmp_path, capsys):
    folder = tmp_path / "fifo_model"
    folder.mkdir()
    fifo(folder / "config.json")
    refuse_import(capsys, folder, "config.json", "named pipe")


@needs_dev_zero
def test_dev_zero_config_is_refused_without_reading_it(tmp_path, capsys):
    folder = tmp_path / "zero_model"
    folder.mkdir()
    (folder / "config.json").symlink_to("/dev/zero")
    with deadline(5):
        refuse_import(capsys, folder, "config.json", "character device")


def test_sparse_config_past_the_limit(tmp_path, capsys):
    folder = tmp_path / "huge_model"
    folder.mkdir()
    with (folder / "config.json").open("wb") as handle:
        handle.truncate(6 * 2**20)
    refuse_import(capsys, folder, "config.json", "far too large")


def test_config_with_control_characters_in_its_name(tmp_path, capsys):
    folder = model_folder(tmp_path, "esc_name", {**LLAMA, "_name_or_path": "\x1b]0;PWNED\x07"})
    refuse_import(capsys, folder, "config.json", "control characters")


def test_a_990000_character_name_flag_is_quoted_not_echoed(tmp_path, capsys):
    folder = model_folder(tmp_path, "plain")
    with unchanged(tmp_path):
        err = assert_refused(run_napkin(capsys, "import-config", str(folder), "--name", "M" * 990_000), "name")
    assert err.count("M") < 200


def test_max_position_embeddings_true_is_not_a_number(tmp_path, capsys):
    folder = model_folder(tmp_path, "bool_context", {**LLAMA, "max_position_embeddings": True})
    refuse_import(capsys, folder, "config.json", "whole number")


IMPORTER_SHAPES = [
    ("deep_nesting", None, '{"a": ' + "[" * 5000 + "]" * 5000 + "}", "nested too deeply"),
    ("int_5000_digits", None, json.dumps(LLAMA)[:-1] + ', "x": ' + "9" * 5000 + "}", "too long"),
    ("quantization_config_string", {**LLAMA, "quantization_config": "fp8"}, None, "quantization_config"),
    ("quantization_config_list", {**LLAMA, "quantization_config": [1, 2]}, None, "quantization_config"),
    ("config_groups_string", {**LLAMA, "quantization_config": {"quant_method": "compressed-tensors",
                                                               "config_groups": "x"}}, None, "config_groups"),
    ("ignore_number", {**LLAMA, "quantization_config": {"quant_method": "compressed-tensors", "config_groups": {},
                                                        "ignore": 5}}, None, "ignore"),
    ("modules_to_not_convert_dict", {**LLAMA, "quantization_config": {"quant_method": "awq", "bits": 4,
                                                                      "modules_to_not_convert": {"a": 1}}}, None,
     "modules_to_not_convert"),
]


@pytest.mark.parametrize(("case", "config", "raw", "named"), IMPORTER_SHAPES,
                         ids=[case for case, *_ in IMPORTER_SHAPES])
def test_importer_refuses_malformed_shapes(tmp_path, capsys, case, config, raw, named):
    """The importer's own refusals (issue 13's), held here with the other hostile imports."""
    folder = model_folder(tmp_path, case, config, raw)
    refuse_import(capsys, folder, "config.json", named)


# ---- safetensors headers and index ---------------------------------------------------------------


def test_a_shard_linked_to_a_secret_never_echoes_its_bytes(tmp_path, capsys):
    """A shard symlinked to /etc/shadow (here a stand-in with the same shape): the error names the file and
    says what is wrong, but quotes neither the secret's text nor its first 8 bytes read as a length."""
    secret = tmp_path / "shadow"
    secret.write_bytes(b"root:$6$SALTSALT$HASHHASHHASH:19000:0:99999:7:::\n")
    folder = model_folder(tmp_path, "leaky")
    (folder / "model.safetensors").symlink_to(secret)
    err = refuse_import(capsys, folder, "model.safetensors")
    for leak in ("root:", "SALT", "HASH", "19000", str(struct.unpack("<Q", secret.read_bytes()[:8])[0])):
        assert leak not in err, leak


def test_a_header_that_is_not_utf8_does_not_quote_its_bytes(tmp_path, capsys):
    folder = model_folder(tmp_path, "latin")
    raw = b'{"\xe9t\xe9": 1}'
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(raw)) + raw)
    err = refuse_import(capsys, folder, "model.safetensors", "not UTF-8")
    assert "0xe9" not in err and "\\xe9" not in err


@pytest.mark.parametrize("name", ["[/]", "[bold red]W[/]", "[@click=app.quit]x[/]", "w\x1b]0;PWNED\x07",
                                  "t" * 200_000])
def test_hostile_tensor_names_in_a_refusal_are_escaped_and_bounded(tmp_path, capsys, name):
    folder = model_folder(tmp_path, "names")
    (folder / "model.safetensors").write_bytes(safetensors_bytes({name: {**bf16_entry(), "dtype": "Q4_K"}}, b"\0" * 8))
    err = refuse_import(capsys, folder, "model.safetensors", "unknown dtype")
    if len(name) < 100 and "\x1b" not in name:
        assert name in err  # brackets are text, shown as written


def test_a_tensor_named_with_brackets_imports(tmp_path, capsys):
    folder = model_folder(tmp_path, "bracket_tensor")
    (folder / "model.safetensors").write_bytes(safetensors_bytes({"[/]": bf16_entry()}, b"\0" * 8))
    code, out, err = run_napkin(capsys, "import-config", str(folder))
    assert code == 0 and err == "" and "exact from the safetensors headers of 1 file(s)" in out


def test_fifo_index_is_refused_without_blocking(tmp_path, capsys):
    folder = model_folder(tmp_path, "fifo_index")
    fifo(folder / "model.safetensors.index.json")
    refuse_import(capsys, folder, "model.safetensors.index.json", "named pipe")


@needs_dev_zero
def test_dev_zero_index_is_refused_without_reading_it(tmp_path, capsys):
    folder = model_folder(tmp_path, "zero_index")
    (folder / "model.safetensors.index.json").symlink_to("/dev/zero")
    with deadline(5):
        refuse_import(capsys, folder, "model.safetensors.index.json", "character device")


def test_deeply_nested_index_is_refused(tmp_path, capsys):
    folder = model_folder(tmp_path, "deep_index")
    (folder / "model.safetensors.index.json").write_text('{"weight_map": ' + "[" * 5000 + "]" * 5000 + "}")
    refuse_import(capsys, folder, "model.safetensors.index.json", "nested too deep")


def test_index_with_a_huge_integer_is_refused(tmp_path, capsys):
    folder = model_folder(tmp_path, "int_index")
    (folder / "model.safetensors.index.json").write_text('{"metadata": {"total_size": ' + "9" * 5000 + "}}")
    refuse_import(capsys, folder, "model.safetensors.index.json", "4,300 digits")


def test_a_shard_that_is_a_fifo_or_device_is_never_opened(tmp_path, capsys):
    folder = model_folder(tmp_path, "fifo_shard")
    fifo(folder / "model-00001-of-00002.safetensors")
    if Path("/dev/zero").exists():
        (folder / "model-00002-of-00002.safetensors").symlink_to("/dev/zero")
    with deadline(5):
        refuse_import(capsys, folder, "fifo_shard", "no *.safetensors file")


def test_an_index_naming_a_fifo_shard_is_refused(tmp_path, capsys):
    folder = model_folder(tmp_path, "index_to_fifo")
    fifo(folder / "a.safetensors")
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"w": "a.safetensors"}}))
    with deadline(5):
        refuse_import(capsys, folder, "model.safetensors.index.json", "a.safetensors")


def test_reading_a_header_never_follows_a_fifo_swapped_in_after_the_check(tmp_path, monkeypatch):
    """The race the O_NONBLOCK open and the fstat re-check close: stat says regular file, open finds a FIFO."""
    from napkinmath.core.errors import ProfileError
    from napkinmath.core.sources import files

    regular = tmp_path / "regular"
    regular.write_text("{}")
    pipe = fifo(tmp_path / "pipe")
    real_stat = os.stat
    monkeypatch.setattr(files.os, "stat", lambda path, *a, **k: real_stat(regular if Path(path) == pipe else path))
    with deadline(5), pytest.raises(ProfileError, match="named pipe"):
        files.read_file_bytes(pipe, 100, "config.json")
