"""The napkinmath app: three input panes (plus engine & cost), the VRAM bar, the roofline, capacity, cost.

The app holds one immutable ``Profile`` in a reactive; ``compute_plan`` calls the core and
``data_bind`` hands the plan to the output widgets. Panes post small messages when the user edits a
field; only the app changes the profile, through ``core.profile_edit.edit_profile``. A refused value
is marked on its field, and the last good plan stays on screen, marked stale.
"""

from __future__ import annotations

import asyncio
import gc
from dataclasses import replace
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive, var
from textual.widgets import Button, Footer, Header, Static, Tab, Tabs

from napkinmath.core.specs.catalog import gpu_catalog, model_catalog
from napkinmath.core.errors import ProfileError
from napkinmath.core.profile.paths import DEFAULT_PROFILE, napkin_home, shipped_profile, shipped_profiles, user_profiles_dir
from napkinmath.core.plan.result import Plan
from napkinmath.core.plan.compose import plan as make_plan
from napkinmath.core.specs.precisions import Precision
from napkinmath.core.profile.schema import Profile
from napkinmath.core.profile.edit import edit_profile, with_section
from napkinmath.core.profile.files import load_profile, save_profile, write_text_atomically
from napkinmath.core.engines.vllm import ACCOUNTING_ERAS
from napkinmath.themes import APP_VARIABLE_DEFAULTS, THEMES
from napkinmath.tui.commands import NapkinCommands
from napkinmath.tui.discovery import DiscoveryActions
from napkinmath.tui.fields import (
    ENGINE_FIELDS,
    FIELDS_BY_ID,
    HARDWARE_FIELDS,
    MODEL_FIELDS,
    SAMPLER_CHOICES,
    SAMPLER_DEFAULT,
    WORKLOAD_FIELDS,
    Field,
)
from napkinmath.tui.history import History
from napkinmath.tui.outputs import CapacityPanel, CostPanel, RooflineGauge, VramBar
from napkinmath.tui.screens import HelpScreen, OpenScreen, QuitScreen, SaveAsScreen, profile_file_name
from napkinmath.tui.settings import Settings, load_settings, save_settings
from napkinmath.tui.widgets import CatalogChosen, ChoiceRow, FieldRow

PANES = (("hardware", "Hardware"), ("model", "Model"), ("workload", "Workload"), ("engine", "Engine & cost"))
TAB_TITLES = {"engine": "Engine"}  # the tab bar is 36 columns wide
PRECISIONS = [(p.value, p.value) for p in Precision]
ENGINES = [("vLLM", "vllm"), ("generic", "generic")]
VLLM_VERSIONS = [(version, version) for version in ACCOUNTING_ERAS]
SAMPLERS = [(label, value) for label, value, _ in SAMPLER_CHOICES]
# What the help screen lists; tests press each of them.
KEY_MAP: list[tuple[str, str]] = [
    ("Tab / Shift+Tab", "next / previous field"),
    ("Up / Down", "nudge a number by one step"),
    ("Shift+Up / Shift+Down", "nudge a number by a big step"),
    ("Enter", "open a list (Enter again picks), press a button"),
    ("Left / Right", "switch pane on the tabs (narrow)"),
    ("ctrl+p", "palette: fields, presets, files, theme"),
    ("ctrl+s", "save (asks a name the first time)"),
    ("ctrl+o", "open: your profiles and examples"),
    ("ctrl+z / ctrl+y", "undo / redo any change"),
    ("F4", "pin the plan as a baseline (again: unpin)"),
    ("F5", "charts: sweeps of any field"),
    ("F6", "compare with the baseline or a profile"),
    ("F7", "recommend deployments for the workload"),
    ("? / F1", "this list of keys"),
    ("F2", "memory units: GiB ⇄ GB"),
    ("F3", "next theme: dark, light, ANSI"),
    ("ctrl+q", "quit (asks if anything is unsaved)"),
]


class NapkinApp(DiscoveryActions, App[None]):
    """A live what-if planner for serving an LLM."""

    CSS_PATH = "app.tcss"
    TITLE = "napkinmath"
    COMMANDS = App.COMMANDS | {NapkinCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, id="save"),
        Binding("ctrl+o", "open", "Open", priority=True, id="open"),
        Binding("ctrl+z", "undo", "Undo", priority=True, id="undo"),
        Binding("ctrl+y", "redo", "Redo", show=False, priority=True, id="redo"),
        Binding("f4", "pin", "Pin", priority=True, id="pin"),
        Binding("f5", "charts", "Charts", priority=True, id="charts"),
        Binding("f6", "compare", "Compare", show=False, priority=True, id="compare"),
        Binding("f7", "recommend", "Recommend", show=False, priority=True, id="recommend"),
        Binding("question_mark,f1", "help", "Keys", key_display="?", priority=True, id="help"),
        Binding("f2", "toggle_units", "GiB/GB", show=False, priority=True, id="units"),
        Binding("f3", "next_theme", "Theme", show=False, priority=True, id="theme"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
    ]

    profile: var[Profile] = var(None, init=False)  # type: ignore[arg-type]
    plan: var[Plan | None] = var(None, init=False)
    baseline: var[Plan | None] = var(None, init=False)  # the pinned plan the outputs compare against
    units: reactive[str] = reactive("GiB", init=False)
    dirty: var[bool] = var(False, init=False)

    def __init__(self, profile: Profile, path: Path | None = None, problem: str | None = None,
                 settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.profile_path = path
        self.problem = problem
        self.invalid: dict[str, str] = {}  # widget id -> why its text is refused
        self.info_texts: dict[str, str] = {}
        self.field_rows: list[FieldRow] = []
        self.choice_rows: list[ChoiceRow] = []
        self.inputs_ready = False
        self.session_models: dict[str, dict] = {}  # imported models: presets for as long as the app runs
        self.history = History()
        self.baseline_name = ""
        self.inputs_mounted = asyncio.Event()  # set once the input panes exist (tests await it)
        self.set_reactive(NapkinApp.profile, profile)
        self.set_reactive(NapkinApp.plan, make_plan(profile))
        self.set_reactive(NapkinApp.units, self.settings.units)
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = self.settings.theme

    # ----------------------------------------------------------------- layout
    async def _mount_inputs(self) -> None:
        """Build the input panes once the plan is on screen.

        Its ~190 widgets take about half a second to build and style on a small machine; the figures
        need only a dozen. Painting the plan first shows the answer half a second sooner
        (bench/tui_latency.py reports both moments).
        """
        tabs = Tabs(*(Tab(TAB_TITLES.get(name, title), id=f"tab-{name}") for name, title in PANES), id="pane-tabs")
        await self.query_one("#inputs").mount(tabs, Horizontal(*self._panes(), id="panes"))
        await self.mount(Footer())  # it lists the focused widget's keys: nothing to list before the fields exist
        self.field_rows = list(self.query(FieldRow))
        self.choice_rows = list(self.query(ChoiceRow))
        self.inputs_ready = True
        self._show_profile()
        if self.focused is None:
            self.screen.focus_next()
        self.inputs_mounted.set()
        # Everything built so far lives as long as the app: keep it out of the cyclic collector's full
        # passes, which otherwise walk every widget (about 90 ms, a few times a minute while typing).
        gc.freeze()

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(APP_VARIABLE_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield Header()
        with Container(id="main"):
            yield Vertical(id="inputs")  # filled right after the first paint: see _mount_inputs
            with Vertical(id="outputs"):
                yield self._bound(VramBar(id="vram"))
                with Container(id="bottom"):
                    for widget in (RooflineGauge(id="roofline"), CapacityPanel(id="capacity"), CostPanel(id="cost")):
                        yield self._bound(widget)

    @staticmethod
    def _bound(widget):
        return widget.data_bind(NapkinApp.plan, NapkinApp.profile, NapkinApp.units, NapkinApp.baseline)

    def _panes(self) -> ComposeResult:
        profile = self.profile
        rows = {
            "hardware": [ChoiceRow("hardware.gpu", "GPU", [(gpu_id, gpu_id) for gpu_id in gpu_catalog()],
                                   profile.hardware.gpu, "choice-gpu"),
                         *self._rows(HARDWARE_FIELDS), Static("", id="hardware-info", classes="info"),
                         Button("Detect GPUs", id="detect-gpus", compact=True)],
            "model": [ChoiceRow("model.preset", "Preset", [(model_id, model_id) for model_id in model_catalog()],
                                profile.model.preset, "choice-preset", title="Model preset"),
                      ChoiceRow("model.weight_dtype", "Weights", PRECISIONS, profile.model.weight_dtype.value,
                                "choice-weight-dtype", title="Weight precision"),
                      ChoiceRow("model.kv_dtype", "KV cache", PRECISIONS, profile.model.kv_dtype.value,
                                "choice-kv-dtype", title="KV precision"),
                      *self._rows(MODEL_FIELDS), Static("", id="model-info", classes="info"),
                      Button("Import config…", id="import-config", compact=True),
                      Button("Local models…", id="local-models", compact=True)],
            "workload": list(self._rows(WORKLOAD_FIELDS)),
            "engine": [ChoiceRow("engine.name", "Engine", ENGINES, profile.engine.name, "choice-engine"),
                       ChoiceRow("engine.version", "vLLM", VLLM_VERSIONS, profile.engine.version, "choice-vllm-version",
                                 title="vLLM version"),
                       ChoiceRow("engine.sampler", "Sampler", SAMPLERS, profile.engine.sampler, "choice-sampler",
                                 unset=SAMPLER_DEFAULT),
                       *self._rows(ENGINE_FIELDS)],
        }
        for name, title in PANES:
            classes = "pane -active" if name == PANES[0][0] else "pane"
            pane = VerticalScroll(*rows[name], id=f"pane-{name}", classes=classes)
            pane.border_title = title
            pane.can_focus = False
            yield pane

    def _rows(self, fields: tuple[Field, ...]):
        for field in fields:
            yield FieldRow(field, field.format(field.value_of(self.profile)))

    def on_mount(self) -> None:
        self._show_title()
        self.call_after_refresh(self._mount_inputs)
        if self.problem:
            self.notify(self.problem, title="Could not open the profile", severity="error", timeout=12)


    # ----------------------------------------------------------------- planning
    def watch_profile(self, profile: Profile) -> None:
        # The plan is recomputed here, once per profile change, and nowhere else.
        self.plan = make_plan(profile)
        if self.inputs_ready:
            self._show_profile()

    def _show_profile(self, force: bool = False) -> None:
        """Field texts, selects, info lines and the title follow the profile.

        The field being typed in keeps its text unless ``force`` (a whole new profile was loaded).
        """
        if not self.inputs_ready:
            self._show_title()
            return
        profile = self.profile
        for row in self.field_rows:
            if force or row.field.widget_id not in self.invalid:
                row.show_value(row.field.format(row.field.value_of(profile)), force)
        for row in self.choice_rows:
            section, key = row.path.split(".")
            value = getattr(getattr(profile, section), key)
            if row.path == "model.preset" and value is None:
                value = self.session_preset
            row.show_value(value.value if isinstance(value, Precision) else value)
        hw, model = profile.hardware, profile.model
        self._update_static("#hardware-info", hw.name)
        attention = (f"MLA {model.kv_lora_rank}+{model.qk_rope_head_dim}" if model.attention == "mla"
                     else f"GQA {model.kv_heads_or_default}×{model.head_dim_or_default}")
        moe = f" · MoE {model.experts_per_token}/{model.experts}" if model.is_moe else ""
        self._update_static("#model-info", f"{model.name}\n{model.layers} layers · {attention}{moe}")
        self._show_title()

    def _update_static(self, selector: str, text: str) -> None:
        """Static.update lays the screen out again: only call it when the text really changes."""
        if self.info_texts.get(selector) != text:
            self.info_texts[selector] = text
            self.query_one(selector, Static).update(text)

    def watch_dirty(self) -> None:
        if self.is_mounted:
            self._show_title()

    def _apply(self, path: str, value, merge: bool = False) -> str | None:
        """Apply one edit; the reason when the core refuses it. ``merge``: a keystroke in a field, which
        joins the previous keystrokes of that field in one undo step."""
        try:
            profile = edit_profile(self.profile, path, value)
        except ProfileError as error:
            return str(error).removeprefix(f"{path}: ")
        if profile != self.profile:
            self.history.record(self.profile, field=path if merge else None)
            self.profile = profile
            self.dirty = True
        return None

    def edit_field(self, field: Field, text: str) -> None:
        """The user typed in a field: apply it if the core accepts it, else mark the field (see FieldRow)."""
        self._edit_field(field, text)
        self._retry_invalid(except_id=field.widget_id)
        self._show_stale()

    def _edit_field(self, field: Field, text: str) -> None:
        row = self.query_one(f"#{field.widget_id}-row", FieldRow)
        current = field.value_of(self.profile)
        try:
            value = field.parse(text)
        except ValueError as error:
            reason: str | None = str(error)
        else:
            # the text as shown (rounded to 6 digits) stands for the exact value behind it
            unchanged = value == current or text.strip() == field.format(current)
            reason = None if unchanged else self._apply(field.path, value, merge=True)
        if reason is None:
            self.invalid.pop(field.widget_id, None)
        else:
            self.invalid[field.widget_id] = reason
        row.show_error(reason)

    def _retry_invalid(self, except_id: str) -> None:
        """A field refused because of another one (average above max) may be fine now."""
        for widget_id in [key for key in self.invalid if key != except_id]:
            row = self.query_one(f"#{widget_id}-row", FieldRow)
            self._edit_field(FIELDS_BY_ID[widget_id], row.input.value)

    def _show_stale(self) -> None:
        """Dim the outputs and say why in the header while any field holds a refused value."""
        stale = bool(self.invalid)
        self.query_one("#outputs").set_class(stale, "-stale")
        self._show_title()

    def _show_title(self) -> None:
        if self.invalid:
            first_id, reason = next(iter(self.invalid.items()))
            more = f" (+{len(self.invalid) - 1} more)" if len(self.invalid) > 1 else ""
            self.sub_title = f"⚠ stale plan: {FIELDS_BY_ID[first_id].label}: {reason}{more}"
        else:
            pinned = f"  ·  baseline: {self.baseline_name}" if self.baseline is not None else ""
            self.sub_title = f"{self.profile.name}{' •' if self.dirty else ''}{pinned}"

    def on_catalog_chosen(self, message: CatalogChosen) -> None:
        self.choose(message.path, message.value)

    def choose(self, path: str, value: str | None) -> None:
        """Load a catalog entry or precision (from a select or the palette).

        Choosing what is already chosen does nothing: reloading a catalog entry would drop the
        profile's own overrides (the seed profiles' 192 GB, say).
        """
        section, key = path.split(".")
        current = getattr(getattr(self.profile, section), key)
        if value == (current.value if isinstance(current, Precision) else current):
            return
        if path == "model.preset":
            if value == self.session_preset:
                return
            if value in self.session_models:
                self.load_section("model", self.session_models[value], session_preset=value)
                return
        reason = self._apply(path, value)
        if reason:
            self.notify(reason, title="Not applied", severity="error")
        self._refresh_fields()

    def load_section(self, section: str, fields: dict, session_preset: str | None = None) -> bool:
        """Replace [hardware] or [model] whole (detected GPUs, an imported model); False if refused."""
        try:
            profile = with_section(self.profile, section, fields)
        except ProfileError as error:
            self.notify(str(error), title="Not applied", severity="error", timeout=12)
            return False
        if session_preset is not None:
            if session_preset not in self.session_models:
                self.query_one("#choice-preset-row", ChoiceRow).add_option(f"{session_preset} (imported)", session_preset)
            self.session_models[session_preset] = dict(fields)
        self._replace_profile(profile)
        return True

    @property
    def session_preset(self) -> str | None:
        """The imported model now loaded, if any: the profile's model has no catalog preset and carries the
        name it was imported under."""
        model = self.profile.model
        return model.name if model.preset is None and model.name in self.session_models else None

    def _replace_profile(self, profile: Profile, dirty: bool = True, undoable: bool = True) -> None:
        """A whole new profile (a section loaded, a calibration, a file opened; undo and redo with
        ``undoable=False``): every field follows it, and ctrl+z brings the old one back."""
        if undoable:
            self.history.record(self.profile)
        self.profile = profile
        self.dirty = dirty
        self._refresh_fields()

    def _refresh_fields(self) -> None:
        """After a change made elsewhere than a field: no field is refused, every field shows the profile."""
        self.invalid.clear()
        for row in self.field_rows:
            row.show_error(None)
        self._show_profile(force=True)
        self._show_stale()

    def action_undo(self) -> None:
        self._restore(self.history.undo(self.profile), "Nothing to undo")

    def action_redo(self) -> None:
        self._restore(self.history.redo(self.profile), "Nothing to redo")

    def _restore(self, profile: Profile | None, empty: str) -> None:
        if profile is None:
            self.notify(empty, timeout=2)
            return
        self._replace_profile(profile, undoable=False)

    def action_pin(self) -> None:
        """Pin the current plan as the baseline every output compares against; pressed again, unpin."""
        if self.baseline is None:
            self.baseline, self.baseline_name = self.plan, self.profile.name
            self.notify("Outputs now show their change against this plan (F4 again unpins)", title="Baseline pinned",
                        timeout=4)
        else:
            self.baseline, self.baseline_name = None, ""
            self.notify("Baseline unpinned", timeout=2)
        self.query_one("#outputs").set_class(self.baseline is not None, "-pinned")
        self._show_title()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {"detect-gpus": self.action_detect_gpus, "import-config": self.action_import_config,
                   "local-models": self.action_local_models}
        if event.button.id in actions:
            actions[event.button.id]()

    # The analysis screens import plotting and search code: loaded when first used, not at start-up.
    def action_charts(self) -> None:
        from napkinmath.tui.analysis import ChartsScreen

        self.push_screen(ChartsScreen(self.profile))

    def action_compare(self) -> None:
        """Compare with the pinned baseline, or with a profile picked from the list when none is pinned."""
        from napkinmath.tui.analysis import CompareScreen

        if self.baseline is not None:
            self.push_screen(CompareScreen((self.profile.name, self.plan), (self.baseline_name, self.baseline)))
        else:
            self.action_compare_with_profile()

    def action_compare_with_profile(self) -> None:
        from napkinmath.tui.analysis import CompareScreen

        def picked(path: Path | None) -> None:
            if path is None:
                return
            other = self._load_or_notify(path)
            if other is None:
                return
            self.push_screen(CompareScreen((self.profile.name, self.plan), (other.name, make_plan(other))))

        folder = user_profiles_dir()
        self.push_screen(OpenScreen(sorted(folder.glob("*.toml")) if folder.is_dir() else [], shipped_profiles()), picked)

    def action_recommend(self) -> None:
        from napkinmath.tui.analysis import RecommendScreen

        def chosen(candidate) -> None:
            if candidate is not None:
                self._replace_profile(candidate.profile)
                self.notify(f"{candidate.gpus} × {candidate.gpu_id}, ${candidate.per_user_month:,.2f} per user-month "
                            "(ctrl+z undoes it)", title="Deployment loaded", timeout=6)

        self.push_screen(RecommendScreen(self.profile), chosen)

    def export(self, kind: str) -> None:
        """Copy the Markdown report or the vllm serve command (OSC 52, where the terminal allows it) and
        write it to a file as well, since an app cannot tell whether the terminal honoured the copy."""
        from napkinmath.core.report.markdown import plan_markdown, vllm_command

        text = plan_markdown(self.profile, self.plan) if kind == "markdown" else vllm_command(self.profile, self.plan)
        name = profile_file_name(self.profile.name).removesuffix(".toml") + (".md" if kind == "markdown" else ".sh")
        path = napkin_home() / "exports" / name
        self.copy_to_clipboard(text)
        try:
            write_text_atomically(path, text + "\n")
        except OSError as error:
            self.notify(f"Copied to the clipboard; writing {path} failed ({error.strerror or error})", severity="warning")
            return
        self.notify(f"Copied to the clipboard (OSC 52) and written to {path}", title="Exported", timeout=6)

    # ----------------------------------------------------------------- actions
    def focus_field(self, widget_id: str) -> None:
        """Move the cursor to a field, switching to its pane on narrow terminals."""
        if not self.inputs_ready:
            return
        widget = self.query_one(f"#{widget_id}")
        pane = next(ancestor for ancestor in widget.ancestors if ancestor.has_class("pane"))
        self.query_one("#pane-tabs", Tabs).active = "tab-" + str(pane.id).removeprefix("pane-")
        # a pane that was hidden takes focus only once it is laid out again
        self.call_after_refresh(widget.focus)

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        name = str(event.tab.id).removeprefix("tab-")
        for pane in self.query(".pane"):
            pane.set_class(pane.id == f"pane-{name}", "-active")

    def set_units(self, units: str) -> None:
        self.units = units
        self._remember(units=units)

    def action_toggle_units(self) -> None:
        self.set_units("GB" if self.units == "GiB" else "GiB")

    def set_theme(self, name: str) -> None:
        self.theme = name
        self._remember(theme=name)

    def action_next_theme(self) -> None:
        names = [theme.name for theme in THEMES]
        following = names[(names.index(self.theme) + 1) % len(names)] if self.theme in names else names[0]
        self.set_theme(following)
        self.notify(f"Theme: {following}", timeout=2)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(KEY_MAP))

    def _writable_path(self) -> Path | None:
        """Where ctrl+s may write without asking: the file opened, unless it is a shipped example."""
        if self.profile_path is None:
            return None
        examples = {path.resolve() for path in shipped_profiles()}
        return None if self.profile_path.resolve() in examples else self.profile_path

    def action_save(self, then_quit: bool = False) -> None:
        path = self._writable_path()
        if path is None:
            self.action_save_as(then_quit)
        else:
            self._save_to(path, then_quit)

    def action_save_as(self, then_quit: bool = False) -> None:
        def saved(path: Path | None) -> None:
            if path is not None:
                self._save_to(path, then_quit)

        self.push_screen(SaveAsScreen(user_profiles_dir(), profile_file_name(self.profile.name).removesuffix(".toml")),
                         saved)

    def _save_to(self, path: Path, then_quit: bool = False) -> None:
        try:
            save_profile(self.profile, path)
        except ProfileError as error:
            self.notify(str(error), title="Not saved", severity="error", timeout=10)
            return
        self.profile_path = path
        self.dirty = False
        self._remember(last_profile=str(path))
        note = " (the refused fields keep their last good values)" if self.invalid else ""
        self.notify(f"Saved to {path}{note}", timeout=4)
        if then_quit:
            self.exit()

    def _remember(self, **changes: str) -> None:
        """Keep a setting (theme, units, last profile) for next time."""
        self.settings = replace(self.settings, **changes)
        save_settings(self.settings)

    def _load_or_notify(self, path: Path) -> Profile | None:
        """The profile in ``path``, or None after saying why it could not be opened."""
        try:
            return load_profile(path)
        except ProfileError as error:
            self.notify(str(error), title="Could not open", severity="error", timeout=12)
            return None

    def action_open(self) -> None:
        folder = user_profiles_dir()
        mine = sorted(folder.glob("*.toml")) if folder.is_dir() else []
        self.push_screen(OpenScreen(mine, shipped_profiles()), self.open_profile)

    def open_profile(self, path: Path | None) -> None:
        if path is None:
            return
        profile = self._load_or_notify(path)
        if profile is None:
            return
        self.profile_path = path
        self._replace_profile(profile, dirty=False)
        self._remember(last_profile=str(path))

    async def action_quit(self) -> None:
        if not self.dirty:
            self.exit()
            return

        def chosen(choice: str | None) -> None:
            if choice == "save":
                self.action_save(then_quit=True)
            elif choice == "discard":
                self.exit()

        self.push_screen(QuitScreen(), chosen)


def opening_profile(path: str | None, settings: Settings) -> tuple[Profile, Path | None, str | None]:
    """The profile to start on: the file given, else the last one used, else the default; and why not, if it failed."""
    candidates: list[tuple[Path, bool]] = []
    if path is not None:
        candidates.append((Path(path), True))
    elif settings.last_profile:
        candidates.append((Path(settings.last_profile), False))
    for candidate, asked in candidates:
        try:
            return load_profile(candidate), candidate, None
        except ProfileError as error:
            if asked:
                return load_profile(shipped_profile(DEFAULT_PROFILE)), None, f"{error} Opened the default profile instead."
    return load_profile(shipped_profile(DEFAULT_PROFILE)), shipped_profile(DEFAULT_PROFILE), None


def run_app(path: str | None) -> int:
    settings = load_settings()
    profile, opened, problem = opening_profile(path, settings)
    NapkinApp(profile, opened, problem, settings).run()
    return 0
