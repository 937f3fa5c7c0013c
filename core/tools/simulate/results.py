"""A run's requests turned into what a load test reports (stats.SimResult).

Every completed request counts, as ``vllm bench serve`` counts them, unless the load asks for the
steady state of a closed loop: then only the part of the run where all clients are busy and past their
start counts (``steady_window``), which is what a closed-form model of that loop (issue 14's
``loadtest --concurrency``) predicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .requests import Requests
from .stats import Sample, SimResult, summarise, summarise_weighted

if TYPE_CHECKING:
    from .engine import Instance
    from .load import Load

WARMUP_ROUNDS = 2  # a closed loop's steady part starts once every client has finished this many requests


def steady_window(requests: Requests, concurrency: int, overhead: float) -> tuple[float, float]:
    """(start, end) of a closed loop's steady part: from the completion that ends the clients' first
    ``WARMUP_ROUNDS`` requests (the start's burst has drained) to the last send (after it fewer than
    ``concurrency`` requests are in flight)."""
    r = requests
    finishes = sorted(r.finish[i] for i in range(len(r)) if r.finish[i] >= 0)
    sends = [r.arrival[i] - overhead for i in range(len(r)) if r.finish[i] >= 0 or r.rejected[i]]
    warm = min(len(finishes) - 1, WARMUP_ROUNDS * concurrency - 1)
    return (finishes[warm] if finishes else 0.0), max(sends, default=0.0)


def run_result(instances: Sequence[Instance], requests: Requests, load: Load, overhead: float,
               slo: dict[str, float]) -> SimResult:
    r = requests
    done = [i for i in range(len(r)) if r.finish[i] >= 0]
    itl = [entry for instance in instances for entry in instance.itl]
    start = min((r.arrival[i] - overhead for i in range(len(r))), default=0.0)
    end = max((r.finish[i] for i in done), default=start)
    tokens = float(sum(r.output[i] for i in done))
    counted = done
    if load.steady_state and load.concurrency is not None:
        window_start, window_end = steady_window(r, load.concurrency, overhead)
        steady = [i for i in done if r.arrival[i] - overhead >= window_start and r.finish[i] <= window_end]
        if window_end > window_start and len(steady) >= load.concurrency:
            counted, start, end = steady, window_start, window_end
            tokens = sum(_tokens_within(r, i, start, end) for i in done)
            itl = [entry for entry in itl if start <= entry[2] <= end]
    ttft = [r.first[i] - r.arrival[i] + overhead for i in counted]
    e2e = [r.finish[i] - r.arrival[i] + overhead for i in counted]
    tpot = [(r.finish[i] - r.first[i]) / (r.output[i] - 1) for i in counted if r.output[i] > 1]
    duration = end - start
    met = sum(1 for index, i in enumerate(counted) if _meets(slo, ttft[index], e2e[index], r, i))
    per_s = 1 / duration if duration > 0 else 0.0
    return SimResult(
        requests=len(r), completed=len(done), rejected=sum(r.rejected), duration_s=duration,
        ttft_s=summarise(ttft), tpot_s=summarise(tpot),
        itl_s=summarise_weighted([(gap, weight) for gap, weight, _ in itl]), e2e_s=summarise(e2e),
        output_tokens_per_s=tokens * per_s, requests_per_s=len(counted) * per_s, goodput_per_s=met * per_s,
        preemptions=sum(instance.preemptions for instance in instances), samples=_samples(instances),
        offered_rate_per_s=load.rate_per_s, ttft_each_s=tuple(ttft), e2e_each_s=tuple(e2e))


def _tokens_within(r: Requests, request: int, start: float, end: float) -> float:
    """A request's output tokens generated in [start, end]: its first token at ``first``, the others
    spread evenly up to ``finish`` (each decode step adds one)."""
    first, finish, output = r.first[request], r.finish[request], r.output[request]
    tokens = 1.0 if start <= first <= end else 0.0
    if output > 1 and finish > first:
        overlap = max(0.0, min(end, finish) - max(start, first))
        tokens += (output - 1) * overlap / (finish - first)
    return tokens


def _meets(slo: dict[str, float], ttft: float, e2e: float, r: Requests, request: int) -> bool:
    """Whether one request met every per-request target of the SLO (its TTFT, TPOT, end-to-end)."""
    for key, target in slo.items():
        metric = key.split("_", 1)[0]
        if metric == "ttft" and ttft > target:
            return False
        if metric == "e2e" and e2e > target:
            return False
        if metric == "tpot" and r.output[request] > 1 and \
                (r.finish[request] - r.first[request]) / (r.output[request] - 1) > target:
            return False
    return True


def _samples(instances: Sequence[Instance]) -> tuple[Sample, ...]:
    """The instances' samples summed on the coarsest grid among them (KV use averaged over the pools)."""
    every = max(instance.sample_every for instance in instances)
    length = max(int(len(instance.samples) * instance.sample_every / every) for instance in instances)
    out: list[Sample] = []
    for index in range(length):
        waiting = running = 0
        kv = 0.0
        for instance in instances:
            at = round(index * every / instance.sample_every)
            if at < len(instance.samples):
                queued, active, held = instance.samples[at]
                waiting, running = waiting + queued, running + active
                kv += held / instance.capacity
        out.append(Sample(index * every, waiting, running, kv / len(instances)))
    return tuple(out)
