"""``napkin detect``: this machine's GPUs (nvidia-smi / rocm-smi) as a [hardware] section."""

from __future__ import annotations

import argparse
import sys

from ..output import print_json, printable
from ..subcommand import Subcommand


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="the GPUs and the section as JSON")
    parser.add_argument("--timeout", type=float, default=5.0,
                        help="seconds to wait for nvidia-smi (default 5; above 0, at most 600)")


def run(arguments: argparse.Namespace) -> int:
    """Exit 0 with the GPUs found; exit 1 with the reason on stderr when there are none."""
    from dataclasses import asdict

    from napkinmath.core.sources.gpu_detect import detect_gpus, hardware_section

    detection = detect_gpus(timeout_s=arguments.timeout)
    section = hardware_section(detection) if detection.gpus else None
    if arguments.json:
        print_json({"source": detection.source, "problem": detection.problem,
                    "gpus": [asdict(gpu) for gpu in detection.gpus], "hardware": section})
        return 0 if detection.gpus else 1
    if section is None:
        print(f"napkin: no GPUs detected: {printable(detection.problem)}", file=sys.stderr)
        return 1
    import tomli_w

    for gpu in detection.gpus:
        known = gpu.catalog_id or "not in the catalog"
        print(f"# GPU {gpu.index}: {printable(gpu.name)}, {gpu.memory_gib:,.2f} GiB ({known})"
              + (", MIG on" if gpu.mig_enabled else ""))
    if detection.problem:
        print(f"# note: {printable(detection.problem)}")
    given = {key: value for key, value in section.items() if value is not None}
    print(tomli_w.dumps({"hardware": given}), end="")
    return 0


COMMANDS = [Subcommand("detect", "this machine's GPUs (nvidia-smi / rocm-smi) as a [hardware] section",
                       add_arguments, run, rank=80)]
