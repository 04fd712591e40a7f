"""A record's `started` and `finished` are times (bad inputs, fifth round): readers take "the newest"
by comparing them as text, so `"finished": "yesterday"` outranked every real time and the report's
first paragraph said "newest result finished yesterday"."""

from __future__ import annotations

import json

import pytest

from iree_matrix.core.model.results import Record, ResultsLog, Status


def _line(**fields: object) -> str:
    record = Record(job="compile:a", stage="compile", cell="a", key="a", status=Status.OK, labels={})
    data = json.loads(record.to_json())
    data.update(fields)
    return json.dumps(data) + "\n"


@pytest.mark.parametrize("field", ["started", "finished"])
@pytest.mark.parametrize("value", ["yesterday", "", "27/11/2026", "2026-13-01T00:00:00+00:00"])
def test_a_time_that_is_none_is_a_malformed_record_named_by_line(tmp_path, caplog, field, value):
    log = tmp_path / "results.jsonl"
    log.write_text(_line(finished="2026-11-27T10:00:00+00:00") + _line(**{field: value}))
    assert [r.finished for r in ResultsLog(log)] == ["2026-11-27T10:00:00+00:00"]
    said = [r.getMessage() for r in caplog.records]
    assert any(f"{log}:2: malformed record" in s and f"field {field!r}" in s for s in said), said


@pytest.mark.parametrize("value", ["2026-11-26T00:06:33+00:00", "2026-11-26T00:06:33.123456+00:00", None])
def test_times_as_records_write_them_are_read(tmp_path, value):
    log = tmp_path / "results.jsonl"
    log.write_text(_line(started=value, finished=value))
    assert [r.started for r in ResultsLog(log)] == [value]
