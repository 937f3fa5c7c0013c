"""The editable fields: one declaration each (label, profile path, unit, how Up/Down nudge it).

The panes build their rows from these; the command palette's "Go to" list comes from them too.
Parsing a field's text into a value is here; checking the value is the core's job, and the range
a nudge stays inside is read from the core's own pydantic field (its ``ge``/``gt``/``le``/``lt``),
never repeated here. Plain Python: the edit session and its tests use it without Textual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel

from napkinmath.core.profile.schema import Profile

from .number_text import parse_number

Kind = Literal["int", "float", "percent", "optional"]
# Inside an exclusive bound (gt/lt) a nudge stops this share of a step short of it: Up/Down on
# "Prefix cached" (lt=1, step 10 %) tops out at 99 %, "Hours/month" (gt=0, step 10) bottoms at 1.
EXCLUSIVE_BOUND_STEP_SHARE = 0.1


@dataclass(frozen=True)
class Bounds:
    """A field's allowed range as the profile schema declares it (None: no bound on that side)."""

    low: float | None = None
    low_inclusive: bool = True
    high: float | None = None
    high_inclusive: bool = True


def schema_bounds(path: str) -> Bounds:
    """The ``ge``/``gt``/``le``/``lt`` constraints pydantic holds for ``section.key`` of a Profile."""
    section, key = path.split(".")
    section_model = Profile.model_fields[section].annotation
    if not (isinstance(section_model, type) and issubclass(section_model, BaseModel)):
        raise TypeError(f"{section}: not a section of the profile")
    info = section_model.model_fields[key]
    bounds: dict[str, Any] = {}
    for constraint in info.metadata:
        for name, side, inclusive in (("ge", "low", True), ("gt", "low", False), ("le", "high", True),
                                      ("lt", "high", False)):
            value = getattr(constraint, name, None)
            if value is not None:
                bounds[side] = float(value)
                bounds[f"{side}_inclusive"] = inclusive
    return Bounds(**bounds)


@dataclass(frozen=True)
class Field:
    """One numeric profile field as the user sees it."""

    path: str  # "section.key" in the profile
    label: str
    unit: str
    kind: Kind = "float"
    step: float = 1.0  # Up/Down
    big_step: float = 10.0  # Shift+Up/Down
    short: str = ""  # the row's label where space is tight; the palette uses ``label``

    @property
    def row_label(self) -> str:
        return self.short or self.label

    @property
    def widget_id(self) -> str:
        return "field-" + self.path.replace(".", "-").replace("_", "-")

    @cached_property
    def bounds(self) -> Bounds:
        return schema_bounds(self.path)

    def value_of(self, profile: Profile) -> Any:
        section, key = self.path.split(".")
        return getattr(getattr(profile, section), key)

    def format(self, value: Any) -> str:
        """The text a value shows as in its input."""
        if value is None:
            return ""
        if self.kind == "percent":
            return f"{value * 100:g}"
        if self.whole:
            return str(int(value))
        return f"{value:.6g}"

    def parse(self, text: str) -> Any:
        """The profile value for typed text (``128k``, ``1.5M`` and ``2*80`` too: tui/number_text.py);
        ValueError with a short reason, in the field's own units, when it is not a value it may hold."""
        number = self.number_shown(text)
        if number is None:
            return None
        if self.whole and number != int(number):
            raise ValueError(f"a whole number, e.g. {max(1, round(number))}")
        self.check(number)
        value = number / 100 if self.kind == "percent" else number
        return int(number) if self.whole else value

    def number_shown(self, text: str) -> float | None:
        """The number typed, as the field shows it (percent fields in %), unchecked; None for an empty
        optional field; ValueError when the text is no number."""
        if not text.strip():
            if self.kind == "optional":
                return None
            raise ValueError("a number is required")
        try:
            return parse_number(text, binary_suffixes=self.unit == "tok", percent=self.kind == "percent")
        except ValueError:
            raise ValueError(self.example) from None

    @property
    def whole(self) -> bool:
        return self.kind == "int" or (self.kind == "optional" and self.unit in ("tok", "seqs"))

    @property
    def example(self) -> str:
        return "a whole number, e.g. 8" if self.whole else "a number, e.g. 0.9"

    def check(self, shown: float) -> None:
        """ValueError saying the allowed range in the field's units ("at most 100 %", "at least 1") when
        ``shown`` (the number as typed: percent fields in %) is outside the schema's bounds."""
        bounds, scale = self.bounds, 100.0 if self.kind == "percent" else 1.0
        if bounds.low is not None and (shown < bounds.low * scale or (shown == bounds.low * scale
                                                                       and not bounds.low_inclusive)):
            word = "at least" if bounds.low_inclusive else "more than"
            raise ValueError(f"{word} {self.amount(bounds.low * scale)}")
        if bounds.high is not None and (shown > bounds.high * scale or (shown == bounds.high * scale
                                                                         and not bounds.high_inclusive)):
            word = "at most" if bounds.high_inclusive else "less than"
            raise ValueError(f"{word} {self.amount(bounds.high * scale)}")

    def amount(self, shown: float) -> str:
        """A number with the field's unit, as the row shows it ("100 %", "1,000,000 total")."""
        number = f"{shown:,.0f}" if shown == int(shown) else f"{shown:,.6g}"
        unit = "" if self.unit in ("total", "way") else self.unit
        if shown == 1 and unit in ("users", "seqs", "years"):
            unit = unit.removesuffix("s")
        if unit == "$":
            return f"${number}"
        return f"{number} {unit}" if unit else number

    def nudge_range(self, big: bool) -> tuple[float, float]:
        """The lowest and highest value a nudge may reach, as shown (percent fields in %)."""
        bounds, scale = self.bounds, 100.0 if self.kind == "percent" else 1.0
        inset = (self.big_step if big else self.step) * EXCLUSIVE_BOUND_STEP_SHARE
        low, high = -math.inf, math.inf
        if bounds.low is not None:
            low = bounds.low * scale + (0 if bounds.low_inclusive else inset)
        if bounds.high is not None:
            high = bounds.high * scale - (0 if bounds.high_inclusive else inset)
        return low, high

    def nudged(self, text: str, direction: int, big: bool) -> str:
        """The text after one Up (+1) or Down (-1) press, kept inside the schema's range; a press never
        moves a value the other way (Down on a value below the range leaves it), except from an empty
        optional field, which starts from 0 and lands inside the range."""
        try:
            value = self.number_shown(text)
        except ValueError:
            return text
        shown = 0.0 if value is None else value
        low, high = self.nudge_range(big)
        moved = min(high, max(low, shown + direction * (self.big_step if big else self.step)))
        if value is not None and (moved - shown) * direction < 0:
            moved = shown
        if self.whole:
            return str(int(round(moved)))
        return f"{round(moved, 6):g}"


HARDWARE_FIELDS = (
    Field("hardware.count", "GPUs", "total", "int", 1, 8),
    Field("parallelism.tensor", "Tensor", "way", "int", 1, 4),
    Field("parallelism.pipeline", "Pipeline", "way", "int", 1, 2),
    Field("parallelism.data", "Attention DP", "way", "int", 1, 4, short="Attn DP"),
    Field("parallelism.expert", "Expert", "way", "int", 1, 4),
    Field("hardware.memory_gib", "Memory", "GiB", "float", 1, 10),
    Field("hardware.bandwidth_tb_s", "Bandwidth", "TB/s", "float", 0.1, 1),
    Field("hardware.price_per_gpu_hour", "Rent", "$/h", "float", 0.1, 1),
)
MODEL_FIELDS = (
    Field("model.params_b", "Parameters", "B", "float", 1, 10, short="Params"),
    Field("model.active_params_b", "Active", "B", "optional", 1, 10),
)
WORKLOAD_FIELDS = (
    Field("workload.max_context_tokens", "Max context", "tok", "int", 1024, 16384, short="Max ctx"),
    Field("workload.avg_context_tokens", "Average context", "tok", "int", 512, 8192, short="Avg ctx"),
    Field("workload.prompt_tokens", "Prompt", "tok", "int", 256, 4096),
    Field("workload.output_tokens", "Output", "tok", "int", 64, 1024),
    Field("workload.users", "Users", "users", "int", 10, 100),
    Field("workload.duty_cycle", "Duty cycle", "%", "percent", 5, 20),
    Field("workload.target_tokens_per_s", "Speed target", "tok/s", "float", 5, 20, short="Speed tgt"),
    Field("workload.ttft_target_s", "TTFT target", "s", "float", 0.5, 2, short="TTFT tgt"),
    Field("workload.prefix_cache_hit", "Prefix cached", "%", "percent", 10, 25, short="Prefix hit"),
    Field("workload.concurrent_prefills", "Prefills at once", "", "int", 1, 4, short="Prefills"),
)
ENGINE_FIELDS = (
    Field("engine.gpu_memory_utilization", "GPU mem use", "%", "percent", 1, 5, short="Mem use"),
    Field("engine.activation_gib", "Activations", "GiB", "optional", 0.5, 2, short="Act peak"),
    Field("engine.overhead_gib", "Overhead", "GiB", "optional", 0.1, 1),
    Field("engine.block_tokens", "KV block", "tok", "optional", 16, 64),
    Field("engine.max_num_batched_tokens", "Batched tokens", "tok", "optional", 1024, 8192, short="Batch tok"),
    Field("engine.max_num_seqs", "Max sequences", "seqs", "optional", 64, 256, short="Max seqs"),
    Field("engine.mbu", "Bandwidth use", "%", "percent", 5, 10, short="BW use"),
    Field("engine.mfu", "FLOPs use", "%", "percent", 5, 10),
    Field("engine.step_overhead_ms", "Step overhead", "ms", "float", 0.5, 5, short="Step ovh"),
    Field("engine.step_overhead_per_sequence_us", "Per sequence", "µs", "float", 10, 100, short="Per seq"),
    Field("cost.hours_per_month", "Hours/month", "h", "float", 10, 30, short="Hours/mo"),
    Field("hardware.purchase_price", "Purchase", "$", "float", 1000, 10000),
    Field("cost.lifetime_years", "Lifetime", "years", "float", 1, 2),
    Field("cost.power_price_kwh", "Power", "$/kWh", "float", 0.01, 0.05),
    Field("cost.pue", "PUE", "", "float", 0.05, 0.2),
)
# The profile run's top-k/top-p kernel ([engine] sampler): (label, select value, what it means).
SAMPLER_DEFAULT = "default"  # stands for an omitted sampler: the engine version's kernel
SAMPLER_CHOICES = (
    ("version's", SAMPLER_DEFAULT, "the kernel a stock install of the engine version runs"),
    ("native sort", "native", "PyTorch sort: 38 B per logit in the profile run"),
    ("FlashInfer", "flashinfer", "14 B per logit; vLLM's Docker images before 0.11.1, and from 0.19"),
)

ALL_FIELDS = HARDWARE_FIELDS + MODEL_FIELDS + WORKLOAD_FIELDS + ENGINE_FIELDS
FIELDS_BY_ID = {field.widget_id: field for field in ALL_FIELDS}
FIELDS_BY_PATH = {field.path: field for field in ALL_FIELDS}
