"""The step-time model and the closed loop, vectorised over rows for the fit (numpy).

The same arithmetic as core/engines/performance.py (``StepTimeModel.step_time_s``) and
core/tools/loadtest.py (``closed_loop``); scripts/fit_performance.py checks that the runtime reproduces
these predictions on every row. Parameters live in an unconstrained vector: shared values, per-engine
deviations and Blackwell deviations (penalised towards 0), and a few global ones; ``transform`` maps
them to the ``Coefficients`` fields (multipliers >= 1 on the bandwidth and FLOPs terms, 0.3 on the
interconnect, whose collectives can run faster than a ring, positive times, fractions in (0, 1)).
"""

from __future__ import annotations

import numpy as np

ENGINES = ("vllm", "sglang", "trtllm")
GENERATIONS = ("hopper", "blackwell")
# name -> (Coefficients field, transform, start value of the unconstrained parameter)
NAMES = {
    "w": ("weights", "above1", np.log(0.2)), "we": ("expert_weights", "above1", np.log(0.3)),
    "kv": ("kv", "above1", np.log(0.5)),
    "g": ("gemm_decode", "above1", np.log(0.6)), "gp": ("gemm_prefill", "above1", np.log(0.6)),
    "ge": ("expert_gemm", "above1", np.log(1.0)),
    "a": ("attention", "above1", np.log(1.0)),
    "comm": ("comm_decode", "above03", np.log(0.7)), "comm_pf": ("comm_prefill", "above03", np.log(0.7)),
    "t_coll": ("collective_s", "exp", np.log(5e-6)), "t_step": ("step_s", "exp", np.log(1e-3)),
    "t_layer": ("per_layer_s", "exp", np.log(20e-6)), "t_moe": ("per_moe_layer_s", "exp", np.log(20e-6)),
    "t_seq": ("per_sequence_s", "exp", np.log(10e-6)), "t_pf": ("prefill_step_s", "exp", np.log(2e-3)),
    "t_req": ("request_s", "exp", np.log(20e-3)), "w0": ("arrival_wait", "exp", np.log(0.5)),
}
GLOBALS = {"int4": ("int4_weights", "above1", np.log(0.5)), "K": ("test_cycles", "above1", np.log(9.0))}
# Held, not fitted: the requests that finish together are replaced together and share a prefill step
# (equal lengths keep a closed loop's cohorts together; docs/design/physics.md, "The fitted performance model")
FIXED = {"cohort": 1.0}
BW_DEVIATIONS = ("w", "we", "g", "gp", "ge", "kv", "a", "t_coll", "t_step", "t_seq", "t_layer", "t_moe", "t_pf")
# Parameters with no per-engine deviation (one value for every engine), and ones held at their start value.
# w0, the steps a new request waits before its first prefill step, is fitted: in a closed loop the
# replacement arrives as the next step starts (~1 step), and engines that schedule one step ahead
# (TensorRT-LLM's overlap scheduler, NVIDIA/TensorRT-LLM/docs/source/features/overlap-scheduler.md: "one
# extra decoding step"; SGLang's overlap scheduler and vLLM's async scheduling alike) add one step before
# the prompt is scheduled and one before its first token is returned: ~3 steps (the fit finds 2.9).
SHARED_ONLY = ("w0", "t_pf", "comm_pf", "t_coll", "a")
HELD: tuple[str, ...] = ()
NP, NB = len(NAMES), len(BW_DEVIATIONS)


def transform(kind: str, value):
    if kind == "above1":
        return 1 + np.exp(value)
    if kind == "above03":
        return 0.3 + np.exp(value)
    if kind == "sigmoid":
        return 1 / (1 + np.exp(-value))
    return np.exp(value)


def free_mask() -> np.ndarray:
    """Which parameters the fit moves: not the deviations of SHARED_ONLY names, nor HELD names at all."""
    free = np.ones(len(start()), bool)
    names = list(NAMES)
    for name in SHARED_ONLY + HELD:
        if name in NAMES:
            index = names.index(name)
            free[NP + index::NP][:3] = False  # its three engine deviations
    for name in HELD:
        if name in NAMES:
            free[names.index(name)] = False
            if name in BW_DEVIATIONS:
                free[4 * NP + BW_DEVIATIONS.index(name)] = False
    return free


def start() -> np.ndarray:
    return np.concatenate([[spec[2] for spec in NAMES.values()], np.zeros(3 * NP), np.zeros(NB),
                           [spec[2] for spec in GLOBALS.values()]])


def split(theta: np.ndarray):
    shared = theta[:NP]
    engine = theta[NP:4 * NP].reshape(3, NP)
    blackwell = theta[4 * NP:4 * NP + NB]
    return shared, engine, blackwell, theta[4 * NP + NB:]


# The prefill and request-time deviations carry a lighter penalty than the decode ones: what an engine
# does around a prompt (its scheduler, its request path) differs more between engines than its kernels.
PREFILL_NAMES = ("gp", "ge", "comm_pf", "t_pf", "t_req")
PREFILL_PENALTY_SHARE = 0.03


def penalty(theta: np.ndarray, weight: float) -> np.ndarray:
    _, engine, blackwell, _ = split(theta)
    names = list(NAMES)
    engine_weight = np.array([PREFILL_PENALTY_SHARE if name in PREFILL_NAMES else 1.0 for name in names])
    blackwell_weight = np.array([PREFILL_PENALTY_SHARE if name in PREFILL_NAMES else 1.0 for name in BW_DEVIATIONS])
    return np.sqrt(weight) * np.concatenate([(engine * np.sqrt(engine_weight)).ravel(),
                                             blackwell * np.sqrt(blackwell_weight)])


def raw(theta: np.ndarray, engine_index, blackwell) -> dict[str, np.ndarray]:
    """Unconstrained parameter per name, for rows (engine index arrays) or one table (scalars)."""
    shared, engine, deviation, globals_ = split(theta)
    values = {}
    for index, name in enumerate(NAMES):
        value = shared[index] + engine[np.asarray(engine_index, dtype=int), index]
        if name in BW_DEVIATIONS:
            value = value + np.where(blackwell, deviation[BW_DEVIATIONS.index(name)], 0.0)
        values[name] = value
    for index, name in enumerate(GLOBALS):
        values[name] = globals_[index]
    return values


def coefficients(theta: np.ndarray, f: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Coefficients fields per row."""
    values = raw(theta, f["engine"], f["blackwell"] > 0)
    specs = {**NAMES, **GLOBALS}
    return {**{specs[name][0]: transform(specs[name][1], value) for name, value in values.items()}, **FIXED}


def coefficient_table(theta: np.ndarray) -> dict[str, dict[str, dict[str, float]]]:
    """Resolved coefficients per engine family and GPU generation; ``generic`` is the shared set."""
    specs = {**NAMES, **GLOBALS}
    table = {}
    for family in (*ENGINES, "generic"):
        table[family] = {}
        for generation in GENERATIONS:
            index = ENGINES.index(family) if family in ENGINES else 0
            values = raw(theta, index, generation == "blackwell")
            if family == "generic":  # no engine deviation
                shared, _, deviation, globals_ = split(theta)
                values = {name: shared[i] + (deviation[BW_DEVIATIONS.index(name)]
                                             if generation == "blackwell" and name in BW_DEVIATIONS else 0.0)
                          for i, name in enumerate(NAMES)}
                values.update({name: globals_[i] for i, name in enumerate(GLOBALS)})
            table[family][generation] = {**{specs[name][0]: float(transform(specs[name][1], value))
                                            for name, value in values.items()}, **FIXED}
    return table


def touched(tokens, experts, per_token):
    safe = np.where(experts > 0, experts, 1.0)
    return np.where(experts > 0, 1 - np.power(np.clip(1 - per_token / safe, 0, 1), tokens), 0.0)


def step_parts(f, c, decodes, kv, prefill, pairs):
    """(memory, compute, interconnect, engine time) of ``StepTimeModel.step_time_s`` for every row: the step is
    max(memory, compute) + interconnect + engine time (scripts/fit_variants.py recombines them)."""
    tokens = decodes + prefill
    sliding = np.where(f["window"] > 0, np.minimum(kv, decodes * f["window"]), 0.0)
    pairs_sliding = np.where(f["window"] > 0, np.minimum(pairs, prefill * f["window"]), 0.0)
    share = touched(tokens * f["data_ranks"], f["experts"], f["experts_per_token"])
    kv_s = f["kv_full_s_per_token"] * kv + f["kv_sliding_s_per_token"] * sliding + f["state_s_per_sequence"] * decodes
    attention_s = (f["attention_decode_full_s"] * kv + f["attention_decode_sliding_s"] * sliding
                   + f["attention_prefill_full_s"] * pairs + f["attention_prefill_sliding_s"] * pairs_sliding)
    if c is None:  # peak spec: every multiplier 1, no engine time
        return (f["dense_read_s"] + f["expert_read_s"] * share + kv_s,
                (f["gemm_s_per_token"] + f["expert_gemm_s_per_token"]) * tokens + attention_s,
                f["comm_s_per_token"] * tokens, 0.0)
    int4 = np.where(f["int4"] > 0, c["int4_weights"], 1.0)
    memory = (c["weights"] * int4 * f["dense_read_s"] + c["expert_weights"] * int4 * f["expert_read_s"] * share
              + c["kv"] * kv_s)
    compute = (np.maximum(c["gemm_decode"] * decodes, c["gemm_prefill"] * tokens) * f["gemm_s_per_token"]
               + c["expert_gemm"] * f["expert_gemm_s_per_token"] * tokens + c["attention"] * attention_s)
    comm = ((c["comm_decode"] * decodes + c["comm_prefill"] * prefill) * f["comm_s_per_token"]
            + c["collective_s"] * f["collectives"])
    engine = (c["step_s"] + c["per_layer_s"] * f["layers"] + c["per_moe_layer_s"] * f["moe_layers"]
              + c["per_sequence_s"] * decodes + np.where(prefill > 0, c["prefill_step_s"], 0.0))
    return memory, compute, comm, engine


def step_time(f, c, decodes, kv, prefill, pairs, ideal=False):
    """``StepTimeModel.step_time_s`` (``ideal_step_time_s`` with ideal=True) for every row."""
    memory, compute, comm, engine = step_parts(f, None if ideal else c, decodes, kv, prefill, pairs)
    return np.maximum(memory, compute) + comm + engine


def running(f) -> np.ndarray:
    """``core.tools.loadtest.running_sequences``: a whole-length reservation where the engine's admission makes one."""
    per_sequence = f["input"] + np.where(f["reserve"] > 0, f["output"], f["output"] / 2)
    held = np.floor(f["kv_capacity"] / np.maximum(1.0, per_sequence))
    return np.maximum(1.0, np.minimum(np.minimum(f["concurrency"], f["max_num_seqs"]), held))


def closed_loop(f, theta):
    """``core.tools.loadtest.closed_loop`` for every row: (TTFT, TPOT) in seconds."""
    c = coefficients(theta, f)
    prompt, out = np.maximum(1.0, f["input"]), f["output"]
    run = running(f)
    decodes, context = run, run * (f["input"] + out / 2)
    mixed, chunked = f["mixed"] > 0, f["chunked"] > 0
    budget = np.maximum(1.0, f["max_num_batched_tokens"] - np.where(mixed, decodes, 0.0))
    per_step = np.where(chunked, budget, np.maximum(prompt, np.floor(budget / prompt) * prompt))
    cohort = np.maximum(1.0, c["cohort"] * np.minimum(run, per_step / prompt))
    shared = np.minimum(per_step, cohort * prompt)
    burst = np.minimum(per_step, run * prompt)
    own_steps, prefill_steps = np.maximum(1.0, prompt / shared), run * prompt / shared
    md, mk = np.where(mixed, decodes, 0.0), np.where(mixed, context, 0.0)
    zero = np.zeros_like(run)
    decode_s = step_time(f, c, decodes, context, zero, zero)
    prefill_s = step_time(f, c, md, mk, shared, shared * prompt / 2)
    burst_s = step_time(f, c, md, mk, burst, burst * prompt / 2)
    life = out - 1 + own_steps + c["arrival_wait"]
    steps = np.maximum(life, prefill_steps)
    burst_steps, own_burst_steps = run * prompt / burst, np.maximum(1.0, prompt / burst)
    first = np.maximum(own_burst_steps, (burst_steps + 1) / 2) * burst_s
    tpot_mixed = prefill_steps / steps * prefill_s + (1 - prefill_steps / steps) * decode_s
    stall = np.maximum(burst_steps - own_burst_steps, 0.0) / 2 * burst_s  # prefill first: the burst re-forms
    tpot = np.where(mixed, tpot_mixed, decode_s + stall / np.maximum(out - 1, 1.0))
    steady = c["arrival_wait"] * tpot + own_steps * prefill_s + (steps - life) * tpot
    ttft_mixed = first / c["test_cycles"] + steady * (1 - 1 / c["test_cycles"])
    ttft = np.where(mixed, ttft_mixed, first) + c["request_s"]
    waiting = np.maximum(f["concurrency"] - run, 0.0)
    ttft = ttft + waiting / run * (ttft + (out - 1) * tpot)
    return ttft, tpot


def ideal(f):
    """``ideal_closed_loop``: (TTFT, TPOT) at peak spec with nobody waiting."""
    prompt = np.maximum(1.0, f["input"])
    run = running(f)
    zero = np.zeros_like(run)
    ttft = step_time(f, None, zero, zero, prompt, prompt * prompt / 2, ideal=True)
    tpot = step_time(f, None, run, run * (f["input"] + f["output"] / 2), zero, zero, ideal=True)
    return ttft, tpot
