"""The requests of one run, as parallel lists indexed by request id (cheaper than objects per request)."""

from __future__ import annotations

import math


class Requests:
    """Per-request inputs (lengths, arrival) and what the run fills in (first token, finish).

    Times are the engine's: ``arrival`` is when the request reaches the engine's queue; the client
    sent it ``request_overhead_s`` earlier (run.py adds that to TTFT and end-to-end latency).
    """

    __slots__ = ("prompt", "output", "cached", "arrival", "first", "finish", "gen", "stamp", "join_step",
                 "join_context", "version", "last_token", "rejected", "instance",
                 "ttft_limit", "late_allowed", "late_first_tokens")

    def __init__(self, prompts: list[int], outputs: list[int], cached: list[int]) -> None:
        count = len(prompts)
        self.prompt, self.output, self.cached = prompts, outputs, cached
        self.arrival = [0.0] * count
        self.first = [-1.0] * count  # time of the first token; -1 until then
        self.finish = [-1.0] * count
        self.gen = [0] * count  # tokens generated so far
        self.stamp = [0] * count  # admission order on its instance (the newest is preempted first)
        self.join_step = [0] * count  # the instance's decode-step count when it last joined the decodes
        self.join_context = [0] * count  # its context then (KV read in its next step)
        self.version = [0] * count  # bumped on preemption: stale completion-heap entries are skipped
        self.last_token = [0.0] * count  # time of its latest token (for the gap a preemption causes)
        self.rejected = [False] * count  # longer than the instance's KV pool can ever hold
        self.instance = [-1] * count
        # A run that only asks whether an SLO is met stops once more than ``late_allowed`` first tokens come
        # later than ``ttft_limit`` after arrival (engine.TtftMissed): the TTFT percentile is then missed.
        self.ttft_limit = math.inf
        self.late_allowed = count
        self.late_first_tokens = 0

    def __len__(self) -> int:
        return len(self.prompt)
