"""Hostile command lines (issue 16): sweep values no plan can use, logs that are not logs, names that never
end. Each is refused with exit 2 and one clean paragraph naming the flag or file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hostile_support import assert_refused, deadline, fifo, needs_dev_zero, run_napkin, unchanged

from napkinmath.core.errors import ProfileError
from napkinmath.core.profile.paths import shipped_profile
from napkinmath.core.sources.vllm_log import parse_vllm_log

PROFILE = str(shipped_profile("llama-3.1-8b-1xl4.toml"))


@pytest.mark.parametrize("vary", ["users=inf", "users=-inf", "users=nan", "users=1e400", "users=1,inf",
                                  "users=1:inf:1", "users=nan:10:1", "users=1:10:nan", "users=a:b:c"])
@pytest.mark.parametrize("as_json", [False, True])
def test_sweep_values_must_be_finite(capsys, vary, as_json):
    flags = ["--json"] if as_json else []
    assert_refused(run_napkin(capsys, "sweep", PROFILE, "--vary", vary, *flags), "--vary")


def test_sweep_of_too_many_values_is_refused(capsys):
    assert_refused(run_napkin(capsys, "sweep", PROFILE, "--vary", "users=" + ",".join(["5"] * 10_001)), "10,001")


def test_a_long_sweep_field_name_is_quoted_briefly(capsys):
    err = assert_refused(run_napkin(capsys, "sweep", PROFILE, "--vary", "u" * 990_000 + "=1"), "not a profile field")
    assert err.count("u") < 200


def test_a_toml_file_is_not_taken_for_a_vllm_log(capsys, tmp_path):
    with unchanged(tmp_path):
        assert_refused(run_napkin(capsys, "calibrate", PROFILE, "--log", PROFILE), "does not look like a vLLM")


def test_a_non_log_is_refused_naming_its_file():
    with pytest.raises(ProfileError, match=r"^run\.log: this does not look like a vLLM start-up log"):
        parse_vllm_log('[engine]\ngpu_memory_utilization = 0.9\nkv_cache_dtype = "fp8"\n', source="run.log")


def test_a_fifo_log_is_refused_without_blocking(capsys, tmp_path):
    log = fifo(tmp_path / "vllm.log")
    with deadline(5):
        assert_refused(run_napkin(capsys, "calibrate", PROFILE, "--log", str(log)), "vllm.log", "named pipe")


@needs_dev_zero
def test_dev_zero_log_is_refused(capsys):
    with deadline(5):
        assert_refused(run_napkin(capsys, "calibrate", PROFILE, "--log", "/dev/zero"), "/dev/zero", "character device")


@pytest.mark.parametrize("value", ["nan", "inf", "1e308", "-1", "0"])
def test_detect_timeout_flag(capsys, value):
    with deadline(5):
        assert_refused(run_napkin(capsys, "detect", "--timeout", value), "--timeout", "above 0")


# ---- the command line itself ---------------------------------------------------------------------


@pytest.mark.parametrize(("word", "suggested"), [("gpu", "napkin gpus"), ("pln", "napkin plan"),
                                                 ("detetc", "napkin detect"), ("zzzz", None)])
def test_a_mistyped_subcommand_is_refused_with_the_nearest_one(capsys, word, suggested):
    err = assert_refused(run_napkin(capsys, word), "neither a subcommand nor a profile file")
    assert (suggested in err) if suggested else "Did you mean" not in err


@pytest.mark.parametrize("argv", [[], ["draft[/].toml"], [PROFILE]])
def test_the_app_refuses_to_start_without_a_terminal(capsys, argv):
    """Under pytest stdin and stdout are not a terminal: the app would hang in a pipe."""
    assert_refused(run_napkin(capsys, *argv), "needs a terminal")


def test_an_app_that_crashed_exits_3(capsys, monkeypatch):
    import sys

    from napkinmath.tui import app

    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(app, "run_app", lambda path: 1)  # Textual's return code after an unhandled exception
    code, _, _ = run_napkin(capsys, PROFILE)
    assert code == 3


@pytest.mark.parametrize("name", ["[/]", "[bold red]MODEL[/]", "[@click=app.quit]x[/]"])
def test_markup_in_names_is_printed_as_written_by_every_command(capsys, tmp_path, name):
    from napkinmath.core.profile.files import load_profile, save_profile

    profile = save_profile(load_profile(PROFILE).model_copy(update={"name": name}), tmp_path / "[old] llama.toml")
    other = save_profile(load_profile(PROFILE), tmp_path / "other.toml")
    for argv in (["plan", str(profile)], ["plan", str(profile), "--markdown"],
                 ["sweep", str(profile), "--vary", "users=100,200"], ["compare", str(other), str(profile)],
                 ["import-config", str(Path(__file__).parent / "data" / "configs" / "llama-3.1-8b.json"), "--name",
                  name]):
        code, out, err = run_napkin(capsys, *argv)
        assert code == 0 and err == "", (argv, err)
        shown = name if argv[0] != "compare" else "[old] llama"  # compare's columns are the file names
        assert shown in out.replace("\n", ""), (argv, out[:500])
        assert "\x1b" not in out


def test_a_non_log_given_to_calibrate_is_named(capsys, tmp_path):
    assert_refused(run_napkin(capsys, "calibrate", PROFILE, "--log", PROFILE), "llama-3.1-8b-1xl4.toml",
                   "does not look like a vLLM")


def test_a_refused_calibration_save_prints_nothing_but_its_reason(capsys, tmp_path):
    (tmp_path / "dir.toml").mkdir()
    assert_refused(run_napkin(capsys, "calibrate", PROFILE, "--measured", "decode=100@8", "--out",
                              str(tmp_path / "dir.toml")), "dir.toml", "not a regular file")
