"""Random keys through the real app: it never raises and still re-plans afterwards.

Short on purpose: the editing rules get thousands of random edits at unit level, on the edit session
(tests/test_session.py, 4,500 edits in about 3 s); this checks the keys' way there (bindings, focus,
the field rows, dialogs opened by accident) with 300 keys.
"""

from __future__ import annotations

import random

from conftest import make_app
from textual import events
from textual.widgets import Input

from napkinmath.core.plan.compose import plan

KEYS = (
    list("0123456789") * 4 + list(".-e,x_ ") + ["minus", "full_stop"]
    + ["backspace", "delete", "home", "end", "left", "right"] * 3
    + ["up", "down", "shift+up", "shift+down"] * 4
    + ["tab", "shift+tab"] * 4
    + ["enter", "escape", "f1", "f2", "question_mark"]
)
PRESSES = 300
BATCH = 50
CHARACTERS = {"minus": "-", "full_stop": ".", "question_mark": "?", "space": " "}


def key_event(key: str) -> events.Key:
    """The event a terminal would send for this key (printable keys carry their character)."""
    character = key if len(key) == 1 else CHARACTERS.get(key)
    return events.Key("space" if key == " " else key, character)


async def test_random_keys_never_break_the_app(napkin_home):
    rng = random.Random(20261123)
    app = make_app("qwen3-30b-a3b-1xh100.toml")
    async with app.run_test(size=(120, 36)) as pilot:
        main = app.main
        await main.inputs_mounted.wait()
        main.query_one("#field-workload-users").focus()
        for _start in range(0, PRESSES, BATCH):
            # posted as a terminal would deliver them, a batch at a time (Pilot.press waits after each key)
            for _ in range(BATCH):
                app.post_message(key_event(rng.choice(KEYS)))
            await pilot.pause()
            assert main.plan == plan(main.session.profile)  # what is shown is always the current profile's plan
        # back to the main screen, then a clean edit must still re-plan
        for _ in range(3):
            await pilot.press("escape")
        await pilot.pause()
        while app.screen is not app.screen_stack[0]:
            app.pop_screen()
            await pilot.pause()
        for selector, text in (("#field-workload-max-context-tokens", "65536"),
                               ("#field-workload-avg-context-tokens", "3000")):
            field = main.query_one(selector, Input)
            field.focus()
            await pilot.pause()
            assert main.focused is field
            await pilot.press("end", *["backspace"] * (len(field.value) + 1), *text, "enter")
            await pilot.pause()
            assert field.value == text
        assert main.session.profile.workload.avg_context_tokens == 3000
        assert main.plan == plan(main.session.profile)
        assert main.plan.capacity.concurrent_by_memory >= 0
