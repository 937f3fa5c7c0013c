"""Every action of the planner in one declarative table: its keys, what it does, and where it is shown.

The bindings (app and screen), the footer, the help screen and the command palette are all generated
from ``ACTIONS``, so they cannot drift apart. To add a key or a palette command, add one row.

A row with ``action`` None documents keys that widgets handle themselves (Tab, Up/Down in a number
field, Enter on a list); it appears in the help screen only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding, BindingType

Scope = Literal["screen", "app"]


@dataclass(frozen=True)
class Action:
    """One thing a user can do, and every place it is offered."""

    action: str | None  # a Textual action string, run on the planner screen ("screen") or the app
    description: str = ""  # the footer's word, also the binding's description
    keys: str = ""  # Textual key names, comma separated; "" = not bound to a key
    key_display: str = ""  # how the help screen writes the keys ("ctrl+z / ctrl+y")
    help: str = ""  # the help screen's line; "" = not listed there
    palette: str = ""  # the command palette's entry; "" = not in the palette
    palette_help: str = ""  # the palette's second line
    footer: bool = False
    footer_key: str = ""  # how the footer writes the key, when not Textual's way ("?" for question_mark)
    footer_group: str = ""  # rows with the same group share one footer label ("undo/redo")
    footer_short: str = ""  # the footer's word in the narrow layout (tui/footer.py); "" = the description
    footer_narrow: bool = True  # shown in the narrow layout's footer
    scope: Scope = "screen"
    binding_id: str = ""  # a stable id for keymaps

    @property
    def shown_keys(self) -> str:
        return self.key_display or self.keys


ACTIONS: tuple[Action, ...] = (
    # Keys the widgets handle: documented, not bound here.
    Action(None, key_display="Tab / Shift+Tab", help="next / previous field"),
    Action(None, key_display="Up / Down", help="nudge a number by one step"),
    Action(None, key_display="Shift+Up / Shift+Down", help="nudge a number by a big step"),
    Action(None, key_display="Enter", help="open a list (Enter again picks), press a button"),
    Action(None, key_display="Left / Right", help="switch pane on the tabs (narrow)"),
    Action(None, key_display="ctrl+p", help="palette: fields, presets, files, theme"),
    # The planner's own actions, in the footer's order: the key list first, so that it shows however
    # narrow the terminal (the footer is cut at 80 columns).
    Action("help", "Keys", "question_mark,f1", key_display="? / F1", help="this list of keys", palette="Show keys",
           palette_help="every key of the app (?)", footer=True, footer_key="?", binding_id="help"),
    Action("save", "Save", "ctrl+s", help="save (asks a name the first time)", palette="Save profile",
           palette_help="ctrl+s", footer=True, binding_id="save"),
    Action("open", "Open", "ctrl+o", help="open: your profiles and examples", palette="Open profile…",
           palette_help="your profiles and the shipped examples (ctrl+o)", footer=True, binding_id="open"),
    Action("undo", "Undo", "ctrl+z", key_display="ctrl+z / ctrl+y", help="undo / redo any change", palette="Undo",
           palette_help="ctrl+z", footer=True, footer_group="Undo", binding_id="undo"),
    Action("redo", "Redo", "ctrl+y", palette="Redo", palette_help="ctrl+y", footer=True, footer_group="Undo",
           footer_narrow=False, binding_id="redo"),
    Action("pin", "Pin", "f4", key_display="F4", help="pin the plan as a baseline (again: unpin)",
           palette="Pin or unpin the baseline", palette_help="F4: outputs show their change against it", footer=True,
           binding_id="pin"),
    Action("charts", "Charts", "f5", key_display="F5", help="charts: sweeps of any field", palette="Charts…",
           palette_help="F5: sweeps of any field", footer=True, footer_short="Chart", binding_id="charts"),
    Action("compare", "Compare", "f6", key_display="F6", help="compare with the baseline or a profile",
           palette="Compare with the baseline", palette_help="F6 (a profile when none is pinned)", footer=True,
           footer_short="Diff", binding_id="compare"),
    Action("compare_with_profile", palette="Compare with a profile…", palette_help="pick one of yours or an example"),
    Action("recommend", "Advise", "f7", key_display="F7", help="recommend deployments for the workload",
           palette="Recommend deployments…", palette_help="F7: cheapest catalog deployments meeting the targets",
           footer=True, footer_short="Best", binding_id="recommend"),
    Action("load", "Load", "f8", key_display="F8", help="load: users at p99 TTFT/TPOT targets, percentiles",
           palette="Load: users at SLO…", palette_help="F8: the highest rate meeting p99 targets, charts",
           footer=True, binding_id="load"),
    Action("problems", "Issues", "f9", key_display="F9", help="every problem and note of the plan, whole",
           palette="Problems and notes", palette_help="F9: what the strip under the memory bar shortens",
           footer=True, footer_short="Warn", footer_narrow=False, binding_id="problems"),
    Action("toggle_units", "Units", "f2", key_display="F2", help="memory units: GiB ⇄ GB", footer=True,
           footer_narrow=False, binding_id="units"),
    Action("next_theme", "Theme", "f3", key_display="F3", help="next theme: dark, light, ANSI", footer=True,
           footer_narrow=False, scope="app", binding_id="theme"),
    Action("quit", "Quit", "ctrl+q", help="quit (asks if anything is unsaved)", footer=True, scope="app",
           binding_id="quit"),
    Action("help_quit", keys="ctrl+c", scope="app"),  # Textual's: says which key quits (ctrl+c copies in a field)
    # Palette only.
    Action("import_config", palette="Import config.json…", palette_help="a HuggingFace config.json or model folder"),
    Action("local_models", palette="Browse local models…", palette_help="the models in the local HuggingFace cache"),
    Action("detect_gpus", palette="Detect GPUs", palette_help="read nvidia-smi / rocm-smi and fill the hardware"),
    Action("calibrate_log", palette="Calibrate from a vLLM log…", palette_help="the engine's own memory accounting"),
    Action("load_test", palette="Load test…",
           palette_help="TTFT, TPOT and tok/s with ranges, as vllm bench serve --max-concurrency C measures"),
    Action("calibrate_measured", palette="Calibrate from a measurement…",
           palette_help="load-test tok/s, decode tok/s, prefill tok/s or TTFT"),
    Action("export('markdown')", palette="Export: Markdown report", palette_help="copied and written to a file"),
    Action("export('vllm')", palette="Export: vllm serve command", palette_help="copied and written to a file"),
    Action("save_as", palette="Save profile as…", palette_help="under a new name"),
    Action("set_units('GiB')", palette="Units: GiB", palette_help="memory in 2^30 bytes, as nvidia-smi reports"),
    Action("set_units('GB')", palette="Units: GB", palette_help="memory in 10^9 bytes, as datasheets quote"),
)


def bindings(scope: Scope) -> list[BindingType]:
    """The Textual bindings of one scope, in table order. The footer's keys are priority bindings: they
    work while a field has the cursor (a hidden one, ctrl+c, leaves the field its copy)."""
    groups = {row.footer_group: Binding.Group(row.footer_group, compact=True) for row in ACTIONS if row.footer_group}
    return [Binding(row.keys, row.action, row.description, show=row.footer, key_display=row.footer_key or None,
                    priority=row.footer, id=row.binding_id or None, group=groups.get(row.footer_group))
            for row in ACTIONS if row.action and row.keys and row.scope == scope]


def help_rows() -> list[tuple[str, str]]:
    """(keys, what they do) for the help screen, in table order."""
    return [(row.shown_keys, row.help) for row in ACTIONS if row.help]


def palette_rows() -> list[Action]:
    """The rows the command palette offers, in table order."""
    return [row for row in ACTIONS if row.palette and row.action]


ACTION_SCOPES: dict[str, Scope] = {row.action.split("(")[0]: row.scope for row in ACTIONS if row.action}
