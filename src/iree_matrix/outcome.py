"""What a stage attempt came to, and the one place where exceptions become statuses."""

from __future__ import annotations

import dataclasses
import traceback
from collections.abc import Mapping
from typing import Any, Optional

from iree_matrix import _proc
from iree_matrix.errors import StageFailure, StageSkipped
from iree_matrix.results import Status


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
