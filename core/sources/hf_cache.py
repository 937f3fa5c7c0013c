"""The models in the local HuggingFace cache, found by reading their snapshots' config.json (no network).

Folder: $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
~/.cache/huggingface/hub (huggingface_hub's own order). Each repository is ``models--ORG--NAME`` with
``snapshots/<revision>/`` folders and ``refs/main`` naming the current revision.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CachedModel:
    repo_id: str  # "meta-llama/Llama-3.1-8B-Instruct"
    revision: str
    folder: Path  # the snapshot folder: config.json and the weights' headers live here
    has_safetensors: bool


def hf_hub_cache(environ: Mapping[str, str] | None = None) -> Path:
    """Where huggingface_hub keeps downloaded models."""
    env = os.environ if environ is None else environ
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    base = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "huggingface" / "hub"


def current_snapshot(repository: Path) -> Path | None:
    """The snapshot refs/main points to, else the most recently changed one that holds a config.json."""
    snapshots = repository / "snapshots"
    try:
        main = (repository / "refs" / "main").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        main = ""
    if main and (snapshots / main / "config.json").is_file():
        return snapshots / main
    try:
        candidates = [folder for folder in snapshots.iterdir() if (folder / "config.json").is_file()]
    except OSError:
        return None
    return max(candidates, key=lambda folder: folder.stat().st_mtime, default=None)


def list_cached_models(cache: Path | None = None) -> list[CachedModel]:
    """Every cached model repository with a config.json, sorted by id; an absent cache is an empty list."""
    cache = hf_hub_cache() if cache is None else cache
    try:
        repositories = sorted(entry for entry in cache.iterdir() if entry.name.startswith("models--"))
    except OSError:
        return []
    found = []
    for repository in repositories:
        snapshot = current_snapshot(repository)
        if snapshot is None:
            continue
        repo_id = repository.name.removeprefix("models--").replace("--", "/", 1)
        has_weights = any(snapshot.glob("*.safetensors")) or any(snapshot.glob("*.safetensors.index.json"))
        found.append(CachedModel(repo_id, snapshot.name, snapshot, has_weights))
    return found
