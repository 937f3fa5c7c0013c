"""The published serving results that judge the simulator (issue 15), as simulations ready to run: NVIDIA
NIM's closed-loop table and MLPerf's Server results, built on the fitted performance model. Used by
tests/test_simulate_validation.py and for the tables in docs/accuracy.md, "Tail latency":
``python tests/serving_cases.py`` prints them (it runs the SLO searches, about a minute).
"""

from __future__ import annotations

import csv
import random
import tomllib
from functools import cache
from pathlib import Path

from napkinmath.core.plan.performance import engine_performance
from napkinmath.core.profile.schema import Profile
from napkinmath.core.tools.simulate.capacity import max_rate_at_slo
from napkinmath.core.tools.simulate.load import Load
from napkinmath.core.tools.simulate.profile_load import deployment_for
from napkinmath.core.tools.simulate.run import simulate
from napkinmath.core.tools.simulate.traffic import Lengths

DATA = Path(__file__).parent / "data"
LLAMA_2_VOCAB = 32_000
LLAMA_31_70B_PARAMS_B, LLAMA_31_VOCAB, HIDDEN = 70.553706496, 128_256, 8_192  # core/specs/data/models.toml


@cache
def nim_points() -> list[dict]:
    systems = tomllib.loads((DATA / "validation" / "throughput.toml").read_text())["system"]
    return next(s for s in systems if s["id"] == "llama-3.3-70b-2xh100-fp8-tp2-nim-1.8.0")["points"]


@cache
def nim_runs():
    """NIM's backend is TensorRT-LLM (its docs); the closed loop at its steady state."""
    profile = Profile.model_validate({
        "name": "NIM Llama 3.3 70B", "hardware": {"gpu": "h100-sxm", "count": 2},
        "model": {"preset": "llama-3.1-70b", "weight_dtype": "fp8"}, "parallelism": {"tensor": 2},
        "workload": {"max_context_tokens": 5_500, "avg_context_tokens": 5_250, "prompt_tokens": 5_000,
                     "output_tokens": 500},
        "engine": {"name": "trtllm"}})
    deployment = deployment_for(profile, engine_performance(profile))
    return {point["concurrency"]: simulate(deployment, Load(
        concurrency=point["concurrency"], requests=max(200, 8 * point["concurrency"]), steady_state=True,
        lengths=Lengths("fixed", 5_000, 500))) for point in nim_points()}


@cache
def mlperf(index: int):
    """(result, deployment, lengths): OpenOrca's prompts, its replies scaled to the run's tokens per sample
    (Llama 2 writes longer answers than the dataset's), in LoadGen's order: sampled at random."""
    result = tomllib.loads((DATA / "serving" / "mlperf_server.toml").read_text())["result"][index]
    with (DATA / "serving" / "openorca_llama2_70b_lengths.csv").open() as handle:
        rows = [(int(row["input_length"]), int(row["output_length"])) for row in csv.DictReader(handle)]
    random.Random(0).shuffle(rows)
    per_sample = result["completed_tokens_per_s"] / result["completed_samples_per_s"]
    scale = per_sample / (sum(out for _, out in rows) / len(rows))
    trace = tuple((prompt, max(1, round(out * scale))) for prompt, out in rows)
    lengths = Lengths("trace", sum(p for p, _ in trace) // len(trace), sum(o for _, o in trace) // len(trace),
                      trace_rows=trace)
    params = LLAMA_31_70B_PARAMS_B - 2 * (LLAMA_31_VOCAB - LLAMA_2_VOCAB) * HIDDEN / 1e9  # untied embeddings
    profile = Profile.model_validate({
        "name": result["id"], "hardware": {"gpu": result["gpu"], "count": result["gpus"]},
        "model": {"preset": "llama-3.1-70b", "name": "Llama 2 70B", "vocab_size": LLAMA_2_VOCAB, "params_b": params,
                  "active_params_b": params, "max_context_tokens": 4_096, "weight_dtype": result["weight_dtype"]},
        "parallelism": {"tensor": result["tensor_parallel_size"], "replicas": result["instances"]},
        "workload": {"max_context_tokens": 2_048, "avg_context_tokens": 367, "prompt_tokens": lengths.input_tokens,
                     "output_tokens": lengths.output_tokens},
        "engine": {"name": "trtllm", "gpu_memory_utilization": result["kvcache_free_gpu_mem_frac"],
                   "max_num_seqs": result["gpu_batch_size"]}})
    return result, deployment_for(profile, engine_performance(profile)), lengths


def server_run(index: int, rate_factor: float, requests: int = 16_000):
    """MLPerf's Server scenario at ``rate_factor`` × the measured rate: (run, SLO)."""
    result, deployment, lengths = mlperf(index)
    slo = {"ttft_p99": result["ttft_limit_s"], "tpot_p99": result["tpot_limit_s"]}
    run = simulate(deployment, Load(rate_per_s=rate_factor * result["completed_samples_per_s"], requests=requests,
                                    lengths=lengths))
    return run, slo


def main() -> None:
    print("| clients | TTFT measured | TTFT simulated | ITL measured | ITL simulated | tok/s measured | tok/s simulated |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for point in nim_points():
        run, ttft, itl, rate = nim_runs()[point["concurrency"]], point["ttft_ms"] / 1e3, point["itl_ms"], \
            point["output_tokens_per_s"]
        print(f"| {point['concurrency']} | {ttft:.2f} s | {run.ttft_s.mean:.2f} s ({run.ttft_s.mean / ttft - 1:+.0%}) "
              f"| {itl:.1f} ms | {run.itl_s.mean * 1e3:.1f} ms ({run.itl_s.mean * 1e3 / itl - 1:+.0%}) | {rate:.0f} "
              f"| {run.output_tokens_per_s:.0f} ({run.output_tokens_per_s / rate - 1:+.0%}) |")
    print()
    print("| system | measured (valid) | simulated maximum | at the measured rate: p99 TTFT | p99 TPOT |")
    print("| --- | --- | --- | --- | --- |")
    for index in (0, 1):
        result, deployment, lengths = mlperf(index)
        slo = {"ttft_p99": result["ttft_limit_s"], "tpot_p99": result["tpot_limit_s"]}
        found = max_rate_at_slo(deployment, Load(requests=2_000, lengths=lengths), slo)
        run, _ = server_run(index, 1.0)
        measured = result["completed_samples_per_s"]
        print(f"| {result['gpus']} × {result['gpu']}, {result['instances']} × TP {result['tensor_parallel_size']} | "
              f"{measured} requests/s | {found.max_rate_per_s:.1f} ({found.max_rate_per_s / measured - 1:+.0%}) | "
              f"{run.ttft_s.p99:.2f} s (measured {result['ttft_p99_s']:.2f}) | {run.tpot_s.p99:.3f} s (measured "
              f"{result['tpot_p99_s']:.3f}) |")


if __name__ == "__main__":
    main()
