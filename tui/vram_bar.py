"""The VRAM bar: one GPU's memory as a stacked bar, its legend and whether the model fits."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text

from napkinmath.core.plan.remedies import shape_words
from napkinmath.core.plan.result import Plan
from napkinmath.core.profile.schema import Profile

from .plan_view import PlanView, memory_text


class VramBar(PlanView):
    """One GPU's memory as a stacked bar: weights, activations, overhead, recurrent state in use (hybrid
    models), KV in use, KV headroom, reserved."""

    COMPONENT_CLASSES = {"vram--weights", "vram--activations", "vram--overhead", "vram--state", "vram--kv",
                         "vram--free", "vram--reserved", "vram--overflow", "vram--muted", "vram--bad", "vram--good",
                         "delta--better", "delta--worse", "delta--same"}
    DEFAULT_CSS = """
    VramBar .delta--better { color: $success; }
    VramBar .delta--worse { color: $error; }
    VramBar .delta--same { color: $text-muted; }
    VramBar .vram--weights { color: $vram-weights; }
    VramBar .vram--activations { color: $vram-activations; }
    VramBar .vram--overhead { color: $vram-overhead; }
    VramBar .vram--state { color: $vram-kv; text-style: dim; }
    VramBar .vram--kv { color: $vram-kv; }
    VramBar .vram--free { color: $vram-free; }
    VramBar .vram--reserved { color: $vram-reserved; }
    VramBar .vram--overflow { color: $error; text-style: bold; }
    VramBar .vram--muted { color: $text-muted; }
    VramBar .vram--bad { color: $error; text-style: bold; }
    VramBar .vram--good { color: $success; }
    """

    SEGMENTS = (("weights", "weights", "█"), ("activations", "activations", "█"), ("overhead", "overhead", "█"),
                ("state", "state in use", "▆"), ("kv", "KV in use", "█"), ("free", "KV headroom", "▒"),
                ("reserved", "not allowed", "░"))

    # Where the terminal shows no colour (NO_COLOR), each segment keeps a glyph of its own.
    MONOCHROME_GLYPHS = {"weights": "█", "activations": "▚", "overhead": "▞", "state": "▆", "kv": "▄", "free": "▒",
                         "reserved": "░"}

    @property
    def segments(self) -> tuple[tuple[str, str, str], ...]:
        if not self.app.no_color:
            return self.SEGMENTS
        return tuple((key, label, self.MONOCHROME_GLYPHS[key]) for key, label, _ in self.SEGMENTS)

    def render_plan(self, plan: Plan, profile: Profile) -> RenderableType:
        memory, units = plan.memory.per_gpu, self.units
        sizes = {"weights": memory.weights, "activations": memory.activations, "overhead": memory.overhead,
                 "state": memory.state_used, "kv": memory.kv_used - memory.state_used, "free": memory.free,
                 "reserved": memory.reserved}
        width = max(10, self.content_size.width or 60)
        scale = memory.total + memory.shortfall  # an overflow draws past the end of the GPU
        cells = Text(no_wrap=True, overflow="crop")
        start = 0.0
        for key, _, glyph in self.segments:
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
                                     self._status(plan, profile, short=True, width=width)])
        title = Text.assemble(
            ("Memory per GPU ", "bold"),
            (f"· each of {gpus} × {profile.hardware.name} · " if gpus > 1 else f"· {profile.hardware.name} · ",
             self.style("vram--muted")),
            (memory_text(memory.total, units), self.style("vram--muted")),
        )
        title.truncate(width, overflow="ellipsis")
        return Text("\n").join([title, cells, self._legend(sizes, memory.total, width),
                                 self._status(plan, profile, short=False, width=width)])

    SHORT_LABELS = {"weights": "weights", "activations": "act", "overhead": "ovh", "state": "state", "kv": "KV",
                    "free": "free", "reserved": "resv"}

    def _legend(self, sizes: dict[str, float], total: float, width: int) -> Text:
        """One line: each segment's glyph, label, size and share; shares, units per item, then long labels
        are left out where the line would not fit, never an item."""
        shown = [(key, label, glyph) for key, label, glyph in self.segments
                 if sizes[key] > 0 or key in ("weights", "kv")]
        for form in ("full", "no share", "no units", "short"):
            legend = Text(no_wrap=True, overflow="crop")
            for key, label, glyph in shown:
                size = memory_text(sizes[key], self.units)
                if form in ("no units", "short"):
                    size = size.split()[0]
                name = self.SHORT_LABELS[key] if form == "short" else label
                share = f" {sizes[key] / total * 100:.0f}%   " if form == "full" else "  "
                legend.append(f"{glyph} ", self.style(f"vram--{key}"))
                legend.append(f"{name} {size}{share}")
            legend.rstrip()
            if form in ("no units", "short"):
                legend.append(f"  {self.units}", self.style("vram--muted"))
            if legend.cell_len <= width:
                break
        return legend

    def _compact_title(self, plan: Plan, profile: Profile) -> Text:
        gpus = profile.parallelism.gpus
        return Text.assemble(("Memory per GPU ", "bold"), (f"{memory_text(plan.memory.per_gpu.total, self.units)}"
                                                           + (f" × {gpus} GPUs" if gpus > 1 else ""),
                                                           self.style("vram--muted")))

    def _compact_legend(self, sizes: dict[str, float]) -> list[Text]:
        short = self.SHORT_LABELS
        lines = [Text(), Text()]
        for index, (key, _, glyph) in enumerate(self.segments):
            if key == "state" and sizes[key] <= 0:  # only hybrid models keep a recurrent state
                continue
            line = lines[0 if index < 3 else 1]
            line.append(f"{glyph}", self.style(f"vram--{key}"))
            line.append(f"{short[key]} {memory_text(sizes[key], self.units).split()[0]}  ")
        lines[1].append(self.units, self.style("vram--muted"))
        return lines

    def _status(self, plan: Plan, profile: Profile, short: bool, width: int = 0) -> Text:
        """Whether it fits and starts, and what would where it does not. The wide form falls back to the
        compact wording where the line would not fit."""
        make = self._wont_start if plan.memory.fits and not plan.runs else self._fit
        status = make(plan, profile, short)
        if short and width and max(line.cell_len for line in status.split("\n")) > width:
            status = make(plan, profile, True, terse=True)  # "8 GPUs" without its split, as "(TP 4 × DP 2)" was cut
        if not short and width and status.cell_len > width:
            status = make(plan, profile, True)
            status = Text("  ").join(status.split("\n"))
            status.truncate(width, overflow="ellipsis")
        return status

    def _wont_start(self, plan: Plan, profile: Profile, short: bool, terse: bool = False) -> Text:
        """The weights fit but the engine will not start: one request does not fit the KV cache left, or it
        refuses the settings (the problems strip says which, whole)."""
        head = Text("won't start", self.style("vram--bad"))
        kv, work = plan.kv, profile.workload
        if plan.capacity.max_sequences_full_context > 0:
            return Text.assemble(head, " · weights fit; the engine refuses the settings (below)")
        shape = plan.memory.shape_to_start  # the plan's remedy, computed with its figures
        remedies = [f"max context ≤ {kv.longest_context_that_fits:,}"] if kv.longest_context_that_fits else []
        if shape is not None:
            remedies.append(self._shape_text(shape.gpus_per_replica, shape.tensor, shape.pipeline, profile, short,
                                             terse))
        fix = ", or ".join(remedies)
        if short:
            return Text.assemble(head, f" · {kv.tokens_capacity:,} KV tok < {work.max_context_tokens:,}",
                                 f"\n→ {fix}" if fix else "")
        return Text.assemble(head, f": one {work.max_context_tokens:,}-token request needs more than the "
                                   f"{kv.tokens_capacity:,} KV tokens left", f" — {fix}" if fix else "")

    @staticmethod
    def _shape_text(gpus: int, tensor: int, pipeline: int, profile: Profile, short: bool, terse: bool = False) -> str:
        """A remedy shape in words: "4 GPUs (TP 4)", or "4 × GPU name per replica (TP 4)" in the wide form, or
        only "4 GPUs" where the compact line has no room for the split (the problems strip says it whole)."""
        if terse:
            return f"{gpus} GPUs"
        return shape_words(gpus, tensor, pipeline, profile.parallelism.data, None if short else profile.hardware.name)

    def _fit(self, plan: Plan, profile: Profile, short: bool, terse: bool = False) -> Text:
        memory = plan.memory.per_gpu
        if plan.memory.fits:
            report = plan.engine
            if report is not None:  # the two lines vLLM prints at start-up, as it prints them
                detail = (f" · {report.kv_cache_tokens:,} KV tok · {report.max_concurrency:.2f}x" if short else
                          f" · vLLM {report.version}: {report.kv_cache_size_line} · {report.max_concurrency_line}")
            else:
                detail = (f" · {plan.kv.tokens_capacity:,} KV tokens/GPU" if short else
                          f": {plan.kv.tokens_capacity:,} KV tokens per GPU, "
                          f"{plan.kv.bytes_per_token:,.0f} B per token")
            return Text.assemble(("fits", self.style("vram--good")), detail,
                                 self.change("kv_tokens", percent_only=short))
        status = Text.assemble(("does not fit", self.style("vram--bad")),
                               f": short by {memory_text(memory.shortfall, self.units)} per GPU")
        figures, dtype = plan.memory, plan.memory.fitting_weight_dtype
        remedies = []
        if figures.gpus_needed_per_replica and figures.tensor_needed and figures.pipeline_needed:
            remedies.append(self._shape_text(figures.gpus_needed_per_replica, figures.tensor_needed,
                                             figures.pipeline_needed, profile, short, terse))
        if dtype:
            remedies.append(f"{dtype} weights")
        if remedies:
            status.append(("\n→ " if short else " — ") + ", or ".join(remedies))
        return status
