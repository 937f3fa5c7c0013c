"""Real models and real GPU boxes in the planner: import a config.json, browse the local HuggingFace
cache, detect the GPUs, calibrate from a vLLM log or a measurement.

Every slow part (reading config.json and safetensors headers, running nvidia-smi, reading a log,
fitting a calibration) runs in a worker thread through ``PlannerBase.run_slow``, with a busy line;
the result is applied through the public session API.
"""

from __future__ import annotations

# The dialogs are imported where they are opened: not before the first plan is on screen (bench/tui_cpu.py).
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napkinmath.core.profile.schema import Profile

from .base_screen import PlannerBase

if TYPE_CHECKING:
    from napkinmath.core.sources.gpu_detect import Detection
    from napkinmath.core.sources.hf_cache import CachedModel
    from napkinmath.core.sources.model_import import ImportedModel
    from napkinmath.core.tools.calibrate import Calibrated

MEASUREMENT_EXAMPLES = "serving=920@64   serving=310@4,920@64   decode=1800@64   prefill=12000   ttft=0.8"


class DiscoveryActions(PlannerBase):
    """Import, detection and calibration actions (palette and buttons)."""

    # ----------------------------------------------------------------- models
    def action_import_config(self, typed: str | None = None, problem: str = "") -> None:
        """Ask for a path or ORG/NAME; a failed import asks again with the same text and why it failed."""
        def picked(text: str | None) -> None:
            if text is not None:
                self.import_model_from(Path(text).expanduser(), None, typed=text)

        from .dialogs import ImportConfigScreen
        self.open_dialog(ImportConfigScreen(str(Path.cwd()) if typed is None else typed, problem), picked)

    def action_local_models(self) -> None:
        from napkinmath.core.sources.hf_cache import hf_hub_cache

        def picked(model: CachedModel | None) -> None:
            if model is not None:
                self.import_model_from(model.folder, model.repo_id)

        from .dialogs import LocalModelsScreen
        self.open_dialog(LocalModelsScreen(hf_hub_cache(), self.slow.list_cached_models), picked)

    def import_model_from(self, path: Path, name: str | None, typed: str | None = None) -> None:
        """Import a config.json (and safetensors headers) in a worker; it becomes a preset for this session.
        ``typed``: the text the import dialog was given, offered again there if the import fails."""
        def failed(problem: str) -> bool:
            if typed is None or self.app.screen is not self:  # another dialog is up: say it instead
                return False
            self.action_import_config(typed, problem)
            return True

        self.run_slow("import", f"Importing {path.name}", lambda: self.slow.import_model(path, name),
                      self._imported, "Not imported", failed=failed)

    def _imported(self, imported: ImportedModel) -> None:
        if self.load_section("model", imported.model, session_preset=imported.model["name"]):
            self.say(f"{imported.model['name']}: {imported.count.total / 1e9:,.2f}B parameters; weights "
                     f"{imported.weights_note}", title="Imported", timeout=8)
            if imported.model.get("unmodelled"):
                self.say("config fields not modelled, which can change its parameters, KV cache or state: "
                         + ", ".join(imported.model["unmodelled"]), title="Not modelled", severity="warning",
                         timeout=12)

    # ----------------------------------------------------------------- GPUs
    def action_detect_gpus(self) -> None:
        self.run_slow("detect", "Reading nvidia-smi / rocm-smi", self.slow.detect_gpus, self.apply_detection,
                      "No GPUs detected")

    def apply_detection(self, detection: Detection) -> None:
        """Fill the hardware from what the driver reports; an unknown GPU keeps placeholders to complete."""
        from napkinmath.core.sources.gpu_detect import hardware_section

        if not detection.gpus:
            self.say(detection.problem or "no GPU found", title="No GPUs detected", severity="warning", timeout=10)
            return
        section: dict[str, Any] = hardware_section(detection)
        current = self.session.profile.hardware
        if section.get("bandwidth_tb_s") is None:
            section["bandwidth_tb_s"] = current.bandwidth_tb_s
        if section.get("tflops") is None:
            section["tflops"] = current.tflops.model_dump(exclude_none=True)
        for key in ("price_per_gpu_hour", "purchase_price", "tdp_w", "interconnect_gb_s"):
            if "gpu" not in section:
                section.setdefault(key, getattr(current, key))
        first = detection.gpus[0]
        if self.load_section("hardware", section):
            known = (f" ({first.catalog_id})" if first.catalog_id
                     else ": not in the catalog, so complete its bandwidth and TFLOPS")
            self.say(f"{section['count']} × {first.name}, {first.memory_gib:,.1f} GiB each{known}"
                     + (f". {section['notes']}" if section.get("notes") else ""), title="Detected GPUs", timeout=10)

    # ----------------------------------------------------------------- calibration
    def action_calibrate_log(self) -> None:
        def picked(path: str | None) -> None:
            if path:
                self.calibrate_from_log_file(Path(path).expanduser())

        from .dialogs import PromptScreen
        self.open_dialog(PromptScreen("Calibrate from a vLLM start-up log", "path/to/vllm.log",
                                          "Its memory profiling lines replace the empirical defaults."), picked)

    def calibrate_from_log_file(self, path: Path) -> None:
        profile = self.session.profile
        self.run_slow("calibrate", f"Calibrating from {path.name}", lambda: self.slow.calibrate_log(profile, path),
                      lambda calibrated: self.apply_calibration(profile, calibrated), "Not calibrated")

    def action_calibrate_measured(self) -> None:
        def picked(text: str | None) -> None:
            if text:
                self.calibrate_from_text(text)

        from .dialogs import PromptScreen
        self.open_dialog(PromptScreen(
            "Calibrate from a measurement", MEASUREMENT_EXAMPLES,
            "Load-test output tok/s at a concurrency (two or more points also fit a time per sequence), aggregate "
            "decode tok/s, prefill tok/s, or TTFT in seconds."), picked)

    def calibrate_from_text(self, text: str) -> None:
        profile = self.session.profile
        self.run_slow("calibrate", "Calibrating", lambda: self.slow.calibrate_measured(profile, text),
                      lambda calibrated: self.apply_calibration(profile, calibrated), "Not calibrated")

    def apply_calibration(self, calibrated_from: Profile, calibrated: Calibrated) -> None:
        """Apply a calibration computed in a worker, unless the profile changed meanwhile (applying it would
        silently undo those edits)."""
        if self.session.profile != calibrated_from:
            self.say("The profile changed while calibrating; calibrate again to apply it to the new one",
                     title="Not calibrated", severity="warning", timeout=10)
            return
        self.replace_profile(calibrated.profile)
        self.say("; ".join(calibrated.changes) + " (ctrl+z undoes it)", title="Calibrated", timeout=10)
