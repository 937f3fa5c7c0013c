"""The output widgets under the VRAM bar: roofline gauge, capacity/latency panel, cost panel.

Each one shows the screen's ``plan`` and computes nothing (tui/plan_view.py).
"""

from __future__ import annotations

import math
from typing import Any

from rich.console import RenderableType
from rich.text import Text

from napkinmath.core.plan.result import Plan
from napkinmath.core.profile.schema import Profile

from .plan_view import LIMITED_BY_WORDS, PlanView, compact_number, figures_table, money_text, rate_text, time_text

NO_DECODE = "no decode point: the plan does not run (its problems say why)"
NO_DECODE_SHORT = "no decode: the plan does not run"  # the compact panel's one line (as short as its decode line)


class RooflineGauge(PlanView):
    """A log-scale arithmetic-intensity axis with the ridge, the decode and prefill points, in words."""

    TITLE = "Roofline (FLOP/B, log)"

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
        # A plan that does not run has no decode batch: its D would mark a batch nothing serves (issue 17)
        decoding = [(decode.arithmetic_intensity, "D", "roofline--decode")] if plan.runs else []
        points = [point for point, _, _ in decoding] + [plan.prefill.arithmetic_intensity, roof.ridge]
        low = 10 ** math.floor(math.log10(max(0.1, min(points))))
        high = 10 ** math.ceil(math.log10(max(points) * 1.01))
        width = max(20, (self.content_size.width or 40) - 1)

        def column(value: float) -> int:
            share = math.log10(max(value, low) / low) / math.log10(high / low)
            return min(width - 1, max(0, round(share * (width - 1))))

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
        for value, glyph, style in ((roof.ridge, "│", "roofline--ridge"), *decoding,
                                    (plan.prefill.arithmetic_intensity, "P", "roofline--prefill")):
            at = column(value)
            marks = Text.assemble(marks[:at], Text(glyph, self.style(style)), marks[at + 1:], no_wrap=True,
                                  overflow="crop")
            line.stylize(self.style(style), at, at + 1)
        axis_labels = Text("".join(labels)[:width].rstrip(), self.style("roofline--muted"), no_wrap=True,
                           overflow="crop")
        beyond_memory = roof.critical_batch is not None and roof.critical_batch > plan.capacity.concurrent_by_memory
        if self.compact:
            critical = ("never" if roof.critical_batch is None or beyond_memory
                        else compact_number(roof.critical_batch))
            # one line under the axis, never wrapped: a wrapped legend pushed the bound sentence out of the box
            # (Kimi K2 at 80x24), so narrower gaps, then no critical batch, until it fits
            crit = f" · crit {critical}"
            legend = self._legend(plan, bool(decoding), width, (("", "", crit, "  "), ("", "", crit, " "),
                                                                ("", "", "", " ")))
            words = (f"decode {decode.bound}-bound · compute busy {roof.compute_busy_fraction:.0%}" if decoding
                     else NO_DECODE_SHORT)
            return Text("\n").join([marks, line, axis_labels, legend, Text(words)])
        # one line, as in the compact panel: the pinned layout narrows this box (28 columns at 120x36), where the
        # whole legend wrapped into three lines; the unit (the title has it), the weight path, then the words go first
        path = roof.weight_compute_path
        legend = self._legend(plan, bool(decoding), width, (
            ("decode ", "prefill ", f" FLOP/B ({path})", "  "), ("decode ", "prefill ", f" ({path})", "  "),
            ("decode ", "prefill ", "", "  "), ("", "", "", "  "), ("", "", "", " ")))
        if roof.critical_batch is None:
            critical = "never compute-bound at this context (KV reads grow as fast as the math)"
        elif beyond_memory:
            critical = (f"practically never compute-bound: that takes a batch of {roof.critical_batch:,} sequences "
                        f"per pool, and memory holds {plan.capacity.concurrent_by_memory:,}")
        else:
            critical = f"compute-bound from a batch of {roof.critical_batch:,} sequences per pool"
        shares = [f"compute busy {roof.compute_busy_fraction:.0%}"]
        if decode.communication_fraction >= 0.005:
            shares.append(f"comms {decode.communication_fraction:.0%}")
        if decode.engine_time >= 0.005 * decode.step_time:
            shares.append(f"engine {decode.engine_time / decode.step_time:.0%} ({plan.provenance.engine_time})")
        words = (f"decode {decode.bound}-bound at batch {decode.batch:,.0f}; {', '.join(shares)}" if decoding
                 else NO_DECODE)
        engine, source = profile.engine, plan.provenance
        muted = self.style("roofline--muted")
        # (priority, sentence) in the order shown; the lowest priorities are kept first where the box is short
        sentences = [(1, Text(critical, muted)), (0, Text(words))]
        if decoding and not self.peak_column_shown and (decode.step_time_ideal < decode.step_time or engine.mfu < 1):
            sentences.append((4, Text(f"ideal (peak spec): {rate_text(decode.tokens_per_s_per_user_ideal)} tok/s per "
                                      f"user, prefill {rate_text(plan.prefill.tokens_per_s_ideal)} tok/s", muted)))
        band = self._band_sentence(plan, bool(decoding))
        if band is not None:
            sentences.append((2, Text(band, muted)))
        if source.speed == "roofline":
            expected = f"bandwidth {engine.mbu:.0%} ({source.bandwidth}), FLOPs {engine.mfu:.0%} ({source.prefill})"
        else:  # the fitted performance model, whose band is the sentence above
            expected = f"{source.speed} model ({engine.name})"
        sentences.append((3, Text(f"expected: {expected}; KV budget: {source.kv_budget}", muted)))
        fixed = [marks, line, axis_labels, legend]
        return Text("\n").join(fixed + self._fitting(fixed, sentences))

    @staticmethod
    def _band_sentence(plan: Plan, decoding: bool) -> str | None:
        """Where the fitted model expects measurements to fall (its band: the held-out 10th-90th percentile of
        measured / predicted, stopped at the peak-spec ideal; docs/accuracy.md), or None on peak-spec speeds,
        which have no band, and on a plan that would not run."""
        decode, prefill = plan.decode, plan.prefill
        if not decoding or plan.provenance.speed in ("roofline", "peak-spec"):
            return None
        return (f"likely {rate_text(decode.tokens_per_s_per_user_low)}–{rate_text(decode.tokens_per_s_per_user_high)}"
                f" tok/s per user, TTFT {time_text(prefill.ttft_low)}–{time_text(prefill.ttft_high)} (80% of "
                "held-out load tests)")

    def _legend(self, plan: Plan, decoding: bool, width: int,
                variants: tuple[tuple[str, str, str, str], ...]) -> Text:
        """The legend under the axis, on one line: the first of ``variants`` (decode word, prefill word, what follows
        the ridge, gap), longest first, that fits the box's whole width (the axis keeps one column spare), else the
        last. No decode point for a plan that does not run."""
        decode, roof = plan.decode, plan.roofline
        prefill = compact_number(plan.prefill.arithmetic_intensity)
        legend = Text()
        for decode_word, prefill_word, ridge_tail, gap in variants:
            point = (("D ", self.style("roofline--decode")), f"{decode_word}{decode.arithmetic_intensity:,.1f}{gap}")
            legend = Text.assemble(
                *(point if decoding else ()),
                ("P ", self.style("roofline--prefill")), f"{prefill_word}{prefill}{gap}",
                ("│ ", self.style("roofline--ridge")), f"ridge {roof.ridge:,.0f}{ridge_tail}")
            if legend.cell_len <= width + 1:
                break
        return legend

    def _fitting(self, fixed: list[Text], sentences: list[tuple[int, Text]]) -> list[Text]:
        """The sentences, given as (priority, sentence) in the order shown, that fit the box's height under the
        fixed lines, kept lowest priority first (what bounds decode, then the critical batch); all of them before
        the box is laid out. A sentence is left out whole, never cut."""
        height, width = self.content_size.height, self.content_size.width
        if not height or not width:
            return [text for _, text in sentences]
        console = self.app.console

        def rows(text: Text) -> int:
            return len(text.wrap(console, width))

        left = height - sum(rows(text) for text in fixed)
        chosen: set[int] = set()
        for index in sorted(range(len(sentences)), key=lambda at: sentences[at][0]):
            need = rows(sentences[index][1])
            if need <= left:
                chosen.add(index)
                left -= need
        return [text for index, (_, text) in enumerate(sentences) if index in chosen]


class CapacityPanel(PlanView):
    """Users served and what limits them, sequences, decode and prefill speed, with targets."""

    TITLE = "Capacity & latency"

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

    LIMITS = LIMITED_BY_WORDS

    def _target(self, value: str, met: bool | None) -> Text:
        """A figure with its target's mark: ✓ only where the plan runs and serves someone."""
        plan = self.plan
        if met is None or plan is None or (met and (not plan.runs or plan.capacity.users_served == 0)):
            return Text(value)
        return Text.assemble(value, (" ✓" if met else " ✗ target", self.style("panel--good" if met else "panel--bad")))

    def render_plan(self, plan: Plan, profile: Profile) -> RenderableType:
        capacity, decode, prefill, work = plan.capacity, plan.decode, plan.prefill, profile.workload
        served = Text(f"{capacity.users_served:,} of {work.users:,}",
                      self.style("panel--strong" if plan.runs else "panel--bad"))
        replicas = "—" if capacity.replicas_needed is None else f"{capacity.replicas_needed:,}"
        if not plan.runs:
            return self._not_running(plan, served)
        if self.compact:
            rows: list[tuple[Any, ...]] = [
                ("Users", Text.assemble(served, f" · {self.LIMITS[capacity.limited_by]}")
                 if self.baseline is None else Text.assemble(served, self.change("users_served", percent_only=True))),
                ("Capacity", self._capacity_words(capacity.capacity_users, capacity.replicas_needed)),
                ("Sequences", f"{capacity.concurrent_sequences:,}×{capacity.kv_groups} · full ctx "
                 f"{capacity.max_sequences_full_context:,}"),
                ("Decode", Text.assemble(self._target(f"{rate_text(decode.tokens_per_s_per_user)}/user",
                                                      decode.meets_target),
                                         self.change("tokens_per_s_per_user", percent_only=True),
                                         f" · {rate_text(decode.tokens_per_s_aggregate)} all")),
                ("Step", f"{time_text(decode.step_time)} · prefill {rate_text(prefill.tokens_per_s)} tok/s"),
                ("TTFT", self._target(time_text(prefill.ttft), prefill.meets_target)),
            ]
            return figures_table(rows, self.style("panel--label"), self.content_size.width)
        table = self.fitted_table(lambda: self._wide_rows(plan, profile, served, replicas))
        if self.border_subtitle != self._subtitle_text():
            self.call_after_refresh(self._subtitle)
        return table

    def _wide_rows(self, plan: Plan, profile: Profile, served: Text, replicas: str) -> list[tuple[Any, ...]]:
        capacity, decode, prefill = plan.capacity, plan.decode, plan.prefill
        ideal = self.peak_column_shown

        def third(key: str, peak: str) -> Text:
            """The change against the baseline, or the peak-spec figure."""
            return Text(peak, self.style("panel--label")) if ideal else self.change(key)

        return [
            ("Users served", served, self.change("users_served")),
            ("Limited by", self.LIMITS[capacity.limited_by]),
            ("Capacity", f"{capacity.capacity_users:,} users", self.change("capacity_users")),
            ("Seqs @ avg", f"{capacity.concurrent_sequences:,} × {capacity.kv_groups} pool"
             + ("s" if capacity.kv_groups > 1 else ""), self.change("concurrent_sequences")),
            ("Seqs @ full", f"{capacity.max_sequences_full_context:,} per pool"),
            ("Replicas needed", replicas),
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

    def watch_plan(self) -> None:
        self._subtitle()

    def watch_baseline(self) -> None:
        self._subtitle()

    def watch_compact(self) -> None:
        self._subtitle()

    def _subtitle_text(self) -> str:
        """What the last column holds, on the box's lower edge (wide layout), where it is shown."""
        if (self.plan is not None and not self.plan.runs) or not self.third_shown or self.compact:
            return ""
        return ("last column: at peak spec" if self.peak_column_shown else
                "last column: change vs baseline" if self.baseline is not None else "")

    def _subtitle(self) -> None:
        subtitle = self._subtitle_text()
        if self.border_subtitle != subtitle:
            self.border_subtitle = subtitle

    @staticmethod
    def _capacity_words(users: int, replicas: int | None) -> str:
        """"280 users · 2 replicas needed", shortened where the compact panel's 43 columns would cut it."""
        if replicas is None:
            return f"{users:,} users"
        words = f"{users:,} users · {replicas:,} replica{'s' if replicas != 1 else ''} needed"
        return words if len(words) <= 32 else f"{users:,} users · needs {replicas:,}"

    def _not_running(self, plan: Plan, served: Text) -> RenderableType:
        """A plan that cannot run serves nobody: no speeds, only why and how many GPUs it holds."""
        capacity, why = plan.capacity, self.LIMITS[plan.capacity.limited_by]
        label = self.style("panel--label")
        not_run, no_ttft = Text("— (does not run)", label), ("TTFT", Text("—", label))
        rows: list[tuple[Any, ...]]
        if self.compact:
            rows = [("Users", Text.assemble(served, " · ", (why, self.style("panel--bad")))), ("Decode", not_run),
                    no_ttft]
        else:
            rows = [("Users served", served), ("Limited by", Text(why, self.style("panel--bad"))),
                    ("Decode / user", not_run), no_ttft,
                    ("Seqs @ full", f"{capacity.max_sequences_full_context:,} per pool")]
        return figures_table(rows, label, self.content_size.width)


class CostPanel(PlanView):
    """Rented and owned money."""

    TITLE = "Cost"

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
        return self.fitted_table(lambda: [
            ("Rent / hour", money_text(cost.per_hour), self.change("per_hour")),
            ("Per user-month", Text(money_text(cost.per_user_month), self.style("panel--strong")),
             self.change("per_user_month")),
            ("Per 1M tokens", money_text(cost.per_million_tokens, 3), self.change("per_million_tokens")),
            ("Owned / hour", money_text(cost.own_per_hour)),
            ("Owned / user", money_text(cost.own_lifetime_per_user, 0), self.change("own_lifetime_per_user")),
        ])
