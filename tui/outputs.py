"""The output widgets: VRAM bar, roofline gauge, capacity/latency panel, cost panel.

Each one shows the app's ``plan`` (bound with ``data_bind``) and computes nothing: every number is a
field of ``Plan``. Colours come from theme variables through component classes.
"""

from __future__ import annotations

import math

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from napkinmath.core.plan.figures import FIGURES_BY_KEY, delta, format_delta
from napkinmath.core.report.formatting import money, rate, seconds
from napkinmath.core.plan.result import Plan
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.specs import GIB

COMPACT_BELOW_WIDTH = 110  # the app's "-narrow" breakpoint
COMPACT_BELOW_HEIGHT = 30


def memory_text(value: float, units: str) -> str:
    """Bytes in GiB or GB, never both on one screen."""
    return f"{value / GIB:,.1f} GiB" if units == "GiB" else f"{value / 1e9:,.1f} GB"


def rate_text(value: float) -> str:
    """core.formatting.rate, with millions shortened for the narrow panels."""
    return f"{value / 1e6:,.2f}M" if value >= 1e6 else rate(value)


time_text = seconds  # the panels' name for core.formatting.seconds


def money_text(value: float | None, digits: int = 2) -> str:
    """core.formatting.money with a dash, not a sentence, where nobody is served."""
    return "—" if value is None else money(value, digits)


def compact_number(value: float) -> str:
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:,.3g}{suffix}"
    return f"{value:,.3g}"


class PlanView(Widget):
    """A widget that renders the current plan; the app binds ``plan``, ``profile`` and ``units``."""

    # Heights are fixed per layout in app.tcss, so a new plan repaints without a layout pass.
    plan: reactive[Plan | None] = reactive(None)
    profile: reactive[Profile | None] = reactive(None)
    units: reactive[str] = reactive("GiB")
    baseline: reactive[Plan | None] = reactive(None)  # pinned: figures show their change against it

    def change(self, key: str, percent_only: bool = False) -> Text:
        """The figure's change against the baseline, green when better for the user, red when worse."""
        if self.baseline is None or self.plan is None:
            return Text("")
        moved = delta(FIGURES_BY_KEY[key], self.baseline, self.plan)
        if percent_only:
            text = "=" if moved.verdict == "same" else (f"{moved.percent:+.0f}%" if moved.percent is not None else "new")
        else:
            text = format_delta(moved)
        style = {"better": "delta--better", "worse": "delta--worse"}.get(moved.verdict, "delta--same")
        # a no-break space: a plain leading space is dropped where this Text follows another segment
        return Text(f"\u00a0{text}", self.get_component_rich_style(style))

    @property
    def peak_column_shown(self) -> bool:
        """The capacity panel shows peak-spec figures beside the expected ones when they differ, in the
        wide layout with no baseline pinned (a pinned baseline's change column takes that place); the
        roofline panel says them in words otherwise."""
        plan = self.plan
        differs = plan is not None and (plan.decode.step_time_ideal < plan.decode.step_time
                                        or plan.prefill.tokens_per_s_ideal > plan.prefill.tokens_per_s)
        return differs and not self.compact and self.baseline is None

    @property
    def compact(self) -> bool:
        """Narrow or short terminals get the compact rendering (same figures, fewer lines)."""
        return self.app.size.width < COMPACT_BELOW_WIDTH or self.app.size.height < COMPACT_BELOW_HEIGHT

    def style(self, name: str):
        return self.get_component_rich_style(name)

    def render(self) -> RenderableType:
        if self.plan is None or self.profile is None:
            return Text("")
        return self.render_plan(self.plan, self.profile)

    def render_plan(self, plan: Plan, profile: Profile) -> RenderableType:
        raise NotImplementedError


def _figures(rows: list[tuple], label_style) -> Table:
    """Label and value, plus a change column when any row carries one."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(style=label_style, no_wrap=True, ratio=1)
    table.add_column(justify="right", no_wrap=True)
    with_changes = any(len(row) > 2 and row[2] for row in rows)
    if with_changes:
        table.add_column(justify="right", no_wrap=True)
    for row in rows:
        table.add_row(*(row if with_changes else row[:2]), *([""] if with_changes and len(row) == 2 else []))
    return table


class VramBar(PlanView):
    """One GPU's memory as a stacked bar: weights, activations, overhead, KV in use, KV headroom, reserved."""

    COMPONENT_CLASSES = {"vram--weights", "vram--activations", "vram--overhead", "vram--kv", "vram--free",
                         "vram--reserved", "vram--overflow", "vram--muted", "vram--bad", "vram--good", "delta--better",
                         "delta--worse", "delta--same"}
    DEFAULT_CSS = """
    VramBar .delta--better { color: $success; }
    VramBar .delta--worse { color: $error; }
    VramBar .delta--same { color: $text-muted; }
    VramBar .vram--weights { color: $vram-weights; }
    VramBar .vram--activations { color: $vram-activations; }
    VramBar .vram--overhead { color: $vram-overhead; }
    VramBar .vram--kv { color: $vram-kv; }
    VramBar .vram--free { color: $vram-free; }
    VramBar .vram--reserved { color: $vram-reserved; }
    VramBar .vram--overflow { color: $error; text-style: bold; }
    VramBar .vram--muted { color: $text-muted; }
    VramBar .vram--bad { color: $error; text-style: bold; }
    VramBar .vram--good { color: $success; }
    """

    SEGMENTS = (("weights", "weights", "█"), ("activations", "activations", "█"), ("overhead", "overhead", "█"),
                ("kv", "KV in use", "█"), ("free", "KV headroom", "▒"), ("reserved", "not allowed", "░"))

    def render_plan(self, plan: Plan, profile: Profile) -> RenderableType:
        memory, units = plan.memory.per_gpu, self.units
        sizes = {"weights": memory.weights, "activations": memory.activations, "overhead": memory.overhead,
                 "kv": memory.kv_used, "free": memory.free, "reserved": memory.reserved}
        width = max(10, self.content_size.width or 60)
        scale = memory.total + memory.shortfall  # an overflow draws past the end of the GPU
        cells = Text(no_wrap=True, overflow="crop")
        start = 0.0
        for key, _, glyph in self.SEGMENTS:
            end = start + sizes[key]
            first, last = round(start / scale * width), round(end / scale * width)
            inside = max(0, min(last, round(memory.total / scale * width)) - first)
            cells.append(glyph * inside, self.style(f"vram--{key}"))
            cells.append("▓" * max(0, last - first - inside), self.style("vram--overflow"))
            start = end
        cells.append("▓" * max(0, width - cells.cell_len), self.style("vram--overflow") if memory.shortfall else "")
        gpus = profile.parallelism.gpus
        if self.compact:
            return Text("\n").join([self._compact_title(plan, profile), cells, *self._compact_legend(sizes),
                                     self._status(plan, short=True)])
        title = Text.assemble(
            ("Memory per GPU ", "bold"),
            (f"· each of {gpus} × {profile.hardware.name} · " if gpus > 1 else f"· {profile.hardware.name} · ",
             self.style("vram--muted")),
            (memory_text(memory.total, units), self.style("vram--muted")),
        )
        legend = Text()
        for key, label, glyph in self.SEGMENTS:
            if sizes[key] <= 0 and key not in ("weights", "kv"):
                continue
            share = sizes[key] / memory.total * 100
            legend.append(f"{glyph} ", self.style(f"vram--{key}"))
            legend.append(f"{label} {memory_text(sizes[key], units)} {share:.0f}%   ")
        return Text("\n").join([title, cells, legend, self._status(plan, short=False)])

    def _compact_title(self, plan: Plan, profile: Profile) -> Text:
        gpus = profile.parallelism.gpus
        return Text.assemble(("Memory per GPU ", "bold"), (f"{memory_text(plan.memory.per_gpu.total, self.units)}"
                                                           + (f" × {gpus} GPUs" if gpus > 1 else ""),
                                                           self.style("vram--muted")))

    def _compact_legend(self, sizes: dict[str, float]) -> list[Text]:
        short = {"weights": "weights", "activations": "act", "overhead": "ovh", "kv": "KV", "free": "free",
                 "reserved": "resv"}
        lines = [Text(), Text()]
        for index, (key, _, glyph) in enumerate(self.SEGMENTS):
            line = lines[0 if index < 3 else 1]
            line.append(f"{glyph}", self.style(f"vram--{key}"))
            line.append(f"{short[key]} {memory_text(sizes[key], self.units).split()[0]}  ")
        lines[1].append(self.units, self.style("vram--muted"))
        return lines

    def _status(self, plan: Plan, short: bool) -> Text:
        memory = plan.memory.per_gpu
        if plan.memory.fits:
            report = plan.engine
            if report is not None:  # the two lines vLLM prints at start-up, as it prints them
                detail = (f" · {report.kv_cache_tokens:,} KV tok · {report.max_concurrency:.2f}x" if short else
                          f" · vLLM {report.version}: {report.kv_cache_size_line} · {report.max_concurrency_line}")
            else:
                detail = (f" · {plan.kv.tokens_capacity:,} KV tokens/GPU" if short else
                          f": {plan.kv.tokens_capacity:,} KV tokens per GPU, {plan.kv.bytes_per_token:,.0f} B per token")
            return Text.assemble(("fits", self.style("vram--good")), detail, self.change("kv_tokens", percent_only=short))
        status = Text.assemble(("does not fit", self.style("vram--bad")),
                               f": short by {memory_text(memory.shortfall, self.units)} per GPU")
        figures, dtype = plan.memory, plan.memory.fitting_weight_dtype
        remedies = []
        if figures.gpus_needed_per_replica and figures.tensor_needed and figures.pipeline_needed:
            split = f"TP {figures.tensor_needed}" + (f" × PP {figures.pipeline_needed}"
                                                     if figures.pipeline_needed > 1 else "")
            remedies.append(f"{figures.gpus_needed_per_replica} GPUs ({split})" if short else
                            f"{figures.gpus_needed_per_replica} × {self.profile.hardware.name} per replica ({split})")
        if dtype:
            remedies.append(f"{dtype} weights")
        if remedies:
            status.append(("\n→ " if short else " — ") + ", or ".join(remedies))
        return status


class RooflineGauge(PlanView):
    """A log-scale arithmetic-intensity axis with the ridge, the decode and prefill points, in words."""

    COMPONENT_CLASSES = {"roofline--axis", "roofline--ridge", "roofline--decode", "roofline--prefill",
                         "roofline--muted"}
    DEFAULT_CSS = """
    RooflineGauge .roofline--axis { color: $text-muted; }
    RooflineGauge .roofline--ridge { color: $roofline-ridge; text-style: bold; }
    RooflineGauge .roofline--decode { color: $roofline-decode; text-style: bold; }
    RooflineGauge .roofline--prefill { color: $roofline-prefill; text-style: bold; }
    RooflineGauge .roofline--muted { color: $text-muted; }
    """

    def render_plan(self, plan: Plan, profile: Profile) -> RenderableType:
        roof, decode = plan.roofline, plan.decode
        points = [decode.arithmetic_intensity, plan.prefill.arithmetic_intensity, roof.ridge]
        low = 10 ** math.floor(math.log10(max(0.1, min(points))))
        high = 10 ** math.ceil(math.log10(max(points) * 1.01))
        width = max(20, (self.content_size.width or 40) - 1)

        def column(value: float) -> int:
            return min(width - 1, max(0, round(math.log10(max(value, low) / low) / math.log10(high / low) * (width - 1))))

        axis = ["─"] * width
        labels = [" "] * (width + 6)
        decade = low
        while decade <= high:
            at = column(decade)
            axis[at] = "┼"
            text = compact_number(decade)
            start = min(at, width - len(text))
            for offset, char in enumerate(text):
                labels[start + offset] = char
            decade *= 10
        line = Text("".join(axis), self.style("roofline--axis"), no_wrap=True, overflow="crop")
        marks = Text(" " * width, no_wrap=True, overflow="crop")
        for value, glyph, style in ((roof.ridge, "│", "roofline--ridge"), (decode.arithmetic_intensity, "D", "roofline--decode"),
                                    (plan.prefill.arithmetic_intensity, "P", "roofline--prefill")):
            at = column(value)
            marks = Text.assemble(marks[:at], Text(glyph, self.style(style)), marks[at + 1:], no_wrap=True,
                                  overflow="crop")
            line.stylize(self.style(style), at, at + 1)
        axis_labels = Text("".join(labels)[:width].rstrip(), self.style("roofline--muted"), no_wrap=True, overflow="crop")
        if self.compact:
            critical = "never" if roof.critical_batch is None else f"{roof.critical_batch:,}"
            legend = Text.assemble(
                ("D ", self.style("roofline--decode")), f"{decode.arithmetic_intensity:,.1f}  ",
                ("P ", self.style("roofline--prefill")), f"{compact_number(plan.prefill.arithmetic_intensity)}  ",
                ("│ ", self.style("roofline--ridge")), f"ridge {roof.ridge:,.0f} · crit {critical}")
            words = f"decode {decode.bound}-bound · compute busy {roof.compute_busy_fraction:.0%}"
            return Text("\n").join([marks, line, axis_labels, legend, Text(words)])
        legend = Text.assemble(
            ("D ", self.style("roofline--decode")), f"decode {decode.arithmetic_intensity:,.1f}  ",
            ("P ", self.style("roofline--prefill")), f"prefill {compact_number(plan.prefill.arithmetic_intensity)}  ",
            ("│ ", self.style("roofline--ridge")), f"ridge {roof.ridge:,.0f} FLOP/B ({roof.weight_compute_path})")
        if roof.critical_batch is None:
            critical = "never compute-bound at this context (KV reads grow as fast as the math)"
        else:
            critical = f"compute-bound from a batch of {roof.critical_batch:,} sequences per pool"
        shares = [f"compute busy {roof.compute_busy_fraction:.0%}"]
        if decode.communication_fraction >= 0.005:
            shares.append(f"comms {decode.communication_fraction:.0%}")
        if decode.engine_time >= 0.005 * decode.step_time:
            shares.append(f"engine {decode.engine_time / decode.step_time:.0%} ({plan.provenance.engine_time})")
        words = f"decode {decode.bound}-bound at batch {decode.batch:,.0f}; {', '.join(shares)}"
        lines = [Text("Roofline (FLOP per byte, log)", style="bold"), marks, line, axis_labels, legend,
                 Text(critical, self.style("roofline--muted")), Text(words)]
        engine, source = profile.engine, plan.provenance
        if not self.peak_column_shown and (decode.step_time_ideal < decode.step_time or engine.mfu < 1):
            lines.append(Text(f"ideal (peak spec): {rate_text(decode.tokens_per_s_per_user_ideal)} tok/s per user, "
                              f"prefill {rate_text(plan.prefill.tokens_per_s_ideal)} tok/s", self.style("roofline--muted")))
        lines.append(Text(f"expected: bandwidth {engine.mbu:.0%} ({source.bandwidth}), FLOPs {engine.mfu:.0%} "
                          f"({source.prefill}); KV budget: {source.kv_budget}", self.style("roofline--muted")))
        return Text("\n").join(lines)


class CapacityPanel(PlanView):
    """Users served and what limits them, sequences, decode and prefill speed, with targets."""

    COMPONENT_CLASSES = {"panel--label", "panel--good", "panel--bad", "panel--strong", "delta--better", "delta--worse",
                         "delta--same"}
    DEFAULT_CSS = """
    CapacityPanel .delta--better { color: $success; }
    CapacityPanel .delta--worse { color: $error; }
    CapacityPanel .delta--same { color: $text-muted; }
    CapacityPanel .panel--label { color: $text-muted; }
    CapacityPanel .panel--good { color: $success; }
    CapacityPanel .panel--bad { color: $error; text-style: bold; }
    CapacityPanel .panel--strong { text-style: bold; }
    """

    LIMITS = {"users": "user count", "memory": "KV memory", "speed": "speed target", "weights": "weights",
              "engine": "engine refuses"}

    def _target(self, value: str, met: bool | None) -> Text:
        if met is None:
            return Text(value)
        return Text.assemble(value, (" ✓" if met else " ✗ target", self.style("panel--good" if met else "panel--bad")))

    def render_plan(self, plan: Plan, profile: Profile) -> RenderableType:
        capacity, decode, prefill, work = plan.capacity, plan.decode, plan.prefill, profile.workload
        served = Text(f"{capacity.users_served:,} of {work.users:,}", self.style("panel--strong"))
        replicas = "—" if capacity.replicas_needed is None else f"{capacity.replicas_needed:,}"
        if self.compact:
            rows = [
                ("Users", Text.assemble(served, f" · {self.LIMITS[capacity.limited_by]}")
                 if self.baseline is None else Text.assemble(served, self.change("users_served", percent_only=True))),
                ("Capacity", f"{capacity.capacity_users:,} users · {replicas} replica"
                 + ("s" if capacity.replicas_needed != 1 else "")),
                ("Sequences", f"{capacity.concurrent_sequences:,}×{capacity.kv_groups} · full ctx "
                 f"{capacity.max_sequences_full_context:,}"),
                ("Decode", Text.assemble(self._target(f"{rate_text(decode.tokens_per_s_per_user)}/user", decode.meets_target),
                                         self.change("tokens_per_s_per_user", percent_only=True),
                                         f" · {rate_text(decode.tokens_per_s_aggregate)} all")),
                ("Step", f"{time_text(decode.step_time)} · prefill {rate_text(prefill.tokens_per_s)} tok/s"),
                ("TTFT", self._target(time_text(prefill.ttft), prefill.meets_target)),
            ]
            return _figures(rows, self.style("panel--label"))
        ideal = self.peak_column_shown

        def third(key: str, peak: str) -> Text:
            """The change against the baseline, or the peak-spec figure."""
            return Text(peak, self.style("panel--label")) if ideal else self.change(key)

        rows = [
            ("Users served", served, self.change("users_served")),
            ("Limited by", self.LIMITS[capacity.limited_by]),
            ("Capacity", f"{capacity.capacity_users:,} users", self.change("capacity_users")),
            ("Seqs @ avg", f"{capacity.concurrent_sequences:,} × {capacity.kv_groups} pool"
             + ("s" if capacity.kv_groups > 1 else ""), self.change("concurrent_sequences")),
            ("Seqs @ full", f"{capacity.max_sequences_full_context:,} per pool"),
            ("Replicas", replicas),
            ("Decode / user", self._target(f"{rate_text(decode.tokens_per_s_per_user)} tok/s", decode.meets_target),
             third("tokens_per_s_per_user", rate_text(decode.tokens_per_s_per_user_ideal))),
            ("Decode, all", f"{rate_text(decode.tokens_per_s_aggregate)} tok/s",
             third("tokens_per_s_aggregate", rate_text(decode.tokens_per_s_aggregate_ideal))),
            ("Step time", time_text(decode.step_time), third("step_time_ms", time_text(decode.step_time_ideal))),
            ("Prefill", f"{rate_text(prefill.tokens_per_s)} tok/s",
             third("prefill_tokens_per_s", rate_text(prefill.tokens_per_s_ideal))),
            ("TTFT", self._target(time_text(prefill.ttft), prefill.meets_target),
             third("ttft_s", time_text(prefill.ttft_ideal))),
        ]
        title = Table.grid(padding=(0, 1), expand=True)
        title.add_column(no_wrap=True, ratio=1)
        title.add_column(justify="right", no_wrap=True)
        title.add_row(Text("Capacity & latency", style="bold"),
                      Text("at peak", self.style("panel--label")) if ideal else "")
        return Group(title, _figures(rows, self.style("panel--label")))


class CostPanel(PlanView):
    """Rented and owned money."""

    COMPONENT_CLASSES = {"panel--label", "panel--strong", "delta--better", "delta--worse", "delta--same"}
    DEFAULT_CSS = """
    CostPanel .delta--better { color: $success; }
    CostPanel .delta--worse { color: $error; }
    CostPanel .delta--same { color: $text-muted; }
    CostPanel .panel--label { color: $text-muted; }
    CostPanel .panel--strong { text-style: bold; }
    """

    def render_plan(self, plan: Plan, profile: Profile) -> RenderableType:
        cost = plan.cost
        if self.compact:
            return Text.assemble(
                ("Cost ", self.style("panel--label")), f"{money_text(cost.per_hour)}/h · ",
                (f"{money_text(cost.per_user_month)}/user-month", self.style("panel--strong")),
                self.change("per_user_month", percent_only=True), "\n",
                ("     ", self.style("panel--label")), f"{money_text(cost.per_million_tokens, 3)}/1M · own ",
                f"{money_text(cost.own_per_hour)}/h, {money_text(cost.own_lifetime_per_user, 0)}/user")
        rows = [
            ("Rent / hour", money_text(cost.per_hour), self.change("per_hour")),
            ("Per user-month", Text(money_text(cost.per_user_month), self.style("panel--strong")),
             self.change("per_user_month")),
            ("Per 1M tokens", money_text(cost.per_million_tokens, 3), self.change("per_million_tokens")),
            ("Owned / hour", money_text(cost.own_per_hour)),
            ("Owned / user", money_text(cost.own_lifetime_per_user, 0), self.change("own_lifetime_per_user")),
        ]
        return Group(Text("Cost", style="bold"), _figures(rows, self.style("panel--label")))
