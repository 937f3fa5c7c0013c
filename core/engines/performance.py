"""The fitted step-time model: how long one engine step takes, from the roofline terms and coefficients
fitted on measured load tests (docs/accuracy.md, "The fitted performance model").

One step of one engine instance (one attention data-parallel rank and its tensor/pipeline GPUs) decodes
one token for each running sequence and may prefill prompt chunks. Its time is

    memory  = weights × dense + expert_weights × experts × touched + kv × KV read   (bytes / bandwidth)
    compute = max(gemm_decode × decode tokens, gemm_prefill × all tokens) × dense GEMM FLOPs per token
              + expert_gemm × expert GEMM FLOPs
              + attention × attention FLOPs                                          (FLOPs / FLOP/s)
    step    = max(memory, compute) / efficiency
              + comm × bytes over the interconnect + collective × collectives
              + step + per_layer × layers + per_moe_layer × MoE layers + per_sequence × decodes
              (+ prefill_step when the step prefills)

The bracketed roofline terms are the peak-spec physics (docs/design/physics.md, "Decode", "Prefill and
time to first token", "Parallelism"); the multipliers (how far the engine runs below each term) and the
engine's own times are fitted per engine family and GPU generation by scripts/fit_performance.py (see
physics.md, "The fitted performance model") and shipped in
``data/performance.toml``. The peak-spec ideal is the same terms with every multiplier 1 and no engine
time: a step is never faster than that.

The structure follows BLIS's trained-physics model (inference-sim/inference-sim
``sim/latency/trained_physics_model.go``: roofline basis functions with learned scales plus per-step,
per-layer, per-request and per-MoE-layer overheads), with memory and compute combined as a roofline
(max) so the plan's critical batch keeps its meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..physics.decode import StepModel, moe_fraction_touched


@dataclass(frozen=True, slots=True)
class Coefficients:
    """Fitted coefficients for one engine family on one GPU generation (``data/performance.toml``).
    Multipliers are dimensionless (>= 1 for the bandwidth and FLOPs terms), times in seconds."""

    weights: float  # dense weight reads run this many times slower than peak bandwidth
    expert_weights: float  # routed-expert weight reads (MoE kernels)
    kv: float  # KV-cache reads (attention kernels)
    gemm_decode: float  # dense GEMMs of a step that only decodes
    gemm_prefill: float  # dense GEMMs of a step that prefills, over all its tokens (one flattened batch)
    expert_gemm: float  # routed-expert (grouped) GEMMs
    attention: float  # attention FLOPs
    int4_weights: float  # extra on the weight reads of weight-only int4 (dequantisation)
    comm_decode: float  # the decode tokens' bytes over the interconnect (all-reduce, all-to-all)
    comm_prefill: float  # the prefill tokens' bytes
    collective_s: float  # latency of one collective
    step_s: float  # the engine's own time per step
    per_layer_s: float  # per layer per step (kernel launches)
    per_moe_layer_s: float  # per MoE layer per step (routing, permutation)
    per_sequence_s: float  # per running sequence per step (scheduling, sampling)
    prefill_step_s: float  # extra time of a step that prefills
    request_s: float  # per request outside the engine (API, tokenisation): added to TTFT
    arrival_wait: float  # steps a new request waits before its first prefill step (and its first token is out)
    cohort: float  # share of the requests finishing together whose prompts share one prefill step
    test_cycles: float  # requests per concurrency slot in the fitted load tests (the first burst's weight)

    def scaled(self, scale: float, added_step_s: float = 0.0, added_per_sequence_s: float = 0.0) -> Coefficients:
        """Every step-time term times ``scale`` (a calibration's rescaling), plus engine time per step and
        per running sequence; the request overhead and the scheduling shares stay as fitted."""
        return replace(
            self, weights=self.weights * scale, expert_weights=self.expert_weights * scale, kv=self.kv * scale,
            gemm_decode=self.gemm_decode * scale, gemm_prefill=self.gemm_prefill * scale,
            expert_gemm=self.expert_gemm * scale, attention=self.attention * scale,
            comm_decode=self.comm_decode * scale, comm_prefill=self.comm_prefill * scale,
            collective_s=self.collective_s * scale, step_s=self.step_s * scale + added_step_s,
            per_layer_s=self.per_layer_s * scale, per_moe_layer_s=self.per_moe_layer_s * scale,
            per_sequence_s=self.per_sequence_s * scale + added_per_sequence_s,
            prefill_step_s=self.prefill_step_s * scale)

    @classmethod
    def neutral(cls) -> Coefficients:
        """Peak spec: every multiplier 1, no engine time (the ideal)."""
        return cls(weights=1.0, expert_weights=1.0, kv=1.0, gemm_decode=1.0, gemm_prefill=1.0, expert_gemm=1.0,
                   attention=1.0, int4_weights=1.0,
                   comm_decode=1.0, comm_prefill=1.0, collective_s=0.0, step_s=0.0, per_layer_s=0.0,
                   per_moe_layer_s=0.0, per_sequence_s=0.0, prefill_step_s=0.0, request_s=0.0, arrival_wait=0.0,
                   cohort=0.0, test_cycles=1e9)


NEUTRAL = Coefficients.neutral()


@dataclass(frozen=True, slots=True)
class InstanceTerms:
    """The peak-spec roofline terms of one engine instance, in seconds (busiest GPU; pipeline stages run
    in turn, so their times add)."""

    dense_read_s: float  # weights every step reads: attention, dense MLPs, shared experts, the output head
    expert_read_s: float  # every routed expert this GPU holds (the share a step touches is read)
    experts: int
    experts_per_token: int
    data_ranks: int  # attention data-parallel ranks whose tokens meet in the MoE layers
    kv_full_s_per_token: float  # KV bytes per context token of the full-attention layers / bandwidth
    kv_sliding_s_per_token: float  # the same for sliding-window layers
    state_s_per_sequence: float  # a hybrid's recurrent state per decoding sequence, read and rewritten
    window: int  # sliding window in tokens (0: none)
    gemm_s_per_token: float  # 2 × active dense parameters / FLOP/s, per token (input embedding excluded)
    expert_gemm_s_per_token: float  # 2 × active routed-expert parameters / FLOP/s, per token
    attention_decode_full_s: float  # per decode token per context position, full layers
    attention_decode_sliding_s: float  # sliding layers
    attention_prefill_full_s: float  # per (prompt token, attended position) pair, full layers
    attention_prefill_sliding_s: float
    comm_s_per_token: float  # interconnect bytes per token / link bandwidth
    collectives: int  # collectives per step
    layers: int
    moe_layers: int
    int4: bool  # weight-only int4 weights

    def kv_tokens(self, decode_sequences: float, kv_tokens_read: float) -> tuple[float, float]:
        """(full-attention, sliding-window) context tokens the decodes read."""
        if not self.window:
            return kv_tokens_read, 0.0
        return kv_tokens_read, min(kv_tokens_read, decode_sequences * self.window)

    def memory_s(self, weights: float, expert_weights: float, kv: float, tokens: float, decode_sequences: float,
                 kv_tokens_read: float) -> float:
        """Weight and KV reads at the given multipliers."""
        touched = moe_fraction_touched(tokens * self.data_ranks, self.experts, self.experts_per_token)
        full, sliding = self.kv_tokens(decode_sequences, kv_tokens_read)
        return (weights * self.dense_read_s + expert_weights * self.expert_read_s * touched
                + kv * (self.kv_full_s_per_token * full + self.kv_sliding_s_per_token * sliding
                        + self.state_s_per_sequence * decode_sequences))

    def attention_s(self, decode_sequences: float, kv_tokens_read: float, prefill_tokens: float,
                    prefill_attended_tokens: float) -> float:
        """Attention FLOPs time of the decodes and the prefill chunks at peak."""
        full, sliding = self.kv_tokens(decode_sequences, kv_tokens_read)
        pairs_sliding = min(prefill_attended_tokens, prefill_tokens * self.window) if self.window else 0.0
        return (self.attention_decode_full_s * full + self.attention_decode_sliding_s * sliding
                + self.attention_prefill_full_s * prefill_attended_tokens
                + self.attention_prefill_sliding_s * pairs_sliding)


@dataclass(slots=True)  # built on every plan: unfrozen, as frozen construction costs ~1.5k instructions a field
class StepTimeModel:
    """Seconds per engine step for one instance: the fitted coefficients over the roofline terms.

    ``bandwidth_efficiency`` and ``compute_efficiency`` are the profile's ``mbu`` and ``mfu``: a further
    loss the user assumes on top of the fitted engine (1: none).
    """

    terms: InstanceTerms
    coefficients: Coefficients
    bandwidth_efficiency: float = 1.0
    compute_efficiency: float = 1.0

    def step_time_s(self, decode_sequences: float, kv_tokens_read: float, prefill_tokens: float = 0.0,
                    prefill_attended_tokens: float = 0.0) -> float:
        """One step (see the module docstring and /work-notes' interface: arguments in sequences, tokens
        and token pairs)."""
        terms, c = self.terms, self.coefficients
        prefills = prefill_tokens > 0
        tokens = decode_sequences + prefill_tokens
        int4 = c.int4_weights if terms.int4 else 1.0
        memory = terms.memory_s(c.weights * int4, c.expert_weights * int4, c.kv, tokens, decode_sequences,
                                kv_tokens_read)
        compute = (max(c.gemm_decode * decode_sequences, c.gemm_prefill * tokens) * terms.gemm_s_per_token
                   + c.expert_gemm * terms.expert_gemm_s_per_token * tokens
                   + c.attention * terms.attention_s(decode_sequences, kv_tokens_read, prefill_tokens,
                                                     prefill_attended_tokens))
        comm = ((c.comm_decode * decode_sequences + c.comm_prefill * prefill_tokens) * terms.comm_s_per_token
                + c.collective_s * terms.collectives)
        engine = (c.step_s + c.per_layer_s * terms.layers + c.per_moe_layer_s * terms.moe_layers
                  + c.per_sequence_s * decode_sequences + (c.prefill_step_s if prefills else 0.0))
        return max(memory / self.bandwidth_efficiency, compute / self.compute_efficiency) + comm + engine

    def ideal_step_time_s(self, decode_sequences: float, kv_tokens_read: float, prefill_tokens: float = 0.0,
                          prefill_attended_tokens: float = 0.0) -> float:
        """The peak-spec lower bound: datasheet bandwidth and FLOP/s, no engine time."""
        terms = self.terms
        tokens = decode_sequences + prefill_tokens
        memory = terms.memory_s(1.0, 1.0, 1.0, tokens, decode_sequences, kv_tokens_read)
        compute = (terms.gemm_s_per_token + terms.expert_gemm_s_per_token) * tokens + terms.attention_s(
            decode_sequences, kv_tokens_read, prefill_tokens, prefill_attended_tokens)
        return max(memory, compute) + terms.comm_s_per_token * tokens

    def decode_step_model(self, context_tokens: float, ideal: bool = False) -> StepModel:
        """The decode step at a fixed context per sequence, as the plan's batch-coefficient ``StepModel``
        (same numbers as ``step_time_s(B, B × context)``): the critical batch and the speed-target search
        work on it."""
        terms = self.terms
        c = NEUTRAL if ideal else self.coefficients
        mbu = 1.0 if ideal else self.bandwidth_efficiency
        mfu = 1.0 if ideal else self.compute_efficiency
        int4 = (c.int4_weights if terms.int4 else 1.0) / mbu
        sliding_context = min(context_tokens, terms.window) if terms.window else 0.0
        kv = c.kv / mbu * (terms.kv_full_s_per_token * context_tokens + terms.kv_sliding_s_per_token * sliding_context
                           + terms.state_s_per_sequence)
        weight_compute = (c.gemm_decode * terms.gemm_s_per_token + c.expert_gemm * terms.expert_gemm_s_per_token) / mfu
        attention = c.attention / mfu * (terms.attention_decode_full_s * context_tokens
                                         + terms.attention_decode_sliding_s * sliding_context)
        return StepModel(
            dense_read_s=c.weights * int4 * terms.dense_read_s,
            expert_read_s=c.expert_weights * int4 * terms.expert_read_s,
            experts=terms.experts, experts_per_token=terms.experts_per_token, tokens_per_pool_sequence=terms.data_ranks,
            kv_read_s_per_sequence=kv, compute_s_per_sequence=weight_compute + attention,
            weight_compute_s_per_sequence=weight_compute,
            collective_s_per_sequence=c.comm_decode * terms.comm_s_per_token,
            collective_fixed_s=c.collective_s * terms.collectives,
            overhead_s=c.step_s + c.per_layer_s * terms.layers + c.per_moe_layer_s * terms.moe_layers,
            overhead_s_per_sequence=c.per_sequence_s)
