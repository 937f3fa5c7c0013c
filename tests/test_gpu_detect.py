"""GPU detection: parsers on captured nvidia-smi / rocm-smi output (tests/data/smi, see SOURCES.md),
catalog matching, fake tools on PATH for detect_gpus, and the [hardware] section."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest
from fake_tools import install

from napkinmath.core.profile.schema import Hardware
from napkinmath.core.sources.gpu_detect import Detection, detect_gpus, hardware_section
from napkinmath.core.sources.smi_output import (
    DetectedGpu,
    match_catalog,
    parse_nvidia_smi_csv,
    parse_rocm_smi_json,
)
from napkinmath.core.specs.catalog import gpu_catalog, gpu_detection_rules

SMI = Path(__file__).parent / "data" / "smi"

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fake tools are POSIX shell scripts")

# Resolved before a test replaces PATH, so the fake tools can still run them.
CAT = shutil.which("cat") or "/bin/cat"
SLEEP = shutil.which("sleep") or "/bin/sleep"


def fixture(name: str) -> str:
    return (SMI / name).read_text()


# --- fake tools on PATH --------------------------------------------------------------------------


def install_replay(bin_dir: Path, command: str, fixture_name: str, exit_code: int = 0, to_stderr: bool = False) -> None:
    redirect = " 1>&2" if to_stderr else ""
    install(bin_dir, command, f"{CAT} '{SMI / fixture_name}'{redirect}\nexit {exit_code}")


# --- parsers on the captured fixtures -------------------------------------------------------------


def test_parse_single_l40s():
    (gpu,) = parse_nvidia_smi_csv(fixture("nvidia_l40s_1gpu.csv"))
    assert gpu == DetectedGpu(0, "NVIDIA L40S", 46068.0, "nvidia", "595.80", False, "l40s")
    assert gpu.memory_gib == pytest.approx(44.988, abs=1e-3)


def test_parse_eight_h100_sxm():
    gpus = parse_nvidia_smi_csv(fixture("nvidia_h100_sxm_8gpu.csv"))
    assert [gpu.index for gpu in gpus] == list(range(8))
    assert {gpu.name for gpu in gpus} == {"NVIDIA H100 80GB HBM3"}
    assert {gpu.memory_mib for gpu in gpus} == {81559.0}
    assert {gpu.catalog_id for gpu in gpus} == {"h100-sxm"}
    assert not any(gpu.mig_enabled for gpu in gpus)
    assert {gpu.driver_version for gpu in gpus} == {"565.57.01"}


def test_parse_mixed_box():
    gpus = parse_nvidia_smi_csv(fixture("nvidia_mixed_5090_3090ti.csv"))
    assert [(gpu.name, gpu.memory_mib, gpu.catalog_id) for gpu in gpus] == [
        ("NVIDIA GeForce RTX 5090", 32607.0, "rtx-5090"),
        # same 24564 MiB as an RTX 4090, but the name decides: the 3090 Ti is not in the catalog
        ("NVIDIA GeForce RTX 3090 Ti", 24564.0, None),
    ]


def test_parse_mig_enabled_h100():
    (gpu,) = parse_nvidia_smi_csv(fixture("nvidia_h100_mig.csv"))
    assert gpu.mig_enabled is True
    assert gpu.memory_mib == 81559.0  # the whole card, not a slice
    assert gpu.catalog_id == "h100-sxm"


def test_parse_unknown_gpu():
    (gpu,) = parse_nvidia_smi_csv(fixture("nvidia_rtx2080super_unknown.csv"))
    assert gpu.name == "NVIDIA GeForce RTX 2080 SUPER"
    assert gpu.memory_mib == 8192.0
    assert gpu.catalog_id is None
    assert gpu.mig_enabled is False  # "[N/A]" on GeForce


def test_parse_rocm_mi300x_eight():
    gpus = parse_rocm_smi_json(fixture("rocm_mi300x_8gpu.json"))
    assert [gpu.index for gpu in gpus] == list(range(8))
    assert {gpu.name for gpu in gpus} == {"AMD Instinct MI300X OAM"}
    assert {gpu.catalog_id for gpu in gpus} == {"mi300x"}
    assert {gpu.vendor for gpu in gpus} == {"amd"}
    assert gpus[0].memory_mib == 206141652992 / 2**20
    assert gpus[0].memory_gib == pytest.approx(191.984, abs=1e-3)


def test_parse_rocm_unknown_radeon():
    (gpu,) = parse_rocm_smi_json(fixture("rocm_rx7900xt.json"))
    assert gpu.name == "Radeon RX 7900 XT"
    assert gpu.catalog_id is None
    assert gpu.memory_mib == 21458059264 / 2**20


def test_parse_nvidia_tolerates_spaces_units_header_and_na():
    text = "index, name, memory.total [MiB], driver_version, mig.mode.current\n   3 ,  NVIDIA A100-SXM4-40GB ,  40960 MiB ,  [N/A] ,  [Not Supported]  \n\n"
    (gpu,) = parse_nvidia_smi_csv(text)
    assert (gpu.index, gpu.name, gpu.memory_mib, gpu.driver_version, gpu.mig_enabled, gpu.catalog_id) == (
        3,
        "NVIDIA A100-SXM4-40GB",
        40960.0,
        None,
        False,
        "a100-40gb",
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n",
        fixture("nvidia_no_driver.txt"),
        "garbage",
        "0, NVIDIA L4, lots, 550.1, [N/A]",
        "zero, NVIDIA L4, 23034, 550.1, [N/A]",
        "0, NVIDIA L4, [N/A], 550.1, [N/A]",
    ],
)
def test_parse_nvidia_garbage_raises_clear_value_error(text):
    with pytest.raises(ValueError, match="nvidia-smi"):
        parse_nvidia_smi_csv(text)


def test_parse_rocm_older_key_spelling_and_hex_series():
    # older rocm-smi: lower-case keys, a PCI id as the series and the name under "Card model"
    text = 'WARNING: something first\n{"card1": {"Card series": "0x738c", "Card model": "AMD Instinct MI300X", "VRAM Total Memory (B)": "206141652992"}}'
    (gpu,) = parse_rocm_smi_json(text)
    assert (gpu.index, gpu.name, gpu.catalog_id) == (1, "AMD Instinct MI300X", "mi300x")


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '{"system": {}}', '{"card0": {"Card Series": "AMD Instinct MI300X"}}'])
def test_parse_rocm_garbage_raises(text):
    with pytest.raises(ValueError, match="rocm-smi"):
        parse_rocm_smi_json(text)


# --- catalog matching --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "memory_gib", "vendor", "expected"),
    [
        ("NVIDIA H100 80GB HBM3", 81559 / 1024, "nvidia", "h100-sxm"),
        ("NVIDIA H100 PCIe", 81559 / 1024, "nvidia", "h100-pcie"),
        ("NVIDIA H100 NVL", 95830 / 1024, "nvidia", None),
        ("NVIDIA H200", 143771 / 1024, "nvidia", "h200"),
        ("NVIDIA H200 NVL", 143771 / 1024, "nvidia", None),
        ("NVIDIA GH200 480GB", 97871 / 1024, "nvidia", None),
        ("NVIDIA B200", 183359 / 1024, "nvidia", "b200"),
        ("NVIDIA GB200", 189471 / 1024, "nvidia", "gb200"),
        ("NVIDIA A100-SXM4-80GB", 81920 / 1024, "nvidia", "a100-80gb"),
        ("NVIDIA A100-SXM4-40GB", 40960 / 1024, "nvidia", "a100-40gb"),
        ("A100-SXM4-40GB", 40960 / 1024, "nvidia", "a100-40gb"),  # older drivers: no "NVIDIA " prefix
        ("NVIDIA A100 80GB PCIe", 81920 / 1024, "nvidia", None),  # catalog A100s are SXM4
        ("NVIDIA L40S", 46068 / 1024, "nvidia", "l40s"),
        ("NVIDIA L40", 46068 / 1024, "nvidia", None),
        ("NVIDIA L4", 23034 / 1024, "nvidia", "l4"),
        ("NVIDIA GeForce RTX 4090", 24564 / 1024, "nvidia", "rtx-4090"),
        ("NVIDIA GeForce RTX 4090 D", 24564 / 1024, "nvidia", None),
        ("NVIDIA GeForce RTX 5090", 32607 / 1024, "nvidia", "rtx-5090"),
        ("AMD Instinct MI300X", 206141652992 / 2**30, "amd", "mi300x"),
        ("AMD Instinct MI300X", 206141652992 / 2**30, "nvidia", None),  # vendor must agree
        ("AMD Instinct MI300A", 128.0, "amd", None),
        ("AMD Instinct MI355X", 309220868096 / 2**30, "amd", "mi355x"),
        ("Tesla T4", 15360 / 1024, "nvidia", None),
        ("NVIDIA A10G", 23028 / 1024, "nvidia", None),
        ("NVIDIA H100 80GB HBM3", 40.0, "nvidia", None),  # memory more than 3 % off
    ],
)
def test_match_catalog(name, memory_gib, vendor, expected):
    assert match_catalog(name, memory_gib, vendor) == expected


def test_memory_picks_the_a100_variant_within_three_percent():
    assert match_catalog("NVIDIA A100-SXM4-80GB", 80.0 * 0.975, "nvidia") == "a100-80gb"
    assert match_catalog("NVIDIA A100-SXM4-80GB", 80.0 * 0.96, "nvidia") is None


# --- detect_gpus with fake tools on PATH ---------------------------------------------------------


def test_detect_one_gpu(fake_path):
    install_replay(fake_path, "nvidia-smi", "nvidia_l40s_1gpu.csv")
    detection = detect_gpus()
    assert detection.source == "nvidia-smi"
    assert detection.problem is None
    assert [gpu.catalog_id for gpu in detection.gpus] == ["l40s"]


def test_detect_eight_gpus(fake_path):
    install_replay(fake_path, "nvidia-smi", "nvidia_h100_sxm_8gpu.csv")
    detection = detect_gpus()
    assert len(detection.gpus) == 8 and detection.problem is None
    assert hardware_section(detection) == {"gpu": "h100-sxm", "count": 8, "memory_gib": 81559 / 1024}


def test_detect_passes_the_query_arguments(fake_path):
    install(fake_path, "nvidia-smi", 'echo "0, NVIDIA L4, 23034, 550.54.15, [N/A]"; echo "$@" >&2; [ "$1" = "--query-gpu=index,name,memory.total,driver_version,mig.mode.current" ] || exit 2')
    assert [gpu.catalog_id for gpu in detect_gpus().gpus] == ["l4"]


def test_detect_mig_says_so(fake_path):
    install_replay(fake_path, "nvidia-smi", "nvidia_h100_mig.csv")
    detection = detect_gpus()
    assert detection.gpus[0].mig_enabled
    assert "MIG" in detection.problem and "whole card" in detection.problem


def test_detect_no_driver(fake_path):
    install_replay(fake_path, "nvidia-smi", "nvidia_no_driver.txt", exit_code=9)
    detection = detect_gpus()
    assert detection.gpus == () and detection.source == "nvidia-smi"
    assert "driver" in detection.problem and "by hand" in detection.problem


def test_detect_no_devices(fake_path):
    install_replay(fake_path, "nvidia-smi", "nvidia_no_devices.txt", exit_code=6)
    detection = detect_gpus()
    assert detection.gpus == ()
    assert "found no NVIDIA GPU" in detection.problem


def test_detect_hanging_tool_times_out(fake_path):
    install(fake_path, "nvidia-smi", f"{SLEEP} 30")
    started = time.monotonic()
    detection = detect_gpus(timeout_s=0.5)
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"took {elapsed:.1f} s"
    assert detection.gpus == () and detection.source == "nvidia-smi"
    assert detection.problem.startswith("nvidia-smi did not answer within 0.5 s")


def test_detect_garbage_output(fake_path):
    install(fake_path, "nvidia-smi", "echo 'Segmentation fault? who knows'")
    detection = detect_gpus()
    assert detection.gpus == ()
    assert "could not read" in detection.problem


def test_detect_unknown_failure_reports_exit_code(fake_path):
    install(fake_path, "nvidia-smi", "echo 'Unable to determine the device handle for GPU0000:00:1E.0: Unknown Error' >&2; exit 255")
    detection = detect_gpus()
    assert "exit code 255" in detection.problem and "Unknown Error" in detection.problem


def test_detect_neither_tool(fake_path):
    detection = detect_gpus()
    assert detection == Detection((), "none", detection.problem)
    assert "no nvidia-smi or rocm-smi on PATH" in detection.problem


def test_detect_rocm_when_no_nvidia(fake_path):
    install_replay(fake_path, "rocm-smi", "rocm_mi300x_8gpu.json")
    detection = detect_gpus()
    assert detection.source == "rocm-smi" and detection.problem is None
    assert len(detection.gpus) == 8
    assert hardware_section(detection) == {"gpu": "mi300x", "count": 8, "memory_gib": 206141652992 / 2**30}


def test_detect_falls_through_to_rocm_when_nvidia_fails(fake_path):
    install_replay(fake_path, "nvidia-smi", "nvidia_no_driver.txt", exit_code=9)
    install_replay(fake_path, "rocm-smi", "rocm_mi300x_8gpu.json")
    detection = detect_gpus()
    assert detection.source == "rocm-smi" and len(detection.gpus) == 8


def test_detect_rocm_garbage(fake_path):
    install(fake_path, "rocm-smi", "echo 'ERROR:root:Driver not initialized (amdgpu not found in modules)'; exit 2")
    detection = detect_gpus()
    assert detection.source == "rocm-smi" and detection.gpus == ()
    assert "exit code 2" in detection.problem


# --- hardware_section --------------------------------------------------------------------------


def _detection(name: str) -> Detection:
    parse = parse_rocm_smi_json if name.endswith(".json") else parse_nvidia_smi_csv
    return Detection(tuple(parse(fixture(name))), "test", None)


def test_hardware_section_known_validates():
    section = hardware_section(_detection("nvidia_l40s_1gpu.csv"))
    assert section == {"gpu": "l40s", "count": 1, "memory_gib": 46068 / 1024}
    hardware = Hardware.model_validate(section)
    assert hardware.bandwidth_tb_s == pytest.approx(0.864)
    assert hardware.memory_gib == 46068 / 1024


def test_hardware_section_unknown_needs_bandwidth_and_tflops():
    section = hardware_section(_detection("nvidia_rtx2080super_unknown.csv"))
    assert section["name"] == "NVIDIA GeForce RTX 2080 SUPER"
    assert section["memory_gib"] == 8.0 and section["count"] == 1 and section["vendor"] == "nvidia"
    assert section["bandwidth_tb_s"] is None and section["tflops"] is None
    assert "not in the catalog" in section["notes"]
    completed = {**section, "bandwidth_tb_s": 0.496, "tflops": {"fp16": 44.6}}
    assert Hardware.model_validate(completed).count == 1


def test_hardware_section_mixed_prefers_catalog_on_a_tie_and_says_so():
    section = hardware_section(_detection("nvidia_mixed_5090_3090ti.csv"))
    assert (section["gpu"], section["count"]) == ("rtx-5090", 1)
    assert "mixed GPUs" in section["notes"] and "NVIDIA GeForce RTX 3090 Ti" in section["notes"]
    Hardware.model_validate(section)


def test_hardware_section_mixed_most_common_wins():
    text = "0, NVIDIA GeForce RTX 3080, 20480, 595.58.03, [N/A]\n1, NVIDIA GeForce RTX 5090, 32607, 595.58.03, [N/A]\n2, NVIDIA GeForce RTX 3080, 20480, 595.58.03, [N/A]\n"
    section = hardware_section(Detection(tuple(parse_nvidia_smi_csv(text)), "nvidia-smi", None))
    assert section["name"] == "NVIDIA GeForce RTX 3080" and section["count"] == 2
    assert "leaves out the other 1 GPU" in section["notes"]


def test_hardware_section_mig_note():
    section = hardware_section(_detection("nvidia_h100_mig.csv"))
    assert section["gpu"] == "h100-sxm" and "MIG" in section["notes"]


def test_hardware_section_without_gpus_raises():
    with pytest.raises(ValueError, match="no GPU was detected: no nvidia-smi"):
        hardware_section(Detection((), "none", "no nvidia-smi or rocm-smi on PATH"))


def test_napkin_detect_command(tmp_path, monkeypatch, capsys):
    import json as json_module
    import stat as stat_module

    from napkinmath.cli.main import main

    script = tmp_path / "nvidia-smi"
    script.write_text("#!/bin/sh\nprintf '0, NVIDIA H100 80GB HBM3, 81559, 550.54.15, Disabled\\n"
                      "1, NVIDIA H100 80GB HBM3, 81559, 550.54.15, Disabled\\n'\n")
    script.chmod(script.stat().st_mode | stat_module.S_IEXEC)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["detect"]) == 0
    out = capsys.readouterr().out
    assert "# GPU 1: NVIDIA H100 80GB HBM3, 79.65 GiB (h100-sxm)" in out and 'gpu = "h100-sxm"' in out and "count = 2" in out
    assert main(["detect", "--json"]) == 0
    assert json_module.loads(capsys.readouterr().out)["hardware"]["count"] == 2
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["detect"]) == 1
    assert "no GPUs detected" in capsys.readouterr().err


def test_every_catalog_gpu_is_detected_from_its_own_driver_name():
    """Detection reads its names from the catalog ([ID.detect]), so a new GPU cannot be left out (the A10 once was)."""
    rules = {rule.gpu_id: rule for rule in gpu_detection_rules()}
    catalog = gpu_catalog()
    assert set(rules) == set(catalog), f"catalog GPUs without a [ID.detect] table: {sorted(set(catalog) - set(rules))}"
    for gpu_id, gpu in catalog.items():
        assert match_catalog(rules[gpu_id].smi_name, gpu.memory_gib, gpu.vendor) == gpu_id, gpu_id
        # the driver's MiB figure, rounded as nvidia-smi prints it, still matches
        assert match_catalog(rules[gpu_id].smi_name, round(gpu.memory_gib * 1024) / 1024, gpu.vendor) == gpu_id


def test_the_a10_is_not_taken_for_an_a100_or_an_a10g():
    assert match_catalog("NVIDIA A10", 22.488, "nvidia") == "a10"
    assert match_catalog("NVIDIA A10G", 22.488, "nvidia") is None
    assert match_catalog("NVIDIA A100-SXM4-40GB", 22.488, "nvidia") is None
