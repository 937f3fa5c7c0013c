"""The ``napkin`` command (docs/design/interfaces.md, "Command line").

napkin [PROFILE.toml]          the app, on that profile or the last one used
napkin plan PROFILE.toml       the plan as a Rich report;  --json for scripts
napkin gpus | napkin models    the catalogs, with sources; --json for scripts
napkin SUBCOMMAND --help       every subcommand (cli/commands/) says what it takes

Bad input of any kind ends in one paragraph on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence

from napkinmath.core.errors import ProfileError

from .registry import parser, subcommands

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


def run_app(path: str | None) -> int:
    """The full-screen app (``napkin`` alone, or with one profile file).

    The cyclic garbage collector waits until the app is up (tui/app.py, ``run_app``, turns it back on):
    nothing built at start-up is garbage, and its passes over the new widgets took a seventh of the time
    to the first plan (bench/tui_latency.py).
    """
    gc.disable()
    from napkinmath.tui.app import run_app as start

    return start(path)


def _names_a_profile(argument: str) -> bool:
    """A profile file rather than a subcommand, told without importing the subcommands (start-up time)."""
    return argument.endswith(".toml") or "/" in argument or os.sep in argument


def run(argv: Sequence[str]) -> int:
    """Dispatch one command line; raises ProfileError for bad input."""
    argv = list(argv)
    if not argv or _names_a_profile(argv[0]) or (argv[0] not in subcommands() and not argv[0].startswith("-")):
        if len(argv) > 1:
            raise ProfileError(f"napkin: expected at most one profile file, got {len(argv)} arguments. "
                               f"Run `napkin --help` for usage.")
        return run_app(argv[0] if argv else None)
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
        print(f"napkin: {error}" if not str(error).startswith("napkin") else str(error), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:  # noqa: BLE001 - the promise is: never a traceback
        print(f"napkin: internal error ({type(error).__name__}: {error}). This is a bug; please report it "
              f"with the command and profile that caused it.", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
