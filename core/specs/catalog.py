"""The GPU and model catalogs: TOML data files shipped in ``core/specs/data/``, one table per entry.

Each entry carries a ``source``; ``docs/catalog-gpus.md`` and ``docs/catalog-models.md`` say where
every figure came from. Loaded once per process and validated as ``GpuSpec`` / ``ModelSpec``.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from pydantic import ValidationError

from napkinmath.core.errors import ProfileError, describe_validation_error
from napkinmath.core.specs.specs import GpuSpec, ModelSpec


def _read_catalog_file(name: str) -> dict[str, Any]:
    path = resources.files("napkinmath.core.specs").joinpath("data", name)
    with path.open("rb") as handle:
        return tomllib.load(handle)


@cache
def _raw_entries(name: str) -> dict[str, dict[str, Any]]:
    return _read_catalog_file(name)


@cache
def gpu_catalog() -> dict[str, GpuSpec]:
    """Every catalog GPU by id, validated."""
    return {gpu_id: _validated(GpuSpec, entry, f"catalog gpus.toml [{gpu_id}]") for gpu_id, entry in _raw_entries("gpus.toml").items()}


@cache
def model_catalog() -> dict[str, ModelSpec]:
    """Every model preset by id, validated."""
    return {model_id: _validated(ModelSpec, entry, f"catalog models.toml [{model_id}]") for model_id, entry in _raw_entries("models.toml").items()}


def _validated(kind: type, entry: dict[str, Any], where: str):
    try:
        return kind.model_validate(entry)
    except ValidationError as error:  # a broken shipped catalog is a bug, but still say where
        raise ProfileError(describe_validation_error(error, where)) from None


def gpu_entry(gpu_id: str) -> dict[str, Any]:
    """The raw fields of one catalog GPU, for merging under a profile's overrides."""
    gpu_catalog()  # validate the whole file once
    entries = _raw_entries("gpus.toml")
    if gpu_id not in entries:
        raise ValueError(f"unknown GPU id {gpu_id!r}; known ids: {', '.join(sorted(entries))} (`napkin gpus` lists them)")
    return entries[gpu_id]


def model_entry(model_id: str) -> dict[str, Any]:
    """The raw fields of one model preset, for merging under a profile's overrides."""
    model_catalog()
    entries = _raw_entries("models.toml")
    if model_id not in entries:
        raise ValueError(f"unknown model preset {model_id!r}; known ids: {', '.join(sorted(entries))} (`napkin models` lists them)")
    return entries[model_id]
