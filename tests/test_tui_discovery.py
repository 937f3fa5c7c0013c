"""Import config.json, browse the local HuggingFace cache and detect GPUs, through the app."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from textual.widgets import Input, OptionList, Select

from napkinmath.core.profile.files import load_profile, save_profile
from napkinmath.core.profile.paths import shipped_profile
from napkinmath.tui.app import NapkinApp
from napkinmath.tui.screens import ImportConfigScreen, LocalModelsScreen

CONFIGS = Path(__file__).parent / "data" / "configs"
H100_X8 = "\n".join(f"{i}, NVIDIA H100 80GB HBM3, 81559, 550.54.15, Disabled" for i in range(8)) + "\n"


def make_app() -> NapkinApp:
    path = shipped_profile("llama-3.1-70b-2xh100-fp8.toml")
    return NapkinApp(load_profile(path), path)


def fake_tool(folder: Path, name: str, output: str, delay_s: float = 0.0) -> None:
    script = folder / name
    script.write_text(f"#!/bin/sh\nsleep {delay_s}\ncat <<'EOF'\n{output}EOF\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


async def test_import_config_through_the_dialog_becomes_a_session_preset(napkin_home, tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.inputs_mounted.wait()
        app.query_one("#import-config").press()
        await pilot.pause()
        assert isinstance(app.screen, ImportConfigScreen)
        app.screen.query_one("#import-path", Input).value = str(CONFIGS / "qwen3-30b-a3b-base.json")
        await pilot.press("enter")
        await pilot.pause()
        model = app.profile.model
        assert model.preset is None and model.experts == 128 and round(model.params_b, 3) == 30.532
        assert app.query_one("#choice-preset", Select).value == "qwen3-30b-a3b-base"
        assert app.dirty
        app.choose("model.preset", "llama-3.1-8b")  # away to a catalog preset and back to the imported one
        await pilot.pause()
        assert app.profile.model.preset == "llama-3.1-8b"
        app.query_one("#choice-preset", Select).value = "qwen3-30b-a3b-base"
        await pilot.pause()
        assert app.profile.model.experts == 128
        saved = save_profile(app.profile, tmp_path / "imported.toml")
        assert load_profile(saved).model == app.profile.model  # saved with the profile, inline


async def test_a_broken_config_is_a_notice_not_a_crash(napkin_home, tmp_path):
    bad = tmp_path / "config.json"
    bad.write_text('{"hidden_size": 1}')
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.inputs_mounted.wait()
        before = app.profile
        app.import_model_from(bad, None)
        await pilot.pause()
        assert app.profile == before
        assert any("num_hidden_layers is missing" in str(n.message) for n in app._notifications)


async def test_local_models_browser_reads_the_cache(napkin_home, tmp_path, monkeypatch):
    snapshot = tmp_path / "hub" / "models--meta-llama--Llama-3.1-8B" / "snapshots" / "rev1"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text((CONFIGS / "llama-3.1-8b.json").read_text())
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.inputs_mounted.wait()
        app.action_local_models()
        await pilot.pause()
        assert isinstance(app.screen, LocalModelsScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        assert options.option_count == 1
        options.highlighted = 0
        await pilot.press("enter")
        await pilot.pause()
        assert app.profile.model.name == "meta-llama/Llama-3.1-8B" and app.profile.model.layers == 32


async def test_detect_gpus_fills_the_hardware_without_blocking_keys(napkin_home, tmp_path, monkeypatch):
    tools = tmp_path / "bin"
    tools.mkdir()
    fake_tool(tools, "nvidia-smi", H100_X8, delay_s=0.8)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}/usr/bin:/bin")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.inputs_mounted.wait()
        app.query_one("#detect-gpus").press()
        await pilot.pause()
        field = app.query_one("#field-workload-users", Input)  # keys still work while nvidia-smi runs
        field.focus()
        await pilot.press("up")
        await pilot.pause()
        assert app.profile.workload.users == 410
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.profile.hardware.gpu == "h100-sxm" and app.profile.hardware.count == 8
        assert app.profile.parallelism.replicas == 4  # 8 GPUs over tensor 2
        assert app.query_one("#field-hardware-count", Input).value == "8"


async def test_detect_gpus_with_no_driver_says_why(napkin_home, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # neither nvidia-smi nor rocm-smi
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await app.inputs_mounted.wait()
        before = app.profile
        app.action_detect_gpus()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.profile == before
        assert any("nvidia-smi" in str(n.message) for n in app._notifications)
