"""A hostile HuggingFace cache (issue 16), as found on a shared disk: refs/main that is a FIFO, a device
or a path out of the cache, snapshots that point elsewhere, folder names with brackets. Listing never
hangs, never leaves the cache, and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile_support import deadline, fifo, needs_dev_zero, unchanged

from napkinmath.core.sources.hf_cache import list_cached_models

CONFIG = (Path(__file__).parent / "data" / "configs" / "llama-3.1-8b.json").read_text()


def repository(cache: Path, folder: str, revisions=("abc123",)) -> Path:
    repo = cache / folder
    for revision in revisions:
        (repo / "snapshots" / revision).mkdir(parents=True)
        (repo / "snapshots" / revision / "config.json").write_text(CONFIG)
    (repo / "refs").mkdir()
    return repo


def listed(cache: Path):
    with deadline(5), unchanged(cache):
        return list_cached_models(cache)


def test_fifo_refs_main_does_not_hang_the_scan(tmp_path):
    repo = repository(tmp_path, "models--org--model")
    fifo(repo / "refs" / "main")
    [model] = listed(tmp_path)
    assert model.repo_id == "org/model" and model.revision == "abc123"


@needs_dev_zero
def test_dev_zero_refs_main_is_not_read(tmp_path):
    repo = repository(tmp_path, "models--org--model")
    (repo / "refs" / "main").symlink_to("/dev/zero")
    assert [m.revision for m in listed(tmp_path)] == ["abc123"]


@pytest.mark.parametrize("ref", ["/etc", "../../../../../../etc", "..", ".", "abc/../../..", "x\x1b]0;T\x07"])
def test_refs_main_cannot_point_out_of_the_snapshots(tmp_path, ref):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "config.json").write_text(CONFIG)
    cache = tmp_path / "cache"
    repo = repository(cache, "models--org--model")
    (repo / "refs" / "main").write_text(ref)
    for model in listed(cache):
        assert model.folder.resolve().is_relative_to((repo / "snapshots").resolve()), model.folder


def test_a_snapshot_symlinked_out_of_the_cache_is_not_listed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "config.json").write_text(CONFIG)
    cache = tmp_path / "cache"
    repo = cache / "models--org--escape"
    (repo / "snapshots").mkdir(parents=True)
    (repo / "snapshots" / "evil").symlink_to(outside)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("evil")
    assert listed(cache) == []


def test_a_symlinked_repository_folder_still_counts(tmp_path):
    """Users move big models to another disk and link the repository folder: that is not an escape."""
    disk = tmp_path / "disk"
    repository(disk, "models--org--big")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "models--org--big").symlink_to(disk / "models--org--big")
    assert [m.repo_id for m in listed(cache)] == ["org/big"]


def test_a_fifo_config_in_a_snapshot_is_skipped(tmp_path):
    repo = tmp_path / "models--org--pipe" / "snapshots" / "abc"
    repo.mkdir(parents=True)
    fifo(repo / "config.json")
    assert listed(tmp_path) == []


@pytest.mark.parametrize(("folder", "repo_id"), [("models--[--]x", "[/]x"), ("models--[bold]a--b", "[bold]a/b")])
def test_bracketed_folder_names_are_listed_as_written(tmp_path, folder, repo_id):
    repository(tmp_path, folder)
    assert [m.repo_id for m in listed(tmp_path)] == [repo_id]


def test_a_snapshot_that_is_a_file_or_a_loop_is_skipped(tmp_path):
    repo = repository(tmp_path, "models--org--odd", revisions=("good",))
    (repo / "snapshots" / "file").write_text("not a folder")
    (repo / "snapshots" / "loop").symlink_to(repo / "snapshots" / "loop")
    (repo / "refs" / "main").write_text("loop")
    assert [m.revision for m in listed(tmp_path)] == ["good"]
    json.loads((repo / "snapshots" / "good" / "config.json").read_text())
