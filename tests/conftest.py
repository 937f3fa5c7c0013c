"""Shared fixtures and helpers: the shipped profiles, a helper to plan one by file name, and the app for Pilot tests
(with the stubbed slow calls and the key bursts of the hostile-input and race tests)."""

from __future__ import annotations

import gc

import _isolated_cache  # noqa: F401 - first: the cache folder is chosen before napkinmath reads a catalog
import pytest
from fake_hub import FakeHub

from napkinmath.core.errors import ProfileError
from napkinmath.core.plan.compose import Plan, plan
from napkinmath.core.profile.files import load_profile
from napkinmath.core.profile.paths import shipped_profile
from napkinmath.core.profile.schema import Profile
from napkinmath.tui.slow_calls import SlowCalls

# The test process's own garbage-collector settings, once, as `napkin` sets its own at its entry point
# (tui/app.py, run_app): everything imported so far lives as long as the process, and each Pilot app
# allocates a few hundred thousand objects, so the default thresholds would walk that heap in a full
# collection many times per test (Textual also keeps up to 1,024 StylesCache objects of closed apps
# in an lru_cache). Measured: 0.9 s of CPU per app start and stop with the defaults, 0.65 s with these.
gc.freeze()
gc.set_threshold(20_000, 50, 1_000)


def shipped(name: str) -> Profile:
    return load_profile(shipped_profile(name))


def planned(name: str) -> Plan:
    return plan(shipped(name))


@pytest.fixture
def napkin_home(tmp_path, monkeypatch):
    """An empty $NAPKIN_HOME so tests never touch the user's real config folder."""
    monkeypatch.setenv("NAPKIN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def fake_path(tmp_path, monkeypatch):
    """An empty bin folder as the whole PATH, so only the fake tools written there are found (the real
    nvidia-smi/rocm-smi never are); tests/fake_tools.py ``install`` writes one."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """The fake Hub of tests/fake_hub.py as huggingface_hub's endpoint, with an empty cache, online, no token,
    and tmp_path as the working folder (so that ORG/NAME is not a folder here)."""
    with FakeHub() as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.endpoint)
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "cache"))
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.chdir(tmp_path)
        yield fake


def vram_text(main) -> str:
    """The planner's VRAM bar as text (what it says of fit, shortfall and segments)."""
    from napkinmath.tui.vram_bar import VramBar

    return str(main.query_one(VramBar).render())


async def type_into(pilot, selector: str, text: str, enter: bool = True) -> None:
    """Focus a field, clear it with keys and type the text, as a user would: one key per character, then
    Enter (typed text is applied after a pause, or at once on Enter).

    Where the keys themselves are not the point, ``enter_text`` does the same in one edit."""
    from textual.widgets import Input

    field = pilot.app.query_one(selector, Input)
    field.focus()
    await pilot.pause()
    await pilot.press("end", "ctrl+u", *list(text), *(["enter"] if enter else []))
    await pilot.pause()


async def enter_text(pilot, selector: str, text: str) -> None:
    """Focus a field and replace its text at once (as a paste would): the same Input.Changed -> field row ->
    screen -> session path as typing, one edit instead of one per key."""
    from textual.widgets import Input

    field = pilot.app.query_one(selector, Input)
    field.focus()
    await pilot.pause()
    field.value = text
    field.cursor_position = len(text)  # as after typing it: the cursor at the end, nothing selected
    await pilot.press("enter")  # applied at once, not after the pause
    await pilot.pause()


def make_app(name: str = "llama-3.1-70b-2xh100-fp8.toml", **options):
    """The app on a shipped profile, as `napkin PROFILE` starts it (without the entry point's gc.freeze)."""
    from napkinmath.tui.app import NapkinApp

    path = shipped_profile(name)
    return NapkinApp(load_profile(path), path, **options)


async def started(pilot):
    """The planner screen once its input panes are on screen."""
    main = pilot.app.main
    await main.inputs_mounted.wait()
    await pilot.pause()
    return main


def no_chart(*arguments):
    raise ProfileError("not drawn in this test")


# For the Pilot tests about screens and keys, not figures (tests/test_tui_hostile.py, test_tui_races.py):
# the charts' sweeps and the recommender's search are stubbed.
QUICK = SlowCalls(recommend=lambda profile: [], chart_series=no_chart)


async def burst(pilot, *keys: str) -> None:
    """The keys as a terminal delivers a fast burst: all queued before the first is handled (``Pilot.press``
    waits after each key, which hides every race), then time for them to play out."""
    from textual import events

    for key in keys:
        character = {"question_mark": "?", "space": " "}.get(key, key if len(key) == 1 else None)
        pilot.app.post_message(events.Key(key, character))
    await pilot.pause()
    await pilot.pause(0.2)
