"""The subcommands of ``napkin``, found by name: each module in cli/commands/ declares its own.

To add a subcommand, add one module to cli/commands/ with a module-level ``COMMANDS`` list of
``Subcommand`` (cli/subcommand.py; see cli/commands/plan.py); nothing else needs to change. Keep
heavy imports inside ``run`` so that starting the app (``napkin`` alone) does not pay for them.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from functools import cache

from . import commands
from .subcommand import ArgumentParser, Subcommand


def installed_version() -> str:
    """The installed package's version (pyproject.toml), or "unknown" when run from an uninstalled tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("napkinmath")
    except PackageNotFoundError:
        return "unknown"


@cache
def subcommands() -> dict[str, Subcommand]:
    """Every subcommand by name, in help order."""
    found: list[Subcommand] = []
    for module in pkgutil.iter_modules(commands.__path__):
        found.extend(importlib.import_module(f"{commands.__name__}.{module.name}").COMMANDS)
    names = [command.name for command in found]
    duplicated = {name for name in names if names.count(name) > 1}
    if duplicated:
        raise RuntimeError(f"napkin subcommands declared twice: {', '.join(sorted(duplicated))}")
    return {command.name: command for command in sorted(found, key=lambda command: (command.rank, command.name))}


def parser() -> argparse.ArgumentParser:
    """``napkin``'s argument parser, with one sub-parser per subcommand."""
    top = ArgumentParser(prog="napkin", description="Plan LLM serving: memory, users, speed and cost.")
    top.add_argument("--version", action="version", version=f"napkin {installed_version()}",
                     help="print napkin's version and exit")
    sub = top.add_subparsers(dest="command", parser_class=ArgumentParser)
    for command in subcommands().values():
        command.add_arguments(sub.add_parser(command.name, help=command.help))
    return top
