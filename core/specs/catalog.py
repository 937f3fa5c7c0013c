"""The GPU and model catalogs: TOML data files shipped in ``core/specs/data/``, one table per entry.

Each entry carries a ``source``; ``docs/catalog-gpus.md`` and ``docs/catalog-models.md`` say where
every figure came from. Loaded once per process and validated as ``GpuSpec`` / ``ModelSpec``.

Facts about an entry that are not part of its spec sit in a sub-table beside it, so that they stay
in the one data file without riding along in every saved profile:

* ``[ID.detect]`` (GPUs): how ``nvidia-smi``/``rocm-smi`` name the part — ``smi_name`` (a name the
  driver prints, checked by a test for every entry), ``pattern`` (a regex over the normalised name) and
  an optional ``exclude`` (a regex for variants the catalog does not describe);
* ``[ID.hub]`` (models): ``repo`` (the HuggingFace repo vLLM should load) and ``trust_remote_code``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from pydantic import ValidationError

from ..errors import ProfileError, describe_validation_error
from ..packaged_data import packaged_toml
from ..untrusted import excerpt
from .specs import GpuSpec, ModelSpec


def _read_catalog_file(name: str) -> dict[str, Any]:
    return packaged_toml("napkinmath.core.specs", "data", name)


SpecT = TypeVar("SpecT", GpuSpec, ModelSpec)

METADATA_TABLES = {"gpus.toml": "detect", "models.toml": "hub"}


@cache
def _file_entries(name: str) -> dict[str, dict[str, Any]]:
    return _read_catalog_file(name)


@cache
def _raw_entries(name: str) -> dict[str, dict[str, Any]]:
    """The spec fields of each entry: the entry less its metadata sub-table."""
    metadata = METADATA_TABLES[name]
    return {entry_id: {key: value for key, value in entry.items() if key != metadata}
            for entry_id, entry in _file_entries(name).items()}


@dataclass(frozen=True, slots=True)
class DetectionRule:
    """How the driver tools name one catalog GPU (``[ID.detect]``)."""

    gpu_id: str
    vendor: str
    smi_name: str
    pattern: str
    exclude: str | None


@dataclass(frozen=True, slots=True)
class HubRepo:
    """The HuggingFace repo of one model preset (``[ID.hub]``)."""

    repo: str
    trust_remote_code: bool


@cache
def gpu_detection_rules() -> tuple[DetectionRule, ...]:
    """Every catalog GPU's detection rule, in catalog order."""
    catalog = gpu_catalog()
    return tuple(DetectionRule(gpu_id, catalog[gpu_id].vendor, entry["detect"]["smi_name"], entry["detect"]["pattern"],
                               entry["detect"].get("exclude"))
                 for gpu_id, entry in _file_entries("gpus.toml").items() if "detect" in entry)


@cache
def model_hub_repos() -> dict[str, HubRepo]:
    """Model preset id -> its HuggingFace repo, for the presets that name one."""
    return {model_id: HubRepo(entry["hub"]["repo"], bool(entry["hub"].get("trust_remote_code", False)))
            for model_id, entry in _file_entries("models.toml").items() if "hub" in entry}


@cache
def gpu_catalog() -> dict[str, GpuSpec]:
    """Every catalog GPU by id, validated."""
    return {gpu_id: _validated(GpuSpec, entry, f"catalog gpus.toml [{gpu_id}]")
            for gpu_id, entry in _raw_entries("gpus.toml").items()}


@cache
def model_catalog() -> dict[str, ModelSpec]:
    """Every model preset by id, validated."""
    return {model_id: _validated(ModelSpec, entry, f"catalog models.toml [{model_id}]")
            for model_id, entry in _raw_entries("models.toml").items()}


def _validated(kind: type[SpecT], entry: dict[str, Any], where: str) -> SpecT:
    try:
        return kind.model_validate(entry)
    except ValidationError as error:  # a broken shipped catalog is a bug, but still say where
        raise ProfileError(describe_validation_error(error, where)) from None


def gpu_entry(gpu_id: str) -> dict[str, Any]:
    """The raw fields of one catalog GPU, for merging under a profile's overrides. Validated where it is used
    (merged into a profile, it is validated as the profile's hardware); the whole file is validated when it
    is listed (``gpu_catalog``), not here: opening a profile needs only its own entry."""
    entries = _raw_entries("gpus.toml")
    if gpu_id not in entries:
        raise ValueError(f"unknown GPU id {excerpt(gpu_id)}; known ids: {', '.join(sorted(entries))} "
                         "(`napkin gpus` lists them)")
    return entries[gpu_id]


def model_entry(model_id: str) -> dict[str, Any]:
    """The raw fields of one model preset, for merging under a profile's overrides (validated as ``gpu_entry``'s)."""
    entries = _raw_entries("models.toml")
    if model_id not in entries:
        raise ValueError(f"unknown model preset {excerpt(model_id)}; known ids: {', '.join(sorted(entries))} "
                         "(`napkin models` lists them)")
    return entries[model_id]
