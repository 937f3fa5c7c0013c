"""`napkin import-config` and `napkin plan` on the 2026 families: by path and by name, refusals exit 2."""

from __future__ import annotations

import json

import pytest
from independent_counts import CONFIGS

from napkinmath.cli.main import main

QWEN = CONFIGS / "Qwen--Qwen3.5-27B.json"


def test_import_config_by_path_prints_state_mtp_and_vision(capsys):
    assert main(["import-config", str(QWEN)]) == 0
    out = capsys.readouterr().out
    assert "state_layers = 48" in out and "MTP layers 0.425B" in out and "vision tower 0.461B" in out


def test_unmodellable_family_exits_2_naming_family_and_field(capsys):
    assert main(["import-config", str(CONFIGS / "deepseek-ai--DeepSeek-V4-Flash.json")]) == 2
    err = capsys.readouterr().err
    assert "DeepSeek-V4" in err and "compress_ratios" in err and "Traceback" not in err and "Error:" not in err


def test_unmodelled_fields_are_printed(capsys):
    assert main(["import-config", str(CONFIGS / "nvidia--Gemma-4-31B-IT-NVFP4.json")]) == 0
    assert "not modelled" in capsys.readouterr().out


def test_import_config_by_name(hub, capsys):
    hub.repos["Qwen/Qwen3.5-27B"] = {"config.json": QWEN.read_bytes()}
    assert main(["import-config", "Qwen/Qwen3.5-27B", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model"]["name"] == "Qwen3.5-27B" and data["model"]["state_layers"] == 48


@pytest.mark.parametrize(("setup", "message"), [
    (lambda hub: hub.gated.add("org/Gated-70B"), "gated"),
    (lambda hub: None, "no such repository"),
])
def test_import_config_by_name_refusals_exit_2(hub, capsys, setup, message):
    setup(hub)
    assert main(["import-config", "org/Gated-70B"]) == 2
    err = capsys.readouterr().err
    assert message in err and "org/Gated-70B" in err
