"""Change one field of a profile and validate the result: the only way the app edits a profile.

Pure and cheap (0.1 ms; 0.2 ms for a change of engine, which re-derives its KV default), so the app can call it
on every keystroke; sweeps reuse it. Loading a catalog id replaces that section with the catalog entry.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ..errors import ProfileError, describe_validation_error
from .files import profile_to_dict
from .schema import Profile, default_memory_fraction

DEGREES = ("tensor", "pipeline", "data")
REPLACEABLE = ("hardware", "model", "workload", "engine", "cost")
# The edits after which an engine's default memory fraction is worked out again (Profile's validators)
FRACTION_INPUTS = frozenset({"engine.name", "engine.version", "hardware.gpu", "hardware.memory_gib",
                             *(f"parallelism.{degree}" for degree in DEGREES)})


def default_kv_dtype(profile: Profile) -> str:
    """The KV cache dtype the profile takes when its [model] names none: the preset's (bf16 for most), or
    TensorRT-LLM's fp8 for fp8 or fp4 weights (core/profile/schema.py)."""
    data = profile_to_dict(profile)
    data["model"].pop("kv_dtype", None)
    return str(_validated(data, "model.kv_dtype").model.kv_dtype)


def edit_profile(profile: Profile, path: str, value: Any) -> Profile:
    """The profile with ``path`` ("section.field") set to ``value``; ProfileError names what is wrong.

    ``hardware.gpu`` and ``model.preset`` load the catalog entry afresh. The GPU count and the
    parallelism degrees stay consistent: changing tensor, pipeline or data keeps the GPU count and
    recounts the replicas (``count_in_replicas``: the fewest GPUs from the count up that make whole
    replicas, so a count that does not divide grows to the next multiple); changing the count sets the
    replicas, and changing the replicas sets the count. The engine's memory fraction, when it is the engine's
    default, follows the edit (a change of engine, version, GPU or parallelism: ``FRACTION_INPUTS``); a change of
    engine takes the new engine's newest release and, where the KV cache dtype is the old engine's default, the
    new one's. A fraction or dtype the user set stays.
    """
    section, _, key = path.partition(".")
    data = profile_to_dict(profile)
    engine, par = profile.engine, profile.parallelism
    if path in FRACTION_INPUTS and engine.gpu_memory_utilization == default_memory_fraction(
            engine.name, engine.version, profile.hardware.memory_gib, par.tensor, par.pipeline, par.data):
        data["engine"].pop("gpu_memory_utilization")  # a default, not the user's: the new profile's default
    if path == "engine.name" and value != engine.name:
        data["engine"].pop("version")  # one engine's release number means nothing to another
        if profile.model.kv_dtype == default_kv_dtype(profile):
            data["model"].pop("kv_dtype", None)  # the engine's default, not the user's: the new engine's default
    if section not in data or not isinstance(data[section], dict) or not key:
        raise ProfileError(f"{path}: not a profile field")
    if path == "hardware.gpu":
        data["hardware"] = {"gpu": value, "count": profile.hardware.count}
    elif path == "model.preset":
        data["model"] = {"preset": value}
    elif path == "hardware.count":
        data["hardware"]["count"] = value
        per_replica = profile.parallelism.gpus_per_replica
        if isinstance(value, int) and value >= 1:
            if value % per_replica:
                raise ProfileError(f"hardware.count: {value} GPUs is not a multiple of tensor x pipeline x data = "
                                   f"{per_replica}; use {per_replica * max(1, round(value / per_replica))}")
            data["parallelism"]["replicas"] = value // per_replica
    elif section == "parallelism" and key == "replicas":
        data["parallelism"]["replicas"] = value
        if isinstance(value, int) and value >= 1:
            data["hardware"]["count"] = value * profile.parallelism.gpus_per_replica
    elif section == "parallelism" and key in DEGREES:
        data["parallelism"][key] = value
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            degrees = {name: data["parallelism"][name] for name in DEGREES}
            per_replica = degrees["tensor"] * degrees["pipeline"] * degrees["data"]
            replicas = count_in_replicas(profile.hardware.count, per_replica)
            data["parallelism"]["replicas"] = replicas
            data["hardware"]["count"] = replicas * per_replica
            if data["parallelism"]["expert"] > degrees["tensor"] * degrees["data"]:
                data["parallelism"]["expert"] = degrees["tensor"] * degrees["data"]
    elif value is None:
        data[section].pop(key, None)
    else:
        data[section][key] = value
    return _validated(data, path)


def count_in_replicas(count: int, per_replica: int) -> int:
    """Replicas of ``per_replica`` GPUs (tensor x pipeline x data) that keep ``count`` GPUs: the count
    divided when it divides, else the fewest replicas that hold at least ``count`` GPUs (at least one)."""
    return max(1, -(-count // per_replica))


def next_whole_count(count: int, per_replica: int, direction: int) -> int:
    """The next GPU count from ``count`` in ``direction`` (+1 or -1) that makes whole replicas of
    ``per_replica`` GPUs; never below one replica."""
    if direction > 0:
        return (count // per_replica + 1) * per_replica
    return max(per_replica, (-(-count // per_replica) - 1) * per_replica)


def _validated(data: dict[str, Any], where: str) -> Profile:
    """The profile ``data`` describes; ProfileError, prefixed with ``where`` for a catalog lookup."""
    try:
        return Profile.model_validate(data)
    except ValidationError as error:
        raise ProfileError(describe_validation_error(error)) from None
    except ProfileError:
        raise
    except ValueError as error:  # a catalog lookup inside validation
        raise ProfileError(f"{where}: {error}") from None


def with_section(profile: Profile, section: str, fields: dict[str, Any]) -> Profile:
    """The profile with a whole section replaced (an imported model, detected GPUs, a calibrated
    engine, a benchmark's workload), validated.

    New hardware brings its own GPU count: the replicas follow when the count is a multiple of
    tensor x pipeline x data, otherwise the GPUs become one tensor-parallel replica. [parallelism]
    is edited field by field (``edit_profile``), which keeps the count consistent.
    """
    data = profile_to_dict(profile)
    if section not in REPLACEABLE:
        raise ProfileError(f"{section}: only {', '.join(f'[{name}]' for name in REPLACEABLE)} can be replaced whole")
    data[section] = dict(fields)
    count = fields.get("count") if section == "hardware" else None
    if isinstance(count, int) and count >= 1:
        per_replica = profile.parallelism.gpus_per_replica
        if count % per_replica == 0:
            data["parallelism"]["replicas"] = count // per_replica
        else:
            data["parallelism"] = {"tensor": count, "pipeline": 1, "data": 1, "expert": 1, "replicas": 1}
    return _validated(data, section)
