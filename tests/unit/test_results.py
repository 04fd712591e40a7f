"""Unit tests for result records and the append-only JSON Lines log."""

from __future__ import annotations

import json

import pytest

from iree_matrix.core.model import results
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.results import SCHEMA_VERSION, Record, ResultsLog, Status, latest_by_job


def _record(job: str = "run:tiny_cnn/x", status: Status = Status.OK, **fields) -> Record:
    stage, _, cell = job.partition(":")
    base = dict(
        job=job,
        stage=stage,
        cell=cell,
        key="abc123",
        status=status,
        labels={"model": "tiny_cnn", "compiler": "3.9.0"},
    )
    return Record(**{**base, **fields})


@pytest.fixture
def log(tmp_path) -> ResultsLog:
    return ResultsLog(tmp_path / "results" / "results.jsonl")


def test_missing_log_is_empty(log):
    assert list(log) == []
    assert log.latest() == {}


def test_round_trip_of_every_status(log):
    records = [
        _record(f"run:tiny_cnn/{s.value}", s, message=f"why {s.value}\nsecond line", error_class="x")
        for s in Status
    ]
    records.append(
        _record(
            "compile:tiny_cnn/full",
            Status.FAIL,
            metrics={"seconds": 2.5, "size": 10},
            blocked_by="export:tiny_cnn",
            env={"id": "py3.11-iree-compiler3.9.0", "packages": {"iree-base-compiler": "3.9.0"}},
            command=("iree-compile", "--flag", "in.mlir"),
            host=HostIdentity.of({"cpu": "Test CPU"}),
            started="2025-01-01T00:00:00+00:00",
            finished="2025-01-01T00:00:01+00:00",
            tool_version="0.1.0",
        )
    )
    for record in records:
        log.append(record)
    back = list(log)
    assert back == records
    assert [r.status for r in back[: len(Status)]] == list(Status)
    assert all(isinstance(r.status, Status) for r in back)
    assert back[-1].command == ("iree-compile", "--flag", "in.mlir")


def test_to_json_is_one_line(log):
    record = _record(message="line one\nline two\n\ttabbed", metrics={"nested": {"a": [1, 2]}})
    text = record.to_json()
    assert "\n" not in text
    data = json.loads(text)
    assert data["status"] == "ok"
    assert data["schema"] == SCHEMA_VERSION
    assert data["message"] == "line one\nline two\n\ttabbed"
    assert Record.from_dict(data) == record


def test_from_dict_ignores_unknown_fields():
    data = {**json.loads(_record().to_json()), "added_in_a_later_minor": 1}
    assert Record.from_dict(data) == _record()


def test_torn_last_line_is_skipped_with_a_warning(log, capsys):
    first, second = _record("run:a"), _record("run:b")
    log.append(first)
    log.append(second)
    with open(log.path, "a") as f:
        f.write(_record("run:c").to_json()[:40])  # power loss mid-write
    assert list(log) == [first, second]
    err = capsys.readouterr().err
    assert "torn last line" in err
    assert f"{log.path}:3" in err


def test_append_after_a_torn_line_keeps_the_new_record(log, capsys):
    first, later = _record("run:a"), _record("run:b")
    log.append(first)
    with open(log.path, "a") as f:
        f.write(_record("run:c").to_json()[:40])
    log.append(later)
    assert list(log) == [first, later]
    # the fragment became a line of its own, reported (not glued onto the new record)
    err = capsys.readouterr().err
    assert f"{log.path}:2: not JSON, skipped" in err
    assert "torn last line" not in err
    assert log.path.read_text().count("\n") == 3


def test_non_json_line_is_skipped(log, capsys):
    first, last = _record("run:a"), _record("run:b")
    log.append(first)
    with open(log.path, "a") as f:
        f.write("<<<<<<< merge conflict\n\n")
    log.append(last)
    assert list(log) == [first, last]
    err = capsys.readouterr().err
    assert f"{log.path}:2: not JSON, skipped" in err
    assert "3:" not in err  # the blank line is silently ignored


def test_newer_schema_is_skipped(log, capsys):
    first = _record("run:a")
    log.append(first)
    future = {**json.loads(_record("run:b").to_json()), "schema": SCHEMA_VERSION + 1, "status": "new"}
    with open(log.path, "a") as f:
        f.write(json.dumps(future) + "\n")
    assert list(log) == [first]
    err = capsys.readouterr().err
    assert f"schema {SCHEMA_VERSION + 1} is newer" in err
    assert f"{log.path}:2" in err


def test_a_record_from_before_the_schema_field_reads_as_schema_1(log):
    old = json.loads(_record("run:a").to_json())
    del old["schema"]
    log.path.parent.mkdir()
    log.path.write_text(json.dumps(old) + "\n")
    assert list(log) == [_record("run:a")]


def test_an_older_schema_is_migrated_step_by_step(log, monkeypatch):
    """A bump to the next schema that renamed a field: a line of today's schema is read through
    the new MIGRATIONS step."""
    now, bumped = SCHEMA_VERSION, SCHEMA_VERSION + 1
    monkeypatch.setattr(results, "SCHEMA_VERSION", bumped)

    def step(data):
        return {**data, "schema": bumped, "message": data.pop("note")}

    monkeypatch.setitem(results.MIGRATIONS, now, step)
    old = {**json.loads(_record("run:a").to_json()), "schema": now, "note": "said before"}
    del old["message"]
    log.path.parent.mkdir()
    log.path.write_text(json.dumps(old) + "\n")
    [record] = list(log)
    assert record.message == "said before" and record.schema == bumped


def test_a_schema_1_record_reads_as_today_with_its_digests_unknown(log):
    old = {**json.loads(_record("compile:a").to_json()), "schema": 1}
    log.path.parent.mkdir()
    log.path.write_text(json.dumps(old) + "\n")
    [record] = list(log)
    assert record.schema == SCHEMA_VERSION == 2 and "module_sha256" not in record.metrics


def test_an_older_schema_without_a_migration_is_refused_clearly(log, capsys, monkeypatch):
    now, bumped = SCHEMA_VERSION, SCHEMA_VERSION + 1
    monkeypatch.setattr(results, "SCHEMA_VERSION", bumped)
    log.path.parent.mkdir()
    log.path.write_text(_record("run:a").to_json() + "\n")  # today's schema, and no step past it
    assert list(log) == []
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"warning: {log.path}:1: schema {now} has no migration to {bumped} (this iree-matrix reads "
        f"{bumped}); re-run the stage or use the iree-matrix that wrote it, skipped"
    ]


def test_a_stored_record_of_an_unreadable_schema_is_an_absent_entry(tmp_path, monkeypatch):
    from iree_matrix.core.model.store import Store

    store = Store(tmp_path / "store")
    with store.staging() as out:
        store.commit("run", "k", out, _record("run:a"))
    assert store.get("run", "k") is not None
    monkeypatch.setattr(results, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    assert store.get("run", "k") is None  # redone, not misread


@pytest.mark.parametrize(
    "line",
    [
        {"job": "run:x", "stage": "run", "cell": "x", "key": "", "labels": {}},  # no status
        {"job": "run:x", "stage": "run", "cell": "x", "key": "", "labels": {}, "status": "exploded"},
        {"job": "run:x", "status": "ok"},  # required fields missing
        {"job": "run:x", "stage": "run", "cell": "x", "key": "", "labels": {}, "status": "ok", "command": 5},
        {"job": "run:x", "stage": "run", "cell": "x", "status": "ok", "schema": "1"},
        [1, 2, 3],
        "just a string",
        42,
    ],
)
def test_malformed_record_is_skipped(log, capsys, line):
    first, last = _record("run:a"), _record("run:b")
    log.append(first)
    with open(log.path, "a") as f:
        f.write(json.dumps(line) + "\n")
    log.append(last)
    assert list(log) == [first, last]
    err = capsys.readouterr().err
    assert f"warning: {log.path}:2: malformed record" in err
    assert "skipped" in err


def test_latest_keeps_the_newest_record_per_job(log):
    old_a = _record("run:a", Status.FAIL, message="first try")
    b = _record("run:b", Status.SKIP)
    new_a = _record("run:a", Status.OK, message="second try")
    for record in (old_a, b, new_a):
        log.append(record)
    latest = log.latest()
    assert latest == {"run:a": new_a, "run:b": b}
    assert latest_by_job([new_a, old_a]) == {"run:a": old_a}


def test_append_creates_the_directory_and_one_line_per_record(log):
    assert not log.path.parent.exists()
    log.append(_record("run:a", message="multi\nline"))
    log.append(_record("run:b"))
    lines = log.path.read_text().splitlines()
    assert len(lines) == 2
    assert [json.loads(line)["job"] for line in lines] == ["run:a", "run:b"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("labels", None), ("metrics", "garbage"), ("host", [1, 2]), ("message", 42), ("seconds", "soon"),
     ("labels", {"model": 3})],
)  # fmt: skip
def test_a_wrong_typed_field_is_a_warning_naming_the_line_not_a_crash(tmp_path, capsys, field, value):
    import json as _json

    from iree_matrix.report import render_compatibility

    log = ResultsLog(tmp_path / "results.jsonl")
    good = Record("export:m/e", "export", "m/e", "k", Status.OK, {"model": "m", "exporter": "e"})
    log.append(good)
    bad = {**_json.loads(good.to_json()), "job": "export:m/f", field: value}
    with open(log.path, "a") as f:
        f.write(_json.dumps(bad) + "\n")
    records = list(log)
    assert [r.job for r in records] == ["export:m/e"]
    err = capsys.readouterr().err
    assert f"{log.path}:2: malformed record" in err and field in err
    assert "# IREE compatibility matrix" in render_compatibility(records)


def test_a_full_disk_is_one_line_naming_the_path_and_keeps_the_log(tmp_path, monkeypatch):
    """#14 defect 6: ENOSPC while appending was a chained traceback that ended the run."""
    import errno
    import os as _os

    from iree_matrix.core.errors import StorageError, UserError
    from iree_matrix.core.model import results as results_module

    log = ResultsLog(tmp_path / "results.jsonl")
    log.append(_full_disk_record("a"))
    before = log.path.read_bytes()

    def no_space(fd, data):
        raise OSError(errno.ENOSPC, _os.strerror(errno.ENOSPC))

    monkeypatch.setattr(results_module.os, "write", no_space)
    with pytest.raises(StorageError) as caught:
        log.append(_full_disk_record("b"))
    message = str(caught.value)
    assert isinstance(caught.value, UserError)  # the CLI prints it as one line, no traceback
    assert "\n" not in message and str(log.path) in message and "free" in message, message
    monkeypatch.undo()
    assert log.path.read_bytes() == before
    assert [r.job for r in log] == ["compile:a"]


def _full_disk_record(name: str) -> Record:
    return Record(job=f"compile:{name}", stage="compile", cell=name, key="k", status=Status.OK, labels={})


def test_a_torn_or_unreadable_line_is_warned_about_once_per_file(log, capsys):
    """Issue 29: a report reads the log several times; a torn line was warned about on each."""
    log.append(_record("run:a"))
    with open(log.path, "a") as f:
        f.write("{not json\n")
        f.write(_record("run:c").to_json()[:40])
    for _ in range(3):
        assert [r.job for r in ResultsLog(log.path)] == ["run:a"]
    err = capsys.readouterr().err
    assert err.count("torn last line") == 1 and err.count("not JSON") == 1, err


def test_records_of_a_stage_this_version_lacks_are_named_once_not_dropped_silently(log, capsys):
    """A record of a stage no view shows (a newer iree-matrix's, or one edited by hand) was left out
    of the report and `query` without a word; armv6-smoke's hello-world record is one of ours."""
    from iree_matrix.findings import results_folder

    log.append(_record("frobnicate:tiny_cnn/x", tool_version="9.9.9"))
    log.append(_record("frobnicate:tiny_cnn/y", tool_version="9.9.9"))
    log.append(_record(f"{results.HELLO_STAGE}:armv6-hello"))
    log.append(_record("run:tiny_cnn/x"))
    for _ in range(2):  # a report reads the log several times: said once
        assert len(results_folder.read(log.path, None)) == 4
    err = capsys.readouterr().err
    assert err.count("record(s) of stage") == 1, err
    assert "2 record(s) of stage 'frobnicate'" in err and "iree-matrix 9.9.9 wrote them" in err
    assert f"stage '{results.HELLO_STAGE}'" not in err
