"""What a ``napkin`` subcommand is: a name, a help line, its arguments and what it runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

from napkinmath.core.errors import ProfileError


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors as ProfileError-style paragraphs (exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise ProfileError(f"{self.prog}: {message}. Run `{self.prog} --help` for usage.")


@dataclass(frozen=True)
class Subcommand:
    """One ``napkin NAME ...`` command."""

    name: str
    help: str  # one line for ``napkin --help``
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]  # the exit status; raises ProfileError for bad input
    rank: int = 100  # its place in ``napkin --help`` (lower first)
