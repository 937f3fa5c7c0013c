"""The ``napkin`` command (docs/design/interfaces.md, "Command line").

napkin [PROFILE.toml]          the app, on that profile or the last one used
napkin plan PROFILE.toml       the plan as a Rich report;  --json for scripts
napkin gpus | napkin models    the catalogs, with sources; --json for scripts
napkin SUBCOMMAND --help       every subcommand (cli/commands/) says what it takes

Bad input of any kind ends in one paragraph on stderr and exit status 2, never a traceback; a bug ends
in one short paragraph and exit status 3 (the app's too: a crash of the app never exits 0).
"""

from __future__ import annotations

import difflib
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from napkinmath.core.errors import ProfileError
from napkinmath.core.untrusted import excerpt, printable

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


def run_app(path: str | None) -> int:
    """The full-screen app (``napkin`` alone, or with one profile file); EXIT_INTERNAL if it crashed.

    The cyclic garbage collector waits until the app is up (tui/app.py, ``run_app``, turns it back on):
    nothing built at start-up is garbage, and its passes over the new widgets took a seventh of the time
    to the first plan (bench/tui_latency.py). Pydantic's plugins stay off unless asked for
    (``PYDANTIC_DISABLE_PLUGINS`` set to anything else): looking for them reads the metadata of every
    installed package, ~3 ms of the start, for tools that would then watch each keystroke's validation.
    """
    gc.disable()
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from napkinmath.tui.app import run_app as start

    return EXIT_INTERNAL if start(path) else 0


def _not_a_command(word: str) -> ProfileError | None:
    """A refusal for ``napkin WORD`` when WORD is no file and reads as a mistyped subcommand (``napkin gpu``):
    no file by that name, no folder in it and no .toml ending. None when WORD may be a profile."""
    try:
        exists = Path(word).exists()
    except (OSError, ValueError):  # a name the file system cannot hold
        exists = False
    if exists or _names_a_profile(word):
        return None
    from .registry import subcommands

    names = list(subcommands())
    close = difflib.get_close_matches(word.lower(), names, n=1, cutoff=0.6)
    hint = f" Did you mean `napkin {close[0]}`?" if close else ""
    return ProfileError(f"napkin: {excerpt(word)} is neither a subcommand nor a profile file.{hint} Subcommands: "
                        f"{', '.join(names)}; or give a profile: `napkin FILE.toml`.")


def _needs_a_terminal() -> ProfileError | None:
    """The app draws on a terminal and reads keys from one; in a pipe it would hang, so it refuses."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        return None
    return ProfileError("napkin: the app needs a terminal (stdin and stdout are not one here); for output a "
                        "script can use, run a subcommand, e.g. `napkin plan FILE.toml --json` (`napkin --help` "
                        "lists them).")


def _names_a_profile(argument: str) -> bool:
    """A profile file rather than a subcommand, told without importing the subcommands (start-up time): a
    .toml ending (any case) or a folder in it (either slash: Windows paths too)."""
    return argument.lower().endswith(".toml") or "/" in argument or "\\" in argument


def _is_subcommand(word: str) -> bool:
    """Whether ``word`` names a subcommand; the registry (argparse and every subcommand module) is imported
    only here and below, never on the way to the app (bench/tui_cpu.py: CPU to the first plan)."""
    from .registry import subcommands

    return word in subcommands()


def run(argv: Sequence[str]) -> int:
    """Dispatch one command line; raises ProfileError for bad input."""
    argv = list(argv)
    if not argv or _names_a_profile(argv[0]) or (not _is_subcommand(argv[0]) and not argv[0].startswith("-")):
        if len(argv) > 1:
            raise ProfileError(f"napkin: expected at most one profile file, got {len(argv)} arguments. "
                               f"Run `napkin --help` for usage.")
        refusal = (_not_a_command(argv[0]) if argv else None) or _needs_a_terminal()
        if refusal is not None:
            raise refusal
        return run_app(argv[0] if argv else None)
    from .registry import parser, subcommands

    top = parser()
    arguments = top.parse_args(argv)
    if arguments.command is None:
        top.print_help()
        return 0
    return subcommands()[arguments.command].run(arguments)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``napkin`` console script."""
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except ProfileError as error:
        message = printable(error, 4000, keep_lines=True)
        print(message if message.startswith("napkin") else f"napkin: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # noqa: BLE001 - the promise is: never a traceback
        print(f"napkin: internal error ({type(error).__name__}: {printable(error, 300)}). This is a bug; please "
              f"report it with the command and profile that caused it.", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
