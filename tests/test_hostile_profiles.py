"""Hostile profiles (issue 16): files that are not files, files that never end, values no parser or
physics should see. Each is refused with exit 2, one clean paragraph naming the file and field, and no
file changed. See tests/hostile_support.py for the shared checks."""

from __future__ import annotations

import json
import os
import random

import pytest
from hostile_support import assert_clean, assert_refused, deadline, fifo, needs_dev_zero, run_napkin, unchanged

from napkinmath.core.errors import ProfileError
from napkinmath.core.plan.compose import plan
from napkinmath.core.plan.json_view import plan_to_dict
from napkinmath.core.profile.files import load_profile, profile_from_dict, profile_to_dict
from napkinmath.core.profile.paths import shipped_profiles
from napkinmath.core.report.markdown import plan_markdown, vllm_command

MINIMAL = '[hardware]\ngpu = "h100-sxm"\n{hardware}\n[model]\npreset = "llama-3.1-8b"\n{model}\n{rest}'


def profile_text(hardware: str = "", model: str = "", rest: str = "", top: str = "") -> str:
    return top + MINIMAL.format(hardware=hardware, model=model, rest=rest)


def refuse_file(capsys, path, *names, command=("plan",)):
    with unchanged(path.parent if path.parent.exists() else path):
        return assert_refused(run_napkin(capsys, *command, str(path)), *names)


# ---- not a regular file -------------------------------------------------------------------------


def test_fifo_profile_is_refused_without_blocking(tmp_path, capsys):
    path = fifo(tmp_path / "fifo.toml")
    err = refuse_file(capsys, path, "fifo.toml", "named pipe")
    assert "regular file" in err


def test_symlink_to_a_fifo_is_refused(tmp_path, capsys):
    fifo(tmp_path / "pipe")
    (tmp_path / "link.toml").symlink_to(tmp_path / "pipe")
    refuse_file(capsys, tmp_path / "link.toml", "link.toml", "named pipe")


@needs_dev_zero
def test_dev_zero_profile_is_refused_without_reading_it(capsys):
    with deadline(5):
        assert_refused(run_napkin(capsys, "plan", "/dev/zero"), "/dev/zero", "character device")


@needs_dev_zero
def test_symlink_to_dev_zero_is_refused(tmp_path, capsys):
    (tmp_path / "zero.toml").symlink_to("/dev/zero")
    refuse_file(capsys, tmp_path / "zero.toml", "zero.toml", "character device")


def test_folder_and_missing_file(tmp_path, capsys):
    (tmp_path / "dir.toml").mkdir()
    refuse_file(capsys, tmp_path / "dir.toml", "dir.toml", "folder")
    refuse_file(capsys, tmp_path / "missing.toml", "missing.toml", "no such file")


def test_sparse_50_mb_profile_is_refused_at_the_limit(tmp_path, capsys):
    path = tmp_path / "huge.toml"
    with path.open("wb") as handle:
        handle.truncate(50 * 2**20)
    refuse_file(capsys, path, "huge.toml", "far too large")


def test_a_file_past_the_limit_is_read_only_to_the_limit_plus_one_byte(tmp_path, monkeypatch):
    from napkinmath.core.sources import files

    asked = []
    real = files.read_at_most
    monkeypatch.setattr(files, "read_at_most", lambda handle, count, path="": asked.append(count) or real(
        handle, count, path))
    path = tmp_path / "grows.toml"
    path.write_bytes(b"#" * 5000)
    with pytest.raises(ProfileError, match="more than 1,000 bytes"):
        files.read_file_bytes(path, 1000, "profile")
    assert asked == [1001]


def test_settings_last_profile_reader_refuses_a_fifo(tmp_path):
    """The reader every start-up path uses (the app's last profile goes through load_profile)."""
    path = fifo(tmp_path / "last.toml")
    with deadline(5), pytest.raises(ProfileError, match="named pipe"):
        load_profile(path)


# ---- text no parser should see ------------------------------------------------------------------


UNPARSEABLE = [
    ("deep_array", "x = " + "[" * 5000 + "]" * 5000 + "\n" + profile_text(), ("nested too deep",)),
    ("deep_inline_table", "x = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n" + profile_text(), ("nested",)),
    ("nested_150_levels", "x = " + "[" * 150 + "]" * 150 + "\n" + profile_text(), ("nested more than 100 levels",)),
    ("int_5000_digits", profile_text(hardware="count = " + "7" * 5000), ("more than 4,300 digits",)),
    ("int_4000_digits", profile_text(hardware="count = " + "7" * 4000), ("hardware.count", "4,000 digits")),
    ("invalid_utf8", None, ("not UTF-8",)),
    ("broken_toml", "[hardware\n", ("not valid TOML",)),
]


@pytest.mark.parametrize(("case", "text", "names"), UNPARSEABLE, ids=[case for case, _, _ in UNPARSEABLE])
def test_unparseable_text(tmp_path, capsys, case, text, names):
    path = tmp_path / f"{case}.toml"
    path.write_bytes(text.encode() if text is not None else b"\xff\xfe[hardware]\n")
    refuse_file(capsys, path, f"{case}.toml", *names)


# ---- values that pass a loose check and then crash ----------------------------------------------


SUBNORMALS = [
    ("duty_cycle_5e-324", profile_text(rest="[workload]\nduty_cycle = 5e-324\n"), "workload.duty_cycle"),
    ("duty_cycle_1e-308", profile_text(rest="[workload]\nduty_cycle = 1e-308\n"), "workload.duty_cycle"),
    ("tflops_bf16_5e-324", profile_text(hardware="tflops = { bf16 = 5e-324 }"), "hardware.tflops.bf16"),
    ("tflops_fp8_1e-310", profile_text(hardware="tflops = { fp8 = 1e-310 }"), "hardware.tflops.fp8"),
    ("mbu_5e-324", profile_text(rest="[engine]\nmbu = 5e-324\n"), "engine.mbu"),
    ("mfu_5e-324", profile_text(rest="[engine]\nmfu = 5e-324\n"), "engine.mfu"),
    ("bandwidth_1e-310", profile_text(hardware="bandwidth_tb_s = 1e-310"), "hardware.bandwidth_tb_s"),
    ("memory_1e-310", profile_text(hardware="memory_gib = 1e-310"), "hardware.memory_gib"),
    ("gpu_memory_utilization_5e-324", profile_text(rest="[engine]\ngpu_memory_utilization = 5e-324\n"),
     "engine.gpu_memory_utilization"),
    ("lifetime_5e-324", profile_text(rest="[cost]\nlifetime_years = 5e-324\n"), "cost.lifetime_years"),
    ("active_params_5e-324", profile_text(model="active_params_b = 5e-324"), "model.active_params_b"),
    ("interconnect_5e-324", profile_text(hardware="interconnect_gb_s = 5e-324"), "hardware.interconnect_gb_s"),
    ("speed_target_5e-324", profile_text(rest="[workload]\ntarget_tokens_per_s = 5e-324\n"),
     "workload.target_tokens_per_s"),
]


@pytest.mark.parametrize(("case", "text", "field"), SUBNORMALS, ids=[case for case, _, _ in SUBNORMALS])
def test_subnormal_positive_values_are_refused(tmp_path, capsys, case, text, field):
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    for flags in ((), ("--json",), ("--markdown",)):
        with unchanged(tmp_path):
            assert_refused(run_napkin(capsys, "plan", str(path), *flags), f"{case}.toml", field, "at least")


@pytest.mark.parametrize(("case", "text", "field", "shown"), [
    ("count_string", profile_text(hardware='count = "2"'), "hardware.count", "'2'"),
    ("users_true", profile_text(rest="[workload]\nusers = true\n"), "workload.users", "True"),
    ("mbu_string", profile_text(rest='[engine]\nmbu = "0.5"\n'), "engine.mbu", "'0.5'"),
    ("tensor_float", profile_text(rest="[parallelism]\ntensor = 2.0\n"), "parallelism.tensor", "2.0"),
    ("cuda_graphs_int", profile_text(rest="[engine]\ncuda_graphs = 1\n"), "engine.cuda_graphs", "1"),
    ("layers_bool", profile_text(model="layers = false"), "model.layers", "False"),
])
def test_lax_types_are_refused(tmp_path, capsys, case, text, field, shown):
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    refuse_file(capsys, path, f"{case}.toml", field, shown)


def test_a_990000_character_name_is_quoted_not_echoed(tmp_path, capsys):
    path = tmp_path / "long.toml"
    path.write_text(profile_text(top=f'name = "{"N" * 990_000}"\n'))
    err = refuse_file(capsys, path, "long.toml", "name", "at most 200 characters", "989,")
    assert err.count("N") < 200


def test_a_long_unknown_key_and_a_long_catalog_id_are_quoted_briefly(tmp_path, capsys):
    path = tmp_path / "keys.toml"
    path.write_text(profile_text(hardware=f'"{"k" * 100_000}" = 1'))
    assert len(refuse_file(capsys, path, "keys.toml", "unknown key")) < 1000
    path.write_text(profile_text().replace('gpu = "h100-sxm"', f'gpu = "{"h" * 100_000}"'))
    assert len(refuse_file(capsys, path, "keys.toml", "unknown GPU id")) < 1000
    path.write_text(profile_text().replace('gpu = "h100-sxm"', f"gpu = [{'1,' * 50_000}]"))
    assert len(refuse_file(capsys, path, "keys.toml", "catalog id")) < 1000


@pytest.mark.parametrize(("case", "top", "model"), [
    ("osc_title", 'name = "\\u001b]0;PWNED\\u0007"\n', ""),
    ("csi_clear", 'name = "x\\u001b[2J\\u001b[H"\n', ""),
    ("c1_csi", 'name = "x\\u009b31m"\n', ""),
    ("bidi_override", 'name = "gpt\\u202eaxe"\n', ""),
    ("model_name_esc", "", 'name = "\\u001b[31mred"'),
    ("description_bell", 'description = "ding\\u0007"\n', ""),
])
def test_control_characters_in_text_are_refused(tmp_path, capsys, case, top, model):
    path = tmp_path / f"{case}.toml"
    path.write_text(profile_text(top=top, model=model))
    refuse_file(capsys, path, f"{case}.toml", "control characters")


def test_newlines_and_tabs_in_a_description_are_still_allowed(tmp_path):
    path = tmp_path / "multiline.toml"
    path.write_text(profile_text(top='description = """two\nlines\tand a tab"""\n'))
    assert load_profile(path).description == "two\nlines\tand a tab"


@pytest.mark.parametrize(("case", "top", "model", "hardware"), [
    ("name_markup", 'name = "[/]"\n', "", ""),
    ("name_styled", 'name = "[bold red]MODEL[/]"\n', "", ""),
    ("name_click", 'name = "[@click=app.quit]x[/]"\n', "", ""),
    ("model_name_markup", "", 'name = "[/]"', ""),
    ("gpu_name_markup", "", "", 'name = "[/]"'),
])
def test_brackets_in_names_are_plain_text_in_json_and_markdown(tmp_path, capsys, case, top, model, hardware):
    path = tmp_path / f"{case}.toml"
    path.write_text(profile_text(top=top, model=model, hardware=hardware))
    name = (top or model or hardware).split('"')[1]
    code, out, err = run_napkin(capsys, "plan", str(path), "--json")
    assert code == 0 and err == ""
    assert name in json.dumps(json.loads(out)["profile"])
    code, out, err = run_napkin(capsys, "plan", str(path), "--markdown")
    assert code == 0 and name in out and err == ""


def test_unknown_key_with_brackets_is_named_as_written(tmp_path, capsys):
    path = tmp_path / "bracket_key.toml"
    path.write_text(profile_text(hardware='"[/]" = 1'))
    refuse_file(capsys, path, "bracket_key.toml", "hardware.[/]", "unknown key")


def test_weight_dtype_with_brackets_is_refused_naming_it(tmp_path, capsys):
    path = tmp_path / "dtype.toml"
    path.write_text(profile_text(model='weight_dtype = "[/]"'))
    refuse_file(capsys, path, "dtype.toml", "model.weight_dtype", "'[/]'")


def test_a_file_name_with_brackets_and_escapes_is_shown_escaped(tmp_path, capsys):
    folder = tmp_path / "runs"
    folder.mkdir()
    path = folder / "[old] llama\x1b]0;X\x07.toml"
    path.write_text("[hardware\n")
    err = refuse_file(capsys, path, "runs/[old] llama\\x1b]0;X\\x07.toml", "not valid TOML")
    assert_clean(err)


# ---- the physics at every field's bounds ---------------------------------------------------------


def _bounds(model, key):
    low = high = None
    for rule in model.model_fields[key].metadata:
        low = next((getattr(rule, a) for a in ("ge", "gt") if getattr(rule, a, None) is not None), low)
        high = next((getattr(rule, a) for a in ("le", "lt") if getattr(rule, a, None) is not None), high)
    return low, high


def _numeric(field) -> bool:
    annotation = str(field.annotation)
    return ("float" in annotation or "int" in annotation) and "dict" not in annotation


@pytest.mark.parametrize("seed", range(4))
def test_every_field_at_its_bounds_plans_or_is_refused_never_crashes(seed):
    """Random mixes of floors, floors plus a hair and ceilings across all numeric fields of the shipped
    profiles: each validated profile plans, exports finite JSON, Markdown and a vLLM command."""
    rng = random.Random(seed)
    profiles = [load_profile(path) for path in shipped_profiles()]
    planned = 0
    for _ in range(400):
        base = rng.choice(profiles)
        data = profile_to_dict(base)
        for section in ("hardware", "model", "workload", "engine", "cost"):
            model = type(getattr(base, section))
            for key, field in model.model_fields.items():
                if rng.random() > 0.12:
                    continue
                if key == "tflops":
                    for path in data["hardware"]["tflops"]:
                        data["hardware"]["tflops"][path] = rng.choice([0.01, 0.0100001, 1e6])
                    continue
                if not _numeric(field):
                    continue
                low, high = _bounds(model, key)
                choices = [v for v in (low, low * 1.000001 if low else None, high) if v is not None]
                if choices:
                    value = rng.choice(choices)
                    data[section][key] = int(value) if "int" in str(field.annotation) and "float" not in str(
                        field.annotation) else value
        try:
            profile = profile_from_dict(data)
            result = plan(profile)
        except ProfileError:
            continue
        json.dumps(plan_to_dict(result, profile), allow_nan=False)
        plan_markdown(profile, result)
        vllm_command(profile, result)
        planned += 1
    assert planned > 100  # the mix must reach the physics, not only the validation


def test_profile_files_are_never_written_by_a_refusal(tmp_path, capsys):
    path = tmp_path / "p.toml"
    path.write_text(profile_text(rest="[workload]\nduty_cycle = 5e-324\n"))
    os.chmod(path, 0o640)
    refuse_file(capsys, path, "p.toml")
    assert oct(path.stat().st_mode & 0o777) == "0o640"
