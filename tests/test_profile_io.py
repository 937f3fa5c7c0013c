"""Profiles on disk: round trip, atomic save, and every kind of bad input as one clear message."""

from __future__ import annotations

import math
import os

import pytest

from napkinmath.core.errors import ProfileError
from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.files import load_profile, profile_from_toml_text, profile_to_toml, save_profile
from napkinmath.core.profile.paths import shipped_profiles
from napkinmath.core.profile.schema import Profile

MINIMAL = '[hardware]\ngpu = "h100-sxm"\n\n[model]\npreset = "llama-3.1-8b"\n'


def bad(text: str) -> str:
    """The message a profile text is refused with."""
    with pytest.raises(ProfileError) as caught:
        profile_from_toml_text(text, "test.toml")
    return str(caught.value)


@pytest.mark.parametrize("path", shipped_profiles(), ids=lambda p: p.name)
def test_every_shipped_profile_loads_plans_and_round_trips(path, tmp_path):
    profile = load_profile(path)
    plan(profile)
    copy = save_profile(profile, tmp_path / path.name)
    assert load_profile(copy) == profile


def test_at_least_the_seed_and_common_profiles_ship():
    names = {path.name for path in shipped_profiles()}
    assert {"b200-32b-chat-200k.toml", "b200-32b-chat-25k.toml", "b200-32b-chat-duty20.toml",
            "kimi-k2-8xb200-80k.toml", "kimi-k2-8xb200-32k.toml", "llama-3.1-70b-2xh100-fp8.toml",
            "llama-3.1-8b-1xl4.toml", "qwen3-30b-a3b-1xh100.toml"} <= names


def test_catalog_ids_fill_fields_and_given_fields_override():
    overrides = 'gpu = "h100-sxm"\nbandwidth_tb_s = 2.0\ntflops = { fp8 = 1000.0 }'
    profile = profile_from_toml_text(MINIMAL.replace('gpu = "h100-sxm"', overrides))
    assert profile.hardware.bandwidth_tb_s == 2.0
    assert profile.hardware.tflops.fp8 == 1000.0
    assert profile.hardware.tflops.bf16 == pytest.approx(989.4, rel=0.01)  # kept from the catalog
    assert profile.model.layers == 32


def test_saved_file_holds_the_whole_effective_profile(tmp_path):
    path = save_profile(profile_from_toml_text(MINIMAL), tmp_path / "p.toml")
    text = path.read_text()
    for key in ("memory_gib", "bandwidth_tb_s", "layers", "kv_heads", "[workload]", "[engine]", "[cost]", "schema = 1"):
        assert key in text


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "p.toml"
    path.write_text("old contents")

    def failing_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ProfileError, match="old file is unchanged"):
        save_profile(profile_from_toml_text(MINIMAL), path)
    assert path.read_text() == "old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["p.toml"]  # no temporary file left behind


def test_broken_toml():
    message = bad("[hardware\ngpu = 'h100-sxm'")
    assert "test.toml" in message and "not valid TOML" in message


def test_unknown_key_is_named():
    message = bad(MINIMAL + "\n[workload]\nuserz = 5\n")
    assert "workload.userz" in message and "unknown key" in message


def test_unknown_section_is_named():
    assert "flux_capacitor" in bad(MINIMAL + "\n[flux_capacitor]\nx = 1\n")


def test_newer_schema_is_refused_clearly():
    message = bad("schema = 99\n" + MINIMAL)
    assert "schema 99" in message and "Upgrade napkinmath" in message


@pytest.mark.parametrize(("field", "value"), [("count", 0), ("count", -2)])
def test_zero_and_negative_gpu_counts(field, value):
    message = bad(MINIMAL.replace('gpu = "h100-sxm"', f'gpu = "h100-sxm"\n{field} = {value}'))
    assert "hardware.count" in message and "must be at least 1" in message


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_nan_and_infinity(value):
    message = bad(MINIMAL + f"\n[engine]\nmbu = {value}\n")
    assert "engine.mbu" in message and "finite" in message


def test_negative_users_and_duty_cycle_above_one():
    assert "workload.users" in bad(MINIMAL + "\n[workload]\nusers = -5\n")
    assert "workload.duty_cycle" in bad(MINIMAL + "\n[workload]\nduty_cycle = 1.5\n")


def test_wrong_type():
    message = bad(MINIMAL + '\n[workload]\nusers = "lots"\n')
    assert "workload.users" in message and "'lots'" in message


def test_average_context_above_max():
    assert "avg_context_tokens (9000) cannot exceed max_context_tokens (8000)" in bad(
        MINIMAL + "\n[workload]\nmax_context_tokens = 8000\navg_context_tokens = 9000\n")


def test_unknown_gpu_id():
    message = bad(MINIMAL.replace("h100-sxm", "h1000"))
    assert "unknown GPU id 'h1000'" in message and "napkin gpus" in message and "h100-sxm" in message


def test_unknown_model_preset():
    assert "unknown model preset 'llama-9'" in bad(MINIMAL.replace("llama-3.1-8b", "llama-9"))


def test_count_disagreeing_with_parallelism():
    message = bad(MINIMAL.replace('gpu = "h100-sxm"', 'gpu = "h100-sxm"\ncount = 3') + "\n[parallelism]\ntensor = 2\nreplicas = 1\n")
    assert "hardware.count is 3" in message and "= 2 GPUs" in message


def test_count_alone_implies_replicas():
    profile = profile_from_toml_text(MINIMAL.replace('gpu = "h100-sxm"', 'gpu = "h100-sxm"\ncount = 4') + "\n[parallelism]\ntensor = 2\n")
    assert profile.parallelism.replicas == 2


def test_missing_required_section():
    assert "[model] is missing" in bad('[hardware]\ngpu = "h100-sxm"\n')


def test_custom_gpu_without_fallback_compute_path():
    text = MINIMAL.replace('gpu = "h100-sxm"', 'memory_gib = 80.0\nbandwidth_tb_s = 3.0\ntflops = { fp8 = 100.0 }')
    assert "bf16, fp16 or fp32" in bad(text)


def test_a_50_mb_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.toml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(ProfileError, match="far too large"):
        load_profile(path)


def test_missing_file_folder_and_binary(tmp_path):
    with pytest.raises(ProfileError, match="no such file"):
        load_profile(tmp_path / "nope.toml")
    with pytest.raises(ProfileError, match="is a folder"):
        load_profile(tmp_path)
    binary = tmp_path / "b.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ProfileError, match="not UTF-8"):
        load_profile(binary)


def test_a_model_that_does_not_fit_loads_and_plans_with_a_message():
    profile = profile_from_toml_text(MINIMAL.replace("h100-sxm", "l4").replace("llama-3.1-8b", "llama-3.1-405b"))
    result = plan(profile)
    assert not result.memory.fits and "does not fit" in result.warnings[0]


def test_plan_json_numbers_are_finite_for_every_shipped_profile():
    from dataclasses import asdict

    def walk(value, path):
        if isinstance(value, float):
            assert math.isfinite(value), path
        elif isinstance(value, dict):
            for item in value.values():
                walk(item, path)

    for path in shipped_profiles():
        walk(asdict(plan(load_profile(path))), path)


def test_toml_text_round_trip():
    profile = profile_from_toml_text(MINIMAL)
    assert profile_from_toml_text(profile_to_toml(profile)) == profile
    assert isinstance(profile, Profile)


FIRST_BUILDS_FROM_THREADS = r"""
import sys, threading
from napkinmath.core.profile.files import load_profile, profile_to_dict
from napkinmath.core.profile.paths import shipped_profile
from napkinmath.core.profile.schema import Engine, Hardware, Model, Parallelism, Profile, Workload
from napkinmath.core.specs.catalog import gpu_catalog, model_catalog

profile = load_profile(shipped_profile("llama-3.1-70b-2xh100-fp8.toml"))  # builds Profile's validator only
data = profile_to_dict(profile)
start, results, errors = threading.Barrier(8), [], []

def validate():
    start.wait()  # all eight at once: each section's validator is still deferred
    try:
        results.append((Hardware.model_validate(data["hardware"]), Model.model_validate(data["model"]),
                        Parallelism.model_validate(data["parallelism"]), Workload.model_validate(data["workload"]),
                        Engine.model_validate(data["engine"]), len(gpu_catalog()), len(model_catalog()),
                        Profile.model_validate(data)))
    except Exception as error:  # noqa: BLE001 - reported below
        errors.append(repr(error))

threads = [threading.Thread(target=validate) for _ in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join()
expected = (profile.hardware, profile.model, profile.parallelism, profile.workload, profile.engine)
ok = not errors and len(results) == 8 and all(r[:5] == expected and r[7] == profile for r in results)
ok = ok and all(type(r[0]) is Hardware and type(r[1]) is Model for r in results)  # never the parent's validator
print("ok" if ok else f"errors={errors[:3]} results={len(results)}")
"""


def test_deferred_validators_built_first_from_threads_validate_as_built_at_once():
    """Validators are built on first use (core/specs/specs.py, defer_build), and the app's workers validate in
    threads: eight threads validating every section at once, in a fresh process, agree with the profile."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", FIRST_BUILDS_FROM_THREADS], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.strip() == "ok", done.stdout + done.stderr[-2000:]
