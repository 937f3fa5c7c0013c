"""Two exports of a plan: a Markdown report and the ``vllm serve`` command that realizes it.

``plan_markdown(profile, plan)`` is GitHub-flavoured Markdown to paste into a design doc or a pull
request: the same figures, in the same formats, as the CLI report (``cli/report.py``), with no
timestamps so that it is stable. ``vllm_command(profile, plan)`` is the command line, one option a
line, comments first (a comment cannot sit inside backslash-continued lines).

Every flag used is a real ``vllm serve`` engine argument; where each was checked:

- ``--tensor-parallel-size``, ``--pipeline-parallel-size``, ``--max-model-len``, ``--gpu-memory-utilization``,
  ``--max-num-seqs``, ``--block-size``, ``--dtype``, ``--kv-cache-dtype {auto,fp8,...}``,
  ``--quantization {...,fp8,...}``, ``--trust-remote-code``: vLLM "Engine Arguments",
  https://docs.vllm.ai/en/latest/models/engine_args.html (and the ``vllm.config`` API page,
  https://docs.vllm.ai/en/v0.10.0/api/vllm/config.html: ``BlockSize``, ``CacheDType``, ``ModelDType``).
- ``--data-parallel-size`` and ``--enable-expert-parallel``: "Data Parallel Deployment",
  https://docs.vllm.ai/en/latest/serving/data_parallel_deployment/ and "Expert Parallel Deployment",
  https://docs.vllm.ai/en/latest/serving/expert_parallel_deployment/ (with EP on, the expert layers
  span all DP x TP GPUs; without it they form a DP x TP tensor-parallel group).
- ``--quantization fp8`` on a BF16/FP16 checkpoint is online dynamic FP8 quantization:
  https://docs.vllm.ai/en/stable/features/quantization/fp8/ ; a checkpoint already in FP8 carries its
  ``quantization_config`` and needs no flag.
- ``--max-num-seqs`` is per engine core, i.e. per data-parallel rank, which is the plan's KV pool.
- ``--trust-remote-code`` for Kimi K2: MoonshotAI's deployment guide,
  https://github.com/MoonshotAI/Kimi-K2/blob/main/docs/deploy_guidance.md

Pure: no Rich, no Textual.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from ..plan.result import Plan
from ..profile.schema import Profile
from ..specs.catalog import model_entry, model_hub_repos
from ..specs.precisions import Precision
from ..specs.specs import GIB
from .formatting import LIMITED_BY_TEXT, capacity_rows, cost_rows, rate, seconds, while_running
from .vllm_flags import vllm_flag_warnings

__all__ = ["PLACEHOLDER_MODEL", "plan_markdown", "vllm_command"]


PLACEHOLDER_MODEL = "<huggingface-repo-id>"

_PRE_QUANTIZED = frozenset({Precision.int8, Precision.int4, Precision.fp4, Precision.nvfp4, Precision.mxfp4})
_SIXTEEN_BIT = frozenset({Precision.bf16, Precision.fp16, Precision.fp32})
_DTYPE_FLAG = {Precision.fp16: "float16", Precision.fp32: "float32"}


def _number(value: float) -> str:
    """A target or setting as typed: 20.0 -> 20, 0.2 -> 0.2."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"


def _engine_name(engine) -> str:
    return f"vLLM {engine.version}" if engine.name == "vllm" else "generic engine (physics.md anchors)"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _cell(value: object) -> str:
    """A GFM table cell: one line, pipes escaped (backslashes first, so an escape stays an escape)."""
    return _one_line(str(value)).replace("\\", "\\\\").replace("|", "\\|")


def _table(header: tuple[str, ...], rows: Sequence[tuple[object, ...]], align: str) -> list[str]:
    """A GFM table; ``align`` has one letter a column: l(eft) or r(ight)."""
    marks = {"l": "---", "r": "---:"}
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |",
             "| " + " | ".join(marks[a] for a in align) + " |"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _target(met: bool | None, target: str) -> str:
    if met is None:
        return "-"
    return f"{target}: {'met' if met else 'missed'}"


def plan_markdown(profile: Profile, plan: Plan) -> str:
    """The plan as a Markdown report: title, summary, deployment, figure tables, warnings, notes."""
    hw, model, par, work, engine = (profile.hardware, profile.model, profile.parallelism, profile.workload,
                                    profile.engine)
    memory, capacity, decode, roof, cost = (plan.memory.per_gpu, plan.capacity, plan.decode, plan.roofline,
                                            plan.cost)
    out: list[str] = [f"# {_one_line(profile.name)}", ""]
    if profile.description.strip():
        out += [f"> {_one_line(profile.description)}", ""]

    limit = LIMITED_BY_TEXT[capacity.limited_by] + ("" if plan.memory.fits else ": the model does not fit")
    out += [f"**{capacity.users_served:,} users of {work.users:,} served on {plan.gpus:,} × {_one_line(hw.name)}; "
            f"limited by {limit}.**", ""]

    # Deployment
    gpu = _one_line(hw.name) + (f" (`{hw.gpu}`)" if hw.gpu else "")
    model_name = _one_line(model.name) + (f" (`{model.preset}`)" if model.preset else "")
    targets = []
    if work.target_tokens_per_s > 0:
        targets.append(f"{_number(work.target_tokens_per_s)} tok/s per user")
    if work.ttft_target_s > 0:
        targets.append(f"TTFT {seconds(work.ttft_target_s)}")
    deployment = [
        ("GPU", gpu),
        ("GPUs", f"{par.gpus:,} ({par.gpus_per_replica:,} per replica × {par.replicas:,} "
                 f"{'replica' if par.replicas == 1 else 'replicas'})"),
        ("Parallelism", f"TP {par.tensor} · PP {par.pipeline} · DP {par.data} · EP {par.expert} · "
                        f"replicas {par.replicas:,}"),
        ("Model", model_name),
        ("Weights", model.weight_dtype.value),
        ("KV cache", model.kv_dtype.value),
        ("Context", f"{work.max_context_tokens:,} max · {work.avg_context_tokens:,} average tokens"),
        ("Request", f"{work.prompt_tokens:,} prompt + {work.output_tokens:,} output tokens"
                    + (f" · {work.prefix_cache_hit:.0%} prefix cached" if work.prefix_cache_hit else "")),
        ("Users", f"{work.users:,}"),
        ("Duty cycle", f"{work.duty_cycle:.0%}"),
        ("Targets", " · ".join(targets) if targets else "none"),
        ("Engine", f"{_engine_name(engine)} · memory utilization {_number(engine.gpu_memory_utilization)} · block "
                   f"{plan.kv.block_tokens} tokens"
                   f" · MBU {engine.mbu:.0%} · MFU {engine.mfu:.0%}"),
    ]
    out += ["## Deployment", ""] + _table(("Setting", "Value"), deployment, "ll") + [""]

    # Memory per GPU
    def share(value: float) -> str:
        return f"{value / memory.total:.1%}" if memory.total else "-"

    def gib_cell(value: float) -> str:  # the column says GiB
        return f"{value / GIB:,.2f}"

    memory_rows = [
        ("GPU memory", gib_cell(memory.total), share(memory.total)),
        ("reserved (outside the engine)", gib_cell(memory.reserved), share(memory.reserved)),
        ("usable", gib_cell(memory.usable), share(memory.usable)),
        ("weights", gib_cell(memory.weights), share(memory.weights)),
        ("activations", gib_cell(memory.activations), share(memory.activations)),
        ("overhead", gib_cell(memory.overhead), share(memory.overhead)),
        ("KV budget", gib_cell(memory.kv_budget), share(memory.kv_budget)),
        ("KV in use", gib_cell(memory.kv_used), share(memory.kv_used)),
        *([("of which recurrent state", gib_cell(memory.state_used), share(memory.state_used))]
          if memory.state_used else []),
        ("KV headroom", gib_cell(memory.free), share(memory.free)),
    ]
    if memory.shortfall > 0:
        memory_rows.append(("shortfall", gib_cell(memory.shortfall), share(memory.shortfall)))
    out += ["## Memory per GPU", ""] + _table(("Item", "GiB", "% of GPU"), memory_rows, "lrr") + [""]
    if plan.memory.fits:
        out += ["The model fits.", ""]
    else:
        out += [f"**The model does not fit**: each GPU is short by {gib_cell(memory.shortfall)} GiB.", ""]
    if plan.engine is not None and plan.memory.fits:
        out += [f"vLLM {plan.engine.version} would log:", "", "```", plan.engine.available_kv_line,
                plan.engine.kv_cache_size_line, plan.engine.max_concurrency_line, "```", ""]

    # Capacity
    capacity_table = [
        *capacity_rows(plan, work.users),
        ("KV per token", f"{plan.kv.bytes_per_token:,.0f} B"),
        ("KV pool", f"{plan.kv.tokens_capacity:,} tokens"),
        ("KV per sequence (avg ctx)", f"{gib_cell(plan.kv.bytes_per_sequence_avg_context)} GiB"),
    ]
    if plan.kv.state_bytes_per_sequence:  # hybrids: part of each sequence is a fixed recurrent state
        capacity_table.append(("of which recurrent state", f"{gib_cell(plan.kv.state_bytes_per_sequence)} GiB"))
    out += ["## Capacity", ""] + _table(("Figure", "Value"), capacity_table, "lr") + [""]

    # Speed
    speed_target = f"{_number(work.target_tokens_per_s)} tok/s"
    ttft_target = seconds(work.ttft_target_s)
    speed_rows = [(label, while_running(plan.runs, value), target if plan.runs else "-") for label, value, target in (
        ("decode tok/s per user", rate(decode.tokens_per_s_per_user), _target(decode.meets_target, speed_target)),
        ("decode tok/s aggregate", rate(decode.tokens_per_s_aggregate), "-"),
        ("decode tok/s single user", rate(decode.tokens_per_s_single_user), "-"),
        ("batch per pool", f"{decode.batch:,.1f}", "-"),
        ("step time", seconds(decode.step_time), "-"),
        ("prefill tok/s", rate(plan.prefill.tokens_per_s), "-"),
        ("TTFT", seconds(plan.prefill.ttft), _target(plan.prefill.meets_target, ttft_target)),
    )]
    out += ["## Speed", ""] + _table(("Figure", "Value", "Target"), speed_rows, "lrl") + [""]

    # Roofline
    roofline_rows = [
        ("ridge", f"{roof.ridge:,.1f} FLOP/B ({roof.weight_compute_path})"),
        ("decode intensity", while_running(plan.runs, f"{decode.arithmetic_intensity:,.1f} FLOP/B "
                                                      f"({decode.bound}-bound)")),
        ("prefill intensity", f"{plan.prefill.arithmetic_intensity:,.1f} FLOP/B"),
        ("compute busy", while_running(plan.runs, f"{roof.compute_busy_fraction:.0%} of the step")),
        ("critical batch", "never (KV traffic grows as fast)" if roof.critical_batch is None
         else f"{roof.critical_batch:,}"),
        ("critical batch, weights only", "never" if roof.critical_batch_weights_only is None
         else f"{roof.critical_batch_weights_only:,}"),
    ]
    out += ["## Roofline", ""] + _table(("Figure", "Value"), roofline_rows, "lr") + [""]

    # Cost
    out += ["## Cost", ""] + _table(("Figure", "Value"), cost_rows(cost), "lr") + [""]

    if plan.warnings:
        out += ["## Warnings", ""] + [f"- {_one_line(w)}" for w in plan.warnings] + [""]
    if plan.notes:
        out += ["## Notes", ""] + [f"- {_one_line(n)}" for n in plan.notes] + [""]
    out += ["_Napkin-math estimates from napkinmath, not measurements._"]
    return "\n".join(out) + "\n"


def _published_weight_dtype(profile: Profile) -> Precision | None:
    """The precision of the checkpoint the model id points at, where known."""
    model = profile.model
    if model.checkpoint_weight_dtype is not None:
        return model.checkpoint_weight_dtype
    if model.preset:
        try:
            return Precision(model_entry(model.preset).get("weight_dtype", Precision.bf16.value))
        except ValueError:
            return None
    return None


def vllm_command(profile: Profile, plan: Plan, model_id: str | None = None) -> str:
    """The ``vllm serve`` command (one replica) that realizes the plan: comments, then one option a line."""
    model, par, work, engine = profile.model, profile.parallelism, profile.workload, profile.engine
    comments: list[str] = []
    hub = model_hub_repos().get(model.preset or "")
    repo = model_id.strip() if model_id and model_id.strip() else (hub.repo if hub else None)
    if repo is None:
        repo = PLACEHOLDER_MODEL
        comments.append(f"fill in {PLACEHOLDER_MODEL}: the HuggingFace repo (or local path) of "
                        f"{_one_line(model.name)}")
    if par.replicas > 1:
        comments.append(f"run {par.replicas:,} replicas of this command behind a load balancer "
                        f"(one per {par.gpus_per_replica:,} GPUs)")
    if not plan.memory.fits:
        comments.append("the plan says the model does not fit on these GPUs: expect vLLM to fail at startup")

    options: list[tuple[str, str | None]] = []
    if hub is not None and repo == hub.repo and hub.trust_remote_code:
        options.append(("--trust-remote-code", None))
    options.append(("--tensor-parallel-size", str(par.tensor)))
    if par.pipeline > 1:
        options.append(("--pipeline-parallel-size", str(par.pipeline)))
    if par.data > 1:
        options.append(("--data-parallel-size", str(par.data)))
    if par.expert > 1:
        options.append(("--enable-expert-parallel", None))
        if par.expert != par.tensor * par.data:
            comments.append(f"vLLM's expert parallelism spans all TP x DP = {par.tensor * par.data} GPUs "
                            f"of a replica, not the plan's EP {par.expert}")
    options.append(("--max-model-len", str(work.max_context_tokens)))
    comments += [f"warning: {warning}" for warning in vllm_flag_warnings(profile, plan)]

    # Weights: online fp8 where the checkpoint is 16-bit; lower precisions need a pre-quantized checkpoint.
    weights, published = model.weight_dtype, _published_weight_dtype(profile)
    if weights is Precision.fp8:
        if published in _SIXTEEN_BIT:
            options.append(("--quantization", "fp8"))
        elif published is None:
            comments.append("fp8 weights: add --quantization fp8 unless the checkpoint is already fp8")
        elif published is not Precision.fp8:
            comments.append(f"fp8 weights: the published checkpoint is {published.value}; "
                            f"point the model at an fp8 checkpoint")
    elif weights in _PRE_QUANTIZED and weights != published:
        comments.append(f"{weights.value} weights: vLLM needs a pre-quantized {weights.value} checkpoint "
                        f"(it reads the method from the checkpoint's config); point the model at one")
    elif weights in _SIXTEEN_BIT and published is not None and published not in _SIXTEEN_BIT:
        comments.append(f"{weights.value} weights: the published checkpoint is {published.value}; "
                        f"point the model at a {weights.value} checkpoint")
    if weights in _DTYPE_FLAG:
        options.append(("--dtype", _DTYPE_FLAG[weights]))

    if model.kv_dtype is Precision.fp8:
        options.append(("--kv-cache-dtype", "fp8"))
    elif model.kv_dtype not in _SIXTEEN_BIT:
        comments.append(f"{model.kv_dtype.value} KV cache: vLLM has no such --kv-cache-dtype; "
                        f"the nearest is fp8")
    options.append(("--gpu-memory-utilization", str(engine.gpu_memory_utilization)))
    options.append(("--max-num-seqs", str(max(1, plan.capacity.concurrent_sequences))))
    if engine.max_num_batched_tokens is not None:
        options.append(("--max-num-batched-tokens", str(engine.max_num_batched_tokens)))
    if engine.block_tokens is not None:
        options.append(("--block-size", str(engine.block_tokens)))
    if not engine.cuda_graphs:
        options.append(("--enforce-eager", None))

    parts = [f"vllm serve {shlex.quote(repo)}"] + [
        flag if value is None else f"{flag} {shlex.quote(value)}" for flag, value in options]
    body = [("  " if i else "") + part + (" \\" if i < len(parts) - 1 else "") for i, part in enumerate(parts)]
    return "\n".join([f"# {_one_line(c)}" for c in comments] + body) + "\n"
