"""Benchmark: the serving simulator. Run by hand: python bench/simulate_speed.py

Goals (issue 15): 10,000 requests simulated in at most 1 s in-process on the project's 2-core machine,
and an SLO search (the highest rate whose p99 TTFT and TPOT meet targets) in at most 3 s. Prints the
best and median wall time of several runs, and the CPU time (the machine is shared: CPU time is what
the simulator itself costs when other processes compete for the cores).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

from napkinmath.core.plan.performance import engine_performance
from napkinmath.core.profile.files import load_profile
from napkinmath.core.profile.paths import shipped_profile
from napkinmath.core.tools.simulate.capacity import max_rate_at_slo
from napkinmath.core.tools.simulate.model import LinearStepModel, SchedulerLimits
from napkinmath.core.tools.simulate.profile_load import deployment_for
from napkinmath.core.tools.simulate.run import Deployment, Load, simulate
from napkinmath.core.tools.simulate.traffic import Arrivals, Lengths

FITTED = ("llama-3.1-70b-2xh100-fp8.toml", "qwen3-30b-a3b-1xh100.toml")


def fitted(name: str) -> tuple[str, Deployment]:
    """A shipped profile's engine with the fitted step model (issue 14)."""
    profile = load_profile(shipped_profile(name))
    return f"{name.removesuffix('.toml')} (fitted)", deployment_for(profile, engine_performance(profile))


def synthetic() -> tuple[str, Deployment]:
    """An 8B-class model on one H100-class GPU, as an affine step model (engine time 8 ms a step,
    20 us a sequence, KV read 20 ns a token, prefill 20 us a token)."""
    model = LinearStepModel(0.008, per_sequence_s=2e-5, per_kv_token_s=2e-8, per_prefill_token_s=2e-5,
                            per_attended_pair_s=1e-10)
    return "synthetic affine step model", Deployment(model, SchedulerLimits(256, 8192, 400_000))


def timed(run: Callable[[], object], repeats: int) -> tuple[float, float, float, object]:
    """(best wall s, median wall s, best CPU s, last result)."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), statistics.median(walls), min(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for label, deployment in [synthetic(), *(fitted(name) for name in FITTED)]:
        bench(label, deployment, arguments.requests, arguments.repeats)


def bench(label: str, deployment: Deployment, requests: int, repeats: int) -> None:
    lengths = Lengths("exponential", 2_000, 500)
    slo = {"ttft_p99": 2.0, "tpot_p99": 0.05}
    load = Load(requests=requests, seed=1, lengths=lengths)
    best, median, cpu, found = timed(lambda: max_rate_at_slo(deployment, load, slo), 3)
    max_rate = found.max_rate_per_s  # type: ignore[attr-defined]
    print(f"{label}: SLO search (p99 TTFT <= 2 s, p99 TPOT <= 50 ms) over {requests:,} requests: best "
          f"{best:.2f} s, median {median:.2f} s, CPU {cpu:.2f} s; {found.trials} trials, "  # type: ignore[attr-defined]
          f"max rate {max_rate:.2f} requests/s")
    cases = [("Poisson at 50% of the max rate", replace(load, rate_per_s=0.5 * max_rate)),
             ("Poisson at the max rate", replace(load, rate_per_s=max_rate)),
             ("Gamma CV 3 at the max rate", replace(load, rate_per_s=max_rate, arrivals=Arrivals("gamma", cv=3))),
             ("Poisson at 130% (overloaded)", replace(load, rate_per_s=1.3 * max_rate)),
             ("closed loop, 64 clients", replace(load, concurrency=64))]
    for name, case in cases:
        best, median, cpu, result = timed(lambda case=case: simulate(deployment, case), repeats)
        print(f"  {requests:,} requests, {name:32s} best {best:.3f} s, median {median:.3f} s, CPU "
              f"{cpu:.3f} s (p99 TTFT {result.ttft_s.p99:.3g} s)")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
