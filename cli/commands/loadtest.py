"""``napkin loadtest PROFILE --concurrency C [--input N] [--output M] [--json]``: what a closed-loop load
test (``vllm bench serve --max-concurrency C``) of the whole deployment would measure; with ``--rate R``
or ``--slo ttft_p99=2,tpot_p99=0.2`` instead, an open loop (requests arriving at random) simulated step
by step: percentiles at R, or the highest rate meeting the SLO (cli/load_run.py)."""

from __future__ import annotations

import argparse

from napkinmath.core.errors import ProfileError

from ..load_run import add_open_loop_arguments, run_open_loop, wants_open_loop
from ..subcommand import Subcommand


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile", help="a profile TOML file (its GPUs, model, parallelism and engine)")
    parser.add_argument("--concurrency", metavar="C",
                        help="requests kept in flight (vllm bench serve --max-concurrency), for the whole deployment")
    parser.add_argument("--input", metavar="N", help="prompt tokens per request (default: the profile's)")
    parser.add_argument("--output", metavar="M", help="output tokens per request (default: the profile's)")
    parser.add_argument("--json", action="store_true", help="the figures as JSON (seconds, tokens/s)")
    add_open_loop_arguments(parser)


def run(arguments: argparse.Namespace) -> int:
    from napkinmath.core.profile.files import load_profile
    from napkinmath.core.tools.loadtest import load_test
    from napkinmath.core.tools.loadtest_view import load_test_dict, load_test_lines, whole_count

    from ..output import print_json

    if (arguments.concurrency is None) == (not wants_open_loop(arguments)):
        raise ProfileError("napkin loadtest: give --concurrency C (a closed loop), or --rate R and/or --slo "
                           "ttft_p99=2,tpot_p99=0.2 (requests arriving at random), not both")
    profile = load_profile(arguments.profile)
    if wants_open_loop(arguments):
        return run_open_loop(arguments, profile,
                             whole_count("napkin loadtest: --input", arguments.input, profile.workload.prompt_tokens),
                             whole_count("napkin loadtest: --output", arguments.output, profile.workload.output_tokens))
    test = load_test(profile, whole_count("napkin loadtest: --concurrency", arguments.concurrency, 0),
                     whole_count("napkin loadtest: --input", arguments.input, profile.workload.prompt_tokens),
                     whole_count("napkin loadtest: --output", arguments.output, profile.workload.output_tokens))
    if arguments.json:
        print_json(load_test_dict(profile, test), allow_nan=False)
    else:
        print("\n".join(load_test_lines(profile, test)))
    return 0


COMMANDS = [Subcommand("loadtest", "what a load test would measure: TTFT, TPOT, tokens/s; p99 at a rate, or the "
                                   "highest rate meeting an SLO",
                       add_arguments, run, rank=65)]
