"""The core calls slow enough to freeze a screen, which the planner runs in worker threads.

Reading a profile file (a slow disk, or a FIFO someone left there, must not hold the screen), searching the
highest rate that meets an SLO (the Load view), recommending deployments, importing a
model (config.json and safetensors headers), calibrating, a chart's sweep, GPU detection and the HF
cache scan take from a tenth of a second to seconds (0.2 to 1.25 s measured on this project's 2-core
machine for recommend, import and calibration). The screens take them from one ``SlowCalls`` value, so
a test can pass slower, blocking or failing ones and check that the screen keeps answering keys
meanwhile. Each default imports its core module when first called, keeping those modules out of
start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from napkinmath.core.profile.schema import Profile

if TYPE_CHECKING:
    from napkinmath.core.plan.result import Plan
    from napkinmath.core.sources.gpu_detect import Detection
    from napkinmath.core.sources.hf_cache import CachedModel
    from napkinmath.core.sources.model_import import ImportedModel
    from napkinmath.core.tools.calibrate import Calibrated
    from napkinmath.core.tools.recommend import Candidate
    from napkinmath.core.tools.simulate.answer import LoadAnswer
    from napkinmath.core.tools.sweep import Series

DETECT_TIMEOUT_S = 5.0
RECOMMEND_LIMIT = 20


def load_profile(path: Path) -> Profile:
    from napkinmath.core.profile.files import load_profile as run

    return run(path)


def load_and_plan(path: Path) -> tuple[Profile, Plan]:
    """A profile file and its plan (the other side of a comparison)."""
    from napkinmath.core.plan.compose import plan

    profile = load_profile(path)
    return profile, plan(profile)


def import_model(path: Path, name: str | None) -> ImportedModel:
    """A config.json, a model folder, or ORG/NAME from the Hub (a path on this machine wins)."""
    from napkinmath.core.sources.hub import import_path_or_repo

    return import_path_or_repo(path, name)


def calibrate_log(profile: Profile, path: Path) -> Calibrated:
    from napkinmath.core.sources.vllm_log import parse_vllm_log, read_vllm_log
    from napkinmath.core.tools.calibrate import calibrate_from_log

    return calibrate_from_log(profile, parse_vllm_log(read_vllm_log(path), source=str(path)), source=path.name)


def calibrate_measured(profile: Profile, text: str) -> Calibrated:
    from napkinmath.core.tools.calibrate import calibrate_measured as run

    return run(profile, text)


def detect_gpus() -> Detection:
    from napkinmath.core.sources.gpu_detect import detect_gpus as run

    return run(timeout_s=DETECT_TIMEOUT_S)


def recommend(profile: Profile) -> list[Candidate]:
    from napkinmath.core.tools.recommend import recommend as run

    return run(profile, limit=RECOMMEND_LIMIT)


def chart_series(profile: Profile, kind: str, field: str, figure: str) -> Series:
    """The sweep a chart draws: users vs context, speed vs batch, cost vs GPUs, or any field vs figure."""
    from napkinmath.core.tools.sweep import cost_vs_gpus, field_vs_figure, speed_vs_batch, users_vs_context

    if kind == "batch":
        return speed_vs_batch(profile)
    if kind == "gpus":
        return cost_vs_gpus(profile)
    if kind == "custom":
        from .fields import FIELDS_BY_PATH

        shown = FIELDS_BY_PATH.get(field)
        label = f"{shown.label} ({shown.unit})" if shown and shown.unit else shown.label if shown else ""
        return field_vs_figure(profile, field, figure, label=label)
    return users_vs_context(profile)


def load_answer(profile: Profile, slo: dict[str, float], rate: float | None,
                progress: Callable[[str], None]) -> LoadAnswer:
    """The Load view's search: users at the SLO, percentiles at ``rate``, the latency curve (seconds)."""
    from napkinmath.core.plan.performance import engine_performance
    from napkinmath.core.tools.simulate.answer import load_answer as run
    from napkinmath.core.tools.simulate.profile_load import deployment_for

    return run(profile, deployment_for(profile, engine_performance(profile)), slo, rate, progress=progress)


def list_cached_models(cache: Path) -> list[CachedModel]:
    from napkinmath.core.sources.hf_cache import list_cached_models as run

    return run(cache)


@dataclass(frozen=True)
class SlowCalls:
    """The slow calls the planner makes, each run off the UI thread; the defaults call the core."""

    load_profile: Callable[[Path], Profile] = load_profile
    load_and_plan: Callable[[Path], tuple[Profile, Plan]] = load_and_plan
    import_model: Callable[[Path, str | None], ImportedModel] = import_model
    calibrate_log: Callable[[Profile, Path], Calibrated] = calibrate_log
    calibrate_measured: Callable[[Profile, str], Calibrated] = calibrate_measured
    detect_gpus: Callable[[], Detection] = detect_gpus
    recommend: Callable[[Profile], list[Candidate]] = recommend
    chart_series: Callable[[Profile, str, str, str], Series] = chart_series
    list_cached_models: Callable[[Path], list[CachedModel]] = list_cached_models
    load_answer: Callable[[Profile, dict[str, float], float | None, Callable[[str], None]], LoadAnswer] = load_answer
