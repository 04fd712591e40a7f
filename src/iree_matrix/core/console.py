"""What `iree-matrix` says, and where: answers on stdout (so `query … > answer.txt` holds the answer
alone), everything else through `logging` to stderr at the verbosity `-v`/`-q` choose (-qq errors,
-q warnings, default progress, -v detail and library warnings, -vv every library's debug log). Set up
at import with the default verbosity; `configure` sets the one a command line asked for."""

from __future__ import annotations

import contextlib
import io
import logging
import re
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TextIO

__all__ = ["LOGGER", "Say", "answers", "configure", "level", "logger", "plain", "shows"]

Say = Callable[[str], None]  # where a line for the user goes (a progress note, a log, print)

# What a terminal acts on rather than shows (records from other parties reach both streams): the C0
# controls but tab and newline, DEL, the C1 controls, and the bidirectional controls.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain(text: str) -> str:
    """`text` without the characters a terminal would act on."""
    return _CONTROL.sub("", text)


class _Plain(io.TextIOBase):
    """A text stream that writes through `plain` to the stream it wraps."""

    def __init__(self, out: TextIO) -> None:
        super().__init__()
        self.out = out

    def write(self, text: str) -> int:
        self.out.write(plain(text))
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def isatty(self) -> bool:
        return self.out.isatty()

    def fileno(self) -> int:
        return self.out.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.out, "encoding", "utf-8")


@contextlib.contextmanager
def answers() -> Iterator[None]:
    """stdout through `plain` while a command runs: the one boundary every answer crosses."""
    real = sys.stdout
    sys.stdout = _Plain(real)
    try:
        yield
    finally:
        try:
            sys.stdout.flush()
        finally:
            sys.stdout = real


LOGGER = "iree_matrix"
# The package's loggers, by verbosity (-2 … 1 and above).
_LEVELS = {-2: logging.ERROR, -1: logging.WARNING, 0: logging.INFO}
# Other libraries' loggers and Python warnings: not shown at the default verbosity.
_THEIRS = {1: logging.WARNING}


if TYPE_CHECKING:  # generic in its stream to typeshed; not subscriptable before Python 3.11
    _StreamHandler = logging.StreamHandler[TextIO]
else:
    _StreamHandler = logging.StreamHandler


class _Stderr(_StreamHandler):
    """A handler on whatever sys.stderr is when a line is written (capsys, rich, redirect_stderr)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:  # StreamHandler.__init__ sets it; sys.stderr wins
        pass


class _Words(logging.Formatter):
    """A line as the tool writes it: "warning: …", "iree-matrix: …" (an error); at -vv its logger named."""

    def __init__(self, named: bool = False) -> None:
        super().__init__()
        self.named = named

    def format(self, record: logging.LogRecord) -> str:
        text = plain(super().format(record))  # a record's words reach the log too: the other boundary
        if record.levelno >= logging.ERROR:
            text = f"iree-matrix: {text}"
        elif record.levelno >= logging.WARNING:
            text = f"warning: {text}"
        return f"[{record.name}] {text}" if self.named else text


def level(verbosity: int) -> int:
    """The package loggers' level at a verbosity (-v counts up, -q down)."""
    return logging.DEBUG if verbosity >= 1 else _LEVELS[max(-2, verbosity)]


def logger(name: str) -> logging.Logger:
    """A module's logger (`logger(__name__)`), from a module whose import sets up the output."""
    return logging.getLogger(name)


def shows(wanted: int = logging.INFO) -> bool:
    """Whether a line at `wanted` reaches stderr now."""
    return logging.getLogger(LOGGER).isEnabledFor(wanted)


def _install(logger: logging.Logger, at: int, named: bool = False) -> None:
    """`logger` writes to stderr through one handler of ours (not one more each time)."""
    for old in [h for h in logger.handlers if h.get_name() == LOGGER]:
        logger.removeHandler(old)
    handler = _Stderr()
    handler.setFormatter(_Words(named))
    handler.set_name(LOGGER)
    logger.addHandler(handler)
    logger.setLevel(at)


def configure(verbosity: int = 0) -> None:
    """Set the verbosity a command line asked for (-v/-q counted: `verbosity` = v − q)."""
    named = verbosity >= 2
    ours = logging.getLogger(LOGGER)
    _install(ours, level(verbosity), named)
    ours.propagate = False  # not again through the root's handler
    # Python warnings become log records; off first, or a second set-up keeps a stale showwarning.
    logging.captureWarnings(False)
    logging.captureWarnings(True)
    theirs = logging.DEBUG if verbosity >= 2 else _THEIRS.get(verbosity, logging.CRITICAL + 1)
    _install(logging.getLogger(), theirs, named)


# The default verbosity from import on, for the package's own loggers only (not the root's).
_install(logging.getLogger(LOGGER), logging.INFO)
logging.getLogger(LOGGER).propagate = False
