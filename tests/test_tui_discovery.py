"""Import config.json, browse the local HuggingFace cache, detect GPUs and calibrate, through the app.

The slow part of each runs in a worker thread: the tests pass a slow call that waits for the test, and
check that a key is handled meanwhile. If the call ran on the UI thread, the key would wait for it and
the worker would no longer be running when the key's effect is checked."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from conftest import make_app, started
from textual.widgets import Input, OptionList, Select

from napkinmath.core.profile.files import load_profile, save_profile
from napkinmath.tui import slow_calls
from napkinmath.tui.dialogs import ImportConfigScreen, LocalModelsScreen
from napkinmath.tui.slow_calls import SlowCalls

CONFIGS = Path(__file__).parent / "data" / "configs"
H100_X8 = "\n".join(f"{i}, NVIDIA H100 80GB HBM3, 81559, 550.54.15, Disabled" for i in range(8)) + "\n"


def fake_tool(folder: Path, name: str, output: str) -> None:
    script = folder / name
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{output}EOF\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def held(call):
    """``call`` made to wait until the test releases it (the returned event)."""
    release = threading.Event()

    def waiting(*arguments):
        release.wait(timeout=10)
        return call(*arguments)

    return waiting, release


async def keys_work_while(pilot, main, group: str, release: threading.Event) -> None:
    """With the worker of ``group`` held, a key in the Users field is handled and the busy line shows."""
    await pilot.pause()
    (worker,) = [worker for worker in pilot.app.workers if worker.group == group]
    field = main.query_one("#field-workload-users", Input)
    field.focus()
    users = main.session.profile.workload.users
    await pilot.press("up")
    await pilot.pause()
    assert main.session.profile.workload.users == users + 10 and worker.is_running
    assert main.query_one("#busy").display
    release.set()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    assert not main.query_one("#busy").display


async def test_import_config_runs_in_a_worker_becomes_a_session_preset_and_a_broken_one_is_a_notice(napkin_home, tmp_path):
    importing, release = held(slow_calls.import_model)
    app = make_app(slow=SlowCalls(import_model=importing))
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        main.query_one("#import-config").press()
        await pilot.pause()
        assert isinstance(app.screen, ImportConfigScreen)
        app.screen.query_one("#import-path", Input).value = str(CONFIGS / "qwen3-30b-a3b-base.json")
        await pilot.press("enter")
        await keys_work_while(pilot, main, "import", release)
        model = main.session.profile.model
        assert model.preset is None and model.experts == 128 and round(model.params_b, 3) == 30.532
        assert main.query_one("#choice-preset", Select).value == "qwen3-30b-a3b-base" and main.session.dirty
        main.action_choose("model.preset", "llama-3.1-8b")  # away to a catalog preset and back to the imported one
        await pilot.pause()
        main.query_one("#choice-preset", Select).value = "qwen3-30b-a3b-base"
        await pilot.pause()
        assert main.session.profile.model.experts == 128
        saved = save_profile(main.session.profile, tmp_path / "imported.toml")
        assert load_profile(saved).model == main.session.profile.model  # saved with the profile, inline
        bad = tmp_path / "config.json"  # a broken config: a notice, and the profile as it was
        bad.write_text('{"hidden_size": 1}')
        before = main.session.profile
        main.import_model_from(bad, None)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert main.session.profile == before
        assert any("num_hidden_layers is missing" in str(n.message) for n in app._notifications)


async def test_local_models_browser_reads_the_cache(napkin_home, tmp_path, monkeypatch):
    snapshot = tmp_path / "hub" / "models--meta-llama--Llama-3.1-8B" / "snapshots" / "rev1"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text((CONFIGS / "llama-3.1-8b.json").read_text())
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        main.action_local_models()
        await pilot.pause()
        assert isinstance(app.screen, LocalModelsScreen)
        await app.workers.wait_for_complete()
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        assert options.option_count == 1 and options.highlighted == 0 and options.has_focus  # Enter picks at once
        await pilot.press("slash", "x", "y", "z")  # / filters: nothing matches, Escape brings the list back
        assert options.option_count == 0
        await pilot.press("escape")
        assert options.option_count == 1 and options.highlighted == 0 and isinstance(app.screen, LocalModelsScreen)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert main.session.profile.model.name == "meta-llama/Llama-3.1-8B" and main.session.profile.model.layers == 32


async def test_detect_gpus_says_why_without_a_driver_and_fills_the_hardware_without_blocking_keys(napkin_home, tmp_path,
                                                                                                   monkeypatch):
    tools = tmp_path / "bin"
    tools.mkdir()
    fake_tool(tools, "nvidia-smi", H100_X8)
    detecting, release = held(slow_calls.detect_gpus)
    app = make_app(slow=SlowCalls(detect_gpus=detecting))
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        monkeypatch.setenv("PATH", str(tmp_path))  # first neither nvidia-smi nor rocm-smi: it says why
        release.set()
        before = main.session.profile
        main.action_detect_gpus()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert main.session.profile == before
        assert any("nvidia-smi" in str(n.message) for n in app._notifications)
        release.clear()
        monkeypatch.setenv("PATH", f"{tools}{os.pathsep}/usr/bin:/bin")
        main.query_one("#detect-gpus").press()
        await keys_work_while(pilot, main, "detect", release)
        hardware = main.session.profile.hardware
        assert hardware.gpu == "h100-sxm" and hardware.count == 8
        assert main.session.profile.parallelism.replicas == 4  # 8 GPUs over tensor 2
        assert main.query_one("#field-hardware-count", Input).value == "8"


async def test_calibration_runs_in_a_worker_is_not_applied_to_a_changed_profile_and_can_be_undone(napkin_home):
    calibrating, release = held(slow_calls.calibrate_measured)
    app = make_app(slow=SlowCalls(calibrate_measured=calibrating))
    async with app.run_test(size=(120, 36)) as pilot:
        main = await started(pilot)
        main.calibrate_from_text("decode=900@32")
        await keys_work_while(pilot, main, "calibrate", release)  # the Up key edits the profile meanwhile
        assert main.session.profile.engine.speed_scale == 1.0  # the shipped value: the calibration was not applied
        assert any("changed while calibrating" in str(n.message) for n in app._notifications)
        before = main.session.profile
        main.calibrate_from_text("decode=900@32")  # released: runs through
        await app.workers.wait_for_complete()
        await pilot.pause()
        expected = slow_calls.calibrate_measured(before, "decode=900@32").profile.engine.speed_scale
        assert expected != pytest.approx(1.0, abs=0.05)  # rescales the fitted model
        assert main.session.profile.engine.speed_scale == pytest.approx(expected)
        assert main.query_one("#field-engine-mbu", Input).value == "100"  # not an mbu on top of the fitted one
        main.calibrate_from_text("decode=abc")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("must be a number" in str(n.message) for n in app._notifications)
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert main.session.profile == before
