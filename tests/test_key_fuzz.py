"""Random keys through a real terminal (issue 16): a short, seeded run of scripts/key_fuzz.py at each size.

The app runs in tmux as a user would; the keys reach every screen and dialog (the palette and its commands
by name, help, open, save as, compare, charts, recommend, import, local models, the calibration prompt),
PageUp/PageDown and the F-keys, in bursts that race the screen stack. The long runs (20,000 keys at each
size) are by hand: see the README. Skipped where tmux is not installed.
"""

from __future__ import annotations

import shutil

import pytest
from hostile_support import load_script

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="the real-terminal fuzz needs tmux")


@pytest.mark.parametrize(("size", "seed"), [((80, 24), 16), ((120, 36), 17)])
def test_a_short_key_fuzz_in_a_real_terminal(napkin_home, size, seed):
    fuzz = load_script("key_fuzz")
    result = fuzz.fuzz(keys=150, size=size, seed=seed)
    assert result.crashes == [], result.crashes[0][:3000] if result.crashes else ""
    assert result.stuck == "", result.stuck[:3000]
    assert 2 <= result.deepest_stack <= fuzz.MAX_SCREENS, result.deepest_stack  # a dialog was reached, none stacked
