"""The kinds of command-line option, each declared once in options.py: its flag, type, default and
help. A command takes one with `taking(CACHE)` (`CACHE.but(...)` where it differs) and reads it back
with `CACHE.of(args)`; nothing else calls argparse's `add_argument`."""

from __future__ import annotations

import argparse
import dataclasses
import errno
import stat
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, Optional, Self, TypeVar, Union, cast

from iree_matrix.core.input_files import blocking
from iree_matrix.envs.cache_usage import absolute

T = TypeVar("T")
Choices = Union[Sequence[str], Sequence[int], Callable[[], Sequence[str]], None]

# Where a `Parsed` namespace keeps the names of the options the command line gave.
GIVEN = "options_given"


class Parsed(argparse.Namespace):
    """argparse's namespace, keeping which options the command line gave (`given`)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == GIVEN:
            value = {*self.__dict__.get(GIVEN, ()), *value}
        super().__setattr__(name, value)


def marking(action: type[argparse.Action]) -> type[argparse.Action]:
    """`action`, noting its option as given (argparse calls an action only for what the line holds)."""

    class Marked(action):  # type: ignore[valid-type,misc]
        def __call__(
            self,
            parser: argparse.ArgumentParser,
            namespace: argparse.Namespace,
            values: Any,
            option_string: Optional[str] = None,
        ) -> None:
            super().__call__(parser, namespace, values, option_string)
            setattr(namespace, GIVEN, {*getattr(namespace, GIVEN, ()), self.dest})

    return Marked


def given(args: argparse.Namespace) -> frozenset[str]:
    return frozenset(getattr(args, GIVEN, ()))


# Where argparse keeps the old spellings a command line used (`Option.renamed_from`), said once
# the console is set up (cli.main): parsing itself says nothing.
RENAMED = "renamed_options"


class _Renamed(argparse.Action):
    """Takes the value under its new name; an old spelling is noted, to be said (`RENAMED`)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        used: Optional[str] = None,
    ) -> None:
        setattr(namespace, self.dest, True if self.nargs == 0 else values)
        setattr(namespace, GIVEN, {*getattr(namespace, GIVEN, ()), self.dest})
        new = self.option_strings[0]
        if used is not None and used != new:
            said = f"{used} is now {new} (the same value; {used} will be removed)"
            setattr(namespace, RENAMED, [*getattr(namespace, RENAMED, []), said])


@dataclasses.dataclass(frozen=True)
class _Flag:
    flag: str  # "--cache"
    help: str

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")

    def but(self, **changes: Any) -> Self:
        """The option as one command takes it (`RESULTS_DIR.but(default=Path("results"))`)."""
        return dataclasses.replace(self, **changes)


@dataclasses.dataclass(frozen=True)
class Option(_Flag, Generic[T]):
    """One command-line option with a value, declared once; `repeat`: given any number of times."""

    type: Callable[[str], T] = cast(Callable[[str], T], str)
    default: Optional[T] = None
    choices: Choices = None  # a callable is looked up when added (a registry's names)
    metavar: Optional[str] = None
    repeat: bool = False
    required: bool = False
    renamed_from: tuple[str, ...] = ()  # old spellings, still taken and said to be old

    def add(self, parser: Any, **changes: Any) -> None:
        """Add the option to `parser` (or one of its groups), with `changes` (as `but` takes them)
        where this command takes it otherwise."""
        o = self.but(**changes)
        settings: dict[str, Any] = {"type": o.type, "help": o.help, "dest": o.dest}
        if (listed := o.choices() if callable(o.choices) else o.choices) is not None:
            settings["choices"] = list(listed)
        if o.metavar:
            settings["metavar"] = o.metavar
        if o.required:
            settings["required"] = True
        elif o.repeat:
            settings.update(action="append", default=[])
        else:
            settings["default"] = o.default
        if o.renamed_from:
            settings["action"] = _Renamed
        parser.add_argument(o.flag, *o.renamed_from, **settings)

    def of(self, args: argparse.Namespace) -> Optional[T]:
        return cast(Optional[T], getattr(args, self.dest, None))

    def each(self, args: argparse.Namespace) -> tuple[T, ...]:
        return tuple(getattr(args, self.dest, None) or ())


@dataclasses.dataclass(frozen=True)
class Switch(_Flag):
    """An on/off option (no value), declared once like an `Option`."""

    renamed_from: tuple[str, ...] = ()  # old spellings, still taken and said to be old

    def add(self, parser: Any, *, help: Optional[str] = None) -> None:
        how: dict[str, Any] = {"action": "store_true"}
        if self.renamed_from:  # an old spelling is said, its value taken as no value
            how = {"action": _Renamed, "nargs": 0, "default": False}
        parser.add_argument(self.flag, *self.renamed_from, help=help or self.help, dest=self.dest, **how)

    def of(self, args: argparse.Namespace) -> bool:
        return bool(getattr(args, self.dest, False))


@dataclasses.dataclass(frozen=True)
class Positional(Generic[T]):
    """A command's operand (`iree-matrix advise MODEL`): its name, how many, and what it may be."""

    name: str  # where argparse keeps it
    help: Optional[str]
    type: Callable[[str], T] = cast(Callable[[str], T], str)
    metavar: Optional[str] = None
    nargs: Optional[str] = None  # "+", "*", "?"
    choices: Optional[Sequence[str]] = None
    default: Any = None

    def add(self, parser: Any, *, help: Optional[str] = None) -> None:
        settings: dict[str, Any] = {"type": self.type}
        for key in ("metavar", "nargs", "choices"):
            if getattr(self, key) is not None:
                settings[key] = getattr(self, key)
        if self.nargs in ("?", "*"):
            settings["default"] = self.default
        if help or self.help:
            settings["help"] = help or self.help
        parser.add_argument(self.name, **settings)

    def of(self, args: argparse.Namespace) -> T:
        return cast(T, getattr(args, self.name))

    def each(self, args: argparse.Namespace) -> tuple[T, ...]:
        return tuple(getattr(args, self.name, None) or ())


# What a command takes (`taking`): a declared option, or a group of them added by a function.
Takes = Union[Option[Any], Switch, Positional[Any], Callable[[argparse.ArgumentParser], None]]


def taking(*items: Takes) -> Callable[[argparse.ArgumentParser], None]:
    """A command's `add_arguments`, declared as what it takes in `--help`'s order."""

    def add_arguments(parser: argparse.ArgumentParser) -> None:
        for item in items:
            item.add(parser) if isinstance(item, (Option, Switch, Positional)) else item(parser)

    return add_arguments


# argparse copies a command's namespace over the top one's, so -v/-q before and after the command
# are kept under two names and counted together (`verbosity`).
_AFTER = "_after_command"


_VERBOSITY = (
    (
        "verbose",
        "say more on stderr: -v the commands run and the cache's decisions, and Python's warnings; -vv "
        "every library's debug log",
    ),
    (
        "quiet",
        "say less on stderr: -q warnings and errors only (no progress), -qq errors only; answers on "
        "stdout are the same",
    ),
)


def add_verbosity_options(p: argparse.ArgumentParser, after_command: bool = False) -> None:
    """`-v`/`-q`, counted, on `iree-matrix` itself and on every command."""
    dest = _AFTER if after_command else ""
    default = argparse.SUPPRESS if after_command else 0
    for name, help in _VERBOSITY:
        p.add_argument(
            f"-{name[0]}", f"--{name}", action="count", dest=name + dest, default=default, help=help
        )


def add_version(p: argparse.ArgumentParser, version: str) -> None:
    p.add_argument("--version", action="version", version=f"%(prog)s {version}")


def verbosity(args: argparse.Namespace) -> int:
    return sum(getattr(args, f"verbose{d}", 0) - getattr(args, f"quiet{d}", 0) for d in ("", _AFTER))


def renamed(args: argparse.Namespace) -> list[str]:
    return list(getattr(args, RENAMED, []))


def kernel_name(text: str) -> str:
    """A kernel's name as a command takes it, or argparse's one-line error with the value cut."""
    from iree_matrix.core import excerpts
    from iree_matrix.kernel.kernels import name_problem

    if not text.strip() or (why := name_problem(text)) is None:  # an empty one: `query` says so itself
        return text
    raise argparse.ArgumentTypeError(f"{excerpts.clip(repr(text), 60)} ({len(text):,} characters): {why}")


def directory(text: str) -> Path:
    """A directory option's value, absolute; argparse's one-line error for what would be a traceback."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path: name a directory")
    path = absolute(text)
    try:
        found = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise argparse.ArgumentTypeError(
                f"{text}: a loop of symbolic links (each names the next): point it at a directory"
            ) from None
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):  # made when it is written, if it can be:
            if blocked := blocking(path):  # under a file or a dangling link was a mkdir traceback
                raise argparse.ArgumentTypeError(f"{text}: {blocked}; name another") from None
        return path  # (no permission, ...): said by whatever reads or writes it
    if not stat.S_ISDIR(found.st_mode):
        raise argparse.ArgumentTypeError(f"{text}: not a directory")
    return path


def count(text: str) -> int:
    """A count's value (threads, pairs): a whole number, 1 or more; argparse's one-line error otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: expected 1 or more")
    return value


def mebibytes(text: str) -> float:
    """A size in MiB: a number above 0 (not nan); argparse's one-line error otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: not a number of MiB") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text}: expected a size in MiB above 0 (leave it out: no limit)")
    return value


def matrix_file(text: str) -> Path:
    """`--matrix`: a path, never an empty one (Path("") is ".")."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path: name a matrix file (e.g. matrix/smoke.toml)")
    return Path(text)


def library(text: str) -> str:
    """`--library`: `none`, or a folder that exists (a mistyped one tried nothing, silently)."""
    if text != "none" and not Path(text).expanduser().is_dir():
        raise argparse.ArgumentTypeError(
            f"{text}: no such folder: name a folder of kernels (kernels/) or none"
        )
    return text
