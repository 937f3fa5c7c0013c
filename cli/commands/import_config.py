"""``napkin import-config PATH|ORG/NAME``: a HuggingFace config.json, model folder or Hub repository as a
[model] section (core/sources/hub.py reads a repository's config.json and safetensors headers)."""

from __future__ import annotations

import argparse

from ..output import print_json, printable
from ..subcommand import Subcommand


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="config.json, a folder holding it (and *.safetensors), or ORG/NAME on the "
                                     "Hub (HF_TOKEN, HF_ENDPOINT and HF_HUB_OFFLINE apply)")
    parser.add_argument("--name", help="the model's name in the profile")
    parser.add_argument("--json", action="store_true", help="the section as JSON")


def run(arguments: argparse.Namespace) -> int:
    from napkinmath.core.sources.hub import import_path_or_repo

    imported = import_path_or_repo(arguments.path, arguments.name)
    if arguments.json:
        print_json({"model": imported.model, "parameters": imported.breakdown, "weights": imported.weights_note})
        return 0
    import tomli_w

    print("\n".join(f"# {printable(line)}" for line in imported.summary_lines()))
    print(tomli_w.dumps({"model": imported.model}), end="")
    return 0


COMMANDS = [Subcommand("import-config", "a HuggingFace config.json, model folder or ORG/NAME as a [model] section",
                       add_arguments, run, rank=30)]
