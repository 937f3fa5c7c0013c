"""``napkin calibrate PROFILE --log LOG | --measured WHAT=VALUE``: a profile calibrated from evidence."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..output import printable
from ..subcommand import Subcommand

MEASURED_HELP = ("serving=OUTPUT_TOK_S@CONCURRENCY (a load test at the workload's prompt and output lengths; two or "
                 "more comma-separated points, e.g. serving=310@4,920@64, also fit the engine's time per running "
                 "sequence), decode=TOK_S@CONCURRENCY (aggregate), prefill=TOK_S, or ttft=SECONDS")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile", help="a profile TOML file")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--log", metavar="LOG", help="a vLLM start-up log (its memory profiling lines)")
    source.add_argument("--measured", metavar="WHAT=VALUE", help=MEASURED_HELP)
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--write", action="store_true", help="save the calibrated profile over FILE (atomically)")
    target.add_argument("--out", metavar="PATH", help="save the calibrated profile to PATH")


def run(arguments: argparse.Namespace) -> int:
    from napkinmath.core.profile.files import load_profile, profile_to_toml, save_profile
    from napkinmath.core.tools.calibrate import calibrate_from_log, calibrate_measured

    profile = load_profile(arguments.profile)
    if arguments.log is not None:
        from napkinmath.core.sources.vllm_log import parse_vllm_log, read_vllm_log

        log = arguments.log
        calibrated = calibrate_from_log(profile, parse_vllm_log(read_vllm_log(log), source=log),
                                        source=Path(log).name)
    else:
        calibrated = calibrate_measured(profile, arguments.measured)
    changes = "".join(f"# calibrated: {printable(line)}\n" for line in calibrated.changes)
    if arguments.write or arguments.out:  # saved first: a refused save prints nothing but its reason
        saved = save_profile(calibrated.profile, arguments.out or arguments.profile)
        print(f"{changes}# saved to {printable(saved)}")
    else:
        print(changes + profile_to_toml(calibrated.profile), end="")
    return 0


COMMANDS = [Subcommand("calibrate", "calibrate a profile from a vLLM log or a measured figure", add_arguments, run,
                       rank=60)]
