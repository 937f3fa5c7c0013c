"""The ``vllm serve`` flags of an export that vLLM would refuse, or that leave it unable to start.

``vllm_flag_warnings(profile, plan)`` checks the values ``vllm_command`` (core/report/markdown.py)
writes against vLLM's own start-up checks, read from its source:

- ``--gpu-memory-utilization``: ``vllm/v1/worker/utils.py`` (``request_memory``) asks for
  ``ceil(total * gpu_memory_utilization)`` bytes and raises "Free memory on device ... on startup is
  less than desired GPU memory utilization" when the free memory is smaller. The total is what CUDA
  reports (the catalog's memory less what the driver keeps, ``engines/vllm.py``
  ``engine_visible_bytes``) and the CUDA context is already up when it is measured, so at least
  ``CUDA_CONTEXT_GIB`` (``engines/vllm.py``) is never free: a utilization above
  ``1 - CUDA_CONTEXT_GIB / total`` cannot start, even on an otherwise idle GPU (1.0 never can).
- ``--max-num-batched-tokens`` below ``--max-num-seqs``: ``vllm/config/scheduler.py``
  (``SchedulerConfig`` verification) raises "max_num_batched_tokens (...) must be greater than or
  equal to max_num_seqs (...)".
- ``--max-model-len`` above the model's context: vLLM refuses it unless
  ``VLLM_ALLOW_LONG_MAX_MODEL_LEN=1`` (``vllm/config/model.py``, ``_get_and_verify_max_len``).

Pure: no Rich, no Textual.
"""

from __future__ import annotations

from math import floor

from ..engines.vllm import CUDA_CONTEXT_GIB, engine_visible_bytes
from ..plan.result import Plan
from ..profile.schema import Profile
from ..specs.specs import GIB


def highest_startable_utilization(memory_gib: float, driver_reserved_gib: float | None) -> float:
    """The largest ``--gpu-memory-utilization`` (two decimals) whose request fits what is free once the CUDA
    context is up, on an otherwise idle GPU."""
    total = engine_visible_bytes(memory_gib, driver_reserved_gib)
    if total <= 0:
        return 0.0
    return floor((1 - CUDA_CONTEXT_GIB * GIB / total) * 100) / 100


def vllm_flag_warnings(profile: Profile, plan: Plan) -> list[str]:
    """Sentences for each flag of the export vLLM would refuse or could not start with; [] when none."""
    hardware, engine, model, work = profile.hardware, profile.engine, profile.model, profile.workload
    warnings: list[str] = []
    utilization = engine.gpu_memory_utilization
    highest = highest_startable_utilization(hardware.memory_gib, hardware.driver_reserved_gib)
    if utilization > highest:
        total = engine_visible_bytes(hardware.memory_gib, hardware.driver_reserved_gib) / GIB
        warnings.append(
            f"--gpu-memory-utilization {utilization} asks for {utilization * total:,.2f} of the {total:,.2f} GiB "
            f"CUDA reports on {hardware.name}, but the CUDA context alone holds about {CUDA_CONTEXT_GIB:g} GiB "
            f"before vLLM checks: vLLM refuses to start (\"Free memory on device ... is less than desired GPU "
            f"memory utilization\"); use at most {highest:.2f}")
    sequences = max(1, plan.capacity.concurrent_sequences)
    if engine.max_num_batched_tokens is not None and engine.max_num_batched_tokens < sequences:
        warnings.append(
            f"--max-num-batched-tokens {engine.max_num_batched_tokens:,} is below --max-num-seqs {sequences:,}: vLLM "
            f"refuses it (max_num_batched_tokens must be greater than or equal to max_num_seqs); raise "
            f"engine.max_num_batched_tokens to at least {sequences:,}")
    if model.max_context_tokens is not None and work.max_context_tokens > model.max_context_tokens:
        warnings.append(
            f"--max-model-len {work.max_context_tokens} exceeds the model's {model.max_context_tokens:,}-token "
            f"context: vLLM refuses it unless VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 is set")
    return warnings
