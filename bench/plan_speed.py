"""Benchmark: plan() per call and a 10,000-profile sweep. Run by hand: python bench/plan_speed.py

Goal (issue 2): under 50 microseconds per plan on the project's 2-core machine. Prints one line
per shipped profile (best of several timed loops) and the sweep, where every profile differs in
context, users, duty cycle and GPU count, so no result can be reused.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from napkinmath.core.plan.compose import plan
from napkinmath.core.profile.files import load_profile
from napkinmath.core.profile.paths import shipped_profiles


def per_call_us(profile, loops: int, repeats: int) -> tuple[float, float]:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(loops):
            plan(profile)
        timings.append((time.perf_counter() - start) / loops * 1e6)
    return min(timings), statistics.median(timings)


def sweep_profiles(base, count: int) -> list:
    """count distinct what-ifs of one profile: context, users, duty cycle and replicas all vary."""
    profiles = []
    per_replica = base.parallelism.gpus_per_replica
    for index in range(count):
        replicas = 1 + index % 4
        max_context = 4_096 + (index * 37) % 120_000
        workload = base.workload.model_copy(update={
            "max_context_tokens": max_context, "avg_context_tokens": 1 + (index * 7919) % max_context,
            "users": 10 + (index * 13) % 5_000, "duty_cycle": 0.05 + (index % 19) / 20})
        profiles.append(base.model_copy(update={
            "workload": workload,
            "parallelism": base.parallelism.model_copy(update={"replicas": replicas}),
            "hardware": base.hardware.model_copy(update={"count": per_replica * replicas})}))
    return profiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sweep", type=int, default=10_000)
    arguments = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")
    print(f"{'profile':40s} {'best us':>9s} {'median us':>10s}")
    for path in shipped_profiles():
        best, median = per_call_us(load_profile(path), arguments.loops, arguments.repeats)
        print(f"{path.stem:40s} {best:9.1f} {median:10.1f}")
    for name in ("llama-3.1-70b-2xh100-fp8.toml", "qwen3-30b-a3b-1xh100.toml"):
        base = load_profile(next(p for p in shipped_profiles() if p.name == name))
        profiles = sweep_profiles(base, arguments.sweep)
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            served = sum(plan(profile).capacity.users_served for profile in profiles)
            runs.append(time.perf_counter() - start)
        best, worst = min(runs), max(runs)
        print(f"sweep of {len(profiles):,} {base.model.name} profiles: best {best * 1e3:,.0f} ms "
              f"({best / len(profiles) * 1e6:.1f} us per plan), worst of 3 {worst / len(profiles) * 1e6:.1f} us "
              f"(checksum {served:,} users)")
    search_and_sweep()


def search_and_sweep() -> None:
    """Issue 6's figures: the whole-catalog recommend search and a 100-point sweep."""
    from napkinmath.core.tools.recommend import recommend
    from napkinmath.core.tools.sweep import sweep

    for name in ("b200-32b-chat-duty20.toml", "llama-3.1-70b-2xh100-fp8.toml", "qwen3-30b-a3b-1xh100.toml"):
        base = load_profile(next(p for p in shipped_profiles() if p.name == name))
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            found = recommend(base)
            runs.append(time.perf_counter() - start)
        print(f"recommend over the catalog for {base.model.name}: best {min(runs) * 1e3:,.0f} ms, "
              f"worst of 5 {max(runs) * 1e3:,.0f} ms ({len(found)} shown)")
        values = list(range(1024, 1024 + 100 * 256, 256))
        start = time.perf_counter()
        points = sweep(base.model_copy(update={"workload": base.workload.model_copy(
            update={"max_context_tokens": 200_000})}), "workload.avg_context_tokens", values)
        print(f"100-point sweep of avg_context_tokens: {(time.perf_counter() - start) * 1e3:,.1f} ms "
              f"({sum(p.plan is not None for p in points)} planned)")


if __name__ == "__main__":
    main()
