"""Models by name: a Hub repository's config.json and safetensors headers, through huggingface_hub.

``import_from_hub("Qwen/Qwen3.5-27B")`` downloads only ``config.json`` (``hf_hub_download``, into the
HuggingFace cache like any other download, so a second import works offline) and reads the weights'
headers by HTTP range requests (``HfApi.get_safetensors_metadata``: the first 100 kB of each shard, never
the data). It honours ``HF_TOKEN`` (gated and private repositories), ``HF_ENDPOINT`` (a mirror),
``HF_HUB_OFFLINE`` (cache only) and ``HF_HUB_CACHE`` / ``HF_HOME``, read at each call. Every failure is
a ProfileError naming the repository and what to do; nothing is written but the cached config.json.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..errors import ProfileError
from ..specs.specs import GIB
from .hf_cache import hf_hub_cache
from .model_import import ImportedModel
from .safetensors_header import expected_tensor_bytes

REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
DEFAULT_TIMEOUT_S = 10.0


def looks_like_repo_id(text: str) -> bool:
    """``ORG/NAME`` that is not a path on this machine."""
    return bool(REPO_ID.match(text)) and not Path(text).exists()


def _endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _timed_out(error: BaseException | None) -> bool:
    """Whether a timeout is anywhere in the error's chain (huggingface_hub wraps httpx's)."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, TimeoutError) or "timeout" in type(error).__name__.lower():
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _why(error: BaseException, repo_id: str, what: str, timeout_s: float) -> ProfileError:
    """One clear message per way a Hub request fails (never the exception's own text)."""
    from huggingface_hub import errors

    endpoint = _endpoint()
    if _timed_out(error):
        return ProfileError(f"{repo_id}: {endpoint} did not answer within {timeout_s:g} s for {what}")
    if isinstance(error, errors.GatedRepoError):
        return ProfileError(f"{repo_id}: the repository is gated; accept its licence on {endpoint}/{repo_id} and "
                            f"set HF_TOKEN to a token of that account")
    if isinstance(error, errors.RepositoryNotFoundError):
        return ProfileError(f"{repo_id}: no such repository on {endpoint} (a private one needs HF_TOKEN)")
    if isinstance(error, errors.RevisionNotFoundError):
        return ProfileError(f"{repo_id}: no such revision on {endpoint}")
    if isinstance(error, errors.LocalEntryNotFoundError):
        if _offline():
            return ProfileError(f"{repo_id}: {what} is not in the HuggingFace cache and HF_HUB_OFFLINE is set")
        return ProfileError(f"{repo_id}: cannot reach {endpoint} for {what} (and it is not cached); check the "
                            f"network or HF_ENDPOINT")
    if isinstance(error, errors.EntryNotFoundError):
        return ProfileError(f"{repo_id}: the repository has no {what}")
    if isinstance(error, errors.HfHubHTTPError):
        status = getattr(getattr(error, "response", None), "status_code", None)
        if status in (401, 403):
            return ProfileError(f"{repo_id}: {endpoint} refused access (HTTP {status}); set HF_TOKEN to a token "
                                f"that may read it")
        return ProfileError(f"{repo_id}: {endpoint} answered HTTP {status or 'error'} for {what}")
    return ProfileError(f"{repo_id}: cannot fetch {what} from {endpoint} ({type(error).__name__})")


def _download_config(repo_id: str, revision: str | None, timeout_s: float) -> Path:
    """config.json from the cache or the Hub. One metadata request without retries first
    (``get_hf_file_metadata``), so that a gated, missing or slow repository answers within ``timeout_s``
    (``hf_hub_download`` alone retries a timed-out request for up to a minute); a cached copy serves when
    the Hub cannot be reached, as huggingface_hub itself does."""
    from huggingface_hub import errors, get_hf_file_metadata, hf_hub_download, hf_hub_url
    from huggingface_hub.utils import tqdm

    class Quiet(tqdm):  # a few KB: no progress bar on stderr
        def __init__(self, *arguments: Any, **options: Any) -> None:
            super().__init__(*arguments, **{**options, "disable": True})

    token = os.environ.get("HF_TOKEN") or None

    def download(local_only: bool) -> Path:
        return Path(str(hf_hub_download(repo_id, "config.json", revision=revision, cache_dir=hf_hub_cache(),
                                        token=token, endpoint=_endpoint(), local_files_only=local_only,
                                        etag_timeout=timeout_s, tqdm_class=Quiet)))

    try:
        if not _offline():
            url = hf_hub_url(repo_id, "config.json", revision=revision, endpoint=_endpoint())
            try:
                get_hf_file_metadata(url, token=token, timeout=timeout_s)
            except errors.HfHubHTTPError:
                raise
            except Exception:  # not reachable: a cached copy serves, as in huggingface_hub
                try:
                    return download(local_only=True)
                except errors.LocalEntryNotFoundError:
                    pass
                raise
        return download(local_only=_offline())
    except Exception as error:  # huggingface_hub and httpx raise many kinds; each gets its own message
        raise _why(error, repo_id, "config.json", timeout_s) from None


def checkpoint_bytes(repo_id: str, revision: str | None, timeout_s: float) -> tuple[int, int, int] | None:
    """(bytes, tensors, files) of the checkpoint from its safetensors headers, None when it has none.
    Each tensor's size is its data_offsets span, checked against its dtype and shape."""
    from huggingface_hub import HfApi, errors

    api = HfApi(endpoint=_endpoint(), token=os.environ.get("HF_TOKEN") or None)
    try:
        metadata = api.get_safetensors_metadata(repo_id, revision=revision, timeout=timeout_s)
    except errors.NotASafetensorsRepoError:
        return None
    except Exception as error:
        raise _why(error, repo_id, "the safetensors headers", timeout_s) from None
    total = tensors = 0
    for file, info in metadata.files_metadata.items():
        for name, tensor in info.tensors.items():
            begin, end = tensor.data_offsets
            size = end - begin
            expected = expected_tensor_bytes(str(tensor.dtype), tuple(tensor.shape))
            if size < 0 or (expected is not None and expected != size):
                raise ProfileError(f"{repo_id}: {file}: tensor {name[:80]!r} spans {size:,} bytes, which its dtype "
                                   f"and shape do not give")
            total += size
            tensors += 1
    return total, tensors, len(metadata.files_metadata)


def import_from_hub(repo_id: str, name: str | None = None, revision: str | None = None,
                    timeout_s: float = DEFAULT_TIMEOUT_S) -> ImportedModel:
    """The [model] section for a Hub repository (see the module docstring)."""
    from .hf_config import model_from_config

    if not REPO_ID.match(repo_id):
        raise ProfileError(f"{repo_id[:120]!r} is not a Hub repository id: give ORG/NAME (letters, digits, '.', "
                           f"'_', '-'), a config.json, or a model folder")
    config = _download_config(repo_id, revision, timeout_s)
    model, count = model_from_config(config, name or repo_id.split("/")[1])
    model["source"] = f"imported from {_endpoint()}/{repo_id}" + (f" @ {revision}" if revision else "")
    note = f"estimated as parameters x {model['weight_dtype']} bytes (no safetensors headers read)"
    if not _offline():
        found = checkpoint_bytes(repo_id, revision, timeout_s)
        if found is not None:
            size, tensors, files = found
            model["checkpoint_gib"] = size / GIB
            model["checkpoint_weight_dtype"] = model["weight_dtype"]
            note = (f"exact from the safetensors headers of {files} file(s) on the Hub (range requests): "
                    f"{size / GIB:,.2f} GiB in {tensors:,} tensors, scales included")
    return ImportedModel(model=model, count=count, weights_note=note)


def import_path_or_repo(target: str | Path, name: str | None = None) -> ImportedModel:
    """What `napkin import-config` and the app's import dialog take: a config.json, a model folder, or a
    Hub repository id (``ORG/NAME`` that is not a path here)."""
    from .model_import import import_model

    text = str(target).strip()
    if looks_like_repo_id(text):
        return import_from_hub(text, name)
    return import_model(Path(text).expanduser(), name)
