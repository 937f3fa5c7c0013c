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

from ..errors import ProfileError
from ..untrusted import has_control_characters
from .files import read_file_text


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


MAX_REF_BYTES = 256  # refs/main holds a 40-character commit hash


def _main_revision(repository: Path) -> str:
    """What refs/main names, if it is a plain revision name (a commit hash); "" for anything else.

    refs/main is read like every input (a regular file, at most ``MAX_REF_BYTES``): a FIFO there cannot
    hang the scan. An absolute path, ``..``, a slash or a control character is not a revision: such a
    ref could point the browser outside the cache, so it is ignored."""
    try:
        main = read_file_text(repository / "refs" / "main", MAX_REF_BYTES, "refs/main").strip()
    except ProfileError:
        return ""
    plain = main not in (".", "..") and "/" not in main and "\\" not in main and not has_control_characters(main)
    return main if plain else ""


def _inside(folder: Path, root: Path) -> bool:
    """Whether ``folder`` resolves (symlinks followed) to a place inside ``root``."""
    try:
        return folder.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a symlink loop
        return False


def _has_config(snapshot: Path, snapshots: Path) -> bool:
    """A snapshot folder inside the repository's snapshots/ that holds a config.json (a regular file)."""
    try:
        return _inside(snapshot, snapshots) and snapshot.is_dir() and (snapshot / "config.json").is_file()
    except OSError:
        return False


def current_snapshot(repository: Path) -> Path | None:
    """The snapshot refs/main points to, else the most recently changed one that holds a config.json.

    Only folders that resolve inside the repository's ``snapshots/`` count (docs/design/hostile-input.md)."""
    snapshots = repository / "snapshots"
    main = _main_revision(repository)
    if main and _has_config(snapshots / main, snapshots):
        return snapshots / main
    try:
        candidates = [folder for folder in snapshots.iterdir() if _has_config(folder, snapshots)]
        return max(candidates, key=lambda folder: folder.stat().st_mtime, default=None)
    except OSError:
        return None


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
        try:
            has_weights = any(snapshot.glob("*.safetensors")) or any(snapshot.glob("*.safetensors.index.json"))
        except OSError:  # an unreadable snapshot folder: listed, its weights unknown
            has_weights = False
        found.append(CachedModel(repo_id, snapshot.name, snapshot, has_weights))
    return found
