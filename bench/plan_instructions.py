"""Benchmark: instructions per plan() under callgrind. Run by hand: python bench/plan_instructions.py

Wall-clock timings on a shared machine move with the load (the same commit measured 93-280 us within
minutes); instruction counts do not. For each shipped profile this runs the planning loop under
``valgrind --tool=callgrind`` twice, planning the profile 0 and N times, and prints
(instructions at N - instructions at 0) / N: start-up, imports and loading cancel out. ``--sweep``
does the same over N distinct what-ifs of a profile (bench/plan_speed.py's sweep), where no result
can be reused; both runs build all N what-ifs (four pydantic ``model_copy`` calls each, ~93k
instructions, which bench/plan_speed.py does not time either), so only plan() is counted. ``--fresh``
plans N freshly validated copies of the profile, as the app does after each keystroke (new spec
objects every time, so nothing keyed on them is reused); there the validation is counted too. ``--root DIR`` measures
another checkout (say ``git archive main | tar -x -C DIR``) with this script. Needs valgrind on PATH.

The lead's calibration (commit 81affde, a quiet machine): 718k instructions per plan of the 70B vLLM
profile took 63-67 us, ~0.09 us per thousand, so issue 14's 60 us is ~650k instructions.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import types
from pathlib import Path

DEFAULT_PLANS = 200


def _import_from(root: Path) -> None:
    """Make ``napkinmath.core`` and ``napkinmath.profiles`` the ones in checkout ``root``."""
    package = types.ModuleType("napkinmath")
    package.__path__ = []
    sys.modules["napkinmath"] = package
    for part in ("core", "profiles"):
        spec = importlib.util.spec_from_file_location(f"napkinmath.{part}", root / part / "__init__.py",
                                                      submodule_search_locations=[str(root / part)])
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[f"napkinmath.{part}"] = module
        spec.loader.exec_module(module)


def _loop(name: str, count: int, mode: str, built: int) -> None:
    """The measured process: load one shipped profile (and ``built`` variants in a sweep, ``count`` fresh
    copies), then plan ``count`` times."""
    from napkinmath.core.plan.compose import plan
    from napkinmath.core.profile.files import load_profile, profile_to_dict
    from napkinmath.core.profile.paths import shipped_profile
    from napkinmath.core.profile.schema import Profile

    profile = load_profile(shipped_profile(name))
    plan(profile)  # first-call caches (catalog, coefficients) are not per-plan work
    if mode == "sweep":
        sys.path.insert(0, str(Path(__file__).parent))
        from plan_speed import sweep_profiles

        profiles = sweep_profiles(profile, max(count, built, 1))
    elif mode == "fresh":
        profiles = [Profile.model_validate(profile_to_dict(profile)) for _ in range(max(count, 1))]
    else:
        profiles = [profile] * max(count, 1)
    for index in range(count):
        plan(profiles[index])


def _instructions(name: str, count: int, mode: str, root: Path | None, built: int = 0) -> int:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__,
                   "--run", name, str(count), "--mode", mode, "--built", str(built)]
        command += ["--root", str(root)] if root else []
        # One hash seed for both runs: with a random one, start-up's dict layouts differ run to run by up to
        # ~2M instructions, ±10k a plan at 200 plans
        subprocess.run(command, check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"})
        match = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
        if match is None:
            raise SystemExit(f"no instruction total in callgrind's output for {name}")
        return int(match.group(1))


def per_plan(name: str, plans: int, mode: str = "same", root: Path | None = None) -> float:
    """Instructions per plan of one shipped profile (mode "same"), of its sweep ("sweep") or of fresh
    copies of it ("fresh")."""
    built = plans if mode == "sweep" else 0  # the sweep's what-ifs are built in both runs: plan() alone counts
    return (_instructions(name, plans, mode, root, built) - _instructions(name, 0, mode, root, built)) / plans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profiles", nargs="*", help="shipped profile file names; default: all")
    parser.add_argument("--plans", type=int, default=DEFAULT_PLANS)
    parser.add_argument("--sweep", action="store_true", help="plan distinct what-ifs instead of one profile")
    parser.add_argument("--fresh", action="store_true", help="plan freshly validated copies of the profile")
    parser.add_argument("--root", type=Path, help="the checkout to measure (default: the installed package)")
    parser.add_argument("--run", nargs=2, metavar=("PROFILE", "COUNT"), help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="same", help=argparse.SUPPRESS)
    parser.add_argument("--built", type=int, default=0, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.root:
        _import_from(arguments.root.resolve())
    if arguments.run:
        _loop(arguments.run[0], int(arguments.run[1]), arguments.mode, arguments.built)
        return
    from napkinmath.core.profile.paths import shipped_profiles

    names = arguments.profiles or [path.name for path in shipped_profiles()]
    mode = "sweep" if arguments.sweep else ("fresh" if arguments.fresh else "same")
    label = {"same": "", "sweep": "sweep of ", "fresh": "fresh copies of "}[mode]
    root = arguments.root.resolve() if arguments.root else None
    for name in names:
        count = per_plan(name, arguments.plans, mode, root)
        print(f"{label}{name:40s} {count / 1e3:9,.0f}k instructions per plan", flush=True)


if __name__ == "__main__":
    main()
