"""A profile's name that follows what it plans: model, GPUs and weight precision, until a user names it.

``automatic_name`` builds it ("Llama 3.1 70B on 2 × H100 SXM, FP8 weights"); ``follow_name`` keeps a
profile's name and description true after an edit: while the profile is not ``named`` by a user, a
change of the model, the GPUs or the weight precision renames it, and a description written for the
old deployment (a seed profile's "--tensor-parallel-size 2 --quantization fp8") is dropped, named or not.
Pure functions over immutable profiles (docs/design/interfaces.md, "top level").
"""

from __future__ import annotations

from .schema import Profile


def gpu_label(profile: Profile) -> str:
    """The GPU's short name: its catalog id as written on the box ("h100-sxm" -> "H100 SXM"), else its name."""
    gpu = profile.hardware.gpu
    return gpu.upper().replace("-", " ") if gpu else profile.hardware.name


def automatic_name(profile: Profile) -> str:
    """The name a profile gets from what it plans: model, GPU count and kind, weight precision."""
    model, count = profile.model, profile.hardware.count
    name = f"{model.name} on {count:,} × {gpu_label(profile)}, {model.weight_dtype.value.upper()} weights"
    return name[:200]


def follow_name(before: Profile, after: Profile) -> Profile:
    """``after`` (an edit of ``before``) with a name and description that still say what it plans.

    Nothing changes unless the automatic name does (the model, the GPUs or the weight precision
    changed); then the description is dropped, and the name becomes the new automatic one unless a
    user named the profile.
    """
    new = automatic_name(after)
    if new == automatic_name(before):
        return after
    update: dict[str, object] = {"description": ""}
    if not after.named:
        update["name"] = new
    return after.model_copy(update=update)


def renamed(profile: Profile, name: str) -> Profile:
    """The profile named ``name`` by its user; an empty name gives the automatic one back (and lets it follow)."""
    cleaned = " ".join(name.split())[:200]
    if not cleaned:
        return profile.model_copy(update={"name": automatic_name(profile), "named": False})
    return profile.model_copy(update={"name": cleaned, "named": True})
