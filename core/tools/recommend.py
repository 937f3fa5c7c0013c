"""``recommend(profile)``: the cheapest catalog deployments that meet every target of a workload.

The search keeps the profile's model (its architecture), workload, engine and cost settings, and
tries every way of serving it on the GPU catalog. The rules, in order:

Search space (``deployment_space``), one *option* per (GPU, tensor, pipeline, weight, KV):

- GPU: every catalog GPU with a rental price (``price_per_gpu_hour`` > 0; 0 means unknown and
  would top any cost ranking). The hardware is the catalog entry as it stands, its prices
  included: a profile's own overrides of memory, bandwidth or price do not carry over.
- tensor in ``TENSOR_DEGREES`` (1, 2, 4, 8), only those that split the model's heads and MLP
  evenly (engines/rules.py: vLLM refuses the rest).
- pipeline in ``PIPELINE_DEGREES`` (1, 2, 4), only those <= the model's layers.
- data = expert = 1: no attention data parallelism and no expert parallelism (with data 1,
  expert ranks <= tensor and the plan's expert divisor max(expert, tensor) is the tensor degree).
- tensor x pipeline <= ``max_gpus``.
- weight precision: the model's own, plus each of ``WEIGHT_STEPS`` (bf16, fp8, int4, mxfp4,
  nvfp4, fp4) that stores fewer bytes per value than the model's own and that the GPU runs:
  fp8 needs the GPU's fp8 tensor-core path; fp4, nvfp4 and mxfp4 need its fp4 path, and nvfp4 an
  NVIDIA GPU (engines/rules.py ``format_refusals``); int4
  (GPTQ/AWQ, weight-only W4A16) and bf16 are always allowed. The model's own precision is allowed
  on every GPU (without its path the math falls back to 16 bits, as the plan says).
- KV precision: the model's own, plus fp8 when it stores fewer bytes than the model's own and the
  GPU has an fp8 path.

Size: GPUs x 4 tensor x 3 pipeline x (1 + up to 5 lower weight precisions for a 16-bit model)
x (1 or 2 KV precisions). The shipped catalog has 14 GPUs, so at most 14 x 4 x 3 x 6 x 2 = 2,016
options for a bf16 model (2,352 for an fp32 one, which also tries bf16); the 32B fp8 seed has 480.

For each option:

1. Plan one replica. Skip it when the model does not fit or no sequence fits
   (``capacity.replicas_needed`` is None: memory or, with a speed target, speed leaves no room).
2. replicas = ``capacity.replicas_needed`` of that plan: the fewest replicas that hold all the
   workload's users at its duty cycle, speed target included (the plan caps each pool's batch at
   the largest that still meets the target). Skip when tensor x pipeline x replicas > ``max_gpus``.
3. Plan the deployment with those replicas and confirm ``capacity.users_served`` equals the
   workload's users (adding a replica while it does not, within ``max_gpus``).
4. Keep it only if it runs (``Plan.runs``: fits, and the engine accepts it) and meets EVERY target:
   all users served, decode tokens/s per user >= ``target_tokens_per_s``, TTFT <= ``ttft_target_s``
   when that is > 0. Replicas are not added beyond step 2 to rescue a missed TTFT.

Without a speed target the cheapest deployment is the slowest, often too slow to read along with.
So a profile with ``target_tokens_per_s = 0`` is searched with ``SPEED_FLOOR_TOKENS_PER_S`` as its
target, and ``recommend_notes`` says so; the candidates' profiles carry that floor as their target.

Ranking: cost per user-month (rented, at the workload's users), then fewer GPUs, then more decode
tokens/s per user. Near-duplicates are folded: candidates on the same GPU, shape and replicas at the
same cost (within ``FOLD_COST_TOLERANCE``) differ only in precision, so only the first (the highest
precision, by the tie-break) is listed and the others become its ``alternatives``. The first ``limit``
are returned. [] when no option meets every target.

Each candidate's profile is the input profile with hardware, model precisions and parallelism
replaced (name and description say what was chosen); workload, engine and cost are unchanged.
Profiles are built cheaply: one validated base profile per GPU (``with_section``), then
``model_copy`` for the variants, whose parts are already validated; the one cross-field rule
(count = tensor x pipeline x data x replicas) is kept here by construction and checked.

Cost: at most two ``plan()`` calls per option (about 35 us each): well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

from ..engines.rules import format_refusals, tensor_split_refusals
from ..plan.compose import Plan, plan
from ..profile.edit import edit_profile, with_section
from ..profile.schema import Model, Parallelism, Profile
from ..specs.catalog import gpu_catalog
from ..specs.precisions import BYTES_PER_VALUE, COMPUTE_PATH, Precision, bytes_per_value
from ..specs.specs import GpuSpec

TENSOR_DEGREES: tuple[int, ...] = (1, 2, 4, 8)
# The slowest decode worth recommending when the profile sets no speed target: about reading speed
# (200-300 words a minute is 4-7 tokens/s; twice that, so text keeps ahead of the reader).
SPEED_FLOOR_TOKENS_PER_S = 10.0
FOLD_COST_TOLERANCE = 0.005
PIPELINE_DEGREES: tuple[int, ...] = (1, 2, 4)
# Lower weight precisions to try, in order; each only where it stores fewer bytes than the model's own.
WEIGHT_STEPS: tuple[Precision, ...] = (Precision.bf16, Precision.fp8, Precision.int4, Precision.mxfp4,
                                       Precision.nvfp4, Precision.fp4)
KV_STEPS: tuple[Precision, ...] = (Precision.fp8,)
# Precisions that run anywhere: int4 is weight-only (dequantized to 16 bits), bf16 falls back to fp16/fp32.
_ALWAYS_ALLOWED = (Precision.bf16, Precision.int4)


@dataclass(frozen=True)
class Candidate:
    """One deployment that meets every target, with its plan."""

    profile: Profile  # the deployment, ready to plan or save
    plan: Plan
    gpu_id: str
    gpus: int  # total GPUs
    tensor: int
    pipeline: int
    replicas: int
    weight_dtype: str
    kv_dtype: str
    per_user_month: float  # USD, rented, at the workload's users
    limited_by: str  # what caps the users it can hold: "memory" or "speed"
    binding: str  # one plain sentence: what would break first
    tightest: str  # the same in a table cell: the target with the least room, and that room ("TTFT +12%")
    alternatives: tuple[str, ...] = ()  # folded variants at the same cost: "int4 weights, fp8 KV: 46.5 tok/s"


class Option(NamedTuple):
    """One point of the search space (replicas are derived, not searched)."""

    gpu_id: str
    tensor: int
    pipeline: int
    weight_dtype: Precision
    kv_dtype: Precision


def gpu_runs(gpu: GpuSpec, precision: Precision) -> bool:
    """Whether a *lower* precision may be chosen on this GPU: its tensor-core path exists (int4, bf16: always)."""
    if precision in _ALWAYS_ALLOWED:
        return True
    return getattr(gpu.tflops, COMPUTE_PATH[precision], None) is not None


def weight_choices(own: Precision, gpu: GpuSpec) -> list[Precision]:
    """The model's own weight precision, then every lower step this GPU runs."""
    lower = [step for step in WEIGHT_STEPS
             if BYTES_PER_VALUE[step] < BYTES_PER_VALUE[own] and gpu_runs(gpu, step)]
    return [own] + [step for step in lower if step != own]


def kv_choices(own: Precision, gpu: GpuSpec) -> list[Precision]:
    """The model's own KV precision, then fp8 where it is smaller and the GPU has an fp8 path."""
    lower = [step for step in KV_STEPS if BYTES_PER_VALUE[step] < BYTES_PER_VALUE[own] and gpu_runs(gpu, step)]
    return [own] + [step for step in lower if step != own]


def deployment_space(profile: Profile, max_gpus: int = 64) -> list[Option]:
    """Every (GPU, tensor, pipeline, weight, KV) option the search plans (rules: module docstring)."""
    model = profile.model
    tensors = [t for t in TENSOR_DEGREES if not tensor_split_refusals(model, t)]
    pipelines = [p for p in PIPELINE_DEGREES if p <= model.layers]
    options: list[Option] = []
    for gpu_id, gpu in gpu_catalog().items():
        if gpu.price_per_gpu_hour <= 0:
            continue
        weights = [weight for weight in weight_choices(model.weight_dtype, gpu)
                   if not format_refusals(profile.engine.name, model.model_copy(update={"weight_dtype": weight}), gpu)]
        kvs = kv_choices(model.kv_dtype, gpu)
        for tensor in tensors:
            for pipeline in pipelines:
                if tensor * pipeline > max_gpus:
                    continue
                for weight in weights:
                    for kv in kvs:
                        options.append(Option(gpu_id, tensor, pipeline, weight, kv))
    return options


def _variant(base: Profile, model: Model, tensor: int, pipeline: int, replicas: int) -> Profile:
    """``base`` (validated, on its GPU) with this model and parallelism; no re-validation."""
    parallelism = Parallelism(tensor=tensor, pipeline=pipeline, data=1, expert=1, replicas=replicas)
    hardware = base.hardware.model_copy(update={"count": parallelism.gpus})
    if hardware.count != parallelism.tensor * parallelism.pipeline * parallelism.data * parallelism.replicas:
        raise AssertionError("GPU count and parallelism disagree")  # the invariant Profile validates
    if pipeline > model.layers:
        raise AssertionError("pipeline exceeds the model's layers")
    return base.model_copy(update={"hardware": hardware, "model": model, "parallelism": parallelism})


def _binding(profile: Profile, result: Plan) -> tuple[str, str, str]:
    """(limited_by, sentence, cell): what caps the users, and the smallest margin of all the targets, as a
    sentence and as a short table cell ("memory +2%": memory holds 2% more users than needed; "users +5%": the
    speed target holds 5% more; "tok/s +30%": decode is 30% faster than the target; "TTFT +12%")."""
    work, capacity = profile.workload, result.capacity
    speed_caps = (capacity.concurrent_by_speed is not None
                  and capacity.concurrent_by_speed < capacity.concurrent_by_memory)
    limited_by = "speed" if speed_caps else "memory"
    if speed_caps:
        users_sentence = (f"speed: {capacity.capacity_users:,} users fit at {work.target_tokens_per_s:g} tokens/s "
                          f"each, {work.users:,} needed")
    else:
        users_sentence = f"memory: {capacity.capacity_users:,} users fit, {work.users:,} needed"
    margins = [(capacity.capacity_users / work.users, users_sentence, "users" if speed_caps else "memory")]
    if work.target_tokens_per_s > 0:
        speed = result.decode.tokens_per_s_per_user
        margins.append((speed / work.target_tokens_per_s,
                        f"decode speed: {speed:,.1f} tokens/s per user, {work.target_tokens_per_s:g} needed",
                        "tok/s"))
    if work.ttft_target_s > 0:
        ttft = result.prefill.ttft
        margins.append((work.ttft_target_s / ttft,
                        f"time to first token: {ttft:,.2f} s, {work.ttft_target_s:g} s allowed", "TTFT"))
    ratio, sentence, name = min(margins, key=lambda margin: margin[0])
    return limited_by, sentence, f"{name} +{ratio - 1:.0%}"


def _meets_every_target(profile: Profile, result: Plan) -> bool:
    return (result.runs
            and result.capacity.users_served == profile.workload.users
            and result.decode.meets_target is not False
            and result.prefill.meets_target is not False)


def _described(profile: Profile, source_name: str, option: Option, replicas: int, binding: str) -> Profile:
    gpu = profile.hardware
    shape = f"tensor {option.tensor}" + (f" x pipeline {option.pipeline}" if option.pipeline > 1 else "")
    name = (f"{profile.model.name} on {profile.parallelism.gpus}x {gpu.name} ({shape}, {replicas} "
            f"replica{'s' if replicas > 1 else ''}), {option.weight_dtype.value} weights, "
            f"{option.kv_dtype.value} KV")
    description = (f"Recommended by napkinmath's catalog search for \"{source_name}\": among the deployments that "
                   f"meet every target of its workload, ranked by cost per user-month. Tightest margin: {binding}.")
    return profile.model_copy(update={"name": name[:200], "description": description[:4000]})


def recommend(profile: Profile, limit: int = 10, max_gpus: int = 64) -> list[Candidate]:
    """The cheapest catalog deployments (per user-month) that meet every target of the workload.

    Search space, replica rule, targets and ranking: see the module docstring. ``limit`` caps the
    list (>= 1); ``max_gpus`` caps each deployment's total GPUs (>= 1). [] when none qualifies.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if max_gpus < 1:
        raise ValueError(f"max_gpus must be at least 1, got {max_gpus}")
    if profile.workload.target_tokens_per_s <= 0:
        profile = edit_profile(profile, "workload.target_tokens_per_s", SPEED_FLOOR_TOKENS_PER_S)
    work = profile.workload
    bases: dict[str, Profile] = {}
    models: dict[tuple[Precision, Precision], Model] = {}
    found: list[tuple[tuple[float, int, float, float], Candidate]] = []
    for option in deployment_space(profile, max_gpus):
        if option.gpu_id not in bases:
            bases[option.gpu_id] = with_section(profile, "hardware", {"gpu": option.gpu_id, "count": 1})
        base = bases[option.gpu_id]
        key = (option.weight_dtype, option.kv_dtype)
        if key not in models:
            models[key] = profile.model.model_copy(update={"weight_dtype": option.weight_dtype,
                                                          "kv_dtype": option.kv_dtype})
        model = models[key]
        per_replica = option.tensor * option.pipeline
        one = plan(_variant(base, model, option.tensor, option.pipeline, 1))
        replicas = one.capacity.replicas_needed
        if not one.memory.fits or replicas is None:
            continue
        deployment, result = None, one
        while replicas * per_replica <= max_gpus:
            deployment = _variant(base, model, option.tensor, option.pipeline, replicas)
            result = plan(deployment) if replicas > 1 else one
            if result.capacity.users_served >= work.users:
                break
            deployment, replicas = None, replicas + 1  # not expected: replicas_needed already holds everyone
        if deployment is None or not _meets_every_target(deployment, result):
            continue
        limited_by, binding, tightest = _binding(deployment, result)
        gpus = per_replica * replicas
        per_user_month = result.cost.per_user_month
        if per_user_month is None:  # nobody served: not a deployment to recommend
            continue
        candidate = Candidate(profile=deployment, plan=result, gpu_id=option.gpu_id, gpus=gpus,
                              tensor=option.tensor, pipeline=option.pipeline, replicas=replicas,
                              weight_dtype=option.weight_dtype.value, kv_dtype=option.kv_dtype.value,
                              per_user_month=per_user_month, limited_by=limited_by, binding=binding,
                              tightest=tightest)
        # ties go to the higher precision (quality loss is not modelled, so keep as much as the price allows)
        precision_kept = -(bytes_per_value(option.weight_dtype) + bytes_per_value(option.kv_dtype))
        found.append(((per_user_month, gpus, precision_kept, -result.decode.tokens_per_s_per_user), candidate))
    found.sort(key=lambda entry: entry[0])
    kept: list[Candidate] = []
    folded: dict[tuple, list[str]] = {}
    for _, candidate in found:
        same = (candidate.gpu_id, candidate.tensor, candidate.pipeline, candidate.replicas)
        first = next((c for c in kept if (c.gpu_id, c.tensor, c.pipeline, c.replicas) == same
                      and abs(c.per_user_month - candidate.per_user_month) <= FOLD_COST_TOLERANCE * c.per_user_month),
                     None)
        if first is not None:
            folded.setdefault(same, []).append(f"{candidate.weight_dtype} weights, {candidate.kv_dtype} KV: "
                                               f"{candidate.plan.decode.tokens_per_s_per_user:,.1f} tok/s")
            continue
        if len(kept) < limit:
            kept.append(candidate)
    return [_finished(c, profile.name, tuple(folded.get((c.gpu_id, c.tensor, c.pipeline, c.replicas), ())))
            for c in kept]


EXTRAPOLATED_MARK = "*"
EXTRAPOLATED_NOTE = ("* extrapolated speed: the fitted model has no measured load test on this GPU "
                     "(docs/accuracy.md)")
EXTRAPOLATED_NOTE_SHORT = "* speed extrapolated: no measured load test on this GPU"  # fits 80 columns


def extrapolated_speed(candidate: Candidate) -> bool:
    """Whether the candidate's speed is an extrapolation: a GPU the fit's rows did not measure (they hold H100 SXM,
    H200 and B200; on the published AMD MI300X load tests the fitted model predicted 1.8-3.0 times the measured
    throughput at the median, docs/accuracy.md)."""
    return candidate.plan.provenance.speed == "extrapolated"


def speed_text(candidate: Candidate) -> str:
    """A candidate's decode tok/s per user as its table cell, marked where the speed is an extrapolation."""
    mark = EXTRAPOLATED_MARK if extrapolated_speed(candidate) else ""
    return f"{candidate.plan.decode.tokens_per_s_per_user:,.1f}{mark}"


def shape_text(candidate: Candidate) -> str:
    """The candidate's shape as its table cell: "TP4 ×2", "TP2 PP2 ×1" (tensor, pipeline when > 1, replicas)."""
    pipeline = f" PP{candidate.pipeline}" if candidate.pipeline > 1 else ""
    return f"TP{candidate.tensor}{pipeline} ×{candidate.replicas}"


def targets_text(profile: Profile) -> str:
    """The targets the search held the deployments to, as the command line and the app title their lists:
    "400 users, ≥ 20 tok/s each, TTFT ≤ 2 s"; without a speed target, the floor it used instead."""
    work = profile.workload
    speed = work.target_tokens_per_s if work.target_tokens_per_s > 0 else SPEED_FLOOR_TOKENS_PER_S
    floor = "" if work.target_tokens_per_s > 0 else " (floor)"  # recommend_notes says why
    parts = [f"{work.users:,} users", f"≥ {speed:g} tok/s each{floor}"]
    if work.ttft_target_s > 0:
        parts.append(f"TTFT ≤ {work.ttft_target_s:g} s")
    return ", ".join(parts)


def recommend_notes(profile: Profile) -> list[str]:
    """What a user should know about how ``recommend`` searched this profile."""
    if profile.workload.target_tokens_per_s > 0:
        return []
    return [f"the profile sets no speed target, so deployments slower than {SPEED_FLOOR_TOKENS_PER_S:g} tokens/s "
            "per user were left out (the cheapest would otherwise be the slowest); set workload.target_tokens_per_s "
            "to choose your own"]


def _finished(candidate: Candidate, source_name: str, alternatives: tuple[str, ...] = ()) -> Candidate:
    """Name and describe the chosen profile (only for the candidates returned: it costs a copy)."""
    option = Option(candidate.gpu_id, candidate.tensor, candidate.pipeline, Precision(candidate.weight_dtype),
                    Precision(candidate.kv_dtype))
    profile = _described(candidate.profile, source_name, option, candidate.replicas, candidate.binding)
    return replace(candidate, profile=profile, alternatives=alternatives)
