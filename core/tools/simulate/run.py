"""A run: requests drawn, routed to instances, stepped, and summarised.

Open loop: requests arrive at ``rate_per_s`` (the first at time 0) whatever the engine does, as
``vllm bench serve --request-rate`` and MLPerf's Server scenario send them. Closed loop: ``concurrency``
clients each send their next request when the previous one completes (``vllm bench serve
--max-concurrency``); clients are spread evenly over the instances (client i on instance i mod N, as a
least-outstanding router keeps them). The request overhead (API server, tokeniser) sits before the
engine: a request reaches the engine's queue ``request_overhead_s`` after it is sent, and TTFT and
end-to-end latency count from the send.
"""

from __future__ import annotations

import heapq
import math

from .engine import Instance
from .load import (
    SAMPLE_POINTS,
    Deployment,
    Load,
    Router,
    arrival_times,
    check_deployment,
    check_load,
    draw_requests,
)
from .requests import Requests
from .results import run_result
from .stats import SimResult

__all__ = ["Deployment", "Load", "Router", "arrival_times", "check_load", "draw_requests", "simulate", "stagger_s"]

def simulate(deployment: Deployment, load: Load, slo: dict[str, float] | None = None,
             late_ttft: tuple[float, int] | None = None) -> SimResult:
    """Run ``load`` against ``deployment``; ``slo`` (see capacity.SLO_KEYS) only decides goodput.
    ``late_ttft = (seconds, allowed)``: raise engine.TtftMissed once more than ``allowed`` requests wait
    longer than that for their first token (the SLO search stops a run that has already missed)."""
    check_load(load)
    check_deployment(deployment)
    requests = draw_requests(load)
    if late_ttft is not None:
        requests.ttft_limit = late_ttft[0] - deployment.request_overhead_s
        requests.late_allowed = late_ttft[1]
    overhead = deployment.request_overhead_s
    if load.rate_per_s is not None:
        every = load.requests / load.rate_per_s / SAMPLE_POINTS
    else:
        every = 1e-3  # coarsened as the run goes on (engine.MAX_SAMPLES)
    instances = [Instance(deployment.step, deployment.limits, requests, every, index)
                 for index in range(deployment.instances)]
    if load.rate_per_s is not None:
        sends = arrival_times(load)
        for index, sent in enumerate(sends):
            requests.arrival[index] = sent + overhead
        _open_loop(instances, requests, deployment.router)
    else:
        assert load.concurrency is not None
        spacing = stagger_s(deployment, load) if load.steady_state else 0.0
        _closed_loop(instances, requests, load.concurrency, overhead, spacing)
    return run_result(instances, requests, load, overhead, slo or {})


def _open_loop(instances: list[Instance], requests: Requests, router: Router) -> None:
    arrivals, count = requests.arrival, len(instances)
    if count == 1 or router == "round_robin":  # independent instances: each in turn, no interleaving needed
        for index, instance in enumerate(instances):
            for request in range(index, len(requests), count):
                _admit(instance, request, arrivals[request])
            instance.advance(math.inf)
        return
    last = -1
    for request, time in enumerate(arrivals):
        for instance in instances:
            instance.advance(time)
        chosen = min(instances, key=lambda each: (each.outstanding_at(time), (each.index - last - 1) % count))
        last = chosen.index
        _admit(chosen, request, time)
    for instance in instances:
        instance.advance(math.inf)


def _admit(instance: Instance, request: int, time: float) -> bool:
    instance.advance(time)
    if not instance.fits(request):
        requests = instance.r
        requests.rejected[request] = True
        requests.instance[request] = instance.index
        return False
    instance.enqueue(request, time)
    return True


def _closed_loop(instances: list[Instance], requests: Requests, concurrency: int, overhead: float,
                 spacing: float) -> None:
    """Each instance with its share of the clients and of the requests, run on its own; client k sends
    its first request at k * ``spacing`` (0: all at once, as ``vllm bench serve`` starts)."""
    count, total = len(instances), len(requests)
    next_id = 0
    for instance in instances:
        clients = len(range(instance.index, concurrency, count))
        share = len(range(instance.index, total, count))
        if clients == 0 or share == 0:
            continue
        pending = [overhead + client * spacing * count for client in range(min(clients, share))]
        sent, seen = len(pending), 0
        while True:
            limit = pending[0] if pending else math.inf
            if instance.busy() and instance.clock < limit:
                instance.advance(limit, stop_on_finish=True)
                new = instance.finished - seen
                seen = instance.finished
                for finish in instance.last_finishes[len(instance.last_finishes) - new:] if new else ():
                    if sent < share:
                        heapq.heappush(pending, finish + overhead)
                        sent += 1
                continue
            if not pending:
                break
            time = heapq.heappop(pending)
            requests.arrival[next_id] = time
            if not _admit(instance, next_id, time) and sent < share:
                heapq.heappush(pending, time + overhead)  # refused at once: the client sends its next request
                sent += 1
            next_id += 1


def stagger_s(deployment: Deployment, load: Load) -> float:
    """Time between clients' first requests that spreads them over one request's duration: the prefill
    of one prompt plus its reply at the full batch's step time (a steady closed loop is desynchronised)."""
    assert load.concurrency is not None
    lengths, step = load.lengths, deployment.step.step_time_s
    per_instance = max(1.0, load.concurrency / deployment.instances)
    prompt = float(lengths.input_tokens)
    context = per_instance * (lengths.input_tokens + lengths.output_tokens / 2)
    duration = step(0, 0, prompt, prompt * (prompt + 1) / 2) + lengths.output_tokens * step(per_instance, context, 0, 0)
    return duration / load.concurrency
