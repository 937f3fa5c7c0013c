"""What runs and what arrives: a deployment of engine instances and a load (open or closed loop),
checked, and the load's requests drawn from their seeded streams (traffic.py).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Literal

from ...errors import ProfileError
from .model import Limits, StepTimeModel, checked_limits
from .requests import Requests
from .traffic import Arrivals, Lengths

Router = Literal["round_robin", "least_outstanding"]
MAX_REQUESTS = 10_000_000
SAMPLE_POINTS = 200  # queue and KV samples over an open-loop run


def positive_number(text: str, not_a_number: str, not_above_zero: str) -> float:
    """``text`` as a finite number above 0 (a rate, an SLO target typed in), else a ProfileError with
    the caller's message for what is wrong: the CLI and the TUI word them for their own fields."""
    try:
        value = float(text)
    except ValueError:
        raise ProfileError(not_a_number) from None
    if not math.isfinite(value) or value <= 0:
        raise ProfileError(not_above_zero)
    return value


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


def check_deployment(deployment: Deployment) -> None:
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
