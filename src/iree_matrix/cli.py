"""`iree-matrix` command line: parses, dispatches to a command module (`commands/`), and is the
only place where `UserError` becomes a message and exit code."""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, Optional, cast

from iree_matrix import __version__
from iree_matrix.commands import Command, option_types, options
from iree_matrix.core import atomic_files, console
from iree_matrix.core.errors import UserError
from iree_matrix.execution.workflow import EXIT_INTERRUPTED

# Every command, in `--help`'s order: a new command is its module in commands/ and its name here.
COMMANDS = tuple(
    "matrix tune search search_recipes calibrate compare advise bundle armv6_smoke report show reproduce "
    "bisect kernel query publish results merge images doctor cache".split()
)
# Each command's module in the package: commands/NAME, but the kernel's, kept with the kernel.
MODULES = {n: f"commands.{n}" for n in COMMANDS} | {"kernel": "kernel.commands.kernel"}

logger = console.logger(__name__)


def commands() -> list[Command]:
    return [cast(Command, importlib.import_module(f"iree_matrix.{MODULES[name]}")) for name in COMMANDS]


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line like every other input error, and the namespace keeps
    which options the command line gave."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in (None, "store", "store_true", "append", "count"):
            self.register("action", kind, option_types.marking(self._registry_get("action", kind)))

    def parse_known_args(  # type: ignore[override]
        self, args: Optional[Sequence[str]] = None, namespace: Optional[argparse.Namespace] = None
    ) -> tuple[argparse.Namespace, list[str]]:
        found, extras = super().parse_known_args(
            args, option_types.Parsed() if namespace is None else namespace
        )
        if extras and _HELP not in vars(found):  # the innermost command that left them, first
            setattr(found, _HELP, self.prog)
        return found, extras

    def parse_args(  # type: ignore[override]
        self, args: Optional[Sequence[str]] = None, namespace: Optional[argparse.Namespace] = None
    ) -> argparse.Namespace:
        """argparse's, but an unrecognized option points at the help of the command it was given to."""
        found, extras = self.parse_known_args(args, namespace)
        where = vars(found).pop(_HELP, self.prog)
        if extras:
            self.exit(
                2,
                f"iree-matrix: error: unrecognized arguments: {' '.join(extras)} (`{where} --help` "
                "lists the options)\n",
            )
        return found

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"iree-matrix: error: {message} (`{self.prog} --help` lists the options)\n")


_HELP = "_help_of_extras"  # the namespace's note of which command's help an unrecognized option wants


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="iree-matrix",
        description="Which torch / iree-turbine / IREE compiler / IREE runtime combination works "
        "for my model, on which CPU, and how fast.",
    )
    option_types.add_version(parser, __version__)
    option_types.add_verbosity_options(parser)
    every = commands()
    verbs = parser.add_subparsers(
        dest="verb", required=True, metavar="{" + ",".join(c.NAME for c in every) + "}"
    )
    for command in every:
        sub = verbs.add_parser(command.NAME, help=command.HELP)
        command.add_arguments(sub)
        option_types.add_verbosity_options(sub, after_command=True)
        sub.set_defaults(command=command)
    return parser


# The signal that stopped this command, the first if several came: the exit status is 128 + its number.
_stopped_by: list[int] = []


def _interruptible() -> None:
    """Ctrl-C, SIGTERM and SIGHUP stop a run the same careful way, installed explicitly: a background
    process of a non-interactive shell inherits SIGINT as ignored."""

    def stop(signum: int, frame: object) -> None:
        if not _stopped_by:
            _stopped_by.append(signum)
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    # A closed terminal (SIGHUP) stops the run the same way, unless `nohup` asked to ignore it.
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        signal.signal(signal.SIGHUP, stop)


# Paths no command can use, whichever reached them: said in one line with what to do.
_PATH_ERRORS = {
    errno.ELOOP: "a loop of symbolic links (each names the next): point it at the file or directory itself",
    errno.ENAMETOOLONG: "a name longer than the file system allows (255 bytes a name): shorten it",
}


def entry() -> NoReturn:
    """The console script. After an interrupt it leaves at once: every record is on disk, and teardown
    would take half a second of the 2 s an interrupted run has to end in."""
    if (code := main()) in INTERRUPTED_CODES:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


# The exit statuses of a stopped command (`_exit_status`).
INTERRUPTED_CODES = frozenset(128 + s for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP))


def _exit_status(code: int) -> int:
    """A command's `EXIT_INTERRUPTED` as 128 + the stopping signal's number (130 without a signal)."""
    return 128 + _stopped_by[0] if code == EXIT_INTERRUPTED and _stopped_by else code


def main(argv: Optional[Sequence[str]] = None) -> int:
    _stopped_by.clear()
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad option (one line, printed by _Parser)
        return exc.code if isinstance(exc.code, int) else 2
    console.configure(option_types.verbosity(args))
    if threading.current_thread() is threading.main_thread():
        _interruptible()
    for said in option_types.renamed(args):  # an option's old spelling, taken
        logger.warning(said)
    try:
        with console.answers():  # stdout without terminal controls, whatever a record held
            from iree_matrix.commands.publish import finish_interrupted

            # A publish killed halfway is finished, with a warning, before anything reads it.
            finish_interrupted([Path(d) for d in [options.TO.of(args), options.results_dir(args)] if d])
            return _exit_status(args.command.main(args))  # the command's exit status
    except UserError as exc:
        logger.error(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        logger.error("interrupted")
        return _exit_status(EXIT_INTERRUPTED)
    except BrokenPipeError:  # `iree-matrix matrix --list | head`
        sys.stderr.close()
        return 0
    except OSError as exc:  # a disk that is full or read-only where no writer said so itself
        if exc.errno in _PATH_ERRORS:  # a path given (or read from a record) that no file can have
            logger.error(f"error: {exc.filename}: {exc.strerror}; {_PATH_ERRORS[exc.errno]}")
            return 2
        if not (atomic_files.is_disk_full(exc) or exc.errno in (errno.EACCES, errno.EPERM)):
            raise
        where = Path(exc.filename).parent if exc.filename else Path.cwd()
        logger.error(f"error: {atomic_files.storage_error(where, exc)}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
