"""What a ``napkin`` subcommand is: a name, a help line, its arguments and what it runs."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from napkinmath.core.errors import ProfileError
from napkinmath.core.untrusted import printable

ONCE_ACTIONS = (None, "store", "store_true", "store_false", "store_const")


class GivenOnce(argparse.Action):
    """An option's own action that refuses a second use of the option: argparse would keep the last value and
    silently drop the first (``--vary a=1 --vary b=2`` sweeping only b)."""

    def __init__(self, inner: argparse.Action) -> None:
        super().__init__(inner.option_strings, inner.dest, nargs=inner.nargs, const=inner.const,
                         default=inner.default, choices=inner.choices, required=inner.required, help=inner.help,
                         metavar=inner.metavar)
        self.type = inner.type  # a type function, or the name argparse looks up in its registry
        self.inner = inner

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        given: set[str] = getattr(parser, "given_options", set())
        if self.option_strings and self.dest in given:
            parser.error(f"{' / '.join(self.option_strings)} given twice; give it once (the second would silently "
                         f"replace the first)")
        given.add(self.dest)
        self.inner(parser, namespace, values, option_string)


def _given_once(action_class: Callable[..., argparse.Action]) -> Callable[..., argparse.Action]:
    return lambda *args, **kwargs: GivenOnce(action_class(*args, **kwargs))


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors as ProfileError-style paragraphs (exit 2) and refuses an option
    given twice."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ONCE_ACTIONS:
            self.register("action", name, _given_once(self._registry_get("action", name)))
        self.given_options: set[str] = set()

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self.given_options = set()  # each parse starts afresh (a subcommand's parser parses its own part)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        # argparse quotes the arguments it refuses: a 990,000-character one is cut, control characters escaped
        raise ProfileError(f"{self.prog}: {printable(message, 300)}. Run `{self.prog} --help` for usage.")


@dataclass(frozen=True)
class Subcommand:
    """One ``napkin NAME ...`` command."""

    name: str
    help: str  # one line for ``napkin --help``
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]  # the exit status; raises ProfileError for bad input
    rank: int = 100  # its place in ``napkin --help`` (lower first)
