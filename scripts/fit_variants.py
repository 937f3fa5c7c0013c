"""Cross-validate variants of the fitted performance model against the shipped one, on the same rows, folds,
loss and group weights as scripts/fit_performance.py (docs/accuracy.md, "Tried on the shipped fit, held out,
and not kept"). Nothing is written: each variant prints its in-sample, leave-one-GPU-out and
leave-one-model-out median |error| of TPOT and TTFT.

    pip install -e ".[fit]"
    python scripts/fit_variants.py shipped            # reproduces the shipped figures
    python scripts/fit_variants.py version            # the other names: see VARIANTS

A variant adds parameters to the fit's vector (each with a ridge on its log towards the shipped model), adds a
per-layer term to the step time (the ``layer-*`` variants), or changes which of its parameters have per-engine
deviations, the soft-L1 scale or the ridge weight.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

from napkinmath.core.engines.releases import release_tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fit_performance as fp  # noqa: E402
import performance_vector as pv  # noqa: E402
from performance_rows import VERSIONS, feature_arrays, load_rows  # noqa: E402

VARIANTS = {
    "shipped": "the shipped fit",
    "version": "a step-time factor per (engine, major.minor version), ridge 30; 1 for a version not in the fit",
    "engine-prefill": "arrival wait, prefill-step time and prefill interconnect multiplier per engine",
    "format": "a routed-expert read multiplier per weight format (fp8, mxfp4, nvfp4), shared, ridge 10",
    "format-engine": "the same per engine and format",
    "mla": "per-layer engine time x a factor on MLA layers, ridge 10",
    "routing": "experts touched by alpha x the step's tokens, alpha in (0, 1]",
    "soft-l1-0.03": "soft-L1 scale 0.03",
    "ridge-3000": "ridge 3,000 on the engine and Blackwell deviations",
    "ridge-10000": "ridge 10,000",
    "layer-floor": "each layer's kernels take at least a fitted floor: roofline max(memory, compute, layers x floor)",
    "layer-floor-only": "the same floor in place of the per-layer and per-MoE-layer engine times (held at 0)",
    "layer-generation": "per-layer and per-MoE-layer engine time x a factor on Blackwell, ridge 10",
    "layer-bytes": "per-layer engine time plus kappa x the weight bytes each layer reads per GPU / bandwidth, "
                   "outside the roofline max",
    "layer-allreduce": "a latency per layer per ring hop of its two all-reduces: t_hop x 2 x layers x (TP - 1)",
    "uniform-weights": "every row weighted 1 (the pooled median's own weighting) instead of 1/sqrt(its group's rows)",
    "ttft-weight-0.5": "TTFT residuals weighted 0.5 against TPOT's",
    "ttft-weight-2": "TTFT residuals weighted 2 against TPOT's",
    "request-per-token": "TTFT plus a fitted time per prompt token outside the engine (tokenisation, transfer), "
                         "per engine, lightly penalised like the other request terms",
    "smooth-roofline": "memory and compute combined as (memory^p + compute^p)^(1/p), p >= 1 fitted, in place of "
                       "their max: a kernel near its ridge point runs below both rooflines",
    "expert-tile-64": "the routed-expert GEMMs compute over whole 64-row tiles per touched expert (padding)",
    "expert-tile-128": "the same with 128-row tiles",
    "request-generation": "the per-request time with a Blackwell deviation, lightly penalised like the other "
                          "request terms (the host and frontend differ between the GPU generations' machines)",
    "engine-sequence": "the per-sequence engine time's per-engine deviation lightly penalised, like the prefill terms",
    "duration-share": "TTFT plus a fitted share of a request's duration, (output - 1) x TPOT, per engine, lightly "
                      "penalised (a harness whose measured requests wait for ones still running)",
    "sequence-overlap": "the per-sequence engine time (scheduling, sampling: CPU work) overlaps the rest of the step, "
                        "as engines that schedule one step ahead run it: step = rest + max(0, per-sequence - rest)",
}
FORMATS = ("fp8", "mxfp4", "nvfp4")
MLA_FAMILIES = ("DeepSeek-V3/R1", "Kimi-K2.5", "GLM-5")
# The fields Coefficients.scaled multiplies: a version factor scales the whole step, as a calibration does
SCALED = ("weights", "expert_weights", "kv", "gemm_decode", "gemm_prefill", "expert_gemm", "attention",
          "comm_decode", "comm_prefill", "collective_s", "step_s", "per_layer_s", "per_moe_layer_s", "per_sequence_s",
          "prefill_step_s")


def version_series(row) -> str | None:
    """(engine, major.minor) of a version a profile can name (performance_rows.VERSIONS), or None."""
    version = row.source["backend_version"]
    if not version or not re.match(VERSIONS[row.engine], version):
        return None
    major, minor = release_tuple(version, version, 2)
    return f"{row.engine}:{major}.{minor}"


class Variant:
    """Extra parameters (appended to the shipped vector) and how they change each row's coefficients."""

    def __init__(self, name: str, rows, features: dict[str, np.ndarray]) -> None:
        self.name, self.extra, self.ridge, self.alpha = name, 0, 0.0, 1.0
        self.soft_l1 = 0.03 if name == "soft-l1-0.03" else fp.SOFT_L1_SCALE
        self.deviation_ridge = {"ridge-3000": 3000.0, "ridge-10000": 10000.0}.get(name, fp.PENALTY)
        self.ttft_weight = {"ttft-weight-0.5": 0.5, "ttft-weight-2": 2.0}.get(name, 1.0)
        if name == "uniform-weights":
            fp.group_weights = lambda rows, mask: np.ones(int(np.sum(mask)))
        if name == "request-per-token":
            pv.NAMES["t_rtok"] = ("request_per_token_s", "exp", np.log(2e-6))
            pv.PREFILL_NAMES = (*pv.PREFILL_NAMES, "t_rtok")
            pv.NP = len(pv.NAMES)
        if name == "duration-share":
            pv.NAMES["k_dur"] = ("duration_share", "exp", np.log(0.02))
            pv.PREFILL_NAMES = (*pv.PREFILL_NAMES, "k_dur")
            pv.NP = len(pv.NAMES)
        if name == "request-generation":
            pv.BW_DEVIATIONS = (*pv.BW_DEVIATIONS, "t_req")
            pv.NB = len(pv.BW_DEVIATIONS)
        if name == "engine-sequence":
            pv.PREFILL_NAMES = (*pv.PREFILL_NAMES, "t_seq")
        if name == "engine-prefill":
            pv.SHARED_ONLY = tuple(n for n in pv.SHARED_ONLY if n not in ("w0", "t_pf", "comm_pf"))
            pv.PREFILL_NAMES = (*pv.PREFILL_NAMES, "w0")
        self.base = len(pv.start())
        if name == "version":
            keys = [version_series(row) for row in rows]
            self.series = sorted({key for key in keys if key})
            features["series"] = np.array([self.series.index(k) if k else -1 for k in keys], float)
            self.extra, self.ridge = len(self.series), 30.0
        elif name in ("format", "format-engine"):
            precisions = np.array([str(row.profile.model.weight_dtype) for row in rows])
            for fmt in FORMATS:
                features["format_" + fmt] = (precisions == fmt).astype(float)
            self.extra, self.ridge = len(FORMATS) * (3 if name == "format-engine" else 1), 10.0
        elif name == "mla":
            features["mla"] = np.array([row.family in MLA_FAMILIES for row in rows], float)
            self.extra, self.ridge = 1, 10.0
        elif name == "routing":
            self.extra = 1
        elif name in ("layer-floor", "layer-bytes"):
            self.extra = 1
        elif name == "layer-floor-only":
            self.extra = 1
            for held in ("t_layer", "t_moe"):
                pv.NAMES[held] = (*pv.NAMES[held][:2], np.log(1e-12))
            pv.HELD = (*pv.HELD, "t_layer", "t_moe")
        elif name == "layer-allreduce":
            features["tensor"] = np.array([row.profile.parallelism.tensor for row in rows], float)
            self.extra = 1
        elif name == "layer-generation":
            self.extra, self.ridge = 1, 10.0
        elif name == "smooth-roofline":
            self.extra = 1

    def start(self) -> np.ndarray:
        first = {"routing": 3.0, "layer-floor": np.log(30e-6), "layer-floor-only": np.log(30e-6),
                 "layer-bytes": np.log(0.1), "layer-allreduce": np.log(2e-6)}.get(self.name, 0.0)
        return np.concatenate([pv.start(), np.full(self.extra, first)])

    def coefficients(self, theta: np.ndarray, f: dict[str, np.ndarray], shipped) -> dict[str, np.ndarray]:
        c = dict(shipped(theta[:self.base], f))
        extra = theta[self.base:]
        if self.name == "version":
            index = f["series"].astype(int)
            scale = np.exp(np.where(index >= 0, extra[np.maximum(index, 0)], 0.0))
            for field in SCALED:
                c[field] = c[field] * scale
        elif self.name in ("format", "format-engine"):
            log = np.zeros(len(f["tpot"]))
            for j, fmt in enumerate(FORMATS):
                slot = f["engine"].astype(int) * len(FORMATS) + j if self.name == "format-engine" else j
                log = log + f["format_" + fmt] * extra[slot]
            c["expert_weights"] = c["expert_weights"] * np.exp(log)
        elif self.name == "mla":
            c["per_layer_s"] = c["per_layer_s"] * np.exp(f["mla"] * extra[0])
        elif self.name == "routing":
            self.alpha = float(1 / (1 + np.exp(-extra[0])))
        elif self.name in ("layer-floor", "layer-floor-only"):
            c["layer_floor_s"] = np.exp(extra[0])
        elif self.name == "layer-bytes":
            c["layer_bytes"] = np.exp(extra[0])
        elif self.name == "layer-allreduce":
            c["hop_s"] = np.exp(extra[0])
        elif self.name == "smooth-roofline":
            c["roofline_p"] = 1 + np.exp(extra[0])
        elif self.name.startswith("expert-tile-"):
            c["expert_tile"] = float(self.name.rsplit("-", 1)[1])
        elif self.name == "sequence-overlap":
            c["sequence_overlap"] = 1.0
        elif self.name == "layer-generation":
            factor = np.exp(f["blackwell"] * extra[0])
            c["per_layer_s"], c["per_moe_layer_s"] = c["per_layer_s"] * factor, c["per_moe_layer_s"] * factor
        return c

    def penalty(self, theta: np.ndarray) -> np.ndarray:
        ridged = theta[self.base:] if self.ridge else np.zeros(0)
        return np.concatenate([pv.penalty(theta[:self.base], self.deviation_ridge), np.sqrt(self.ridge) * ridged])


def expert_padding(f, tokens, tile: float):
    """Rows the routed-expert GEMMs compute over the rows they need when each touched expert's tokens are padded to
    whole tiles of ``tile`` rows (uniform routing; a touched expert's mean count m padded to max(tile, m + tile / 2),
    half a tile on average once it spans several): 1 for dense models."""
    total = tokens * f["data_ranks"]
    experts = np.where(f["experts"] > 0, f["experts"], 1.0)
    touched = experts * pv.touched(total, f["experts"], f["experts_per_token"])
    rows = np.maximum(total * f["experts_per_token"], 1e-9)
    mean = rows / np.maximum(touched, 1e-9)
    return np.where((f["experts"] > 0) & (total > 0), touched * np.maximum(tile, mean + tile / 2) / rows, 1.0)


def variant_step_time(step_time):
    """``performance_vector.step_time`` with a variant's change to the step. ``layer_floor_s``: the roofline is at
    least that per layer, as a layer's kernels cannot finish faster than their launch and ramp-up however few bytes
    and FLOPs they have (with CUDA graphs the launches overlap the work, so the floor bounds the layer rather than
    adding to it). ``layer_bytes``: each layer adds that share of its weight reads (dense and the touched experts, at
    peak bandwidth) outside the roofline max, as kernels that stream weights overlap the loads with their compute
    only in part. ``hop_s``: each layer's two all-reduces add that per ring hop (TP - 1 of them), as a ring's latency
    grows with its length (the shipped ``collective_s`` is one latency per collective whatever the TP).
    ``roofline_p``: memory and compute combine as (memory^p + compute^p)^(1/p), as a kernel near its ridge point
    runs below both rooflines. ``expert_tile``: the routed-expert GEMMs compute over whole tiles (``expert_padding``).
    ``sequence_overlap``: the per-sequence engine time overlaps the rest of the step."""

    def step(f, c, decodes, kv, prefill, pairs, ideal=False):
        if ideal or c is None:
            return step_time(f, c, decodes, kv, prefill, pairs, ideal)
        if "expert_tile" in c:
            c = {**c, "expert_gemm": c["expert_gemm"] * expert_padding(f, decodes + prefill, c["expert_tile"])}
        memory, compute, comm, engine = pv.step_parts(f, c, decodes, kv, prefill, pairs)
        roofline = np.maximum(memory, compute)
        if "roofline_p" in c:
            p, top = c["roofline_p"], np.maximum(roofline, 1e-30)
            roofline = top * np.power(np.power(memory / top, p) + np.power(compute / top, p), 1 / p)
        if "layer_floor_s" in c:
            roofline = np.maximum(roofline, c["layer_floor_s"] * f["layers"])
        if "hop_s" in c:
            comm = comm + c["hop_s"] * 2 * f["layers"] * (f["tensor"] - 1)
        if "layer_bytes" in c:
            share = pv.touched((decodes + prefill) * f["data_ranks"], f["experts"], f["experts_per_token"])
            engine = engine + c["layer_bytes"] * (f["dense_read_s"] + f["expert_read_s"] * share)
        total = roofline + comm + engine
        if "sequence_overlap" in c:
            sequences = c["per_sequence_s"] * decodes
            rest = total - sequences
            return rest + np.maximum(0.0, sequences - rest)
        return total

    return step


def install(variant: Variant) -> None:
    """Route performance_vector's coefficients, expert-touch share and step time through the variant."""
    shipped, touched = pv.coefficients, pv.touched
    pv.coefficients = lambda theta, f: variant.coefficients(theta, f, shipped)
    pv.touched = lambda tokens, experts, per_token: touched(tokens * variant.alpha, experts, per_token)
    pv.step_time = variant_step_time(pv.step_time)
    if variant.name in ("request-per-token", "duration-share"):
        closed_loop = pv.closed_loop

        def with_ttft_term(f, theta):
            """The closed loop, plus the request time per prompt token or the share of a request's duration."""
            ttft, tpot = closed_loop(f, theta)
            c = pv.coefficients(theta, f)
            if "request_per_token_s" in c:
                return ttft + c["request_per_token_s"] * f["input"], tpot
            return ttft + c["duration_share"] * np.maximum(f["output"] - 1, 0.0) * tpot, tpot

        pv.closed_loop = fp.closed_loop = with_ttft_term
    shipped_fit = fp.fit

    def fit(features: dict[str, np.ndarray], weights: np.ndarray) -> np.ndarray:
        """The shipped fit over the variant's longer vector, with its penalty and soft-L1 scale."""
        free = np.concatenate([pv.free_mask(), np.ones(variant.extra, bool)])
        return shipped_fit(features, weights, variant.start(), free, variant.penalty, variant.soft_l1,
                           variant.ttft_weight)

    fp.fit = fit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", choices=sorted(VARIANTS))
    args = parser.parse_args()
    rows, _ = load_rows()
    features = feature_arrays(rows)
    variant = Variant(args.variant, rows, features)
    install(variant)
    theta = fp.fit(features, fp.group_weights(rows, np.ones(len(rows), bool)))
    tpot, ttft, _ = fp.errors(features, theta)
    print(f"{args.variant} ({VARIANTS[args.variant]}): in sample TPOT {fp.median_abs(tpot):.4f} "
          f"TTFT {fp.median_abs(ttft):.4f}; extra parameters {np.round(theta[variant.base:], 3).tolist()}", flush=True)
    for label, keys in (("GPU", [row.gpu for row in rows]), ("model", [row.family for row in rows])):
        held = fp.cross_validate(rows, features, f"leave out {label}", keys)
        tpot, ttft, _ = held["_errors"]
        print(f"{args.variant}: leave one {label} out TPOT {fp.median_abs(tpot):.4f} TTFT {fp.median_abs(ttft):.4f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
