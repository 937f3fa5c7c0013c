"""Fake command-line tools for the GPU-detection tests (tests/test_gpu_detect.py, tests/test_hostile_smi.py):
a shell script written into the folder that the ``fake_path`` fixture (tests/conftest.py) makes the whole PATH."""

from __future__ import annotations

import stat
from pathlib import Path


def install(bin_dir: Path, command: str, body: str) -> Path:
    """Write ``body`` as the POSIX shell script ``bin_dir/command`` and make it executable."""
    script = bin_dir / command
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script
