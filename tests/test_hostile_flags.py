"""Hostile command lines (issue 16): sweep values no plan can use, logs that are not logs, names that never
end. Each is refused with exit 2 and one clean paragraph naming the flag or file."""

from __future__ import annotations

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
