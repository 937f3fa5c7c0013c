"""The local HuggingFace cache: where it is, and which models it holds, without any network access."""

from __future__ import annotations

from pathlib import Path

from napkinmath.core.sources.hf_cache import hf_hub_cache, list_cached_models
from napkinmath.core.sources.model_import import import_model

CONFIGS = Path(__file__).parent / "data" / "configs"


def test_cache_folder_follows_huggingface_hub_order(tmp_path):
    assert hf_hub_cache({"HF_HUB_CACHE": "/a", "HF_HOME": "/b"}) == Path("/a")
    assert hf_hub_cache({"HF_HOME": "/b"}) == Path("/b/hub")
    assert hf_hub_cache({"XDG_CACHE_HOME": "/c"}) == Path("/c/huggingface/hub")
    assert hf_hub_cache({}) == Path.home() / ".cache" / "huggingface" / "hub"


def make_repo(cache: Path, repo_id: str, config: str, revision: str = "abc123", main: bool = True) -> Path:
    repository = cache / ("models--" + repo_id.replace("/", "--"))
    snapshot = repository / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text((CONFIGS / config).read_text())
    if main:
        (repository / "refs").mkdir()
        (repository / "refs" / "main").write_text(revision)
    return snapshot


def test_lists_models_with_a_config_and_imports_one(tmp_path):
    make_repo(tmp_path, "meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b.json")
    make_repo(tmp_path, "Qwen/Qwen3-32B", "qwen3-32b.json", revision="def456", main=False)
    (tmp_path / "models--broken--nothing" / "snapshots" / "x").mkdir(parents=True)  # no config.json
    (tmp_path / "datasets--some--data").mkdir()
    models = list_cached_models(tmp_path)
    assert [m.repo_id for m in models] == ["Qwen/Qwen3-32B", "meta-llama/Llama-3.1-8B-Instruct"]
    assert models[0].revision == "def456" and not models[0].has_safetensors
    imported = import_model(models[1].folder, models[1].repo_id)
    assert imported.model["name"] == "meta-llama/Llama-3.1-8B-Instruct" and imported.model["layers"] == 32


def test_refs_main_wins_over_a_newer_snapshot(tmp_path):
    make_repo(tmp_path, "org/model", "llama-3.1-8b.json", revision="old")
    newer = tmp_path / "models--org--model" / "snapshots" / "new"
    newer.mkdir()
    (newer / "config.json").write_text("{}")
    assert list_cached_models(tmp_path)[0].revision == "old"


def test_absent_cache_is_empty(tmp_path):
    assert list_cached_models(tmp_path / "nowhere") == []
