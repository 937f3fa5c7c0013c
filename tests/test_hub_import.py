"""Import by name (ORG/NAME) through huggingface_hub, against a fake hub on 127.0.0.1 (tests/fake_hub.py)."""

from __future__ import annotations

import json

import pytest
from fake_hub import safetensors_bytes
from independent_counts import CONFIGS

from napkinmath.core.errors import ProfileError
from napkinmath.core.sources.hub import import_from_hub, looks_like_repo_id

QWEN = (CONFIGS / "Qwen--Qwen3.5-27B.json").read_bytes()


def cached_files(tmp_path) -> list[str]:
    cache = tmp_path / "cache"
    return sorted(p.name for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def test_config_only(hub, tmp_path):
    hub.repos["Qwen/Qwen3.5-27B"] = {"config.json": QWEN}
    imported = import_from_hub("Qwen/Qwen3.5-27B")
    assert imported.model["name"] == "Qwen3.5-27B" and imported.model["state_layers"] == 48
    assert imported.model["source"] == f"imported from {hub.endpoint}/Qwen/Qwen3.5-27B"
    assert "estimated" in imported.weights_note and "checkpoint_gib" not in imported.model
    assert "config.json" in cached_files(tmp_path)  # the cache holds it: a second import needs no network


def test_sharded_safetensors_headers_by_range_requests(hub):
    shards = {
        "model-00001-of-00002.safetensors": safetensors_bytes({"a": ("BF16", [64, 32], 4096),
                                                               "b": ("F8_E4M3", [128, 128], 16384)}),
        "model-00002-of-00002.safetensors": safetensors_bytes({"c": ("F32", [256], 1024)}),
    }
    index = {"metadata": {"total_size": 21504}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                                                              "b": "model-00001-of-00002.safetensors",
                                                              "c": "model-00002-of-00002.safetensors"}}
    hub.repos["Qwen/Qwen3.5-27B"] = {"config.json": QWEN, "model.safetensors.index.json": json.dumps(index).encode(),
                                     **shards}
    imported = import_from_hub("Qwen/Qwen3.5-27B")
    assert imported.model["checkpoint_gib"] * 2**30 == pytest.approx(4096 + 16384 + 1024)
    assert "2 file(s)" in imported.weights_note
    shard_reads = [r for r in hub.requests if r[0] == "GET" and r[1].endswith(".safetensors")]
    assert shard_reads and all(r[2] is not None and r[2].startswith("bytes=") for r in shard_reads)


def test_inconsistent_header_is_refused(hub):
    bad = safetensors_bytes({"a": ("BF16", [64, 64], 100)})  # 64 x 64 BF16 would be 8,192 bytes
    hub.repos["org/bad-8B"] = {"config.json": QWEN, "model.safetensors": bad}
    with pytest.raises(ProfileError, match="tensor 'a' spans 100 bytes"):
        import_from_hub("org/bad-8B")


@pytest.mark.parametrize(("setup", "message"), [
    (lambda hub: hub.gated.add("meta-llama/Gated-70B"), "gated"),
    (lambda hub: None, "no such repository"),
    (lambda hub: hub.repos.update({"meta-llama/Gated-70B": {"README.md": b"x"}}), "has no config.json"),
])
def test_gated_missing_and_configless_repositories(hub, tmp_path, setup, message):
    setup(hub)
    with pytest.raises(ProfileError, match=message) as refused:
        import_from_hub("meta-llama/Gated-70B")
    assert "meta-llama/Gated-70B" in str(refused.value) and "Error" not in str(refused.value)
    assert cached_files(tmp_path) == []


def test_slow_hub_times_out_with_a_clear_message(hub, tmp_path):
    hub.repos["org/slow"] = {"config.json": QWEN}
    hub.slow["org/slow"] = 2.0
    with pytest.raises(ProfileError, match=r"did not answer within 0.5 s"):
        import_from_hub("org/slow", timeout_s=0.5)
    assert cached_files(tmp_path) == []


def test_offline_mode_uses_the_cache_only(hub, monkeypatch):
    hub.repos["Qwen/Qwen3.5-27B"] = {"config.json": QWEN}
    import_from_hub("Qwen/Qwen3.5-27B")
    seen = len(hub.requests)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    again = import_from_hub("Qwen/Qwen3.5-27B")
    assert again.model["state_layers"] == 48 and len(hub.requests) == seen
    with pytest.raises(ProfileError, match="HF_HUB_OFFLINE"):
        import_from_hub("Qwen/Qwen3.6-27B")


def test_token_is_sent(hub, monkeypatch):
    hub.repos["Qwen/Qwen3.5-27B"] = {"config.json": QWEN}
    seen = []
    original = hub.server.RequestHandlerClass._answer

    def spy(self, body):
        seen.append(self.headers.get("Authorization"))
        return original(self, body)

    monkeypatch.setattr(hub.server.RequestHandlerClass, "_answer", spy)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    import_from_hub("Qwen/Qwen3.5-27B")
    assert "Bearer hf_test_token" in seen


@pytest.mark.parametrize("text", ["not a repo", "a/b/c", "/etc/passwd", "org/", "../x/y", "org/na me"])
def test_bad_ids_are_refused(hub, text):
    assert not looks_like_repo_id(text)
    with pytest.raises(ProfileError, match="not a Hub repository id"):
        import_from_hub(text)


def test_a_path_wins_over_a_repo_id(hub, tmp_path, monkeypatch):
    from napkinmath.core.sources.hub import import_path_or_repo

    hub.repos["Qwen/Qwen3.5-27B"] = {"config.json": QWEN}
    assert import_path_or_repo("Qwen/Qwen3.5-27B").model["source"].startswith("imported from http://127.0.0.1")
    folder = tmp_path / "Qwen" / "Qwen3.5-27B"
    folder.mkdir(parents=True)
    (folder / "config.json").write_bytes(QWEN)
    monkeypatch.chdir(tmp_path)
    assert import_path_or_repo("Qwen/Qwen3.5-27B").model["source"] == "imported from Qwen/Qwen3.5-27B/config.json"
