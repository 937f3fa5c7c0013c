"""Fit the performance model's coefficients on the measured load tests and write them to
core/engines/data/performance.toml, with the data's provenance and the cross-validated errors.

    pip install -e ".[fit]"        # numpy and scipy: the fit needs them, the runtime does not
    python scripts/fit_performance.py [--no-cv]

What it fits (docs/accuracy.md, "The fitted performance model"): the multipliers by which each engine
family runs below each roofline term, and the engine's own times, shared across engines and GPU
generations with penalised per-engine and Blackwell deviations (a deviation the data cannot support
shrinks to the shared value). The loss is robust (soft-L1) on log(predicted / measured) of TPOT and
TTFT, each (engine, model) group weighted by 1/sqrt(its rows) so that no single sweep dominates.

Cross-validation: leave-one-GPU-out (fit on two of H100/H200/B200, predict the third) and
leave-one-model-out (fit on the other model families). The bands are the 10th and 90th percentiles of
measured / predicted over those held-out predictions. At the end the runtime (plain Python,
core/tools/loadtest.py) is run on every row with the written coefficients and must reproduce this
script's vectorised predictions.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tomli_w
from scipy.optimize import least_squares

sys.path.insert(0, str(Path(__file__).resolve().parent))
from performance_rows import DATA, feature_arrays, load_rows  # noqa: E402
from performance_vector import (  # noqa: E402
    closed_loop,
    coefficient_table,
    free_mask,
    ideal,
    penalty,
    start,
)

from napkinmath.core.engines.performance_data import coefficients_for, performance_table  # noqa: E402
from napkinmath.core.plan.performance import engine_performance  # noqa: E402
from napkinmath.core.tools.loadtest import closed_loop as runtime_closed_loop  # noqa: E402

TOML = Path(__file__).resolve().parent.parent / "core" / "engines" / "data" / "performance.toml"
# Ridge weight on the per-engine and Blackwell deviations (log scale): chosen by the cross-validation
# (10: TPOT 15.2% / 18.4% leave-one-GPU / model-out; 100: 13.8% / 15.3%; 1000: 13.2% / 13.0%)
PENALTY = 1000.0
SOFT_L1_SCALE = 0.1
MAX_EVALUATIONS = 800


def subset(features: dict[str, np.ndarray], mask: np.ndarray) -> dict[str, np.ndarray]:
    return {name: values[mask] for name, values in features.items()}


def group_weights(rows, mask: np.ndarray) -> np.ndarray:
    keys = [(row.engine, row.family) for row, keep in zip(rows, mask, strict=True) if keep]
    counts = {key: keys.count(key) for key in set(keys)}
    weights = np.array([1 / np.sqrt(counts[key]) for key in keys])
    return weights / weights.mean()


def fit(features: dict[str, np.ndarray], weights: np.ndarray, initial: np.ndarray | None = None,
        free: np.ndarray | None = None, penalise: Callable[[np.ndarray], np.ndarray] | None = None,
        soft_l1: float = SOFT_L1_SCALE, ttft_weight: float = 1.0) -> np.ndarray:
    """Robust least squares from the start values; the parameters ``free_mask`` holds fixed stay there.
    scripts/fit_variants.py passes its longer vector (``initial``, ``free``), its penalty, soft-L1 scale and
    the weight of the TTFT residuals against the TPOT ones."""
    root = np.sqrt(weights)
    root_ttft = root * np.sqrt(ttft_weight)
    initial = start() if initial is None else initial
    free = free_mask() if free is None else free
    if penalise is None:
        def penalise(theta: np.ndarray) -> np.ndarray:
            return penalty(theta, PENALTY)

    def residuals(values: np.ndarray) -> np.ndarray:
        theta = initial.copy()
        theta[free] = values
        ttft, tpot = closed_loop(features, theta)
        return np.concatenate([root * np.log(tpot / features["tpot"]), root_ttft * np.log(ttft / features["ttft"]),
                               penalise(theta)])

    result = least_squares(residuals, initial[free], loss="soft_l1", f_scale=soft_l1, max_nfev=MAX_EVALUATIONS)
    theta = initial.copy()
    theta[free] = result.x
    return theta


def errors(features: dict[str, np.ndarray], theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """predicted / measured - 1 for TPOT, TTFT and output tokens/s."""
    ttft, tpot = closed_loop(features, theta)
    out = features["output"]
    rate = out / (ttft + (out - 1) * tpot)
    measured = out / (features["ttft"] + (out - 1) * features["tpot"])
    return tpot / features["tpot"] - 1, ttft / features["ttft"] - 1, rate / measured - 1


def median_abs(values: np.ndarray) -> float:
    return float(np.median(np.abs(values)))


def cross_validate(rows, features, label: str, keys: list[str]) -> dict:
    """Fit without each group in turn, predict it; the pooled held-out errors and per-group medians."""
    keys_array, engines = np.array(keys), np.array([row.engine for row in rows])
    pooled, per_group, held_engines = [[], [], []], {}, []
    for held in sorted(set(keys)):
        train = keys_array != held
        theta = fit(subset(features, train), group_weights(rows, train))
        tpot, ttft, rate = errors(subset(features, ~train), theta)
        for store, values in zip(pooled, (tpot, ttft, rate), strict=True):
            store.append(values)
        held_engines.append(engines[~train])
        per_group[held] = {"rows": int((~train).sum()), "tpot": round(median_abs(tpot), 3),
                           "ttft": round(median_abs(ttft), 3)}
        print(f"  {label} {held:>18}: {int((~train).sum()):4d} rows  |TPOT| {median_abs(tpot):.3f}  "
              f"|TTFT| {median_abs(ttft):.3f}", flush=True)
    tpot, ttft, rate = (np.concatenate(store) for store in pooled)
    engine_of = np.concatenate(held_engines)
    per_engine = {engine: {"rows": int((engine_of == engine).sum()),
                           "tpot": round(median_abs(tpot[engine_of == engine]), 3),
                           "ttft": round(median_abs(ttft[engine_of == engine]), 3)}
                  for engine in sorted(set(engine_of.tolist()))}
    for engine, figures in per_engine.items():
        print(f"  {label} {engine:>18}: {figures['rows']:4d} rows  |TPOT| {figures['tpot']:.3f}  "
              f"|TTFT| {figures['ttft']:.3f}  (pooled held-out, by engine)", flush=True)
    return {"tpot": round(median_abs(tpot), 3), "ttft": round(median_abs(ttft), 3),
            "throughput": round(median_abs(rate), 3), "groups": per_group, "engines": per_engine,
            "_errors": (tpot, ttft, rate)}


def bands(*folds: dict) -> dict[str, list[float]]:
    """10th-90th percentile of measured / predicted over the held-out predictions (time: TPOT, TTFT;
    rate: throughput)."""
    out = {}
    for index, name in enumerate(("tpot", "ttft", "throughput")):
        ratio = 1 / (1 + np.concatenate([fold["_errors"][index] for fold in folds]))
        out[name] = [round(float(np.percentile(ratio, 10)), 3), round(float(np.percentile(ratio, 90)), 3)]
    return out


def coverage(features, theta, band: dict[str, list[float]]) -> dict[str, float]:
    tpot, ttft, rate = errors(features, theta)
    share = {}
    for name, error in (("tpot", tpot), ("ttft", ttft), ("throughput", rate)):
        ratio = 1 / (1 + error)
        share[name] = round(float(np.mean((ratio >= band[name][0]) & (ratio <= band[name][1]))), 3)
    return share


def runtime_check(rows, features, theta) -> float:
    """Largest relative difference between the runtime's closed loop and this script's, over every row."""
    ttft, tpot = closed_loop(features, theta)
    worst = 0.0
    for index, row in enumerate(rows):
        perf = engine_performance(row.profile)
        loop = runtime_closed_loop(perf, row.concurrency, row.input_tokens, row.output_tokens)
        worst = max(worst, abs(loop.ttft_s / ttft[index] - 1), abs(loop.tpot_s / tpot[index] - 1))
    return worst


def write_toml(theta, reasons: dict[str, int], rows_fit: int, logo: dict, lomo: dict, in_sample: dict,
               band: dict, held_coverage: dict, ideal_misses: dict) -> None:
    def public(fold: dict) -> dict:
        return {key: value for key, value in fold.items() if not key.startswith("_")}

    document = {
        "source": {
            "data": "tests/data/measured-serving/silicon_h100_h200_b200.csv: NVIDIA aiconfigurator "
                    "(ai-dynamo/aiconfigurator @095f58a51c4ca8e61b66ec108d86f223f8d559ce, "
                    "aic-core/src/aiconfigurator_core/systems/silicon_sample.csv), H100, H200 and B200 rows only",
            "fit": "scripts/fit_performance.py (robust least squares on log TPOT and TTFT; see docs/accuracy.md)",
            "rows_fitted": rows_fit,
            "rows_left_out": reasons,
        },
        "cross_validation": {"leave_one_gpu_out": public(logo), "leave_one_model_out": public(lomo),
                             "in_sample": in_sample, "band_coverage_held_out": held_coverage,
                             "ideal_below_measurement": ideal_misses},
        "bands": band,
        "coefficients": coefficient_table(theta),
    }
    TOML.write_bytes(tomli_w.dumps(document).encode())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validation (bands stay as they are)")
    args = parser.parse_args()
    started = time.time()
    rows, reasons = load_rows()
    features = feature_arrays(rows)
    print(f"{len(rows)} rows fitted from {DATA.name}; left out: {sum(reasons.values())}")
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        print(f"  {count:5d}  {reason}")
    ideal_ttft, ideal_tpot = ideal(features)
    misses = {"tpot": int((ideal_tpot > features["tpot"]).sum()), "ttft": int((ideal_ttft > features["ttft"]).sum())}
    print(f"peak-spec ideal slower than the measurement: TPOT {misses['tpot']} rows, TTFT {misses['ttft']} rows")
    everything = np.ones(len(rows), bool)
    theta = fit(features, group_weights(rows, everything))
    tpot, ttft, rate = errors(features, theta)
    in_sample = {"tpot": round(median_abs(tpot), 3), "ttft": round(median_abs(ttft), 3),
                 "throughput": round(median_abs(rate), 3)}
    engines = np.array([row.engine for row in rows])
    in_sample["engines"] = {engine: {"tpot": round(median_abs(tpot[engines == engine]), 3),
                                     "ttft": round(median_abs(ttft[engines == engine]), 3)}
                            for engine in sorted(set(engines.tolist()))}
    print(f"in-sample median |error|: TPOT {in_sample['tpot']:.3f}  TTFT {in_sample['ttft']:.3f}  "
          f"throughput {in_sample['throughput']:.3f}; by engine {in_sample['engines']}", flush=True)
    table = performance_table()
    if args.no_cv and "leave_one_gpu_out" in table["cross_validation"]:
        logo, lomo = table["cross_validation"]["leave_one_gpu_out"], table["cross_validation"]["leave_one_model_out"]
        band, held = table["bands"], table["cross_validation"]["band_coverage_held_out"]
    else:
        if args.no_cv:
            raise SystemExit("no cross-validation in the shipped file yet: run without --no-cv once")
        logo = cross_validate(rows, features, "leave out GPU", [row.gpu for row in rows])
        lomo = cross_validate(rows, features, "leave out model", [row.family for row in rows])
        band = bands(logo, lomo)
        held = {}
        for index, name in enumerate(("tpot", "ttft", "throughput")):
            ratio = 1 / (1 + np.concatenate([logo["_errors"][index], lomo["_errors"][index]]))
            held[name] = round(float(np.mean((ratio >= band[name][0]) & (ratio <= band[name][1]))), 3)
    write_toml(theta, reasons, len(rows), logo, lomo, in_sample, band, held, misses)
    performance_table.cache_clear()
    coefficients_for.cache_clear()
    print(f"leave-one-GPU-out median |error|: TPOT {logo['tpot']:.3f}  TTFT {logo['ttft']:.3f}")
    print(f"leave-one-model-out median |error|: TPOT {lomo['tpot']:.3f}  TTFT {lomo['ttft']:.3f}")
    print(f"bands (measured / predicted, 10th-90th percentile of held-out): {band}; held-out coverage {held}")
    print(f"in-sample share inside the bands: {coverage(features, theta, band)}")
    worst = runtime_check(rows, features, theta)
    print(f"runtime (core/tools/loadtest.py) vs this fit: worst relative difference {worst:.2e}")
    print(f"wrote {TOML.relative_to(Path.cwd()) if TOML.is_relative_to(Path.cwd()) else TOML} in "
          f"{time.time() - started:.0f} s")
    return 0 if worst < 1e-6 else 1


if __name__ == "__main__":
    sys.exit(main())
