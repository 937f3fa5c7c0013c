"""The command palette (ctrl+p): go to any field, load a preset, open/save, theme and units."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from napkinmath.core.specs.catalog import gpu_catalog, model_catalog
from napkinmath.themes import THEMES
from napkinmath.tui.fields import ALL_FIELDS, SAMPLER_CHOICES, SAMPLER_DEFAULT

if TYPE_CHECKING:
    from napkinmath.tui.app import NapkinApp


class NapkinCommands(Provider):
    """Every action a user can name: fields, presets, files, look."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app: NapkinApp = self.app  # type: ignore[assignment]
        commands: list[tuple[str, Callable[[], object], str]] = []
        for row in app.choice_rows:
            commands.append((f"Go to: {row.title}", partial(app.focus_field, row.widget_id), "move the cursor there"))
        for field in ALL_FIELDS:
            commands.append((f"Go to: {field.label}", partial(app.focus_field, field.widget_id),
                             f"{field.path} ({field.unit})" if field.unit else field.path))
        for gpu_id, spec in gpu_catalog().items():
            commands.append((f"Load GPU: {spec.name}", partial(app.choose, "hardware.gpu", gpu_id),
                             f"{gpu_id}: {spec.memory_gib:.1f} GiB, {spec.bandwidth_tb_s:g} TB/s"))
        for model_id, spec in model_catalog().items():
            commands.append((f"Load model: {spec.name}", partial(app.choose, "model.preset", model_id),
                             f"{model_id}: {spec.params_b:,.1f}B parameters"))
        for label, value, help_text in SAMPLER_CHOICES:
            sampler = None if value == SAMPLER_DEFAULT else value
            commands.append((f"Sampler: {label}", partial(app.choose, "engine.sampler", sampler), help_text))
        commands += [
            ("Open profile…", app.action_open, "your profiles and the shipped examples (ctrl+o)"),
            ("Import config.json…", app.action_import_config, "a HuggingFace config.json or model folder"),
            ("Browse local models…", app.action_local_models, "the models in the local HuggingFace cache"),
            ("Detect GPUs", app.action_detect_gpus, "read nvidia-smi / rocm-smi and fill the hardware"),
            ("Calibrate from a vLLM log…", app.action_calibrate_log, "the engine's own memory accounting"),
            ("Calibrate from a measurement…", app.action_calibrate_measured, "load-test tok/s, decode tok/s, prefill tok/s or TTFT"),
            ("Undo", app.action_undo, "ctrl+z"),
            ("Redo", app.action_redo, "ctrl+y"),
            ("Pin or unpin the baseline", app.action_pin, "F4: outputs show their change against it"),
            ("Charts…", app.action_charts, "F5: sweeps of any field"),
            ("Compare with the baseline", app.action_compare, "F6 (a profile when none is pinned)"),
            ("Compare with a profile…", app.action_compare_with_profile, "pick one of yours or an example"),
            ("Recommend deployments…", app.action_recommend, "F7: cheapest catalog deployments meeting the targets"),
            ("Export: Markdown report", partial(app.export, "markdown"), "copied and written to a file"),
            ("Export: vllm serve command", partial(app.export, "vllm"), "copied and written to a file"),
            ("Save profile", app.action_save, "ctrl+s"),
            ("Save profile as…", app.action_save_as, "under a new name"),
            ("Units: GiB", partial(app.set_units, "GiB"), "memory in 2^30 bytes, as nvidia-smi reports"),
            ("Units: GB", partial(app.set_units, "GB"), "memory in 10^9 bytes, as datasheets quote"),
            ("Show keys", app.action_help, "every key of the app (?)"),
        ]
        for theme in THEMES:
            commands.append((f"Theme: {theme.name}", partial(app.set_theme, theme.name), "remembered for next time"))
        return commands

    async def discover(self) -> Hits:
        for text, callback, help_text in self._commands():
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, callback, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)
