"""``napkin recommend PROFILE``: the catalog deployments that meet the workload, cheapest first."""

from __future__ import annotations

import argparse
import sys

from napkinmath.core.errors import ProfileError

from ..output import print_json, print_listing
from ..subcommand import Subcommand


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile", help="a profile TOML file (its workload and targets)")
    parser.add_argument("--json", action="store_true", help="the candidates as JSON")
    parser.add_argument("--limit", type=int, default=10, help="how many (default 10)")
    parser.add_argument("--max-gpus", type=int, default=64, help="largest deployment searched (default 64)")


def run(arguments: argparse.Namespace) -> int:
    from napkinmath.core.profile.files import load_profile, profile_to_dict
    from napkinmath.core.tools.recommend import recommend

    limit, max_gpus = arguments.limit, arguments.max_gpus
    if limit < 1 or max_gpus < 1:
        raise ProfileError("napkin recommend: --limit and --max-gpus must be at least 1")
    profile = load_profile(arguments.profile)
    candidates = recommend(profile, limit=limit, max_gpus=max_gpus)
    if arguments.json:
        print_json([{"gpu": c.gpu_id, "gpus": c.gpus, "tensor": c.tensor, "pipeline": c.pipeline,
                     "replicas": c.replicas, "weight_dtype": c.weight_dtype, "kv_dtype": c.kv_dtype,
                     "per_user_month": c.per_user_month, "limited_by": c.limited_by, "binding": c.binding,
                     "tokens_per_s_per_user": c.plan.decode.tokens_per_s_per_user, "ttft": c.plan.prefill.ttft,
                     "profile": profile_to_dict(c.profile)} for c in candidates])
        return 0
    if not candidates:
        print(f"napkin: no catalog deployment of up to {max_gpus} GPUs meets this workload's targets", file=sys.stderr)
        return 1
    rows = [(str(rank), c.gpu_id, f"{c.gpus}", f"TP{c.tensor} PP{c.pipeline} x{c.replicas}", c.weight_dtype, c.kv_dtype,
             f"${c.per_user_month:,.2f}", f"{c.plan.decode.tokens_per_s_per_user:,.1f}", f"{c.plan.prefill.ttft:,.2f}",
             c.binding) for rank, c in enumerate(candidates, 1)]
    print_listing(f"Deployments for {profile.workload.users:,} users (cheapest first)",
                  ("#", "gpu", "GPUs", "split", "weights", "KV", "$/user-mo", "tok/s/user", "TTFT s", "binding"),
                  rows, "napkin recommend --json gives each candidate's whole profile", flexible="binding",
                  may_hide=False)
    return 0


COMMANDS = [Subcommand("recommend", "the catalog deployments that meet the workload, cheapest first", add_arguments,
                       run, rank=50)]
