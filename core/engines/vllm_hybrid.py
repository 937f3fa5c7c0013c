"""vLLM's hybrid KV-cache pool: full-attention, windowed and recurrent-state layers in one pool of pages.

Read in vllm-project/vllm (commits as stored in the public code index):
- ``vllm/v1/kv_cache_interface.py`` @001cabc1: a page holds ``block_size`` tokens of one layer
  (``AttentionSpec.page_size_bytes``); a Mamba/linear-attention layer's page is its whole state
  (``MambaSpec.page_size_bytes``), and a request holds 1 such page ("none" cache mode) or 2 ("align", the
  mode prefix caching selects for hybrids) (``MambaSpec.max_memory_usage_bytes``); a sliding window holds
  cdiv(min(window - 1 + batched, L), block) + 1 pages, a chunk cdiv(min(chunk + batched, L), block).
- ``vllm/platforms/interface.py::_align_hybrid_block_size`` (formerly models/config.py
  ``HybridAttentionMambaModelConfig``): with state layers the attention block grows to
  align * cdiv(state page, align * attention bytes per token), align = max(16, block), and the state page is
  padded to that attention page. Qwen3.5-27B: 784 tokens; Qwen3.5-4B: 528 (vLLM issue #40696).
- ``vllm/v1/core/kv_cache_utils.py`` @001cabc1: ``unify_kv_cache_spec_page_size`` (layers with smaller pages
  get proportionally larger blocks), ``_get_kv_cache_groups_uniform_page_size`` (group size = the smallest
  layer count of a kind, or the largest when under 1.5x the smallest; each kind in cdiv(n, size) groups),
  ``get_num_blocks`` (available // page // group size) and ``get_max_concurrency_for_kv_cache_config``
  (blocks / the blocks one request holds over all groups).
"""

from __future__ import annotations

from math import ceil

from ..physics.memory import full_kv_bytes_per_token_per_layer, kv_bytes_per_token_per_layer_by_kind
from ..records import record
from ..specs.specs import ModelSpec
from .vllm import HYBRID_ALLOCATOR_FROM, version_tuple

# Prefix caching became default-on for hybrid models in vLLM PR #50991 (merged 2026-08-04), which makes
# the state groups hold 2 pages per request ("align"); 0.27 is the first release after it (inferred from
# the main branch still reporting 0.26.1rc1.devN on 2026-08-24, vLLM issue #53595).
HYBRID_PREFIX_CACHING_FROM = (0, 27)
KERNEL_BLOCK_ALIGN = 16  # FlashAttention / FlashInfer kernel block sizes are multiples of 16


@record  # built on every plan: quick to build, still frozen (core/records.py)
class StageLayers:
    """One pipeline stage's layers by what they keep: full KV, windowed KV, recurrent state, nothing."""

    full: int
    local: int
    state: int
    other: int = 0

    @property
    def total(self) -> int:
        return self.full + self.local + self.state + self.other


@record  # built on every plan (see StageLayers)
class PoolLayout:
    """The pool of one stage: pages of ``page_bytes``; ``group_layers`` layers share each block; each kind
    of layer sits in its number of groups and addresses ``*_block`` tokens per page."""

    page_bytes: float
    group_layers: int
    full_groups: int
    local_groups: int
    state_groups: int
    full_block: int
    local_block: int

    @property
    def groups(self) -> int:
        return self.full_groups + self.local_groups + self.state_groups

    @property
    def block_tokens(self) -> int:
        """The smallest attention block, which vLLM prints its token count in."""
        if self.local_groups:
            return min(self.full_block, self.local_block) if self.full_groups else self.local_block
        return self.full_block


def state_page_bytes(model: ModelSpec, tensor: int) -> float:
    """One recurrent layer's page on one GPU: its state split over the TP ranks."""
    return model.state_bytes_per_layer / tensor


def attention_block_with_state(model: ModelSpec, tensor: int, block_tokens: int,
                               full_per_token: float | None = None) -> int:
    """The attention block once state layers share the pool (``_align_hybrid_block_size``);
    ``full_per_token`` is ``full_kv_bytes_per_token_per_layer`` where the caller has it."""
    if not model.state_layers:
        return block_tokens
    per_token = full_kv_bytes_per_token_per_layer(model, tensor) if full_per_token is None else full_per_token
    align = max(KERNEL_BLOCK_ALIGN, block_tokens)
    return max(block_tokens, align * ceil(state_page_bytes(model, tensor) / (align * per_token)))


def group_counts(counts: list[int]) -> tuple[int, list[int]]:
    """(layers per group, groups per kind) for the kinds present (``_get_kv_cache_groups_uniform_page_size``)."""
    present = [n for n in counts if n]
    low, high = min(present), max(present)
    size = high if high < 1.5 * low else low
    return size, [ceil(n / size) if n else 0 for n in counts]


def pool_layout(model: ModelSpec, layers: StageLayers, tensor: int, block_tokens: int, version: str,
                kv_per_layer: tuple[float, float] | None = None) -> PoolLayout:
    """Pages, groups and blocks of one stage's pool (see the module docstring). ``kv_per_layer`` is
    ``kv_bytes_per_token_per_layer_by_kind(model, tensor)`` where the caller has it."""
    full_per_token, local_per_token = kv_per_layer or kv_bytes_per_token_per_layer_by_kind(model, tensor)
    block = attention_block_with_state(model, tensor, block_tokens, full_per_token)
    full_page = block * full_per_token
    local_page = block * local_per_token
    kv = layers.full + layers.local
    if not layers.state and (not layers.full or not layers.local):  # one kind of attention: one group
        local_only = not layers.full
        return PoolLayout(page_bytes=local_page if local_only else full_page, group_layers=max(1, kv),
                          full_groups=0 if local_only else 1, local_groups=1 if local_only else 0,
                          state_groups=0, full_block=block, local_block=block)
    if not layers.state and version_tuple(version) < HYBRID_ALLOCATOR_FROM:
        # before the hybrid allocator windows are kept whole: one group over every KV layer (page: their mean)
        mean = (layers.full * full_page + layers.local * local_page) / kv
        return PoolLayout(page_bytes=mean, group_layers=kv, full_groups=1, local_groups=0, state_groups=0,
                          full_block=block, local_block=block)
    if not kv:  # a pure state model (Mamba): one state page per layer
        return PoolLayout(page_bytes=state_page_bytes(model, tensor), group_layers=layers.state, full_groups=0,
                          local_groups=0, state_groups=1, full_block=block, local_block=block)
    pages = [page for page, count in ((full_page, layers.full), (local_page, layers.local)) if count]
    page = max(pages)
    size, (full_groups, local_groups, state_groups) = group_counts([layers.full, layers.local, layers.state])
    return PoolLayout(page_bytes=page, group_layers=size, full_groups=full_groups, local_groups=local_groups,
                      state_groups=state_groups, full_block=max(1, round(block * page / full_page)),
                      local_block=max(1, round(block * page / local_page)))  # a block holds at least one token


def state_pages_per_request(version: str) -> int:
    """Pages one request holds in each state group: 2 with prefix caching ("align"), else 1."""
    return 2 if version_tuple(version) >= HYBRID_PREFIX_CACHING_FROM else 1


def blocks_per_request(model: ModelSpec, layout: PoolLayout, max_model_len: int, batched_tokens: int,
                       version: str) -> int:
    """Blocks one request may hold at max_model_len over every group (``max_memory_usage_bytes``)."""
    full = layout.full_groups * ceil(max_model_len / layout.full_block)
    window = model.sliding_window
    if not layout.local_groups or window is None:
        local = layout.local_groups * ceil(max_model_len / layout.local_block)
    elif model.local_attention == "chunked":
        local = layout.local_groups * ceil(min(window + batched_tokens, max_model_len) / layout.local_block)
    else:
        held = min(window - 1 + batched_tokens, max_model_len)
        local = layout.local_groups * (ceil(held / layout.local_block) + 1)
    return full + local + layout.state_groups * state_pages_per_request(version)
