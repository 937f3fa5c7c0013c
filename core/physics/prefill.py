"""Prefill and time to first token (docs/design/physics.md, "Prefill and time to first token")."""

from __future__ import annotations

from ..specs.specs import ModelSpec


def mean_attended_tokens(prompt_tokens: float, window_tokens: int | None) -> float:
    """Average positions a causal prompt token attends to: prompt/2, or less under a sliding window."""
    if window_tokens is None or prompt_tokens <= window_tokens:
        return prompt_tokens / 2
    return window_tokens - window_tokens * window_tokens / (2 * prompt_tokens)


def attention_flops_per_token_prefill(model: ModelSpec, prompt_tokens: float) -> float:
    """Attention FLOPs per prompt token, whole model.

    GQA/MHA: 2 * layers * q_heads * head_dim * prompt (QK and AV at average position prompt/2);
    sliding layers attend to at most their window. MLA prefill uses the per-head dimensions:
    QK over qk_nope + qk_rope, AV over v_head_dim.
    """
    heads = model.attention_heads
    if model.attention == "mla":
        qk_dim = (model.qk_nope_head_dim or model.head_dim_or_default) + model.mla_dims[1]
        v_dim = model.v_head_dim or model.head_dim_or_default
        return 2 * heads * (qk_dim + v_dim) * model.layers * mean_attended_tokens(prompt_tokens, None)
    full = model.full_attention_layers * mean_attended_tokens(prompt_tokens, None)
    sliding = model.sliding_window_layers * mean_attended_tokens(prompt_tokens, model.sliding_window)
    return 4 * heads * model.head_dim_or_default * (full + sliding)


def prefill_tokens_per_s(gpus: int, weight_flops_per_token: float, weight_flops_per_s: float,
                         attention_flops_per_token: float, attention_flops_per_s: float, mfu: float) -> float:
    """Prompt tokens per second for a replica: gpus * peak * mfu / flops per token (physics.md).

    Weight and attention FLOPs may run on different tensor-core paths, so their times add.
    """
    seconds_per_token = weight_flops_per_token / weight_flops_per_s + attention_flops_per_token / attention_flops_per_s
    return gpus * mfu / seconds_per_token


def ttft_s(prompt_tokens: float, prefix_cache_hit: float, tokens_per_s: float, concurrent_prefills: int,
           step_time_s: float) -> float:
    """Time to first token: uncached prompt / (prefill rate / concurrent prefills) + one decode step."""
    uncached = prompt_tokens * (1 - prefix_cache_hit)
    return uncached / (tokens_per_s / concurrent_prefills) + step_time_s
