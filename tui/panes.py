"""The planner's input panes, built from the field declarations (tui/fields.py) and the catalogs.

Hardware, Model, Workload and Engine & cost: each a scrolling column of rows. On a narrow terminal
the tabs above them pick the one shown (app.tcss).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Collapsible, Static, Tab, Tabs

from napkinmath.core.engines.sglang import DEFAULT_SGLANG_VERSION
from napkinmath.core.engines.trtllm import DEFAULT_TRTLLM_VERSION
from napkinmath.core.engines.vllm import ACCOUNTING_ERAS
from napkinmath.core.plan.result import Plan
from napkinmath.core.profile.schema import ENGINE_LABELS, ENGINE_NAMES, Profile
from napkinmath.core.specs.catalog import gpu_catalog, model_catalog
from napkinmath.core.specs.precisions import Precision
from napkinmath.core.specs.specs import GIB

from .fields import ENGINE_FIELDS, HARDWARE_FIELDS, MODEL_FIELDS, SAMPLER_CHOICES, SAMPLER_DEFAULT, WORKLOAD_FIELDS
from .fields import Field as InputField
from .widgets import ChoiceRow, FieldEditor, FieldRow, NameRow

PANES = (("hardware", "Hardware"), ("model", "Model"), ("workload", "Workload"), ("engine", "Engine & cost"))
TAB_TITLES = {"engine": "Engine"}  # the tab bar is 36 columns wide
PRECISIONS = [(p.value, p.value) for p in Precision]
# every engine a profile can name, as its messages call it ("generic" plans vLLM's memory on the roofline)
ENGINES = [("generic" if name == "generic" else ENGINE_LABELS[name], name) for name in ENGINE_NAMES]
# The releases the version select offers for each engine: vLLM's accounting eras; SGLang's newest checked release and
# one before its 0.5.3 memory reserve (core/engines/sglang.py); TensorRT-LLM's checked release. A profile's other
# release (typed in its file) is offered beside them.
ENGINE_RELEASES = {"vllm": ACCOUNTING_ERAS, "generic": ACCOUNTING_ERAS, "sglang": (DEFAULT_SGLANG_VERSION, "0.5.2"),
                   "trtllm": (DEFAULT_TRTLLM_VERSION,)}


def version_choices(profile: Profile) -> list[tuple[str, str]]:
    """The version select's choices for the profile's engine, its own release among them."""
    releases = ENGINE_RELEASES[profile.engine.name]
    extra = () if profile.engine.version in releases else (profile.engine.version,)
    return [(version, version) for version in (*releases, *extra)]


def version_label(profile: Profile) -> str:
    """The version select's label: the engine's name ("vLLM", "SGLang", "TensorRT-LLM")."""
    return ENGINE_LABELS[profile.engine.name]
SAMPLERS = [(label, value) for label, value, _ in SAMPLER_CHOICES]


def pane_tabs() -> Tabs:
    return Tabs(*(Tab(TAB_TITLES.get(name, title), id=f"tab-{name}") for name, title in PANES), id="pane-tabs")


def _rows(fields: tuple[InputField, ...], profile: Profile, editor: FieldEditor) -> Iterator[FieldRow]:
    for field in fields:
        yield FieldRow(field, field.format(field.value_of(profile)), editor)


# The Engine & cost pane's 18 rows in sections that fold, one open at a time, so that none hides under a
# scrollbar at 120x36 (11 rows): the choices and memory settings, batching, speed, cost.
ENGINE_SECTIONS = (
    ("Engine & memory", ("engine.gpu_memory_utilization", "engine.activation_gib", "engine.overhead_gib")),
    ("Batching", ("engine.block_tokens", "engine.max_num_batched_tokens", "engine.max_num_seqs")),
    ("Speed", ("engine.mbu", "engine.mfu", "engine.step_overhead_ms", "engine.step_overhead_per_sequence_us")),
    ("Cost", ("cost.hours_per_month", "hardware.purchase_price", "cost.lifetime_years", "cost.power_price_kwh",
              "cost.pue")),
)


def gpu_options() -> list[tuple[RenderableType, str]]:
    """The GPU list: each id with its memory, bandwidth and assumed rent, in columns."""
    width = max(len(gpu_id) for gpu_id in gpu_catalog())
    return [(Text.assemble(gpu_id.ljust(width + 1), (f"{gpu.memory_gib:6.1f} GiB {gpu.bandwidth_tb_s:5.2f} TB/s "
                                                     + f"${gpu.price_per_gpu_hour:.2f}/h".rjust(8), "dim")), gpu_id)
            for gpu_id, gpu in gpu_catalog().items()]


def _billions(count: float) -> str:
    return f"{count:,.0f}B" if count >= 100 else f"{count:.3g}B"


def model_options() -> list[tuple[RenderableType, str]]:
    """The model list: each id with its parameters (and those active per token, for a mixture of experts)."""
    width = max(len(model_id) for model_id in model_catalog())
    options: list[tuple[RenderableType, str]] = []
    for model_id, model in model_catalog().items():
        active = f" · {_billions(model.active_params / 1e9)} active" if model.is_moe else ""
        options.append((Text.assemble(model_id.ljust(width + 1), (f"{_billions(model.params_b)}{active}", "dim")),
                        model_id))
    return options


def _engine_sections(profile: Profile, editor: FieldEditor) -> Iterator[Collapsible]:
    choices = [ChoiceRow("engine.name", "Engine", ENGINES, profile.engine.name, "choice-engine"),
               ChoiceRow("engine.version", version_label(profile), version_choices(profile), profile.engine.version,
                         "choice-vllm-version", title="engine version"),
               ChoiceRow("engine.sampler", "Sampler", SAMPLERS, profile.engine.sampler, "choice-sampler",
                         unset=SAMPLER_DEFAULT)]
    by_path = {field.path: field for field in ENGINE_FIELDS}
    for index, (title, paths) in enumerate(ENGINE_SECTIONS):
        rows = [*(choices if index == 0 else []), *_rows(tuple(by_path[path] for path in paths), profile, editor)]
        yield Collapsible(*rows, title=title, collapsed=index > 0, id=f"section-{title.split()[0].lower()}")


def input_panes(profile: Profile, on_edit: FieldEditor, on_rename: Callable[[str], None]) -> ComposeResult:
    """The four panes for ``profile``; every field row reports its edits to ``on_edit`` (the screen), the
    name row to ``on_rename``."""
    rows: dict[str, list[Widget]] = {
        "hardware": [ChoiceRow("hardware.gpu", "GPU", gpu_options(), profile.hardware.gpu, "choice-gpu",
                               faces={gpu_id: gpu_id for gpu_id in gpu_catalog()}),
                     *_rows(HARDWARE_FIELDS, profile, on_edit), Static("", id="hardware-info", classes="info"),
                     Button("Detect GPUs", id="detect-gpus", compact=True, action="screen.detect_gpus")],
        "model": [NameRow(profile.name, on_rename),
                  ChoiceRow("model.preset", "Preset", model_options(), profile.model.preset, "choice-preset",
                            title="Model preset", faces={model_id: model_id for model_id in model_catalog()}),
                  ChoiceRow("model.weight_dtype", "Weights", PRECISIONS, profile.model.weight_dtype.value,
                            "choice-weight-dtype", title="Weight precision"),
                  ChoiceRow("model.kv_dtype", "KV cache", PRECISIONS, profile.model.kv_dtype.value,
                            "choice-kv-dtype", title="KV precision"),
                  *_rows(MODEL_FIELDS, profile, on_edit), Static("", id="model-info", classes="info"),
                  Button("Import config…", id="import-config", compact=True, action="screen.import_config"),
                  Button("Local models…", id="local-models", compact=True, action="screen.local_models")],
        "workload": list(_rows(WORKLOAD_FIELDS, profile, on_edit)),
        "engine": list(_engine_sections(profile, on_edit)),
    }
    for name, title in PANES:
        classes = "pane -active" if name == PANES[0][0] else "pane"
        pane = VerticalScroll(*rows[name], id=f"pane-{name}", classes=classes)
        pane.border_title = title
        pane.can_focus = False
        yield pane


def _short(value: float) -> str:
    """A number in at most four characters, for a placeholder beside "auto" in a 9-column field."""
    if value >= 10_000:
        return f"{value / 1024:g}k" if value % 1024 == 0 else f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value:.0f}"
    return f"{value:.3g}"


def values_in_use(profile: Profile, plan: Plan) -> dict[str, str]:
    """What an empty optional field stands for, as its placeholder shows it ("1.7 auto"): the value the
    plan used, from the engine's defaults or the model."""
    memory, report = plan.memory.per_gpu, plan.engine
    used: dict[str, float | None] = {
        "model.active_params_b": profile.model.active_params / 1e9,
        "engine.activation_gib": memory.activations / GIB,
        "engine.overhead_gib": memory.overhead / GIB,
        "engine.block_tokens": plan.kv.block_tokens,
        "engine.max_num_batched_tokens": report.max_num_batched_tokens if report else None,
        "engine.max_num_seqs": report.max_num_seqs if report else None,
    }
    return {path: "" if value is None else f"{_short(value)} auto" for path, value in used.items()}


def model_summary(profile: Profile) -> str:
    """The model pane's info lines: name, layers, attention, experts."""
    model = profile.model
    attention = (f"MLA {model.kv_lora_rank}+{model.qk_rope_head_dim}" if model.attention == "mla"
                 else f"GQA {model.kv_heads_or_default}×{model.head_dim_or_default}")
    moe = f" · MoE {model.experts_per_token}/{model.experts}" if model.is_moe else ""
    return f"{model.name}\n{model.layers} layers · {attention}{moe}"
