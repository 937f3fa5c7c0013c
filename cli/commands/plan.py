"""``napkin plan PROFILE``: the plan as a Rich report, JSON, Markdown or the vllm serve command."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..output import console, print_json, warn
from ..subcommand import Subcommand

if TYPE_CHECKING:
    from napkinmath.core.profile.schema import Profile


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile", help="a profile TOML file")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="machine-readable JSON (bytes, seconds, USD)")
    output.add_argument("--markdown", action="store_true", help="a Markdown report for a design doc or pull request")
    output.add_argument("--vllm", action="store_true", help="the vllm serve command line that realizes the plan")
    parser.add_argument("--at-slo", nargs="?", const="", metavar="SPEC",
                        help="also the users served at p99 targets (simulated; a second or so): the workload's "
                             "TTFT and speed targets, or SPEC such as ttft_p99=2,tpot_p99=0.05")


def run(arguments: argparse.Namespace) -> int:
    from napkinmath.core.plan.compose import plan
    from napkinmath.core.profile.files import load_profile

    profile = load_profile(arguments.profile)
    result = plan(profile)
    at_slo = _users_at_slo(profile, arguments.at_slo) if arguments.at_slo is not None else None
    if arguments.markdown or arguments.vllm:
        from napkinmath.core.report.markdown import plan_markdown, vllm_command

        print(plan_markdown(profile, result) if arguments.markdown else vllm_command(profile, result))
        if arguments.vllm:  # the command's comments say these too, but a pipe into a script would hide them
            from napkinmath.core.report.vllm_flags import vllm_flag_warnings

            warn([*result.warnings, *vllm_flag_warnings(profile, result)], arguments.profile)
        return 0
    if arguments.json:
        from napkinmath.core.plan.json_view import plan_to_dict

        shown = plan_to_dict(result, profile)
        if at_slo is not None:
            shown["users_at_slo"] = at_slo
        print_json(shown)
    else:
        from ..report import render_plan

        console().print(render_plan(profile, result, at_slo))
    return 0


def _users_at_slo(profile: Profile, spec: str) -> dict[str, Any]:
    """Users served while the p99 targets hold (core/tools/simulate/profile_load.py), as plain data."""
    from napkinmath.core.tools.simulate.capacity import parse_slo
    from napkinmath.core.tools.simulate.profile_load import users_at_slo

    found = users_at_slo(profile, slo=parse_slo(spec) if spec.strip() else None)
    return {"slo": found.slo, "max_rate_per_s": found.max_rate_per_s, "users": found.users,
            "users_per_replica": found.users_per_replica, "replicas_needed": found.replicas_needed,
            "cost_per_user_month": found.cost_per_user_month, "reason": found.reason}


COMMANDS = [Subcommand("plan", "plan a profile and print the figures", add_arguments, run, rank=10)]
