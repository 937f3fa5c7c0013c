"""The edit session: everything the planner screen edits, in plain Python (no Textual).

One immutable ``Profile`` and its ``Plan``, the undo history, the fields whose typed text the core
refused (with the text and the reason), whether anything is unsaved, the pinned baseline and the
models imported for this session. The screen drives it and shows what it holds; tests drive it
directly, thousands of edits a second. An import-linter contract keeps Textual out of this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from napkinmath.core.engines.rules import valid_tensor_sizes
from napkinmath.core.errors import ProfileError
from napkinmath.core.plan.compose import plan as make_plan
from napkinmath.core.plan.result import Plan
from napkinmath.core.profile.edit import edit_profile, next_whole_count, with_section
from napkinmath.core.profile.naming import follow_name, renamed
from napkinmath.core.profile.schema import Profile
from napkinmath.core.specs.precisions import Precision

from .field_rules import core_reason, cross_field_reason
from .fields import FIELDS_BY_PATH, Field
from .history import History

MAX_GPUS = 1_000_000  # hardware.count's upper bound (core/profile/schema.py)
MAX_TENSOR = 512  # Up/Down on Tensor offer the sizes up to this (the schema allows 4,096)


@dataclass(frozen=True)
class Refusal:
    """A field's typed text that the core refused, and why (shown under the field)."""

    text: str
    reason: str


@dataclass(frozen=True)
class Outcome:
    """What a choice did: ``changed`` when the profile (or its refused fields) changed; ``refused``
    says why it was not applied."""

    changed: bool
    refused: str | None = None


NOTHING = Outcome(changed=False)


class EditSession:
    """The profile being edited and everything the planner remembers about editing it."""

    def __init__(self, profile: Profile, path: Path | None = None) -> None:
        self._profile = profile
        self.plan: Plan = make_plan(profile)
        self.path = path  # the file it was opened from or last saved to
        self.history = History()
        self.refused: dict[str, Refusal] = {}  # field path -> refused text, in the order refused
        self.dirty = False
        self.baseline: Plan | None = None  # the pinned plan the outputs compare against
        self.baseline_name = ""
        self.baseline_profile: Profile | None = None  # the profile that plan came from (compare diffs its inputs)
        self.session_models: dict[str, dict[str, Any]] = {}  # imported models: presets until the app quits
        self._entry: tuple[str, Profile] | None = None  # the field typed in and the profile before its entry
        self.note = ""  # what the last edit did beyond its own field (the GPUs a new tensor size regrouped)

    # ------------------------------------------------------------------ the profile
    @property
    def profile(self) -> Profile:
        return self._profile

    def _set_profile(self, profile: Profile) -> None:
        # The plan is recomputed here, once per profile change, and nowhere else.
        self._profile = profile
        self.plan = make_plan(profile)

    @property
    def stale(self) -> bool:
        """A field holds refused text: the plan on screen is the last good one, not what is typed."""
        return bool(self.refused)

    @property
    def session_preset(self) -> str | None:
        """The imported model now loaded, if any: the profile's model has no catalog preset and carries
        the name it was imported under."""
        model = self._profile.model
        return model.name if model.preset is None and model.name in self.session_models else None

    def shown_value(self, path: str) -> Any:
        """A choice's value as its select shows it (a precision's text, an imported preset's name)."""
        section, key = path.split(".")
        value = getattr(getattr(self._profile, section), key)
        if path == "model.preset" and value is None:
            return self.session_preset
        return value.value if isinstance(value, Precision) else value

    # ------------------------------------------------------------------ edits
    def _apply(self, path: str, value: Any, merge: bool = False) -> str | None:
        """Apply one edit; the reason when the core refuses it. ``merge``: a keystroke in a field, which
        joins the previous keystrokes of that field in one undo step."""
        try:
            profile = edit_profile(self._profile, path, value)
        except ProfileError as error:
            return core_reason(path, str(error))
        if profile != self._profile:
            self.history.record(self._profile, field=path if merge else None)
            self.note = _shape_note(self._profile, profile) if path.startswith("parallelism.") else ""
            self._set_profile(follow_name(self._profile, profile))
            self.dirty = True
        return None

    def type_text(self, field: Field, text: str, final: bool = True) -> str | None:
        """The user typed ``text`` in ``field``: applied if it parses and the core accepts it, else kept
        as refused with the reason (returned). Fields refused because of another one (an average above
        the max) are tried again, since this edit may have made them fine.

        ``final`` False: typing paused mid-entry (the field still has the cursor). Such a value is applied
        for now; if the entry then ends refused, the profile goes back to what it was before the entry,
        so "1e3" on the way to "1e308" never leaves 1,000 GPUs behind. An entry ends with a final edit
        (Enter, Tab, Up/Down).
        """
        if not final and (self._entry is None or self._entry[0] != field.path):
            self._entry = (field.path, self._profile)
        reason = self._try_text(field, text)
        if final:
            self._entry = None
        for path in [path for path in self.refused if path != field.path]:
            self._retry(path, typed=field)
        return reason

    def _retry(self, path: str, typed: Field) -> None:
        """Try a refused field's text again, unless applying it would change the field just typed (whose
        text, under the cursor, would then no longer say what the profile holds): it stays refused."""
        field, refusal = FIELDS_BY_PATH[path], self.refused[path]
        try:
            profile = edit_profile(self._profile, path, field.parse(refusal.text))
        except (ValueError, ProfileError):
            return
        if typed.value_of(profile) == typed.value_of(self._profile):
            self._try_text(field, refusal.text)

    def _try_text(self, field: Field, text: str) -> str | None:
        current = field.value_of(self._profile)
        try:
            value = field.parse(text)
        except ValueError as error:
            reason: str | None = str(error)
        else:
            # the text as shown (rounded to 6 digits) stands for the exact value behind it
            unchanged = value == current or text.strip() == field.format(current)
            reason = None if unchanged else (cross_field_reason(field.path, value, self._profile)
                                              or self._apply(field.path, value, merge=True))
        if reason is None:
            self.refused.pop(field.path, None)
        else:
            self.refused[field.path] = Refusal(text, reason)
            if self._entry is not None and self._entry[0] == field.path and self._entry[1] != self._profile:
                self.history.forget(self._entry[1], field.path)
                self._set_profile(self._entry[1])  # no value typed on the way stays behind a refused one
        return reason

    def nudged(self, field: Field, text: str, direction: int, big: bool) -> str:
        """The text after Up (+1) or Down (-1): the field's own step, except where the rules of the engine
        and the profile allow only some values. The GPU count steps between whole replicas; tensor
        parallel between the sizes that split the model (core/engines/rules.py), as vLLM would start."""
        if field.path not in ("hardware.count", "parallelism.tensor"):
            return field.nudged(text, direction, big)
        try:
            number = field.number_shown(text)
        except ValueError:
            return text
        if number is None or number < 1 or number != int(number):
            return text
        start = moved = int(number)
        steps = int(field.big_step if big else field.step)
        if field.path == "hardware.count":
            per_replica = self._profile.parallelism.gpus_per_replica
            while abs(moved - start) < steps:
                following = next_whole_count(moved, per_replica, direction)
                if following == moved or following > MAX_GPUS:
                    break
                moved = following
            return str(moved)
        sizes = valid_tensor_sizes(self._profile.model, MAX_TENSOR)
        later = [size for size in sizes if (size - start) * direction > 0]
        if not later:
            return text
        later.sort(key=lambda size: abs(size - start))
        return str(later[min(len(later) - 1, 1 if big else 0)])

    def choose(self, path: str, value: str | None) -> Outcome:
        """Load a catalog entry or precision, or set a choice (a select or the palette).

        Choosing what is already chosen does nothing: reloading a catalog entry would drop the
        profile's own overrides (the seed profiles' 192 GB, say). Any other choice clears the refused
        fields: every field shows the profile again.
        """
        if value == self.shown_value(path):
            return NOTHING
        if path == "model.preset" and value is not None and value in self.session_models:
            refused = self.load_section("model", self.session_models[value], session_preset=value)
            return Outcome(changed=True, refused=refused)
        refused = self._apply(path, value)
        self.refused.clear()
        return Outcome(changed=True, refused=refused)

    def load_section(self, section: str, fields: dict[str, Any], session_preset: str | None = None) -> str | None:
        """Replace [hardware] or [model] whole (detected GPUs, an imported model); the reason if refused.
        ``session_preset``: the name an imported model is offered under until the app quits."""
        try:
            profile = with_section(self._profile, section, fields)
        except ProfileError as error:
            return str(error)
        if session_preset is not None:
            self.session_models[session_preset] = dict(fields)
        self.replace(profile)
        return None

    def replace(self, profile: Profile, dirty: bool = True, undoable: bool = True) -> None:
        """A whole new profile (a section loaded, a calibration, a deployment, a file opened; undo and
        redo with ``undoable=False``): no field stays refused, and undo brings the old one back."""
        if undoable:
            self.history.record(self._profile)
            if dirty:  # an edit (a section loaded, a calibration, a deployment): the name follows it
                profile = follow_name(self._profile, profile)
        self._entry = None
        self._set_profile(profile)
        self.dirty = dirty
        self.refused.clear()

    def undo(self) -> bool:
        """Back one step; False when there is nothing to undo."""
        profile = self.history.undo(self._profile)
        if profile is not None:
            self.replace(profile, undoable=False)
        return profile is not None

    def redo(self) -> bool:
        """Forward one step; False when there is nothing to redo."""
        profile = self.history.redo(self._profile)
        if profile is not None:
            self.replace(profile, undoable=False)
        return profile is not None

    def rename(self, name: str) -> bool:
        """The user named the profile (an empty name: the automatic one, which follows the plan again);
        True when that changed anything."""
        profile = renamed(self._profile, name)
        if profile == self._profile:
            return False
        self.history.record(self._profile)
        self._profile = profile  # the plan does not depend on the name
        self.dirty = True
        return True

    # ------------------------------------------------------------------ baseline and file
    def toggle_pin(self) -> bool:
        """Pin the current plan as the baseline, or unpin it; True when one is now pinned."""
        if self.baseline is None:
            self.baseline, self.baseline_name, self.baseline_profile = self.plan, self._profile.name, self._profile
        else:
            self.baseline, self.baseline_name, self.baseline_profile = None, "", None
        return self.baseline is not None

    def opened(self, profile: Profile, path: Path) -> None:
        """A profile read from ``path`` replaces this one (undoable), nothing unsaved."""
        self.replace(profile, dirty=False)
        self.path = path

    def saved(self, path: Path) -> None:
        self.path = path
        self.dirty = False

    # ------------------------------------------------------------------ words
    def stale_reason(self) -> str:
        """Why the plan on screen is not what is typed ("Users: a whole number, e.g. 8"), or ""."""
        if not self.refused:
            return ""
        first_path, refusal = next(iter(self.refused.items()))
        more = f" (+{len(self.refused) - 1} more)" if len(self.refused) > 1 else ""
        return f"{FIELDS_BY_PATH[first_path].label}: {refusal.reason}{more}"

    def title(self, room: int = 400) -> str:
        """The header's line, in ``room`` characters: why the plan is stale, or the profile's name, unsaved
        mark and baseline (its name where there is room, else that one is pinned; a long name ends in …)."""
        if self.refused:
            return _shortened(f"⚠ stale plan: {self.stale_reason()}", room)
        mark = " •" if self.dirty else ""
        pinned = ""
        if self.baseline is not None:
            pinned = f"  ·  baseline: {self.baseline_name}"
            if len(self._profile.name) + len(mark) + len(pinned) > room:
                pinned = "  ·  baseline pinned"
        return _shortened(self._profile.name, room - len(mark) - len(pinned)) + mark + pinned


def _shape_note(before: Profile, after: Profile) -> str:
    """What a parallelism edit did to the GPUs: kept and regrouped, or grown to make whole replicas."""
    old, new = before.hardware.count, after.hardware.count
    replicas = after.parallelism.replicas
    group = f"{replicas:,} replica{'s' if replicas != 1 else ''} of {after.parallelism.gpus_per_replica:,} GPUs"
    if old == new:
        return "" if replicas == before.parallelism.replicas else f"{new:,} GPUs kept: now {group}"
    return f"GPUs {old:,} → {new:,}: {group} (the rent follows)"


def _shortened(text: str, room: int) -> str:
    return text if len(text) <= room else text[:max(1, room - 1)].rstrip() + "…"
