"""napkinmath.core imports nothing from Textual, Rich or the TUI (interfaces.md, style.md)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import napkinmath.core


def test_core_imports_no_ui():
    modules = [info.name for info in pkgutil.walk_packages(napkinmath.core.__path__, "napkinmath.core.")]
    assert len(modules) >= 30
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich') or m.startswith('napkinmath.tui'))\n"
        "print(','.join(bad))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "", f"core pulled in UI modules: {completed.stdout}"


def test_the_edit_session_imports_no_ui():
    """The planner's edit session (and the fields and history it builds on) is plain Python: tests drive
    it without Textual. The import-linter contract says the same statically (pyproject.toml)."""
    script = (
        "import sys\n"
        "import napkinmath.tui.session\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "", f"the edit session pulled in UI modules: {completed.stdout}"
