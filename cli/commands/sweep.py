"""``napkin sweep PROFILE --vary FIELD=VALUES``: plan each value of one field."""

from __future__ import annotations

import argparse

from napkinmath.core.errors import ProfileError
from napkinmath.core.untrusted import excerpt

from ..output import print_json, warn
from ..subcommand import Subcommand

SHOWN = {"users_served": "users", "tokens_per_s_per_user": "tok/s/user", "tokens_per_s_aggregate": "tok/s all",
         "ttft_s": "TTFT s", "per_user_month": "$/user-mo"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile", help="a profile TOML file")
    parser.add_argument("--vary", required=True, metavar="FIELD=VALUES",
                        help="e.g. avg_context_tokens=2048,8192,32768 or users=100:1000:100 (start:stop:step)")
    parser.add_argument("--json", action="store_true", help="every figure of every point as JSON")


def run(arguments: argparse.Namespace) -> int:
    from napkinmath.core.plan.figures import FIGURES, FIGURES_BY_KEY
    from napkinmath.core.profile.files import load_profile
    from napkinmath.core.report.formatting import figure_number
    from napkinmath.core.tools.sweep import field_path, parse_values, sweep

    profile = load_profile(arguments.profile)
    if profile.engine.name == "vllm":
        from napkinmath.core.engines.vllm import version_warnings

        warn(version_warnings(profile.engine.version), arguments.profile)
    name, separator, values_text = arguments.vary.partition("=")
    if not separator:
        raise ProfileError(f"--vary {excerpt(arguments.vary)}: write FIELD=v1,v2,... (e.g. "
                           "avg_context_tokens=2048,8192)")
    field = field_path(name.strip(), profile)
    points = sweep(profile, field, parse_values(values_text))
    if arguments.json:
        print_json({"field": field, "points": [
            {"value": point.value, "error": point.error,
             "limited_by": point.plan.capacity.limited_by if point.plan else None,
             "figures": {f.key: f.value(point.plan) for f in FIGURES} if point.plan else None} for point in points]})
        return 0
    refused = [point for point in points if point.plan is None]
    if len(refused) == len(points):
        reasons = "; ".join(f"{point.value}: {(point.error or '').rstrip('.')}" for point in refused[:3])
        more = f" (and {len(refused) - 3} more)" if len(refused) > 3 else ""
        raise ProfileError(f"napkin sweep: every value of {field} was refused, so there is nothing to show: "
                           f"{reasons}{more}.")
    from rich.text import Text

    from ..tables import Column, console, print_columns, wrapped

    columns = [Column(field.split(".")[1], [str(point.value) for point in points])]
    for key, header in SHOWN.items():
        columns.append(Column(header, [figure_number(FIGURES_BY_KEY[key].value(point.plan)) if point.plan else ""
                                       for point in points]))
    columns.append(Column("limited by", [point.plan.capacity.limited_by if point.plan else "refused"
                                         for point in points], right=False))
    out = console()
    out.print(Text(f"Sweep of {field} on {profile.name}", style="bold"))
    print_columns(out, columns, under=[[f"refused: {point.error}"] if point.plan is None else [] for point in points])
    out.print(Text(wrapped("limited by: users (all served), memory, speed, weights (they do not fit) or engine (it "
                           "would not start)", out.width, ""), style="dim"), soft_wrap=True)
    return 0

COMMANDS = [Subcommand("sweep", "vary one field and plan each value", add_arguments, run, rank=40)]
