"""``napkin compare A B ...``: profiles side by side, with changes against the first.

Each later profile's cell is its value and, in brackets, its change against the first (green when
better for the user, red when worse, on a terminal). The figure labels are never cut: profiles that
do not fit beside them at the terminal's width (80 in a pipe) continue in a second table
(cli/tables.py). Each profile's plan warnings go to stderr, naming the file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.text import Text

from napkinmath.core.errors import ProfileError

from ..output import print_json, printable, warn
from ..subcommand import Subcommand

NAME_WIDTH = 18  # a column header longer than this is cut, and the files are listed under the table
VERDICT_STYLES = {"better": "green", "worse": "red"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profiles", nargs="+", help="two or more profile TOML files")
    parser.add_argument("--json", action="store_true", help="the figures and deltas as JSON")


def column_names(paths: list[str]) -> list[str]:
    """Each file's name without .toml; a letter where names repeat; cut with an ellipsis past NAME_WIDTH."""
    stems = [printable(Path(path).stem) for path in paths]  # file names are untrusted text: escapes shown
    if len(set(stems)) < len(stems):
        return [chr(ord("A") + index) if index < 26 else str(index + 1) for index in range(len(paths))]
    return [stem if len(stem) <= NAME_WIDTH else stem[:NAME_WIDTH - 1] + "…" for stem in stems]


def change_text(percent: float | None, verdict: str) -> str:
    """The change in brackets: "(+17%)", "(=)" when unchanged, "(new)" from nothing, "(n/a)" when unknown."""
    if verdict == "same":
        return "(=)"
    if percent is None:
        return "(n/a)" if verdict == "unknown" else "(new)"
    return f"({'+' if percent > 0 else '−'}{abs(percent):.0f}%)"


def run(arguments: argparse.Namespace) -> int:
    from napkinmath.core.plan.compose import plan
    from napkinmath.core.plan.figures import FIGURES, delta
    from napkinmath.core.profile.files import load_profile
    from napkinmath.core.report.formatting import figure_number

    from ..tables import Column, console, print_columns, wrapped

    paths: list[str] = arguments.profiles
    if len(paths) < 2:
        raise ProfileError("napkin compare: give two or more profiles; the first is the baseline")
    profiles = [load_profile(path) for path in paths]
    plans = [plan(profile) for profile in profiles]
    for path, result in zip(paths, plans, strict=True):
        warn(result.warnings, path)
    if arguments.json:
        print_json({"profiles": [p.name for p in profiles], "files": paths, "figures": [
            {"key": f.key, "label": f.label, "unit": f.unit, "better": f.better,
             "values": [f.value(result) for result in plans],
             "deltas": [delta(f, plans[0], result).__dict__ for result in plans[1:]]} for f in FIGURES]})
        return 0
    labels = [f"{figure.label} ({figure.unit})" for figure in FIGURES] + ["Limited by"]
    names = column_names(paths)
    columns = [Column("figure", labels, right=False)]
    for index, result in enumerate(plans):
        cells: list[str | Text] = []
        for figure in FIGURES:
            value = figure_number(figure.value(result))
            if index == 0:
                cells.append(value)
                continue
            moved = delta(figure, plans[0], result)
            cells.append(Text.assemble(value, " ", (change_text(moved.percent, moved.verdict),
                                                    VERDICT_STYLES.get(moved.verdict, "dim"))))
        cells.append(result.capacity.limited_by)
        columns.append(Column(names[index], cells))
    out = console()
    out.print(Text(f"Compare: each profile against {names[0]} (the change in brackets)", style="bold"))
    print_columns(out, columns)
    out.print(Text("better and worse are from the user's side: more users, faster, cheaper", style="dim"))
    if names != [printable(Path(path).stem) for path in paths]:
        for name, path, profile in zip(names, paths, profiles, strict=True):
            out.print(Text(wrapped(f"{name}: {printable(path)} ({profile.name})", out.width, ""), style="dim"),
                      soft_wrap=True)
    return 0


COMMANDS = [Subcommand("compare", "profiles side by side, with deltas against the first", add_arguments, run,
                       rank=70)]
