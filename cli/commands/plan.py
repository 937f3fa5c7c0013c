"""``napkin plan PROFILE``: the plan as a Rich report, JSON, Markdown or the vllm serve command."""

from __future__ import annotations

import argparse

from ..output import console, print_json
from ..subcommand import Subcommand


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile", help="a profile TOML file")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable JSON (bytes, seconds, USD)")
    output.add_argument("--markdown", action="store_true", help="a Markdown report for a design doc or pull request")
    output.add_argument("--vllm", action="store_true", help="the vllm serve command line that realizes the plan")


def run(arguments: argparse.Namespace) -> int:
    from napkinmath.core.plan.compose import plan
    from napkinmath.core.profile.files import load_profile

    profile = load_profile(arguments.profile)
    result = plan(profile)
    if arguments.markdown or arguments.vllm:
        from napkinmath.core.report.markdown import plan_markdown, vllm_command

        print(plan_markdown(profile, result) if arguments.markdown else vllm_command(profile, result))
        return 0
    if arguments.json:
        from napkinmath.core.plan.json_view import plan_to_dict

        print_json(plan_to_dict(result, profile), allow_nan=False)
    else:
        from ..report import render_plan

        console().print(render_plan(profile, result))
    return 0


COMMANDS = [Subcommand("plan", "plan a profile and print the figures", add_arguments, run, rank=10)]
