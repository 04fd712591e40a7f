"""What a model itself does that its records hold, in one line, worded once (`query model`,
COMPATIBILITY.md): it changes its input in place, or torch's own outputs hold NaN or inf."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any, Optional

from iree_matrix.core.model.metrics.export import ExportMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.metrics_view import nonfinite_words
from iree_matrix.core.model.results import Record, Status

HEAD = "the model's own behaviour, not IREE's:"


def line(records: Iterable[Record], models: Collection[str]) -> Optional[str]:
    """The note for the records of `models` (a model's functions, as the records name them), or None
    when they show nothing of the kind."""
    changed: list[str] = []
    nonfinite: dict[str, Any] = {}
    unchecked = 0
    for record in records:
        if record.label.model not in models or record.status is not Status.OK:
            continue
        if record.stage == "export":
            exported = record.metric.of(ExportMetrics)
            changed += [said for said in exported.changes_inputs if said not in changed]
            for output, counts in exported.reference_nonfinite.items():
                nonfinite.setdefault(str(output), counts)
        elif record.stage == "run" and (values := record.metric.of(RunMetrics).unchecked_values):
            unchecked = max(unchecked, values)
    said = []
    if changed:
        said.append(
            f"it changes its input in place ({', '.join(changed)}); it is checked on the inputs as built"
        )
    if nonfinite:
        said.append(f"torch's own outputs hold NaN or inf ({nonfinite_words(nonfinite)}), left unchecked")
    elif unchecked:
        said.append(f"{unchecked} values left unchecked, where torch's own output is NaN or inf")
    return f"{HEAD} {'; '.join(said)}" if said else None
