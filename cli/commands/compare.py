"""``napkin compare A B ...``: profiles side by side, with deltas against the first."""

from __future__ import annotations

import argparse
from pathlib import Path

from napkinmath.core.errors import ProfileError

from ..output import print_json, print_listing
from ..subcommand import Subcommand


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profiles", nargs="+", help="two or more profile TOML files")
    parser.add_argument("--json", action="store_true", help="the figures and deltas as JSON")


def run(arguments: argparse.Namespace) -> int:
    from napkinmath.core.plan.compose import plan
    from napkinmath.core.plan.figures import FIGURES, delta, format_delta
    from napkinmath.core.profile.files import load_profile
    from napkinmath.core.report.formatting import figure_number

    paths: list[str] = arguments.profiles
    if len(paths) < 2:
        raise ProfileError("napkin compare: give two or more profiles; the first is the baseline")
    profiles = [load_profile(path) for path in paths]
    plans = [plan(profile) for profile in profiles]
    if arguments.json:
        print_json({"profiles": [p.name for p in profiles], "files": paths, "figures": [
            {"key": f.key, "label": f.label, "unit": f.unit, "better": f.better,
             "values": [f.value(result) for result in plans],
             "deltas": [delta(f, plans[0], result).__dict__ for result in plans[1:]]} for f in FIGURES]})
        return 0
    rows = []
    for figure in FIGURES:
        cells = [figure_number(figure.value(result)) for result in plans]
        changes = [format_delta(delta(figure, plans[0], result)) for result in plans[1:]]
        rows.append((f"{figure.label} ({figure.unit})", *cells, *changes))
    headers = ("figure", *(Path(p).stem for p in paths), *(f"Δ {Path(p).stem}" for p in paths[1:]))
    print_listing("Compare (deltas against the first profile)", headers, rows,
                  "better and worse are from the user's side: more users, faster, cheaper", flexible="figure",
                  may_hide=False)
    return 0


COMMANDS = [Subcommand("compare", "profiles side by side, with deltas against the first", add_arguments, run,
                       rank=70)]
