"""The exceptions the tool raises on purpose.

Only the CLI boundary catches `UserError` and turns it into a one-line message and an exit code;
inside the executor every other exception becomes a recorded status (see `outcome.py`).
"""

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
    """A stage failed in a way that is a result (recorded), not a crash.

    `error_class` is a short stable tag (e.g. `resolve`, `compile-error`, `incompatible-module`)
    that the report can group by; `message` is an excerpt of the tool's own output.
    `cacheable` says whether the same inputs would fail the same way (so the failure may be stored
    as the stage's result) or whether it depends on the moment (network, disk) and must be retried.
    """

    def __init__(self, error_class: str, message: str, *, cacheable: bool = True) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.cacheable = cacheable


class EnvironmentFault(StageFailure):
    """A stage failed because of where it ran, not because of its inputs: a damaged environment (a
    library or module of the tool itself missing), a tool that could not start (exit 126/127), an
    output path it could not write. Never stored as the stage's result (it says nothing about IREE):
    the message says what to fix, and the next run tries again."""

    CLASS = "environment-fault"  # its records' error_class

    def __init__(self, message: str, cause: str = "", whole: bool = False) -> None:
        super().__init__(self.CLASS, message, cacheable=False)
        self.cause = cause or message  # the tool's own line that said so
        # The environment's files were checked and are whole: only the output said it failed (a
        # kernel's flags or object can make it say so: kernel/stages/kernel_seam.py `owned_fault`).
        self.whole = whole


class StageSkipped(MatrixError):
    """The stage does not apply to this cell (e.g. a flag the compiler version lacks)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StorageError(UserError):
    """Writing results or the store failed (a full disk, a read-only mount): one line naming the
    path and the space it needed, not a traceback; the user fixes the disk, not the inputs."""

    exit_code = 1
