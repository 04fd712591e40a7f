"""The exceptions the tool raises on purpose: the CLI turns `UserError` into one line and an exit code;
in the executor every other exception becomes a recorded status (`outcome.py`)."""

from __future__ import annotations


class MatrixError(Exception):
    """Base of every error iree-matrix raises deliberately."""

    exit_code = 1


class UserError(MatrixError):
    """A mistake the user can fix: bad matrix file, bad option, missing tool."""

    exit_code = 2


class SpecError(UserError):
    """A matrix file that does not validate. The message names file, key and value."""


class SelectionError(UserError):
    """`--select` patterns that match no job."""


class StageFailure(MatrixError):
    """A stage failed in a way that is a result (recorded), not a crash: `error_class` a short stable
    tag, `message` the tool's own words; `cacheable` False when it depends on the moment (network, disk)."""

    def __init__(self, error_class: str, message: str, *, cacheable: bool = True) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.cacheable = cacheable


class EnvironmentFault(StageFailure):
    """A stage failed because of where it ran, not its inputs (a damaged environment, a tool that could
    not start, an unwritable output path): never stored; the message says what to fix."""

    CLASS = "environment-fault"  # its records' error_class

    def __init__(self, message: str, cause: str = "", whole: bool = False) -> None:
        super().__init__(self.CLASS, message, cacheable=False)
        self.cause = cause or message  # the tool's own line that said so
        # The environment's files were checked and are whole: only the output said it failed.
        self.whole = whole


class StageSkipped(MatrixError):
    """The stage does not apply to this cell (e.g. a flag the compiler version lacks)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StorageError(UserError):
    """Writing results or the store failed (a full disk, a read-only mount): one line, not a traceback."""

    exit_code = 1
