"""The planner's input panes, built from the field declarations (tui/fields.py) and the catalogs.

Hardware, Model, Workload and Engine & cost: each a scrolling column of rows. On a narrow terminal
the tabs above them pick the one shown (app.tcss).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Static, Tab, Tabs

from napkinmath.core.engines.vllm import ACCOUNTING_ERAS
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.catalog import gpu_catalog, model_catalog
from napkinmath.core.specs.precisions import Precision

from .fields import ENGINE_FIELDS, HARDWARE_FIELDS, MODEL_FIELDS, SAMPLER_CHOICES, SAMPLER_DEFAULT, WORKLOAD_FIELDS
from .fields import Field as InputField
from .widgets import ChoiceRow, FieldEditor, FieldRow, NameRow

PANES = (("hardware", "Hardware"), ("model", "Model"), ("workload", "Workload"), ("engine", "Engine & cost"))
TAB_TITLES = {"engine": "Engine"}  # the tab bar is 36 columns wide
PRECISIONS = [(p.value, p.value) for p in Precision]
ENGINES = [("vLLM", "vllm"), ("generic", "generic")]
VLLM_VERSIONS = [(version, version) for version in ACCOUNTING_ERAS]
SAMPLERS = [(label, value) for label, value, _ in SAMPLER_CHOICES]


def pane_tabs() -> Tabs:
    return Tabs(*(Tab(TAB_TITLES.get(name, title), id=f"tab-{name}") for name, title in PANES), id="pane-tabs")


def _rows(fields: tuple[InputField, ...], profile: Profile, editor: FieldEditor) -> Iterator[FieldRow]:
    for field in fields:
        yield FieldRow(field, field.format(field.value_of(profile)), editor)


def input_panes(profile: Profile, on_edit: FieldEditor, on_rename: Callable[[str], None]) -> ComposeResult:
    """The four panes for ``profile``; every field row reports its edits to ``on_edit`` (the screen), the
    name row to ``on_rename``."""
    rows: dict[str, list[Widget]] = {
        "hardware": [ChoiceRow("hardware.gpu", "GPU", [(gpu_id, gpu_id) for gpu_id in gpu_catalog()],
                               profile.hardware.gpu, "choice-gpu"),
                     *_rows(HARDWARE_FIELDS, profile, on_edit), Static("", id="hardware-info", classes="info"),
                     Button("Detect GPUs", id="detect-gpus", compact=True, action="screen.detect_gpus")],
        "model": [NameRow(profile.name, on_rename),
                  ChoiceRow("model.preset", "Preset", [(model_id, model_id) for model_id in model_catalog()],
                            profile.model.preset, "choice-preset", title="Model preset"),
                  ChoiceRow("model.weight_dtype", "Weights", PRECISIONS, profile.model.weight_dtype.value,
                            "choice-weight-dtype", title="Weight precision"),
                  ChoiceRow("model.kv_dtype", "KV cache", PRECISIONS, profile.model.kv_dtype.value,
                            "choice-kv-dtype", title="KV precision"),
                  *_rows(MODEL_FIELDS, profile, on_edit), Static("", id="model-info", classes="info"),
                  Button("Import config…", id="import-config", compact=True, action="screen.import_config"),
                  Button("Local models…", id="local-models", compact=True, action="screen.local_models")],
        "workload": list(_rows(WORKLOAD_FIELDS, profile, on_edit)),
        "engine": [ChoiceRow("engine.name", "Engine", ENGINES, profile.engine.name, "choice-engine"),
                   ChoiceRow("engine.version", "vLLM", VLLM_VERSIONS, profile.engine.version, "choice-vllm-version",
                             title="vLLM version"),
                   ChoiceRow("engine.sampler", "Sampler", SAMPLERS, profile.engine.sampler, "choice-sampler",
                             unset=SAMPLER_DEFAULT),
                   *_rows(ENGINE_FIELDS, profile, on_edit)],
    }
    for name, title in PANES:
        classes = "pane -active" if name == PANES[0][0] else "pane"
        pane = VerticalScroll(*rows[name], id=f"pane-{name}", classes=classes)
        pane.border_title = title
        pane.can_focus = False
        yield pane


def model_summary(profile: Profile) -> str:
    """The model pane's info lines: name, layers, attention, experts."""
    model = profile.model
    attention = (f"MLA {model.kv_lora_rank}+{model.qk_rope_head_dim}" if model.attention == "mla"
                 else f"GQA {model.kv_heads_or_default}×{model.head_dim_or_default}")
    moe = f" · MoE {model.experts_per_token}/{model.experts}" if model.is_moe else ""
    return f"{model.name}\n{model.layers} layers · {attention}{moe}"
