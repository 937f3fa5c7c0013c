"""Benchmark: one in-process closed-loop load test (core/tools/loadtest.py). Run by hand:
python bench/loadtest_speed.py

Goal (issue 14): one ``load_test`` under 50 ms on the project's 2-core machine. Times the whole call
(profile to figures: memory stage, fitted step model, closed loop) for every shipped profile at three
concurrencies, best and median of several loops, and, for comparison, plan() on the same profile.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.files import load_profile
from napkinmath.core.profile.paths import shipped_profiles
from napkinmath.core.tools.loadtest import load_test


def per_call_ms(call, loops: int, repeats: int) -> tuple[float, float]:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(loops):
            call()
        timings.append((time.perf_counter() - start) / loops * 1e3)
    return min(timings), statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")
    print(f"{'profile':34s} {'concurrency':>11s} {'best ms':>8s} {'median ms':>10s}   {'plan() median us':>16s}")
    worst = 0.0
    for path in shipped_profiles():
        profile = load_profile(path)
        _, plan_median = per_call_ms(lambda profile=profile: plan(profile), arguments.loops, arguments.repeats)
        for concurrency in (1, 32, 256):
            best, median = per_call_ms(lambda profile=profile, concurrency=concurrency: load_test(
                profile, concurrency, profile.workload.prompt_tokens, max(1, profile.workload.output_tokens)),
                arguments.loops, arguments.repeats)
            worst = max(worst, median)
            print(f"{path.stem:34s} {concurrency:11d} {best:8.3f} {median:10.3f}   {plan_median * 1e3:16.1f}")
    print(f"slowest median load test: {worst:.3f} ms (goal: 50 ms)")


if __name__ == "__main__":
    main()
