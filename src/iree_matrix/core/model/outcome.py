"""What a stage attempt came to, the one place where exceptions become statuses, and the one place
a record is made (with when, where and by which version of this tool)."""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

from iree_matrix import __version__
from iree_matrix.bundle_runner.base import now as now  # re-exported: every record's clock
from iree_matrix.core.errors import StageFailure, StageSkipped, UserError
from iree_matrix.core.model import host_identity
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.system import process_output, processes


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: Status
    metrics: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    message: Optional[str] = None
    error_class: Optional[str] = None
    command: tuple[str, ...] = ()
    env: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    cacheable: bool = True  # False: depends on the moment (timeout, network, a bug); retry next run


# Who did not return when a stage timed out, in a user's words (other stages name their tool);
# iree/hints.py reads these words.
_WHO_TIMED_OUT = {"export": "your model", "peer": "your model", "run": "your compiled model"}
# A stage whose limit runs out while a user's file is being built: what did not build.
_NOT_BUILT = {"kernel": "the kernel's C"}


def timed_out(stage: str, exc: processes.Timeout) -> str:
    """ "your model did not return within 180 s, the export stage's limit" (its last output
    follows in the record's message)."""
    who = _WHO_TIMED_OUT.get(stage)
    tool = Path(exc.argv[0]).name if exc.argv else stage
    said = f"{who} did not return" if who else f"{tool} did not finish"
    said = f"{_NOT_BUILT[stage]} did not build" if stage in _NOT_BUILT else said
    doing = f", {exc.doing}" if exc.doing else ""
    return f"{said} within {exc.seconds:.0f} s, the {stage} stage's limit{doing}"


def from_exception(exc: BaseException, stage: Optional[str] = None) -> Outcome:
    """The outcome an exception comes to; `stage`, when known, words a timeout for that stage."""
    if isinstance(exc, StageSkipped):
        return Outcome(Status.SKIP, message=exc.reason)
    if isinstance(exc, StageFailure):
        return Outcome(Status.FAIL, message=exc.message, error_class=exc.error_class, cacheable=exc.cacheable)
    if isinstance(exc, processes.Timeout):
        tail = process_output.excerpt(exc.output, max_lines=8)
        said = timed_out(stage, exc) if stage else f"{exc}"
        message = said + (f"; last output:\n{tail}" if tail else "")
        return Outcome(Status.TIMEOUT, message=message, error_class="timeout", cacheable=False)
    if isinstance(exc, UserError):  # a setting or input the user can fix: the message says how
        return Outcome(Status.FAIL, message=str(exc), error_class="user-error", cacheable=False)
    if isinstance(exc, OSError):
        return Outcome(Status.FAIL, message=f"{exc}", error_class="os-error", cacheable=False)
    # Anything else is a bug in iree-matrix: record it (so the matrix goes on) but never cache it.
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {where.filename}:{where.lineno}" if where else ""
    message = f"{type(exc).__name__}: {exc}{at} (a bug in iree-matrix; please report it)"
    return Outcome(Status.FAIL, message=message, error_class="internal", cacheable=False)


def record(
    job: str,
    stage: str,
    cell: str,
    labels: Mapping[str, Any],
    outcome: Outcome,
    *,
    key: str = "",
    started: Optional[str] = None,
    seconds: Optional[float] = None,
    env: Optional[Mapping[str, Any]] = None,
    blocked_by: Optional[str] = None,
) -> Record:
    """Every record this tool writes: what the attempt came to, when, on which host, by which
    version."""
    return Record(
        job=job,
        stage=stage,
        cell=cell,
        key=key,
        status=outcome.status,
        labels=dict(labels),
        metrics=dict(outcome.metrics),
        error_class=outcome.error_class,
        # Kept whole here, paths too: a record read back from a log loses them (`Record.from_dict`).
        message=outcome.message,
        blocked_by=blocked_by,
        env=dict(outcome.env if env is None else env),
        command=outcome.command,
        host=host_identity.here(),
        started=started,
        finished=now(),
        seconds=None if seconds is None else round(seconds, 3),
        tool_version=__version__,
    )
