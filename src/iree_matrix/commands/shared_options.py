"""The options several commands take, each declared once, typed (as nox's `NoxConfig` declares its
options): the flag, the type argparse parses the value with (the type `of` gives back), its default
and its help. A command adds one with `CACHE.add(parser)`, naming only what differs for it (a
default, its help's words), and reads it back with `CACHE.of(args)` - or, for the cache, with
`cache_dir(args)`, which is the default cache when none was given.

`--backend`'s choices are the backend registry's (envs/backends.py `BACKENDS`, plus `auto`), looked
up when the parser is built, so a new backend is one entry there and no list here."""

from __future__ import annotations

import argparse
import dataclasses
import errno
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, Optional, TypeVar, cast

from iree_matrix.envs.cache_usage import absolute, default_cache

T = TypeVar("T")
_UNCHANGED: Any = object()


@dataclasses.dataclass(frozen=True)
class Option(Generic[T]):
    """One command-line option, declared once."""

    flag: str  # "--cache"
    help: str
    type: Callable[[str], T]
    default: Optional[T] = None
    choices: Optional[Callable[[], Sequence[str]]] = None  # looked up when added (a registry's names)
    metavar: Optional[str] = None

    @property
    def dest(self) -> str:
        """Where argparse keeps the value: `--results-dir` -> `results_dir`."""
        return self.flag.removeprefix("--").replace("-", "_")

    def add(
        self,
        parser: argparse.ArgumentParser,
        *,
        default: Any = _UNCHANGED,
        help: Optional[str] = None,
        required: bool = False,
        choices: Optional[Sequence[str]] = None,
    ) -> None:
        """Add the option to `parser`; `default`, `help`, `required` and `choices` (a subset of the
        declared ones) only where this command differs."""
        settings: dict[str, Any] = {"type": self.type, "help": help or self.help}
        if required:
            settings["required"] = True
        else:
            settings["default"] = self.default if default is _UNCHANGED else default
        listed = choices if choices is not None else self.choices() if self.choices else None
        if listed is not None:
            settings["choices"] = list(listed)
        if self.metavar:
            settings["metavar"] = self.metavar
        parser.add_argument(self.flag, **settings)

    def of(self, args: argparse.Namespace) -> Optional[T]:
        """The parsed value (None where the command does not take the option and it has no default)."""
        return cast(Optional[T], getattr(args, self.dest, self.default))


def backend_names() -> tuple[str, ...]:
    """`--backend`'s choices: `auto` and every backend of the registry."""
    from iree_matrix.envs.backends import BACKENDS

    return ("auto", *BACKENDS)


def directory(text: str) -> Path:
    """A directory option's value, absolute (`absolute`); argparse's one-line error when it names
    a loop of symbolic links or a file, which every later step would trip over with a traceback, or
    nothing (`--out ''` wrote into the working directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path: name a directory")
    path = absolute(text)
    try:
        found = path.stat()
    except FileNotFoundError:
        return path  # made when it is written
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise argparse.ArgumentTypeError(
                f"{text}: a loop of symbolic links (each names the next): point it at a directory"
            ) from None
        return path  # (no permission, ...): said by whatever reads or writes it
    if not stat.S_ISDIR(found.st_mode):
        raise argparse.ArgumentTypeError(f"{text}: not a directory")
    return path


def count(text: str) -> int:
    """A count's value (threads, pairs): a whole number, 1 or more; argparse's one-line error
    otherwise (`reproduce --threads 0` hung, `--threads -5` was planned and said "DIFFERENT")."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: expected 1 or more")
    return value


CACHE: Option[Path] = Option(
    "--cache",
    "wheelhouse, environments and artifacts (default: ~/.cache/iree-matrix, or $IREE_MATRIX_CACHE)",
    # Absolute where parsed: a stage runs its tools in other directories (#41); core/cache_layout.py
    # says what is in it.
    directory,
)
RESULTS_DIR: Option[Path] = Option(
    "--results-dir",
    "where results.jsonl and the report go (default: runs/<matrix file name>; the published results/ "
    "are written only by `iree-matrix publish`)",
    directory,
)
MATRIX: Option[Path] = Option("--matrix", "the matrix file", Path)
BACKEND: Option[str] = Option(
    "--backend",
    "where stages run: Docker images, host venvs, mixed (venvs for this host's CPU, images for "
    "aarch64/armv6), or auto (venvs when every environment is for this host, else Docker)",
    str,
    default="auto",
    choices=backend_names,
)
TIMEOUT: Option[str] = Option(
    "--timeout",
    "each stage's limit, over the matrix file's [timeouts]: one number for every stage (--timeout 600) "
    "or per stage (--timeout export=300,run=120; both: --timeout 600,run=120); a stage past it is "
    "recorded as a timeout and tried again on the next run",
    str,
    metavar="SECONDS|STAGE=SECONDS,...",
)


ROUNDS: Option[int] = Option("--rounds", "paired rounds (default: %(default)s)", int, default=8, metavar="N")
REPETITIONS: Option[int] = Option(
    "--repetitions", "timed calls per arm and round (default: %(default)s)", int, default=3, metavar="N"
)


@dataclasses.dataclass(frozen=True)
class Switch:
    """An on/off option (no value), declared once like an `Option`."""

    flag: str  # "--no-proof"
    help: str

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")

    def add(self, parser: argparse.ArgumentParser, *, help: Optional[str] = None) -> None:
        parser.add_argument(self.flag, action="store_true", help=help or self.help)

    def of(self, args: argparse.Namespace) -> bool:
        return bool(getattr(args, self.dest, False))


NO_PROOF = Switch(
    "--no-proof",
    "skip the pick's proof (its neighbourhood: every one-knob change timed against it; it costs "
    "about as many sittings of the pick as it has neighbours): a quick sitting, an answer unproved",
)
NO_GAP = Switch(
    "--no-gap",
    "skip the profile of an answer that takes more than 1.5× the best peer's time (its pick and the "
    "peers run once more with their per-op profilers, seconds each): the answer then does not say "
    "which op kinds hold the gap",
)
UNSANDBOXED = Switch(
    "--unsandboxed",
    "on the venv backend, run the user's model code (export, peer, flops) without bubblewrap where "
    "bubblewrap cannot run: the model then reaches the host's /dev, processes and kernel log "
    "(default: such a stage refuses; docs/failures.md)",
)
WAIT_WRITER = Switch(
    "--wait",
    "when another iree-matrix command writes the results directory (a publish, merge or forget; a "
    "running matrix only while it appends a record), wait for it instead of stopping (it is named: "
    "pid, command, since when)",
)
PROOF_STEPS: Option[int] = Option(
    "--proof-steps",
    "at most this many steps of the proof's local search (each a sitting of the centre and its "
    "neighbours; default: %(default)s)",
    int,
    default=3,
    metavar="N",
)


def paired_sitting(args: argparse.Namespace) -> None:
    """Check `--rounds` and `--repetitions` of a paired sitting (advise, compare, calibrate): fewer
    rounds than `stats.MIN_PAIRED_ROUNDS` can give no verdict."""
    from iree_matrix.core import stats
    from iree_matrix.core.errors import UserError

    rounds, repetitions = ROUNDS.of(args) or 0, REPETITIONS.of(args) or 0
    if rounds < stats.MIN_PAIRED_ROUNDS or repetitions < 1:
        raise UserError(
            f"--rounds {rounds} --repetitions {repetitions}: expected rounds ≥ {stats.MIN_PAIRED_ROUNDS} "
            "(fewer cannot give a verdict), repetitions ≥ 1"
        )


def cache_dir(args: argparse.Namespace) -> Path:
    """`--cache`, else the default cache."""
    return CACHE.of(args) or default_cache()
