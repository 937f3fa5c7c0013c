"""``napkin loadtest PROFILE --rate R`` and ``--slo``: the open-loop side of the loadtest command (issue 15).

Requests arrive at ``--rate`` per second (Poisson, or ``gamma:CV`` for bursts, or a trace's times) and are
served by the profile's engines as the serving simulator steps them (core/tools/simulate/): p50, p90,
p99 and mean of TTFT, TPOT, inter-token and end-to-end latency, and tokens/s. ``--slo
ttft_p99=2,tpot_p99=0.2`` searches the highest rate meeting those targets (and says how many users that
is). Every value is checked here or in the core; bad input is a ProfileError naming it (exit 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napkinmath.core.errors import ProfileError

if TYPE_CHECKING:
    from napkinmath.core.profile.schema import Profile
    from napkinmath.core.tools.simulate.load import Load

DEFAULT_REQUESTS = 2_000
MAX_SEED = 2**63


def add_open_loop_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rate", metavar="R", help="requests per second arriving (open loop), whole deployment")
    parser.add_argument("--slo", metavar="SPEC",
                        help="search the highest rate meeting these targets, e.g. ttft_p99=2,tpot_p99=0.2 (seconds)")
    parser.add_argument("--requests", metavar="K", help=f"requests sent (default {DEFAULT_REQUESTS:,})")
    parser.add_argument("--seed", metavar="S", help="random seed: the same seed, the same run (default 0)")
    parser.add_argument("--arrivals", metavar="KIND", default="poisson",
                        help="poisson (default), gamma:CV (CV > 1: bursts) or trace:FILE (times in seconds)")
    parser.add_argument("--lengths", metavar="KIND", default="fixed",
                        help="fixed (default), exponential, lognormal:CV or trace:FILE (JSONL of input, output "
                             "token counts)")
    parser.add_argument("--replicas", metavar="K", help="replicas of the deployment (default: the profile's)")


def wants_open_loop(arguments: argparse.Namespace) -> bool:
    return arguments.rate is not None or arguments.slo is not None


def _whole(item: str, text: str | None, default: int, lowest: int, highest: int) -> int:
    if text is None:
        return default
    try:
        value = int(text.strip())
    except ValueError:
        raise ProfileError(f"napkin loadtest: {item} must be a whole number, got {text!r}") from None
    if not lowest <= value <= highest:
        raise ProfileError(f"napkin loadtest: {item} must be from {lowest:,} to {highest:,}, got {value:,}")
    return value


def _rate(text: str) -> float:
    from napkinmath.core.tools.simulate.load import positive_number

    return positive_number(text, f"napkin loadtest: --rate must be a number of requests per second, got {text!r}",
                           f"napkin loadtest: --rate must be above 0 requests per second, got {text}")


def _trace_path(spec: str, prefix: str = "trace:") -> Path | None:
    return Path(spec.strip()[len(prefix):]) if spec.strip().startswith(prefix) else None


def with_replicas(profile: Profile, replicas: int | None) -> Profile:
    """The profile with ``replicas`` replicas (its GPUs per replica kept)."""
    if replicas is None or replicas == profile.parallelism.replicas:
        return profile
    from napkinmath.core.profile.edit import edit_profile

    per_replica = profile.parallelism.gpus_per_replica
    scaled = edit_profile(profile, "parallelism.replicas", replicas)
    return edit_profile(scaled, "hardware.count", per_replica * replicas)


def open_loop_load(arguments: argparse.Namespace, profile: Profile, input_tokens: int, output_tokens: int) -> Load:
    """The Load the options describe (the rate left out when only --slo is given)."""
    from napkinmath.core.tools.simulate.load import MAX_REQUESTS
    from napkinmath.core.tools.simulate.load import Load as LoadSpec
    from napkinmath.core.tools.simulate.traces import read_arrivals, read_lengths
    from napkinmath.core.tools.simulate.traffic import parse_arrivals, parse_lengths

    arrivals_path, lengths_path = _trace_path(arguments.arrivals), _trace_path(arguments.lengths)
    arrivals = read_arrivals(arrivals_path) if arrivals_path else parse_arrivals(arguments.arrivals)
    lengths = read_lengths(lengths_path) if lengths_path else parse_lengths(arguments.lengths, input_tokens,
                                                                            output_tokens)
    return LoadSpec(rate_per_s=_rate(arguments.rate) if arguments.rate is not None else None,
                requests=_whole("--requests", arguments.requests, DEFAULT_REQUESTS, 1, MAX_REQUESTS),
                seed=_whole("--seed", arguments.seed, 0, 0, MAX_SEED), arrivals=arrivals, lengths=lengths,
                prefix_cache_hit=profile.workload.prefix_cache_hit)


def run_open_loop(arguments: argparse.Namespace, profile: Profile, input_tokens: int, output_tokens: int) -> int:
    """Simulate at --rate, search --slo, or both; print text or --json."""
    from dataclasses import replace

    from napkinmath.core.plan.performance import engine_performance
    from napkinmath.core.tools.simulate.capacity import max_rate_at_slo, parse_slo
    from napkinmath.core.tools.simulate.profile_load import band_factors, deployment_for
    from napkinmath.core.tools.simulate.report import capacity_to_dict, result_to_dict
    from napkinmath.core.tools.simulate.run import simulate

    from .output import print_json

    slo = parse_slo(arguments.slo) if arguments.slo is not None else None
    replicas = arguments.replicas
    profile = with_replicas(profile, _whole("--replicas", replicas, 1, 1, 1_000_000) if replicas is not None else None)
    load = open_loop_load(arguments, profile, input_tokens, output_tokens)
    performance = engine_performance(profile)
    deployment, bands = deployment_for(profile, performance), band_factors(performance)
    found = max_rate_at_slo(deployment, load, slo) if slo is not None else None
    run = simulate(deployment, load) if load.rate_per_s is not None else (found.at_max if found else None)
    shown: dict[str, Any] = {
        "profile": profile.name, "kind": getattr(performance, "kind", "fitted"), "instances": performance.instances,
        "replicas": profile.parallelism.replicas, "arrivals": arguments.arrivals, "lengths": arguments.lengths,
        "input_tokens": load.lengths.input_tokens, "output_tokens": load.lengths.output_tokens,
        "requests": load.requests, "seed": load.seed,
        "rate_per_s": load.rate_per_s if load.rate_per_s is not None else (found.max_rate_per_s if found else None)}
    if run is not None:
        shown.update(result_to_dict(run, bands))
    if found is not None and slo is not None:
        search = capacity_to_dict(found, slo, profile.workload.duty_cycle, bands)
        shown["max_rate_per_s"] = found.max_rate_per_s
        shown["slo"] = {key: value for key, value in search.items() if key != "at_max_rate"}
        if load.rate_per_s is not None:
            shown["at_max_rate"] = search["at_max_rate"]
    if arguments.json:
        print_json(shown, allow_nan=False)
    else:
        print("\n".join(open_loop_lines(shown, replace(load, rate_per_s=shown["rate_per_s"]))))
    return 0


def open_loop_lines(shown: dict[str, Any], load: Load) -> list[str]:
    """The JSON's figures as a few lines of text."""
    from napkinmath.core.report.formatting import seconds

    lines = [f"{shown['profile']}: {shown['instances']:,} engine instance(s), {load.arrivals.label} arrivals, "
             f"{load.lengths.label} lengths ({shown['input_tokens']:,} in, {shown['output_tokens']:,} out on average), "
             f"{shown['requests']:,} requests, seed {shown['seed']} ({shown['kind']} speeds)"]
    if "slo" in shown:
        search = shown["slo"]
        targets = ", ".join(f"{key} ≤ {seconds(value)}" for key, value in search["slo"].items())
        if shown["max_rate_per_s"] > 0:
            lines.append(f"Highest rate meeting {targets}: {shown['max_rate_per_s']:,.3g} requests/s, "
                         f"{search['users']:,} users at a {search['duty_cycle']:.0%} duty cycle ({search['reason']})")
        else:
            lines.append(f"No rate meets {targets}: {search['reason']}")
    if "ttft_s" in shown:
        lines.append(f"At {shown['rate_per_s']:,.3g} requests/s:   p50        p90        p99        mean")
        for label, key in (("TTFT", "ttft_s"), ("TPOT", "tpot_s"), ("ITL", "itl_s"), ("end to end", "e2e_s")):
            lines.append(f"  {label:<22}" + "".join(f"{seconds(shown[key][stat]):>11}"
                                                     for stat in ("p50", "p90", "p99", "mean")))
        throughput = shown["output_tokens_per_s"]
        band = f" ({throughput['low']:,.0f}-{throughput['high']:,.0f})" if "low" in throughput else ""
        lines.append(f"  output {throughput['mean']:,.0f} tok/s{band}; {shown['completed']:,} of {shown['requests']:,} "
                     f"completed, {shown['preemptions']:,} preemptions, at most {shown['peak_waiting']:,} waiting")
    return lines
