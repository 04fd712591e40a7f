"""Records from other parties (merge, shards, a published set) can neither drive the terminal nor
put HTML in COMPATIBILITY.md, and a name or a figure out of bounds is one warning, never a crash.
Real logs, the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iree_matrix import cli
from iree_matrix.core import console
from iree_matrix.core.model.results import Record, ResultsLog, Status

EXP = "py3.11-torch2.13.0-turbine3.9.0"
CELL = f"tiny_cnn/{EXP}/iree3.9.0/x86_64/default"
LABELS = {
    "model": "tiny_cnn", "source_model": "tiny_cnn", "function": "main", "python": "3.11", "torch": "2.13.0",
    "turbine": "3.9.0", "exporter": EXP, "compiler": "3.9.0", "arch": "x86_64", "profile": "default",
}  # fmt: skip
# Clear the screen, cursor up + erase the line, a hyperlink, the window title, a carriage return, CSI
FINISHED = "2026-01-01T00:00:00+00:00"
ESCAPES = "\x1b[2J\x1b[1A\x1b[2K\x1b]8;;http://x.example\x07link\x1b]8;;\x07\x1b]0;title\x07\r\x9b31m"


def _run(message: str = "", **metrics) -> Record:
    status = Status.FAIL if message else Status.OK
    labels = {**LABELS, "runtime": "3.9.0"}
    latency = {"median": 2.0, "min": 1.9, "max": 2.1, "n": 5}
    metrics = {"matches": True, "latency_ms": latency, **metrics}
    error_class = "run-error" if message else None
    return Record(f"run:{CELL}", "run", CELL, "k" * 64, status, labels, metrics, error_class=error_class,
                  message=message or None, finished=FINISHED)  # fmt: skip


def _compiled() -> Record:
    labels, metrics = LABELS, {"module_sha256": "a" * 64}
    return Record(f"compile:{CELL}", "compile", CELL, "c" * 64, Status.OK, labels, metrics, finished=FINISHED)


def _write(path: Path, *records: Record, raw: tuple[dict, ...] = ()) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    lines = [r.to_json() for r in records] + [json.dumps(d) for d in raw]
    (path / "results.jsonl").write_text("\n".join(lines) + "\n")
    return path


def test_plain_keeps_text_newlines_and_tabs_and_drops_what_a_terminal_acts_on() -> None:
    assert console.plain(f"a\tb\n{ESCAPES}c") == "a\tb\n[2J[1A[2K]8;;http://x.examplelink]8;;]0;title31mc"


def test_show_prints_a_records_words_without_terminal_controls(tmp_path: Path, capsys) -> None:
    results = _write(tmp_path / "r", _run(message=f"error: {ESCAPES}the real error"))
    assert (
        cli.main(["show", f"run:{CELL}", "--results-dir", str(results), "--cache", str(tmp_path / "c")]) == 0
    )
    out, err = capsys.readouterr()
    assert "the real error" in out and "link" in out
    assert not any(c in out + err for c in "\x1b\x07\r\x9b"), repr(out)


def test_query_prints_without_terminal_controls(tmp_path: Path, capsys) -> None:
    compiled = _compiled()
    results = _write(tmp_path / "r", compiled, _run(message=f"error: {ESCAPES}the real error"))
    for question in (["model", "tiny_cnn"], ["load", "--compiler", "3.9.0", "--runtime", "3.9.0"]):
        cli.main(["query", *question, "--results-dir", str(results)])
        out, err = capsys.readouterr()
        assert "]0;title" in out and not any(c in out + err for c in "\x1b\x07\r\x9b"), repr(out)


def test_a_log_line_quoting_a_record_has_no_terminal_controls(capsys) -> None:
    console.logger("iree_matrix.test").warning(f"a record said {ESCAPES}")
    err = capsys.readouterr().err
    assert err.startswith("warning: a record said") and not any(c in err for c in "\x1b\x07\r\x9b")


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"labels": {"model": "tiny\x1b[2Jcnn"}}, "label 'model' is 'tiny\\x1b[2Jcnn', with '\\x1b'"),
        ({"labels": {"model": "m" * 300}}, "label 'model' is 300 characters long"),
        ({"labels": {"profile": "<img src=x onerror=alert(1)>"}}, "label 'profile' is '<img"),
        ({"metrics": {"latency_ms": {"median": -5, "min": -5, "max": -5, "n": 5}}}, "holds -5, outside 0"),
        ({"metrics": {"latency_ms": 1e308}}, "metric 'latency_ms' holds 1e+308, outside 0 … 1e+09"),
        ({"metrics": {"module_bytes": -1}}, "metric 'module_bytes' holds -1"),
        ({"seconds": -3.0}, "metric 'seconds' holds -3.0"),
        ({"job": "run:x\x1b]0;t\x07"}, "field 'job' is 'run:x\\x1b]0;t\\x07', with the control character"),
    ],
    ids=[
        "esc-name",
        "long-name",
        "html-name",
        "negative-latency",
        "huge-latency",
        "negative-size",
        "negative-seconds",
        "esc-job",
    ],  # fmt: skip
)
def test_report_and_merge_skip_a_record_out_of_bounds_with_one_warning(
    tmp_path: Path, capsys, change: dict, said: str, no_published: Path
) -> None:
    bad = json.loads(_run().to_json())
    for field, value in change.items():
        bad[field] = {**bad[field], **value} if isinstance(value, dict) else value
    bad["job"] = bad["job"] if "job" in change else bad["job"] + "/other"
    shard = _write(tmp_path / "shard", _run(), raw=(bad,))
    assert cli.main(["report", "--results-dir", str(shard)]) == 0
    out, err = capsys.readouterr()
    warned = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warned) == 1 and "results.jsonl:2: malformed record" in warned[0] and said in warned[0], err
    assert not any(c in err for c in "\x1b\x07")
    text = (shard / "COMPATIBILITY.md").read_text()
    assert "<img" not in text and "\x1b" not in text and "m" * 300 not in text
    assert cli.main(["merge", str(shard), "--to", str(tmp_path / "merged")]) == 0
    merged = list(ResultsLog(tmp_path / "merged" / "results.jsonl"))
    assert [r.job for r in merged] == [f"run:{CELL}"]


@pytest.mark.parametrize("field, value", [("key", "../../../etc"), ("key", ".."), ("key", "a/../../../etc"),
                                          ("stage", "..")])  # fmt: skip
def test_a_records_key_never_chooses_a_host_file_for_show_log(tmp_path: Path, capsys, field, value) -> None:
    """Issue 68 item 3: `show --log` printed any host log.txt a received record's `key` chose (labels
    were validated, the key was not). A key or stage that is not one path component names no log."""
    import os

    cache = tmp_path / "c" / "d"
    bad = json.loads(_run().to_json())
    bad[field] = value
    # The file the record's key leads to from the cache's store: a host file outside any entry.
    secret = Path(os.path.normpath(cache / "store" / bad["stage"] / bad["key"] / "log.txt"))
    assert secret.is_relative_to(tmp_path)
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("SECRET")
    (cache / "store" / "run" / "a").mkdir(parents=True, exist_ok=True)  # a used store: its folders exist
    results = _write(tmp_path / "r", raw=(bad,))
    job = bad["job"]
    assert cli.main(["show", job, "--log", "--results-dir", str(results), "--cache", str(cache)]) == 0
    out, err = capsys.readouterr()
    assert "SECRET" not in out + err and str(secret) not in out, out


def test_a_records_started_time_never_chooses_a_folder_for_its_log(tmp_path: Path, capsys) -> None:
    from iree_matrix.commands.show import _plain

    assert _plain("2026-01-01T00:00:00+00:00") and not _plain("../../x") and not _plain("a/b")
    assert not _plain(None) and not _plain("")


def test_a_refused_records_bidi_controls_never_reach_the_terminal(tmp_path: Path, capsys) -> None:
    """Issue 68 item 7: bidirectional controls (U+202E shows the rest of a line reversed) in a refused
    record's job were printed raw; they are a control like any other: the record is malformed, its
    job shown escaped, and nothing prints them."""
    bad = json.loads(_run().to_json())
    bad["job"] = f"run:{CELL}/\u202eexe.txt"
    shard = _write(tmp_path / "shard", _run(), raw=(bad,))
    assert cli.main(["report", "--results-dir", str(shard)]) == 0
    out, err = capsys.readouterr()
    assert "malformed record" in err and "\\u202e" in err, err
    assert not any(c in out + err for c in "\u202e\u2066\u200f")
    assert console.plain("a\u202eb\u2067c") == "abc"


def test_a_received_median_outside_its_own_spread_is_refused_before_any_renderer() -> None:
    """Issue 85: a record whose median lay outside its min … max ended `merge` in matplotlib's
    "'yerr' must not contain negative values"; n must count its times."""
    from iree_matrix.core.model.metrics_view import figure_problem

    assert "outside its min" in figure_problem("latency_ms", {"median": 5.0, "min": 6.0, "max": 7.0})
    assert "n is 3" in figure_problem(
        "latency_ms", {"median": 5.0, "min": 4.0, "max": 6.0, "n": 3, "times": [5.0]}
    )
    assert figure_problem("latency_ms", {"median": 5.0, "min": 4.0, "max": 6.0, "n": 1, "times": [5.0]}) == ""
