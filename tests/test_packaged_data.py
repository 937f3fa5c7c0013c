"""The parsed-data cache (core/packaged_data.py): faster reading, never different reading."""

from __future__ import annotations

import marshal
import tomllib

import pytest

from napkinmath.core import packaged_data
from napkinmath.core.packaged_data import packaged_toml, parsed_toml

TEXT = b'[h100]\nname = "H100 SXM"\nmemory_gib = 80\n[h100.tflops]\nbf16 = 989.4\n'


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("NAPKIN_CACHE", str(folder))
    return folder


def test_a_second_read_comes_from_the_cache_and_equals_the_parse(cache):
    first = parsed_toml(TEXT, "gpus.toml")
    files = list(cache.iterdir())
    assert first == tomllib.loads(TEXT.decode()) and len(files) == 1 and files[0].name.startswith("gpus.toml.")
    files[0].write_bytes(marshal.dumps({"from": "cache"}))  # proves the second read is the cached table
    assert parsed_toml(TEXT, "gpus.toml") == {"from": "cache"}


def test_changed_bytes_are_parsed_again_under_another_name(cache):
    parsed_toml(TEXT, "gpus.toml")
    changed = TEXT.replace(b"80", b"94")
    assert parsed_toml(changed, "gpus.toml")["h100"]["memory_gib"] == 94
    assert len(list(cache.iterdir())) == 2


@pytest.mark.parametrize("blob", [b"", b"\x00garbage", marshal.dumps([1, 2]), marshal.dumps("text")],
                         ids=["empty", "garbage", "a list", "a string"])
def test_a_broken_or_foreign_cache_file_falls_back_to_the_parse(cache, blob):
    parsed_toml(TEXT, "gpus.toml")
    (cached,) = cache.iterdir()
    cached.write_bytes(blob)
    assert parsed_toml(TEXT, "gpus.toml") == tomllib.loads(TEXT.decode())


def test_no_cache_when_turned_off_or_impossible(tmp_path, monkeypatch):
    monkeypatch.setenv("NAPKIN_CACHE", "")
    assert packaged_data.cache_folder() is None
    assert parsed_toml(TEXT, "gpus.toml")["h100"]["name"] == "H100 SXM"
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("NAPKIN_CACHE", str(blocked / "cache"))
    assert parsed_toml(TEXT, "gpus.toml")["h100"]["name"] == "H100 SXM"
    assert blocked.read_text() == "not a folder"


def test_a_table_marshal_cannot_hold_is_parsed_every_time(cache):
    dated = b"when = 2026-12-06\n"
    assert parsed_toml(dated, "dated.toml")["when"].year == 2026
    assert not cache.exists() or not list(cache.glob("dated.toml.*"))


def test_no_partial_file_is_left_behind(cache):
    parsed_toml(TEXT, "gpus.toml")
    assert [path.name for path in cache.iterdir() if path.name.startswith(".")] == []


def test_the_shipped_catalogs_read_the_same_from_the_cache(cache):
    for package, name in [("napkinmath.core.specs", "gpus.toml"), ("napkinmath.core.specs", "models.toml"),
                          ("napkinmath.core.engines", "performance.toml")]:
        parsed = packaged_toml(package, "data", name)
        assert packaged_toml(package, "data", name) == parsed
    assert len(list(cache.iterdir())) == 3


def test_a_fifo_a_folder_or_an_endless_file_in_the_cache_falls_back_at_once(cache):
    """Hostile input (docs/design/hostile-input.md, "Reading"): a FIFO where the cached table should be would
    block a plain read forever; it is opened without blocking and refused as not a regular file."""
    import os
    import threading

    parsed_toml(TEXT, "gpus.toml")
    (cached,) = cache.iterdir()
    expected = tomllib.loads(TEXT.decode())
    cached.unlink()
    os.mkfifo(cached)
    answer: list[dict] = []
    reader = threading.Thread(target=lambda: answer.append(parsed_toml(TEXT, "gpus.toml")), daemon=True)
    reader.start()
    reader.join(timeout=5)
    assert answer == [expected]  # no hang, the file parsed instead
    cached.unlink()
    cached.mkdir()
    assert parsed_toml(TEXT, "gpus.toml") == expected
    cached.rmdir()
    cached.write_bytes(marshal.dumps({"x": "y" * 2_000_000}))  # a dict, but far larger than any table of TEXT
    assert parsed_toml(TEXT, "gpus.toml") == expected
