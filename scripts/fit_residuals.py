"""Is what the fitted performance model misses learnable from what a row records? (docs/accuracy.md, "What is
left, and whether a row's features can predict it")

    pip install -e ".[fit]"        # numpy, scipy and scikit-learn
    python scripts/fit_residuals.py

On the folds of scripts/fit_performance.py (leave one GPU out, leave one model out) each fold's fit predicts its
held-out rows; then a correction learned only on the fold's fitting rows is applied to them, and the pooled median
|predicted / measured - 1| is printed with and without it. Corrections:

- ``same engine and model elsewhere`` (leave one GPU out only): each held-out row times the median measured / predicted
  of its (engine, model) rows on the other GPUs, or of its model's rows (any engine); what a per-model
  coefficient in the catalog could carry to a new GPU.
- ``boosted``: gradient-boosted trees (scikit-learn, absolute-error loss) on log(measured / predicted) of the
  fitting rows, from the row's features (engine, GPU generation, parallelism, lengths, concurrency, precision, the
  model's shape, the fitted predictions themselves); ``small`` uses only engine, lengths, concurrency, MoE and the
  predictions, with fewer and shallower trees.

It also prints how far repeated measurements of one configuration (same model, engine and version, GPU, precision,
parallelism, lengths and concurrency; different runs) agree, and, in sample, how much of the shipped fit's miss is
an offset per group (the miss left when each group's own median is taken out). Nothing is written.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fit_performance as fp  # noqa: E402
import performance_vector as pv  # noqa: E402
from performance_rows import feature_arrays, load_rows  # noqa: E402

BOOSTED = {"boosted": {"max_depth": 3, "max_iter": 300, "min_samples_leaf": 40},
           "boosted, small": {"max_depth": 2, "max_iter": 100, "min_samples_leaf": 100}}


def row_features(f: dict[str, np.ndarray], rows, theta: np.ndarray, small: bool) -> np.ndarray:
    ttft, tpot = pv.closed_loop(f, theta)
    run_share = pv.running(f) / f["concurrency"]
    columns = [f["engine"] == 0, f["engine"] == 1, f["engine"] == 2, np.log2(f["concurrency"]), np.log2(f["input"]),
               np.log2(f["output"]), f["experts"] > 0, run_share, np.log(tpot), np.log(ttft)]
    if not small:
        precision = np.array([str(row.profile.model.weight_dtype) for row in rows])
        columns += [f["blackwell"], [row.profile.parallelism.tensor for row in rows],
                    [row.profile.parallelism.data for row in rows], [row.profile.parallelism.expert for row in rows],
                    *(precision == name for name in ("bf16", "fp8", "nvfp4", "mxfp4", "int4")),
                    f["layers"], f["moe_layers"], np.log(f["dense_read_s"] + 1e-9), np.log(f["expert_read_s"] + 1e-9),
                    np.log(f["gemm_s_per_token"] + 1e-12), f["window"] > 0]
    return np.column_stack([np.asarray(column, float) for column in columns])


def boosted(train_x, train_y, weights, test_x, settings) -> np.ndarray:
    model = HistGradientBoostingRegressor(loss="absolute_error", learning_rate=0.05, random_state=0, **settings)
    model.fit(train_x, train_y, sample_weight=weights)
    return model.predict(test_x)


def group_median(log_ratio, train, test, keys) -> np.ndarray:
    """Each test row's correction: the median log ratio of the training rows with its key (0 where none)."""
    out = np.zeros(int(test.sum()))
    for key in set(keys[test]):
        seen = train & (keys == key)
        if seen.any():
            out[keys[test] == key] = np.median(log_ratio[seen])
    return out


def held_out(rows, f, label: str, keys: list[str]) -> None:
    keys_array, n = np.array(keys), len(rows)
    engine_model = np.array([f"{row.engine}|{row.family}" for row in rows])
    family = np.array([row.family for row in rows])
    corrections = ["none", *BOOSTED] + (["same engine and model elsewhere", "same model elsewhere"]
                                        if label == "GPU" else [])
    errors = {name: {"tpot": np.zeros(n), "ttft": np.zeros(n)} for name in corrections}
    for held in sorted(set(keys)):
        train, test = keys_array != held, keys_array == held
        weights = fp.group_weights(rows, train)
        theta = fp.fit(fp.subset(f, train), weights)
        ttft, tpot = pv.closed_loop(f, theta)
        train_rows = [row for row, keep in zip(rows, train, strict=True) if keep]
        test_rows = [row for row, keep in zip(rows, test, strict=True) if keep]
        x = {small: (row_features(fp.subset(f, train), train_rows, theta, small),
                     row_features(fp.subset(f, test), test_rows, theta, small)) for small in (False, True)}
        for name, predicted in (("tpot", tpot), ("ttft", ttft)):
            log_ratio = np.log(f[name] / predicted)
            errors["none"][name][test] = predicted[test] / f[name][test] - 1
            for correction, settings in BOOSTED.items():
                x_train, x_test = x[correction.endswith("small")]
                shift = boosted(x_train, log_ratio[train], weights, x_test, settings)
                errors[correction][name][test] = predicted[test] * np.exp(shift) / f[name][test] - 1
            if label == "GPU":
                for correction, groups in (("same engine and model elsewhere", engine_model),
                                           ("same model elsewhere", family)):
                    shift = group_median(log_ratio, train, test, groups)
                    errors[correction][name][test] = predicted[test] * np.exp(shift) / f[name][test] - 1
        print(f"  leave out {label} {held}: fitted and corrected", flush=True)
    for correction, values in errors.items():
        print(f"leave one {label} out, correction {correction!r}: TPOT {fp.median_abs(values['tpot']):.4f} "
              f"TTFT {fp.median_abs(values['ttft']):.4f}", flush=True)


def deployment_key(row) -> tuple:
    """One deployment: model, engine and version, GPU, TP, attention DP and weight precision."""
    return (row.family, row.engine, row.gpu, row.source["backend_version"], row.profile.parallelism.tensor,
            row.profile.parallelism.data, str(row.profile.model.weight_dtype))


def offsets(rows, f) -> None:
    """In sample: the miss left when each group's own median log ratio is taken out."""
    theta = fp.fit(f, fp.group_weights(rows, np.ones(len(rows), bool)))
    ttft, tpot = pv.closed_loop(f, theta)
    print(f"in sample: TPOT {fp.median_abs(tpot / f['tpot'] - 1):.4f} TTFT {fp.median_abs(ttft / f['ttft'] - 1):.4f}")
    parts = {
        "(model, engine, GPU)": lambda r: (r.family, r.engine, r.gpu),
        "deployment (+ version, TP, attention DP, precision)": deployment_key,
        "deployment and prompt / reply lengths": lambda r: (*deployment_key(r), r.input_tokens, r.output_tokens),
    }
    for label, key in parts.items():
        keys = np.array(["|".join(map(str, key(row))) for row in rows])
        left = {}
        for name, predicted in (("tpot", tpot), ("ttft", ttft)):
            log_ratio = np.log(predicted / f[name])
            for group in set(keys):
                members = keys == group
                log_ratio[members] -= np.median(log_ratio[members])
            left[name] = fp.median_abs(np.expm1(log_ratio))
        print(f"in sample, each {label} group's median taken out ({len(set(keys))} groups): "
              f"TPOT {left['tpot']:.4f} TTFT {left['ttft']:.4f}")


def repeats(rows) -> None:
    """How far two measurements of one configuration differ: median and 90th percentile of |log(one / other)|."""
    fields = ("model_path", "backend", "backend_version", "system", "precision", "gemm_quant_mode", "moe_quant_mode",
              "isl", "osl", "batch_size", "tp_size", "pp_size", "attention_dp_size", "moe_tp_size", "moe_ep_size")
    groups: dict[tuple, list] = {}
    for row in rows:
        groups.setdefault(tuple(row.source[field] for field in fields), []).append(row)
    tpot, ttft = [], []
    for members in groups.values():
        for index, one in enumerate(members):
            for other in members[index + 1:]:
                tpot.append(abs(np.log(one.tpot_s / other.tpot_s)))
                ttft.append(abs(np.log(one.ttft_s / other.ttft_s)))
    print(f"repeated measurements: {sum(len(m) > 1 for m in groups.values())} configurations, {len(tpot)} pairs; "
          f"|log ratio| median TPOT {np.median(tpot):.4f} TTFT {np.median(ttft):.4f}, 90th percentile TPOT "
          f"{np.percentile(tpot, 90):.4f} TTFT {np.percentile(ttft, 90):.4f}")


def main() -> int:
    rows, _ = load_rows()
    f = feature_arrays(rows)
    repeats(rows)
    offsets(rows, f)
    held_out(rows, f, "GPU", [row.gpu for row in rows])
    held_out(rows, f, "model", [row.family for row in rows])
    return 0


if __name__ == "__main__":
    sys.exit(main())
