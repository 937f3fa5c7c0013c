"""``napkin recommend PROFILE``: the catalog deployments that meet the workload, cheapest first."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from napkinmath.core.errors import ProfileError

from ..output import print_json, print_listing
from ..subcommand import Subcommand

if TYPE_CHECKING:
    from napkinmath.core.profile.schema import Profile
    from napkinmath.core.tools.recommend import Candidate
    from napkinmath.core.tools.simulate.rank import RankedAtSlo


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("profile", help="a profile TOML file (its workload and targets)")
    parser.add_argument("--json", action="store_true", help="the candidates as JSON")
    parser.add_argument("--limit", type=int, default=10, help="how many (default 10)")
    parser.add_argument("--max-gpus", type=int, default=64, help="largest deployment searched (default 64)")
    parser.add_argument("--rank", choices=("cost", "slo"), default="cost",
                        help="cost: by $/user-month from the plan's capacity (default); slo: by $/user-month "
                             "with replicas sized for users at the workload's p99 targets (simulated; about a "
                             "second per candidate)")


def run(arguments: argparse.Namespace) -> int:
    from napkinmath.core.profile.files import load_profile, profile_to_dict
    from napkinmath.core.tools.recommend import recommend

    limit, max_gpus = arguments.limit, arguments.max_gpus
    if limit < 1 or max_gpus < 1:
        raise ProfileError("napkin recommend: --limit and --max-gpus must be at least 1")
    profile = load_profile(arguments.profile)
    candidates = recommend(profile, limit=limit, max_gpus=max_gpus)
    if arguments.rank == "slo":
        return _ranked_at_slo(profile, candidates, arguments.json)
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


def _ranked_at_slo(profile: Profile, candidates: list[Candidate], as_json: bool) -> int:
    """The candidates re-ranked by their cost when sized for users at the p99 targets (core/tools/simulate/rank.py)."""
    from napkinmath.core.profile.files import profile_to_dict
    from napkinmath.core.tools.simulate.profile_load import workload_slo
    from napkinmath.core.tools.simulate.rank import rank_by_users_at_slo

    workload_slo(profile)  # refuses a workload without targets before any search
    ranked = rank_by_users_at_slo(candidates)
    if as_json:
        print_json([_ranked_dict(entry, profile_to_dict(entry.candidate.profile)) for entry in ranked],
                   allow_nan=False)
        return 0
    if not ranked:
        print("napkin: no catalog deployment meets this workload's targets", file=sys.stderr)
        return 1
    rows = []
    for rank, entry in enumerate(ranked, 1):
        c = entry.candidate
        rows.append((str(rank), c.gpu_id, f"TP{c.tensor} PP{c.pipeline}", c.weight_dtype, c.kv_dtype,
                     f"{entry.at_slo.users:,}", "-" if entry.replicas is None else f"{entry.replicas:,}",
                     "-" if entry.per_user_month is None else f"${entry.per_user_month:,.2f}",
                     f"${c.per_user_month:,.2f}"))
    print_listing(f"Deployments for {profile.workload.users:,} users, sized at p99 targets (cheapest first)",
                  ("#", "gpu", "split", "weights", "KV", "users/replica", "replicas", "$/user-mo", "at plan"),
                  rows, "users/replica: at the highest Poisson rate meeting the workload's p99 TTFT and TPOT targets",
                  flexible="gpu", may_hide=False)
    return 0


def _ranked_dict(entry: RankedAtSlo, profile: dict[str, Any]) -> dict[str, Any]:
    c = entry.candidate
    return {"gpu": c.gpu_id, "gpus_per_replica": c.gpus // c.replicas, "tensor": c.tensor, "pipeline": c.pipeline,
            "weight_dtype": c.weight_dtype, "kv_dtype": c.kv_dtype, "slo": entry.at_slo.slo,
            "max_rate_per_s_per_replica": entry.at_slo.max_rate_per_s, "users_per_replica": entry.at_slo.users,
            "replicas_at_slo": entry.replicas, "per_user_month_at_slo": entry.per_user_month,
            "replicas_at_plan": c.replicas, "per_user_month_at_plan": c.per_user_month, "profile": profile}


COMMANDS = [Subcommand("recommend", "the catalog deployments that meet the workload, cheapest first", add_arguments,
                       run, rank=50)]
