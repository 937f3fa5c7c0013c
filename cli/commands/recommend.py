"""``napkin recommend PROFILE``: the catalog deployments that meet the workload, cheapest first.

What the search assumed comes first (``recommend_notes``: the reading-speed floor when the profile
sets no speed target). Each deployment is one row that fits 80 columns; under it, dimmed, the margin
that would break first and the same-cost precision variants folded into it (``alternatives``).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from napkinmath.core.errors import ProfileError

from ..output import print_json, warn
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
    from rich.text import Text

    from napkinmath.core.engines.vllm import version_warnings
    from napkinmath.core.profile.files import load_profile, profile_to_dict
    from napkinmath.core.tools.recommend import (
        EXTRAPOLATED_NOTE,
        extrapolated_speed,
        recommend,
        recommend_notes,
        shape_text,
        speed_text,
        targets_text,
    )

    from ..tables import Column, console, print_columns, wrapped

    limit, max_gpus = arguments.limit, arguments.max_gpus
    if limit < 1 or max_gpus < 1:
        raise ProfileError("napkin recommend: --limit and --max-gpus must be at least 1")
    profile = load_profile(arguments.profile)
    if profile.engine.name == "vllm":
        warn(version_warnings(profile.engine.version), arguments.profile)
    candidates = recommend(profile, limit=limit, max_gpus=max_gpus)
    notes = recommend_notes(profile)
    if arguments.rank == "slo":
        warn(notes, kind="note")
        return _ranked_at_slo(profile, candidates, arguments.json)
    if arguments.json:
        print_json([{"gpu": c.gpu_id, "gpus": c.gpus, "tensor": c.tensor, "pipeline": c.pipeline,
                     "replicas": c.replicas, "weight_dtype": c.weight_dtype, "kv_dtype": c.kv_dtype,
                     "per_user_month": c.per_user_month, "limited_by": c.limited_by, "binding": c.binding,
                     "tokens_per_s_per_user": c.plan.decode.tokens_per_s_per_user, "ttft": c.plan.prefill.ttft,
                     "speed": c.plan.provenance.speed,
                     "alternatives": list(c.alternatives), "profile": profile_to_dict(c.profile)}
                    for c in candidates])
        warn(notes, kind="note")  # the JSON is a list; what the search assumed goes beside it, on stderr
        return 0
    out = console()
    for note in notes:
        out.print(Text(wrapped(f"note: {note}", out.width, "")), soft_wrap=True)
    if not candidates:
        print(f"napkin: no catalog deployment of up to {max_gpus} GPUs meets this workload's targets", file=sys.stderr)
        return 1
    out.print(Text(f"Deployments for {targets_text(profile)}, cheapest first",
                   style="bold"))
    columns = [
        Column("#", [str(rank) for rank in range(1, len(candidates) + 1)]),
        Column("GPU", [c.gpu_id for c in candidates], right=False),
        Column("GPUs", [str(c.gpus) for c in candidates]),
        Column("shape", [shape_text(c) for c in candidates], right=False),
        Column("weights/KV", [f"{c.weight_dtype}/{c.kv_dtype}" for c in candidates], right=False),
        Column("$/user-mo", [f"{c.per_user_month:,.2f}" for c in candidates]),
        Column("tok/s/user", [speed_text(c) for c in candidates]),
        Column("TTFT s", [f"{c.plan.prefill.ttft:,.2f}" for c in candidates]),
    ]
    under = [[f"tightest: {c.binding}"] + ([f"same cost: {'; '.join(c.alternatives)}"] if c.alternatives else [])
             for c in candidates]
    print_columns(out, columns, under=under)
    out.print(Text("shape: tensor (TP) × pipeline (PP) per replica, × replicas · napkin recommend --json gives each "
                   "candidate's whole profile", style="dim"))
    if any(extrapolated_speed(c) for c in candidates):
        out.print(Text(wrapped(EXTRAPOLATED_NOTE, out.width, ""), style="dim"), soft_wrap=True)
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
    from rich.text import Text

    from ..tables import Column, console, print_columns, wrapped

    out = console()
    out.print(Text(f"Deployments for {profile.workload.users:,} users, sized at p99 targets (cheapest first)",
                   style="bold"))
    entries = [entry.candidate for entry in ranked]
    print_columns(out, [
        Column("#", [str(rank) for rank in range(1, len(ranked) + 1)]),
        Column("GPU", [c.gpu_id for c in entries], right=False),
        Column("shape", [f"TP{c.tensor}" + (f" PP{c.pipeline}" if c.pipeline > 1 else "") for c in entries],
               right=False),
        Column("weights/KV", [f"{c.weight_dtype}/{c.kv_dtype}" for c in entries], right=False),
        Column("users/replica", [f"{entry.at_slo.users:,}" for entry in ranked]),
        Column("replicas", ["-" if entry.replicas is None else f"{entry.replicas:,}" for entry in ranked]),
        Column("$/user-mo", ["-" if entry.per_user_month is None else f"{entry.per_user_month:,.2f}"
                             for entry in ranked]),
        Column("at plan", [f"{c.per_user_month:,.2f}" for c in entries]),
    ])
    out.print(Text(wrapped("users/replica: at the highest Poisson rate meeting the workload's p99 TTFT and TPOT "
                           "targets", out.width, ""), style="dim"), soft_wrap=True)
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
