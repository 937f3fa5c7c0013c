"""A profile's name follows what it plans until a user names it (core/profile/naming.py)."""

from __future__ import annotations

from conftest import shipped

from napkinmath.core.profile.edit import edit_profile
from napkinmath.core.profile.files import load_profile, save_profile
from napkinmath.core.profile.naming import automatic_name, follow_name, renamed

LLAMA_70B = shipped("llama-3.1-70b-2xh100-fp8.toml")


def test_the_automatic_name_says_model_gpus_and_precision():
    assert automatic_name(LLAMA_70B) == "Llama 3.1 70B on 2 × H100 SXM, FP8 weights"
    custom = edit_profile(LLAMA_70B, "hardware.memory_gib", 70.0)  # still the catalog id's GPU
    assert automatic_name(custom).startswith("Llama 3.1 70B on 2 × H100 SXM")


def test_a_new_model_or_gpu_renames_the_profile_and_drops_the_old_description():
    # Issue 17: DeepSeek-V3 on H200 was still called "Llama 3.1 70B on 2xH100 SXM, FP8 weights", described
    # as "--quantization fp8"
    edited = edit_profile(edit_profile(LLAMA_70B, "model.preset", "deepseek-v3"), "hardware.gpu", "h200")
    followed = follow_name(LLAMA_70B, edited)
    assert followed.name == "DeepSeek-V3 on 2 × H200, FP8 weights" and followed.description == ""
    assert LLAMA_70B.description and not followed.named


def test_an_edit_that_keeps_the_deployment_keeps_name_and_description():
    edited = edit_profile(LLAMA_70B, "workload.users", 900)
    assert follow_name(LLAMA_70B, edited) == edited  # the seed's own name and description stay


def test_a_name_the_user_gave_stays_and_an_empty_one_follows_again(tmp_path):
    mine = renamed(LLAMA_70B, "  prod   cluster ")
    assert (mine.name, mine.named) == ("prod cluster", True)
    moved = follow_name(mine, edit_profile(mine, "model.weight_dtype", "bf16"))
    assert moved.name == "prod cluster" and moved.description == ""  # the description spoke of fp8
    saved = load_profile(save_profile(moved, tmp_path / "mine.toml"))
    assert (saved.name, saved.named) == ("prod cluster", True)
    again = renamed(moved, " ")
    assert (again.name, again.named) == ("Llama 3.1 70B on 2 × H100 SXM, BF16 weights", False)
