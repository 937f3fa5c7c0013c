"""Real models and real GPU boxes in the app: import a config.json, browse the local HuggingFace cache,
detect the GPUs. Slow work (scanning, nvidia-smi) runs in worker threads and posts its result back.
The core modules are imported when an action first runs, keeping them out of start-up.

A mixin of NapkinApp: it uses the app's ``load_section`` and ``notify``.
"""

from __future__ import annotations

from pathlib import Path

from textual import work

from napkinmath.core.errors import ProfileError
from napkinmath.tui.screens import ImportConfigScreen, LocalModelsScreen, PromptScreen


class DiscoveryActions:
    """Import and detection actions (palette, buttons)."""

    def action_import_config(self) -> None:
        self.push_screen(ImportConfigScreen(Path.cwd()), lambda path: path and self.import_model_from(path, None))

    def action_local_models(self) -> None:
        from napkinmath.core.sources.hf_cache import hf_hub_cache

        def picked(model) -> None:
            if model is not None:
                self.import_model_from(model.folder, model.repo_id)

        self.push_screen(LocalModelsScreen(hf_hub_cache()), picked)

    def import_model_from(self, path: Path, name: str | None) -> None:
        """Import a config.json (and safetensors headers); it becomes a preset for this session."""
        from napkinmath.core.sources.model_import import import_model

        try:
            imported = import_model(path, name)
        except ProfileError as error:
            self.notify(str(error), title="Not imported", severity="error", timeout=12)
            return
        self.load_section("model", imported.model, session_preset=imported.model["name"])
        self.notify(f"{imported.model['name']}: {imported.count.total / 1e9:,.2f}B parameters; weights "
                    f"{imported.weights_note}", title="Imported", timeout=8)

    def action_detect_gpus(self) -> None:
        self.notify("Reading nvidia-smi / rocm-smi…", timeout=3)
        self.detect_worker()

    @work(thread=True, exclusive=True, group="detect")
    def detect_worker(self) -> None:
        from napkinmath.core.sources.gpu_detect import detect_gpus

        detection = detect_gpus(timeout_s=5.0)
        self.call_from_thread(self.apply_detection, detection)

    def apply_detection(self, detection) -> None:
        """Fill the hardware from what the driver reports; an unknown GPU keeps placeholders to complete."""
        from napkinmath.core.sources.gpu_detect import hardware_section

        if not detection.gpus:
            self.notify(detection.problem or "no GPU found", title="No GPUs detected", severity="warning", timeout=10)
            return
        section = hardware_section(detection)
        current = self.profile.hardware
        if section.get("bandwidth_tb_s") is None:
            section["bandwidth_tb_s"] = current.bandwidth_tb_s
        if section.get("tflops") is None:
            section["tflops"] = current.tflops.model_dump(exclude_none=True)
        for key in ("price_per_gpu_hour", "purchase_price", "tdp_w", "interconnect_gb_s"):
            if "gpu" not in section:
                section.setdefault(key, getattr(current, key))
        first = detection.gpus[0]
        if self.load_section("hardware", section):
            known = f" ({first.catalog_id})" if first.catalog_id else ": not in the catalog, so complete its bandwidth and TFLOPS"
            self.notify(f"{section['count']} × {first.name}, {first.memory_gib:,.1f} GiB each{known}"
                        + (f". {section['notes']}" if section.get("notes") else ""), title="Detected GPUs", timeout=10)

    def action_calibrate_log(self) -> None:
        self.push_screen(PromptScreen("Calibrate from a vLLM start-up log", "path/to/vllm.log",
                                      "Its memory profiling lines replace the empirical defaults."),
                         lambda path: path and self.calibrate_from_log_file(Path(path).expanduser()))

    def calibrate_from_log_file(self, path: Path) -> None:
        from napkinmath.core.tools.calibrate import calibrate_from_log
        from napkinmath.core.sources.vllm_log import parse_vllm_log, read_vllm_log

        try:
            calibrated = calibrate_from_log(self.profile, parse_vllm_log(read_vllm_log(path)), source=path.name)
        except ProfileError as error:
            self.notify(str(error), title="Not calibrated", severity="error", timeout=12)
            return
        self.apply_calibration(calibrated)

    def action_calibrate_measured(self) -> None:
        self.push_screen(PromptScreen("Calibrate from a measurement",
                                      "serving=920@64   serving=310@4,920@64   decode=1800@64   prefill=12000   ttft=0.8",
                                      "Load-test output tok/s at a concurrency (two or more points also fit a time per "
                                      "sequence), aggregate decode tok/s, prefill tok/s, or TTFT in seconds."),
                         lambda text: text and self.calibrate_from_text(text))

    def calibrate_from_text(self, text: str) -> None:
        from napkinmath.core.tools.calibrate import calibrate_measured

        try:
            calibrated = calibrate_measured(self.profile, text)
        except ProfileError as error:
            self.notify(str(error), title="Not calibrated", severity="error", timeout=12)
            return
        self.apply_calibration(calibrated)

    def apply_calibration(self, calibrated) -> None:
        self._replace_profile(calibrated.profile)
        self.notify("; ".join(calibrated.changes) + " (ctrl+z undoes it)", title="Calibrated", timeout=10)
