"""A few thousand random keys across the fields: the app never raises and still re-plans afterwards."""

from __future__ import annotations

import random

from textual import events
from textual.widgets import Input

from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.files import load_profile
from napkinmath.core.profile.paths import shipped_profile
from napkinmath.tui.app import NapkinApp

KEYS = (
    list("0123456789") * 4 + list(".-e,x_ ") + ["minus", "full_stop"]
    + ["backspace", "delete", "home", "end", "left", "right"] * 3
    + ["up", "down", "shift+up", "shift+down"] * 4
    + ["tab", "shift+tab"] * 4
    + ["enter", "escape", "f1", "f2", "question_mark"]
)
PRESSES = 3000
BATCH = 50
CHARACTERS = {"minus": "-", "full_stop": ".", "question_mark": "?", "space": " "}


def key_event(key: str) -> events.Key:
    """The event a terminal would send for this key (printable keys carry their character)."""
    character = key if len(key) == 1 else CHARACTERS.get(key)
    return events.Key("space" if key == " " else key, character)


async def test_random_keys_never_break_the_app(napkin_home):
    rng = random.Random(20261123)
    path = shipped_profile("qwen3-30b-a3b-1xh100.toml")
    app = NapkinApp(load_profile(path), path)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.inputs_mounted.wait()
        app.query_one("#field-workload-users").focus()
        for _start in range(0, PRESSES, BATCH):
            # posted as a terminal would deliver them, a batch at a time (Pilot.press waits after each key)
            for _ in range(BATCH):
                app.post_message(key_event(rng.choice(KEYS)))
            await pilot.pause()
            assert app.plan == plan(app.profile)  # what is shown is always the current profile's plan
        # back to the main screen, then a clean edit must still re-plan
        for _ in range(3):
            await pilot.press("escape")
        await pilot.pause()
        while app.screen is not app.screen_stack[0]:
            app.pop_screen()
            await pilot.pause()
        for selector, text in (("#field-workload-max-context-tokens", "65536"),
                               ("#field-workload-avg-context-tokens", "3000")):
            field = app.query_one(selector, Input)
            field.focus()
            await pilot.pause()
            assert app.focused is field
            await pilot.press("end", *["backspace"] * (len(field.value) + 1), *text)
            await pilot.pause()
            assert field.value == text
        assert app.profile.workload.avg_context_tokens == 3000
        assert app.plan == plan(app.profile)
        assert app.plan.capacity.concurrent_by_memory >= 0
