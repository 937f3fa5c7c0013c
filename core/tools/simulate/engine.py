"""One engine instance under continuous batching, stepped event by event.

The scheduling policy is the one the fitted step model assumed (issue 14, vLLM V1's scheduler,
vllm/v1/core/sched/scheduler.py ``schedule``): each step runs every admitted decode (one token each)
and then prefill chunks, first of prompts already being prefilled and then of waiting ones in arrival
order, until the token budget ``max_num_batched_tokens`` is spent; a prompt's first token comes from the
step that finishes its prefill. Without chunked prefill a prompt is prefilled whole (one longer than
the budget only as the step's first prompt); without mixed batches (SGLang's default) a step that can
prefill carries no decodes. KV is paged: admission needs room for the chunk; when a decode cannot get
its next token's slot the newest admitted request is preempted, its KV freed, and it is queued first to
be recomputed (prompt and tokens so far), as vLLM V1 does; a step that preempts admits nobody new. With
``limits.reserves_full_length`` (TensorRT-LLM's default capacity scheduler, GUARANTEED_NO_EVICT: "a started
request is never paused", NVIDIA/TensorRT-LLM/docs/source/performance/performance-tuning-guide/useful-runtime-flags.md)
a request is admitted only when the pool can hold it at its full length (prompt + reply) beside every
admitted request's.

Event-driven: between events (a completion, an arrival, a full pool) the batch is fixed and the only
change per step is each decode's context growing by one, so the total KV read grows by ``n`` a step
(``S = A + n·D``, kept incrementally). Such a run of k decode steps takes one segment: its step times
are interpolated linearly between the first and last step (exact for a model affine in the KV read; a
mid-point check shortens the segment where the model kinks, e.g. where memory and compute time cross).
KV held is counted in tokens plus half a block of page waste per sequence (paged blocks are filled on
average half in their last page).
"""

from __future__ import annotations

import heapq
import math
from collections import deque

from .model import Limits, StepTimeModel
from .requests import Requests

LINEAR_TOLERANCE = 1e-4  # relative mid-point error above which a decode segment is split
MAX_SAMPLES = 200  # queue and KV samples kept per instance (the grid coarsens to stay under twice this)


class TtftMissed(Exception):
    """More first tokens came late than a TTFT percentile target allows: the run cannot meet it."""


class Instance:
    """One engine instance; ``advance(limit)`` runs its steps that start before ``limit``."""

    def __init__(self, model: StepTimeModel, limits: Limits, requests: Requests, sample_every_s: float,
                 index: int = 0) -> None:
        self.index = index
        self.reserve = limits.reserves_full_length  # admit only what the pool holds at full length (never preempt)
        self.reserved = 0.0  # with reserve: KV tokens promised to admitted requests, at their full length
        self.step_time = model.step_time_s
        self.max_seqs = limits.max_num_seqs
        self.max_tokens = limits.max_num_batched_tokens
        self.chunked = limits.chunked_prefill
        self.mixed = limits.mixed_batches
        self.capacity = limits.kv_capacity_tokens
        self.waste = (limits.block_tokens - 1) / 2  # page waste per sequence, tokens
        self.r = requests
        self.clock = 0.0
        self.decode_steps = 0  # D
        self.decoding = 0  # n
        self.context_offset = 0  # A: sum over decodes of (join context - join step)
        self.heap: list[tuple[int, int, int]] = []  # (decode step it finishes at, request id, version)
        self.decoders: set[int] = set()
        self.partial: list[list[int]] = []  # [request id, tokens in KV, tokens to prefill in all]
        self.kv_partial = 0
        self.waiting: deque[int] = deque()
        self.stamps = 0
        self.stall = 0.0  # prefill-only steps since the decodes last ran (unmixed batches)
        self.preempted_last = False
        self.preemptions = 0
        self.assigned = 0
        self.finished = 0
        self.last_finishes: list[float] = []  # finish times of the latest step's completions
        self.itl: list[tuple[float, int, float]] = []  # (gap between tokens, how many tokens saw it, when)
        self.sample_every = sample_every_s
        self.samples: list[tuple[int, int, float]] = []  # (waiting, running, KV held) at k * sample_every
        self.next_sample = 0.0

    # --- bookkeeping -------------------------------------------------------------------------------------
    def used(self) -> float:
        """KV tokens held now (before the next step writes anything)."""
        n = self.decoding
        return (self.context_offset + n * self.decode_steps - n + self.kv_partial
                + self.waste * (n + len(self.partial)))

    def fits(self, request: int) -> bool:
        """Whether the request, whole, fits the pool at all (else the server refuses it)."""
        r = self.r
        return r.prompt[request] + r.output[request] + self.waste <= self.capacity

    def enqueue(self, request: int, at: float) -> None:
        if self.clock < at and not self.busy():
            self._sample_to(at)
            self.clock = at
        self.waiting.append(request)
        self.assigned += 1
        self.r.instance[request] = self.index

    def busy(self) -> bool:
        return bool(self.decoding or self.partial or self.waiting)

    def outstanding_at(self, time: float) -> int:
        """Requests assigned and not finished by ``time`` (completions of a step ending later still count)."""
        late = sum(1 for finish in self.last_finishes if finish > time)
        return self.assigned - self.finished + late

    def _sample_to(self, time: float) -> None:
        if time < self.next_sample or self.sample_every <= 0:
            return
        samples = self.samples
        while len(samples) * self.sample_every <= time:
            samples.append((len(self.waiting), self.decoding + len(self.partial), self.used()))
            if len(samples) >= 2 * MAX_SAMPLES:  # keep every other sample: the grid doubles
                del samples[1::2]
                self.sample_every *= 2
        self.next_sample = len(samples) * self.sample_every

    # --- the loop ----------------------------------------------------------------------------------------
    def advance(self, limit: float, stop_on_finish: bool = False) -> None:
        """Run the steps that start before ``limit`` (all of them for ``math.inf``); with
        ``stop_on_finish``, return after the first step that completes a request."""
        while self.clock < limit:
            self.last_finishes = []
            if self.decoding and self.used() + self.decoding > self.capacity:
                self._preempt()
                continue
            if (self.partial or (self.waiting and self.decoding + len(self.partial) < self.max_seqs)) \
                    and self._prefill_step():
                pass
            elif self.decoding:
                self._decode_segment(limit)
            elif self.partial:  # prompts holding the pool between them and none can grow: free the newest
                self._preempt()
                continue
            else:
                return
            if stop_on_finish and self.last_finishes:
                return

    def _preempt(self) -> None:
        """Free the newest admitted request's KV and queue it first, to be recomputed (vLLM V1)."""
        r = self.r
        newest_partial = max(self.partial, key=lambda entry: r.stamp[entry[0]]) if self.partial else None
        newest_decode = max(self.decoders, key=r.stamp.__getitem__) if self.decoders else None
        partial_stamp = r.stamp[newest_partial[0]] if newest_partial is not None else -1
        if newest_decode is not None and r.stamp[newest_decode] > partial_stamp:
            steps = self.decode_steps - r.join_step[newest_decode]
            r.gen[newest_decode] += steps
            self.decoders.discard(newest_decode)
            self.decoding -= 1
            self.context_offset -= r.join_context[newest_decode] - r.join_step[newest_decode]
            r.version[newest_decode] += 1
            r.last_token[newest_decode] = self.clock
            victim = newest_decode
        else:
            assert newest_partial is not None
            self.partial.remove(newest_partial)
            self.kv_partial -= newest_partial[1]
            victim = newest_partial[0]
        self.waiting.appendleft(victim)
        self.preemptions += 1
        self.preempted_last = True

    def _prefill_step(self) -> bool:
        """One step with prefill chunks (and the decodes, when batches mix); False when no chunk can run."""
        r = self.r
        n = self.decoding if self.mixed else 0
        budget = self.max_tokens - n
        free = self.capacity - self.used() - n
        chunks: list[tuple[list[int], int]] = []
        tokens = attended = 0
        for entry in self.partial:
            if budget <= 0 or free < 1:
                break
            chunk = min(entry[2] - entry[1], budget, int(free))
            if chunk >= 1:
                chunks.append((entry, chunk))
                offset = entry[1]
                tokens += chunk
                attended += chunk * offset + chunk * (chunk + 1) // 2
                budget -= chunk
                free -= chunk
        admitted: list[list[int]] = []
        slots = self.max_seqs - self.decoding - len(self.partial)
        while self.waiting and budget > 0 and slots > 0 and not (self.preempted_last and (self.decoding or chunks)):
            request = self.waiting[0]
            total = r.prompt[request] + r.gen[request]
            cached = min(r.cached[request], total - 1)
            remaining = total - cached
            if self.chunked:
                chunk = min(remaining, budget, int(free - cached - self.waste))
                if chunk < 1:
                    break
            else:
                chunk = remaining
                if (chunk > budget and chunks) or chunk + cached + self.waste > free:
                    break
            if self.reserve:
                promise = r.prompt[request] + r.output[request] + self.waste
                if self.reserved + promise > self.capacity:
                    break
                self.reserved += promise
            self.waiting.popleft()
            self.stamps += 1
            r.stamp[request] = self.stamps
            entry = [request, cached, total]
            admitted.append(entry)
            chunks.append((entry, chunk))
            tokens += chunk
            attended += chunk * cached + chunk * (chunk + 1) // 2
            budget -= chunk
            free -= chunk + cached + self.waste
            slots -= 1
            self.kv_partial += cached
        if not chunks:
            return False
        self.partial.extend(admitted)
        kv_read = self.context_offset + n * self.decode_steps if n else 0
        dt = self.step_time(n, kv_read, tokens, attended)
        self.clock += dt
        self.preempted_last = False
        if n:
            self.decode_steps += 1
            self.itl.append((dt + self.stall, n, self.clock))
            self.stall = 0.0
            self._complete_decodes()
        elif self.decoding:
            self.stall += dt
        done = False
        for entry, chunk in chunks:
            entry[1] += chunk
            self.kv_partial += chunk
            done = done or entry[1] == entry[2]
        if done:
            self._finish_prefills()
        self._sample_to(self.clock)
        return True

    def _finish_prefills(self) -> None:
        r, now = self.r, self.clock
        still: list[list[int]] = []
        for entry in self.partial:
            if entry[1] < entry[2]:
                still.append(entry)
                continue
            request = entry[0]
            self.kv_partial -= entry[1]
            if r.gen[request]:  # recomputed after a preemption: its next token came after this gap
                self.itl.append((now - r.last_token[request], 1, now))
            else:
                r.first[request] = now
                if now - r.arrival[request] > r.ttft_limit:
                    r.late_first_tokens += 1
                    if r.late_first_tokens > r.late_allowed:
                        raise TtftMissed
            r.gen[request] += 1
            if r.gen[request] >= r.output[request]:
                self._finish(request)
                continue
            context = r.prompt[request] + r.gen[request]
            r.join_step[request], r.join_context[request] = self.decode_steps, context
            self.decoding += 1
            self.decoders.add(request)
            self.context_offset += context - self.decode_steps
            heapq.heappush(self.heap, (self.decode_steps + r.output[request] - r.gen[request], request,
                                       r.version[request]))
        self.partial = still

    def _finish(self, request: int) -> None:
        if self.reserve:
            self.reserved -= self.r.prompt[request] + self.r.output[request] + self.waste
        self.r.finish[request] = self.clock
        self.finished += 1
        self.last_finishes.append(self.clock)

    def _complete_decodes(self) -> None:
        heap, r, now = self.heap, self.r, self.clock
        while heap and heap[0][0] <= self.decode_steps:
            _, request, version = heapq.heappop(heap)
            if version != r.version[request]:
                continue
            self.decoders.discard(request)
            self.decoding -= 1
            self.context_offset -= r.join_context[request] - r.join_step[request]
            r.gen[request] = r.output[request]
            r.last_token[request] = now
            self._finish(request)

    def _decode_segment(self, limit: float) -> None:
        """k decode steps with the batch unchanged: up to the next completion, a full pool or ``limit``."""
        n, heap, version = self.decoding, self.heap, self.r.version
        while heap[0][2] != version[heap[0][1]]:  # drop completions of preempted requests
            heapq.heappop(heap)
        kv = self.context_offset + n * self.decode_steps
        room = self.capacity - (kv - n + self.kv_partial + self.waste * (n + len(self.partial)))
        steps = min(heap[0][0] - self.decode_steps, int(room // n))  # to the next completion or a full pool
        f = self.step_time
        first = f(n, kv, 0, 0)
        slope = 0.0
        if steps > 1:
            last = f(n, kv + n * (steps - 1), 0, 0)
            if steps > 2:
                middle_step = (steps - 1) // 2
                middle = f(n, kv + n * middle_step, 0, 0)
                if abs(first + (last - first) * middle_step / (steps - 1) - middle) > LINEAR_TOLERANCE * middle:
                    steps, last = middle_step + 1, middle
            slope = (last - first) / (steps - 1) if steps > 1 else 0.0
        elapsed = steps * first + slope * steps * (steps - 1) / 2
        if elapsed > limit - self.clock:
            steps = min(steps, _steps_reaching(first, slope, limit - self.clock))
            elapsed = steps * first + slope * steps * (steps - 1) / 2
        self.itl.append((first + self.stall, n, self.clock + first))
        if steps > 1:
            self.itl.append(((elapsed - first) / (steps - 1), n * (steps - 1), self.clock + elapsed))
        self.stall = 0.0
        self.clock += elapsed
        self.decode_steps += steps
        self.preempted_last = False
        if heap[0][0] <= self.decode_steps:
            self._complete_decodes()
        self._sample_to(self.clock)


def _steps_reaching(first: float, slope: float, window: float) -> int:
    """The fewest steps k >= 1 whose total time k·first + slope·k(k-1)/2 reaches ``window``."""
    if slope <= 0:
        return max(1, math.ceil(window / first))
    half = slope / 2
    root = (-(first - half) + math.sqrt((first - half) ** 2 + 4 * half * window)) / (2 * half)
    steps = max(1, math.ceil(root - 1e-9))
    while steps * first + half * steps * (steps - 1) < window:
        steps += 1
    while steps > 1 and (steps - 1) * first + half * (steps - 1) * (steps - 2) >= window:
        steps -= 1
    return steps
