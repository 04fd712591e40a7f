"""How an IREE runtime says "this module is not for me", in its own words — defined once for the
run stage (which classifies a failure as it happens) and for the answers (which read stored
records, including ones stored before a phrase was known here)."""

from __future__ import annotations

import re
from typing import Any, Optional, Protocol

from iree_matrix.core.excerpts import clip, first_line
from iree_matrix.core.model.records import Labels


class Record(Protocol):
    """What these functions read of a `results.Record` (results imports this module: no import back)."""

    # Read-only (a frozen dataclass's fields are): properties, so a frozen record matches.
    @property
    def stage(self) -> str: ...

    @property
    def status(self) -> Any: ...  # results.Status, a str enum: compared by value

    @property
    def error_class(self) -> Optional[str]: ...

    @property
    def message(self) -> Optional[str]: ...

    @property
    def label(self) -> Labels: ...


INCOMPATIBLE = "incompatible-module"
MAX_REASON_CHARS = 90

# Substrings of the runtimes' refusals, from the published runs (tests/unit/test_refusals.py holds each
# full message). "executable does not support…" and "…file identifier…" come when the first call creates
# the executable; the four before the last are the date-versioned runtimes' (2023-2024), from before the
# bytecode version check caught every format change.
PHRASES = (
    "version mismatch",
    "not available in this runtime",
    "required module",
    "unsupported",
    "signature mismatch",
    "executable does not support this version of the runtime",
    "FlatBuffer verification failed",
    "no type registered with name",
    "exported by module",
    "unrecognized opcode",
    "executable file identifier does not match",
)
_WORDS = ("mismatch", "not available", "invalid_argument", "not_found", "does not support")
# iree::Status renders as "file.c:123: CODE; message; annotation; annotation".
_IREE_STATUS = re.compile(
    r"(?:[^\s;]+:\d+:\s*)?\b(?:CANCELLED|UNKNOWN|INVALID_ARGUMENT|DEADLINE_EXCEEDED|NOT_FOUND|"
    r"ALREADY_EXISTS|PERMISSION_DENIED|RESOURCE_EXHAUSTED|FAILED_PRECONDITION|ABORTED|"
    r"OUT_OF_RANGE|UNIMPLEMENTED|INTERNAL|UNAVAILABLE|DATA_LOSS|UNAUTHENTICATED|DEFERRED|"
    r"INCOMPATIBLE)\b;\s*"
)
# Annotations IREE appends while unwinding; they say where, the segment before says why.
_IREE_CONTEXT = ("loading ", "creating ", "while ", "registering ", "resolving ")


def is_refusal(output: Optional[str]) -> bool:
    return any(phrase in (output or "") for phrase in PHRASES)


def classify(output: str) -> str:
    """The error class of a failed run."""
    return INCOMPATIBLE if is_refusal(output) else "run-error"


def read_class(stage: str, error_class: Optional[str], message: Optional[str]) -> Optional[str]:
    """A stored record's error class as this version reads it: a run stored as `run-error` before
    its refusal's phrase was known here (the published 3.4-3.7 modules on runtimes 3.8/3.9) is the
    refusal `classify` now makes of the same words."""
    if stage == "run" and error_class == "run-error" and is_refusal(message):
        return INCOMPATIBLE
    return error_class


def reason(message: Optional[str]) -> str:
    """One line saying why the runtime refused, e.g. "bytecode version mismatch; runtime ..."."""
    if not (line := first_line(message, _WORDS)):
        return "no message recorded"
    status = _IREE_STATUS.search(line)
    if status and (rest := line[status.end() :].strip()):
        segments = [s.strip() for s in rest.split(";") if s.strip()]
        line = segments[0]
        for segment in segments[1:]:
            if segment.startswith(_IREE_CONTEXT) or len(line) + 2 + len(segment) > MAX_REASON_CHARS:
                break
            line += "; " + segment
    return clip(line, MAX_REASON_CHARS)


# The one word for a cross cell a runtime would not load, wherever it is shown (progress line,
# summary, `--list`, report, site): an answer, never a failure.
REFUSED = "refused"
EXPECTED = f"{REFUSED} (expected answer)"


def refused(record: Record) -> bool:
    """A run the runtime refused to load, in its own words (`read_class`: records stored before a
    phrase was known here say "run-error", and their words still count)."""
    return (
        record.status == "fail"
        and read_class(record.stage, record.error_class, record.message) == INCOMPATIBLE
    )


def is_answer(record: Record) -> bool:
    """A cross cell's refusal (compiler A's module on runtime B, A != B): the answer to "can runtime B
    load it?", not a failure — counted apart in the summary and never an exit status. A runtime that
    refuses its own release's module is a failure."""
    # a source build of a release ("src:3.9.0+static") is that release's runtime
    return refused(record) and record.label.compiler != record.label.runtime_value.release
