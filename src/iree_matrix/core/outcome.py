"""What a stage attempt came to, the one place where exceptions become statuses, and the one place
a record is made (with when, where and by which version of this tool)."""

from __future__ import annotations

import dataclasses
import datetime
import traceback
from collections.abc import Mapping
from typing import Any, Optional

from iree_matrix import __version__
from iree_matrix.core import _proc, host
from iree_matrix.core.errors import StageFailure, StageSkipped, UserError
from iree_matrix.core.results import Record, Status


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: Status
    metrics: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    message: Optional[str] = None
    error_class: Optional[str] = None
    command: tuple[str, ...] = ()
    env: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    cacheable: bool = True  # False: depends on the moment (timeout, network, a bug); retry next run


def from_exception(exc: BaseException) -> Outcome:
    if isinstance(exc, StageSkipped):
        return Outcome(Status.SKIP, message=exc.reason)
    if isinstance(exc, StageFailure):
        return Outcome(Status.FAIL, message=exc.message, error_class=exc.error_class, cacheable=exc.cacheable)
    if isinstance(exc, _proc.Timeout):
        tail = _proc.excerpt(exc.output, max_lines=8)
        message = f"{exc}" + (f"; last output:\n{tail}" if tail else "")
        return Outcome(Status.TIMEOUT, message=message, error_class="timeout", cacheable=False)
    if isinstance(exc, UserError):  # a setting or input the user can fix: the message says how
        return Outcome(Status.FAIL, message=str(exc), error_class="user-error", cacheable=False)
    if isinstance(exc, OSError):
        return Outcome(Status.FAIL, message=f"{exc}", error_class="os-error", cacheable=False)
    # Anything else is a bug in iree-matrix: record it (so the matrix goes on) but never cache it.
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" at {where.filename}:{where.lineno}" if where else ""
    return Outcome(
        Status.FAIL,
        message=f"{type(exc).__name__}: {exc}{at} (a bug in iree-matrix; please report it)",
        error_class="internal",
        cacheable=False,
    )


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


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
        message=outcome.message,
        blocked_by=blocked_by,
        env=dict(outcome.env if env is None else env),
        command=outcome.command,
        host=host.describe(),
        started=started,
        finished=now(),
        seconds=None if seconds is None else round(seconds, 3),
        tool_version=__version__,
    )
