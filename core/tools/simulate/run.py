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
import random
from dataclasses import dataclass, field
from typing import Literal

from ...errors import ProfileError
from .engine import Instance
from .model import Limits, StepTimeModel, checked_limits
from .requests import Requests
from .results import run_result
from .stats import SimResult
from .traffic import Arrivals, Lengths

Router = Literal["round_robin", "least_outstanding"]
MAX_REQUESTS = 10_000_000
SAMPLE_POINTS = 200  # queue and KV samples over an open-loop run


@dataclass(frozen=True, slots=True)
class Deployment:
    """What serves: the step model and limits of ONE instance, how many instances, the time outside the engine."""

    step: StepTimeModel
    limits: Limits
    instances: int = 1
    request_overhead_s: float = 0.0
    router: Router = "least_outstanding"


@dataclass(frozen=True, slots=True)
class Load:
    """What arrives: an open loop at ``rate_per_s`` or a closed loop of ``concurrency`` clients."""

    rate_per_s: float | None = None
    concurrency: int | None = None
    requests: int = 1_000
    seed: int = 0
    arrivals: Arrivals = field(default_factory=Arrivals)
    lengths: Lengths = field(default_factory=Lengths)
    prefix_cache_hit: float = 0.0
    steady_state: bool = False  # closed loop: clients start spread out, the steady part alone is summarised


def check_load(load: Load) -> None:
    """ProfileError naming the first item of the load that cannot run."""
    if (load.rate_per_s is None) == (load.concurrency is None):
        raise ProfileError("a load needs either an arrival rate (open loop) or a concurrency (closed loop), not both")
    if load.rate_per_s is not None and not (math.isfinite(load.rate_per_s) and load.rate_per_s > 0):
        raise ProfileError(f"rate: the arrival rate must be a number above 0 requests/s, got {load.rate_per_s!r}")
    if load.concurrency is not None and not (isinstance(load.concurrency, int) and load.concurrency >= 1):
        raise ProfileError(f"concurrency: must be a whole number of at least 1, got {load.concurrency!r}")
    if not (isinstance(load.requests, int) and 1 <= load.requests <= MAX_REQUESTS):
        raise ProfileError(f"requests: must be a whole number from 1 to {MAX_REQUESTS:,}, got {load.requests!r}")
    if load.steady_state and load.concurrency is None:
        raise ProfileError("steady_state: applies to a closed loop (a concurrency), not to an arrival rate")
    if not (0 <= load.prefix_cache_hit < 1):
        raise ProfileError(f"prefix_cache_hit: must be at least 0 and below 1, got {load.prefix_cache_hit!r}")
    if load.lengths.input_tokens < 0 or load.lengths.output_tokens < 1:
        raise ProfileError(f"lengths: a request needs input >= 0 and output >= 1 tokens, got input "
                           f"{load.lengths.input_tokens} and output {load.lengths.output_tokens}")


def _check_deployment(deployment: Deployment) -> None:
    checked_limits(deployment.limits)
    if not (isinstance(deployment.instances, int) and deployment.instances >= 1):
        raise ProfileError(f"instances: must be a whole number of at least 1, got {deployment.instances!r}")
    if not (math.isfinite(deployment.request_overhead_s) and deployment.request_overhead_s >= 0):
        raise ProfileError(f"request_overhead_s: must be 0 s or more, got {deployment.request_overhead_s!r}")
    if deployment.router not in ("round_robin", "least_outstanding"):
        raise ProfileError(f"router {deployment.router!r}: use round_robin or least_outstanding")


def draw_requests(load: Load) -> Requests:
    """The run's requests: lengths from their own seeded stream; prefix hits rounded, one token computed."""
    lengths = random.Random(f"{load.seed}:lengths")
    prompts, outputs = load.lengths.sample(load.requests, lengths)
    hit = load.prefix_cache_hit
    cached = [min(prompt - 1, round(prompt * hit)) for prompt in prompts] if hit else [0] * len(prompts)
    return Requests(prompts, outputs, cached)


def arrival_times(load: Load) -> list[float]:
    """Send times: unit-mean gaps divided by the rate, the first request at 0 (common random numbers)."""
    assert load.rate_per_s is not None
    gaps = load.arrivals.unit_gaps(load.requests - 1, random.Random(f"{load.seed}:arrivals"))
    times, now, scale = [0.0], 0.0, 1.0 / load.rate_per_s
    for gap in gaps:
        now += gap * scale
        times.append(now)
    return times


def simulate(deployment: Deployment, load: Load, slo: dict[str, float] | None = None,
             late_ttft: tuple[float, int] | None = None) -> SimResult:
    """Run ``load`` against ``deployment``; ``slo`` (see capacity.SLO_KEYS) only decides goodput.
    ``late_ttft = (seconds, allowed)``: raise engine.TtftMissed once more than ``allowed`` requests wait
    longer than that for their first token (the SLO search stops a run that has already missed)."""
    check_load(load)
    _check_deployment(deployment)
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
