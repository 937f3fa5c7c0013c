"""The command palette (ctrl+p) of the planner screen: go to any field, load a preset, and every palette
row of the action table (tui/actions.py). A command is an action string run on the screen that opened
the palette, so this module needs nothing from the screen's module (no import circle)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from napkinmath.core.specs.catalog import gpu_catalog, model_catalog
from napkinmath.themes import THEMES

from .actions import ACTION_SCOPES, palette_rows
from .fields import ALL_FIELDS, SAMPLER_CHOICES, SAMPLER_DEFAULT
from .widgets import ChoiceRow


def call(path: str, *arguments: object) -> str:
    """An action string with literal arguments, quoted safely (``choose('hardware.gpu', 'h200')``)."""
    return f"{path}({', '.join(repr(argument) for argument in arguments)})"


def planner_commands(choice_titles: list[tuple[str, str]]) -> Iterator[tuple[str, str, str]]:
    """(palette text, action string, help) for every command; ``choice_titles`` are the selects'
    (title, widget id) in screen order."""
    for title, widget_id in choice_titles:
        yield f"Go to: {title}", call("focus_field", widget_id), "move the cursor there"
    for field in ALL_FIELDS:
        yield (f"Go to: {field.label}", call("focus_field", field.widget_id),
               f"{field.path} ({field.unit})" if field.unit else field.path)
    for gpu_id, gpu in gpu_catalog().items():
        yield (f"Load GPU: {gpu.name}", call("choose", "hardware.gpu", gpu_id),
               f"{gpu_id}: {gpu.memory_gib:.1f} GiB, {gpu.bandwidth_tb_s:g} TB/s")
    for model_id, model in model_catalog().items():
        yield (f"Load model: {model.name}", call("choose", "model.preset", model_id),
               f"{model_id}: {model.params_b:,.1f}B parameters")
    for label, value, help_text in SAMPLER_CHOICES:
        sampler = None if value == SAMPLER_DEFAULT else value
        yield f"Sampler: {label}", call("choose", "engine.sampler", sampler), help_text
    for row in palette_rows():
        assert row.action is not None
        scope = ACTION_SCOPES[row.action.split("(")[0]]
        yield row.palette, ("app." if scope == "app" else "") + row.action, row.palette_help
    for theme in THEMES:
        yield f"Theme: {theme.name}", call("app.set_theme", theme.name), "remembered for next time"


class PlannerCommands(Provider):
    """Every action a user can name on the planner screen: fields, presets, files, look."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        screen = self.screen
        titles = [(row.title, row.widget_id) for row in screen.query(ChoiceRow)]  # each select's own title
        return [(text, partial(screen.run_action, action), help_text)
                for text, action, help_text in planner_commands(titles)]

    async def discover(self) -> Hits:
        for text, callback, help_text in self._commands():
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)
