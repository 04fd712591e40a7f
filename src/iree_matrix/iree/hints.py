"""What to do about a failure: the known failure signatures, in the tools' own words, and the step that
gets past each (`HINTS`, the one table the report, the site, `query` and a run's summary read). A hint is
only added to the tool's words, never put in their place, and a failure no signature matches gets none."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.excerpts import first_line
from iree_matrix.core.model.results import Record
from iree_matrix.iree import versions
from iree_matrix.iree.hint_types import CLAIM, Fields, Hint, read


def _next_power_of_two(match: re.Match[str]) -> dict[str, str]:
    """The stack limit to try: the next power of two at or above what the function needs, and the
    built-in profile that sets at least that much (`stack-1m`: 1 MiB), if one does."""
    suggested = 1 << max(int(match["got"]) - 1, 1).bit_length()
    return {"suggested": str(suggested), "profile": "stack-1m" if suggested <= 1 << 20 else ""}


# The values a hint's `fields` names (hints.toml): derived from its signature's match.
FIELDS: dict[str, Fields] = {"next-power-of-two": _next_power_of_two}
# The catalogue: the general hints first (environments, limits, exporters), then those keyed on one op.
HINTS: tuple[Hint, ...] = read(Path(__file__).with_name("hints.toml"), FIELDS)


@dataclasses.dataclass(frozen=True)
class Found:
    """A hint that matched: which, the line of the tool's words it matched, and its advice."""

    hint: Hint
    line: str
    advice: str
    profile: str = ""  # the built-in profile that applies the advice's flag (`Hint.profile`)

    @property
    def name(self) -> str:
        return self.hint.name


def _found(hint: Hint, line: str, match: re.Match[str]) -> Found:
    values = {"profile": hint.profile, **{k: v for k, v in match.groupdict().items() if v is not None}}
    values.update(hint.fields(match) if hint.fields is not None else {})
    # an advice names only groups its every match has
    return Found(hint, line, re.sub(CLAIM, r"\1", hint.advice.format(**values)), values["profile"])


@dataclasses.dataclass(frozen=True)
class Made:
    """What made the words, as a record's labels say: the exporter environment and the compiler
    release (empty when not known: a hint scoped to either then does not apply)."""

    exporter: str = ""
    compiler: str = ""


UNKNOWN = Made()  # words alone: no exporter- or release-scoped hint applies


def _applies(hint: Hint, stage: Optional[str], made: Made) -> bool:
    if hint.exporters is not None and not re.search(hint.exporters, made.exporter):
        return False  # a hint scoped to an exporter needs the exporter known and one of them
    if hint.releases is not None:
        first, last = (versions.release_order(v) for v in hint.releases)
        if not versions.is_valid(made.compiler) or not first <= versions.release_order(made.compiler) <= last:
            return False
    return not hint.stages or stage is None or stage in hint.stages


def find(text: Optional[str], stage: Optional[str] = None, made: Made = UNKNOWN) -> Optional[Found]:
    """The first hint (in `HINTS`' order) whose signature a line of `text` matches; hints scoped to
    an exporter or to releases (`Hint.exporters`, `Hint.releases`) only when `made` is one of them."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    for hint in HINTS:
        if not _applies(hint, stage, made):
            continue
        for line in lines:
            if match := hint.search(line):
                return _found(hint, line, match)
    return None


def words(metrics: Optional[Mapping[str, Any]], message: Optional[str]) -> str:
    """Everything a record says about its failure, for matching: the compile stage's first error and the op it
    names (kept whole in the metrics, where the message may have been cut), then the message."""
    stored = metrics if isinstance(metrics, Mapping) else {}
    named = ("first_error", "failing_op", "source_op")
    parts = [str(stored[k]) for k in named if isinstance(stored.get(k), str)]
    return "\n".join([*parts, message or ""])


def of_record(record: Record) -> Optional[Found]:
    """The hint for a stored failure: its stage's, for its words, made by its exporter and compiler."""
    made = Made(record.label.exporter, record.label.compiler)
    return find(words(record.metrics, record.message), record.stage, made)


def telling_line(text: Optional[str], stage: Optional[str] = None) -> str:
    """The one line of a tool's words a person must see: the line a known signature matches, else
    the first line naming an error, else the first line."""
    found = find(text, stage)
    return found.line if found is not None else first_line(text)
