"""The VRAM bar: one GPU's memory as a stacked bar, its legend and whether the model fits."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text

from napkinmath.core.plan.result import Plan
from napkinmath.core.profile.schema import Profile

from .plan_view import PlanView, memory_text
from .safe_text import printable


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

    def render_plan(self, plan: Plan, profile: Profile) -> RenderableType:
        memory, units = plan.memory.per_gpu, self.units
        sizes = {"weights": memory.weights, "activations": memory.activations, "overhead": memory.overhead,
                 "state": memory.state_used, "kv": memory.kv_used - memory.state_used, "free": memory.free,
                 "reserved": memory.reserved}
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
                                     self._status(plan, profile, short=True)])
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
        return Text("\n").join([title, cells, legend, self._status(plan, profile, short=False)])

    def _compact_title(self, plan: Plan, profile: Profile) -> Text:
        gpus = profile.parallelism.gpus
        return Text.assemble(("Memory per GPU ", "bold"), (f"{memory_text(plan.memory.per_gpu.total, self.units)}"
                                                           + (f" × {gpus} GPUs" if gpus > 1 else ""),
                                                           self.style("vram--muted")))

    def _compact_legend(self, sizes: dict[str, float]) -> list[Text]:
        short = {"weights": "weights", "activations": "act", "overhead": "ovh", "state": "state", "kv": "KV",
                 "free": "free", "reserved": "resv"}
        lines = [Text(), Text()]
        for index, (key, _, glyph) in enumerate(self.SEGMENTS):
            if key == "state" and sizes[key] <= 0:  # only hybrid models keep a recurrent state
                continue
            line = lines[0 if index < 3 else 1]
            line.append(f"{glyph}", self.style(f"vram--{key}"))
            line.append(f"{short[key]} {memory_text(sizes[key], self.units).split()[0]}  ")
        lines[1].append(self.units, self.style("vram--muted"))
        return lines

    def _status(self, plan: Plan, profile: Profile, short: bool) -> Text:
        status = self._fit(plan, profile, short)
        unmodelled = profile.model.unmodelled  # config fields that can change params, KV or state (issue 13)
        if unmodelled:
            status.append(printable("\n⚠ not modelled: " + ", ".join(unmodelled), 200 if short else 600),
                          self.style("vram--bad"))
        return status

    def _fit(self, plan: Plan, profile: Profile, short: bool) -> Text:
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
            split = f"TP {figures.tensor_needed}" + (f" × PP {figures.pipeline_needed}"
                                                     if figures.pipeline_needed > 1 else "")
            remedies.append(f"{figures.gpus_needed_per_replica} GPUs ({split})" if short else
                            f"{figures.gpus_needed_per_replica} × {profile.hardware.name} per replica ({split})")
        if dtype:
            remedies.append(f"{dtype} weights")
        if remedies:
            status.append(("\n→ " if short else " — ") + ", or ".join(remedies))
        return status
