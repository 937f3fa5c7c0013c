"""``napkin sweep PROFILE --vary FIELD=VALUES``: plan each value of one field."""

from __future__ import annotations

import argparse

from napkinmath.core.errors import ProfileError

from ..output import print_json, print_listing
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
    name, separator, values_text = arguments.vary.partition("=")
    if not separator:
        raise ProfileError(f"--vary {arguments.vary!r}: write FIELD=v1,v2,... (e.g. avg_context_tokens=2048,8192)")
    field = field_path(name.strip(), profile)
    points = sweep(profile, field, parse_values(values_text))
    if arguments.json:
        print_json({"field": field, "points": [
            {"value": point.value, "error": point.error,
             "limited_by": point.plan.capacity.limited_by if point.plan else None,
             "figures": {f.key: f.value(point.plan) for f in FIGURES} if point.plan else None} for point in points]})
        return 0
    rows = []
    for point in points:
        if point.plan is None:
            rows.append((str(point.value), *[""] * len(SHOWN), f"refused: {point.error}"))
            continue
        rows.append((str(point.value), *(figure_number(FIGURES_BY_KEY[key].value(point.plan)) for key in SHOWN),
                     point.plan.capacity.limited_by))
    headers = (field.split(".")[1], *SHOWN.values(), "limited by")
    refused = "".join(f"\nrefused {point.value}: {point.error}" for point in points if point.plan is None)
    print_listing(f"Sweep of {field} on {profile.name}", headers, rows,
                  "limited by: users (all served), memory or speed" + refused, flexible="limited by", may_hide=False)
    return 0


COMMANDS = [Subcommand("sweep", "vary one field and plan each value", add_arguments, run, rank=40)]
