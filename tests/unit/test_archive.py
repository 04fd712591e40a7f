"""Moving timings that name no CPU family/model to an archive (findings/archive.py): what a record
answers stays published, its milliseconds move, and nothing is lost or moved twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iree_matrix.core.errors import UserError
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import ResultsLog
from iree_matrix.findings import archive

LEGACY = {"cpu": "AMD EPYC", "cpu_features": ["avx2", "avx512f"], "machine": "x86_64", "cores": 2}
IDENTIFIED = {
    "cpu": "Intel(R) Xeon(R) Processor",
    "identity": "x86_64|GenuineIntel|6|167|1|fc7df03f53a7dec4|2",
}


def _record(stage: str, host: dict, **metrics) -> dict:
    return {
        "job": f"{stage}:m/x", "stage": stage, "cell": "m/x", "key": "k", "status": "ok", "host": host,
        "labels": {"model": "m"}, "metrics": metrics, "schema": 2,
    }  # fmt: skip


RUN = {"latency_ms": {"median": 2.0}, "cpu_ms": {"median": 1.0}, "other_load": 1.7, "matches": True,
       "max_abs_err": 1e-6, "module_bytes": 10, "timing": "native", "peak_memory_bytes": 5}  # fmt: skip


def test_an_unidentified_run_keeps_its_answer_and_loses_its_milliseconds():
    kept, moved = archive.split(_record("run", LEGACY, **RUN))
    assert moved is not None and moved["metrics"] == RUN  # the record as it was
    assert kept is not None and kept["metrics"] == {
        "matches": True, "max_abs_err": 1e-6, "module_bytes": 10, "timing": "native", "peak_memory_bytes": 5
    }  # fmt: skip
    assert {k: v for k, v in kept.items() if k != "metrics"} == {
        k: v for k, v in moved.items() if k != "metrics"
    }


def test_identified_or_untimed_records_stay_as_they_are():
    for record in (_record("run", IDENTIFIED, **RUN), _record("compile", LEGACY, module_bytes=10)):
        kept, moved = archive.split(record)
        assert kept == record and moved is None


def test_a_peer_keeps_each_peers_status_and_a_peak_leaves_whole():
    peers = {"eager": {"latency_ms": {"median": 3.0}, "cpu_ms": {"median": 3.0}, "matches": True},
             "onnxruntime": {"status": "fail", "error": "no kernel"}}  # fmt: skip
    kept, moved = archive.split(_record("peer", LEGACY, peers=peers, other_load=0.1, threads=1))
    assert kept is not None and moved is not None
    assert kept["metrics"] == {
        "peers": {"eager": {"matches": True}, "onnxruntime": peers["onnxruntime"]},
        "threads": 1,
    }
    assert archive.split(_record("peak", LEGACY, gflops_1=243.8)) == (
        None,
        _record("peak", LEGACY, gflops_1=243.8),
    )


def test_archive_timings_moves_each_record_once(tmp_path: Path):
    published, to = tmp_path / "set", tmp_path / "archive" / "set"
    published.mkdir()
    records = [
        _record("run", LEGACY, **RUN),
        _record("run", IDENTIFIED, **RUN),
        _record("peak", LEGACY, gflops_1=1.0),
    ]
    records[1]["job"] = "run:m/y"
    (published / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records) + "not json\n")
    moved = archive.archive_timings(published, to)
    assert (moved.records, moved.stripped, moved.removed) == (4, 1, 1)
    lines = (published / "results.jsonl").read_text().splitlines()
    assert len(lines) == 3 and lines[-1] == "not json"  # a line it cannot read is kept as it was
    assert [json.loads(line)["job"] for line in (to / "results.jsonl").read_text().splitlines()] == [
        "run:m/x", "peak:m/x"
    ]  # fmt: skip
    again = archive.archive_timings(published, to)  # nothing left to move: nothing moved twice
    assert (again.stripped, again.removed) == (0, 0) and len(
        (to / "results.jsonl").read_text().splitlines()
    ) == 2
    (kept, *_) = ResultsLog(published / "results.jsonl")
    assert kept.metric.of(RunMetrics).latency is None and kept.metric.of(RunMetrics).matches is True


def test_archive_timings_says_what_is_wrong(tmp_path: Path):
    with pytest.raises(UserError, match=r"results.jsonl: no such results file"):
        archive.archive_timings(tmp_path, tmp_path / "archive")
    (tmp_path / "results.jsonl").write_text("")
    with pytest.raises(UserError, match="the archive must be another directory"):
        archive.archive_timings(tmp_path, tmp_path)


REPO = Path(__file__).resolve().parents[2]


def _timed_figures(log: Path) -> list[dict]:
    """The records of a published log that carry a timed figure (what `split` would move)."""
    found = []
    for line in log.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        if archive.timed(data) and data.get("host"):
            found.append(data)
    return found


def test_the_reference_packaged_for_user_runs_names_its_cpu():
    """The reference bench the wheel carries (what every user run relates its figures to) holds no
    timing of an unnamed CPU; the release log it also carries (what `query` answers from outside a
    checkout) is the published one, whose figures are held to the archive's bar below."""
    import tomllib

    from iree_matrix.report.published import PUBLISHED_SET

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    carried = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    logs = sorted(source for source in carried if source.endswith("results.jsonl"))
    assert logs == sorted([f"results/{PUBLISHED_SET}/results.jsonl", "results/results.jsonl"])
    timed = _timed_figures(REPO / f"results/{PUBLISHED_SET}/results.jsonl")
    assert timed and not [r["job"] for r in timed if archive.unidentified(r)]


def test_nine_in_ten_published_timings_outside_the_archive_name_their_cpu():
    """Issue #48's bar: at least 90 % of the published timed figures outside results/archive/ name
    their CPU family/model (the rest move there with `iree-matrix results archive-timings`)."""
    timed = [
        r
        for log in sorted((REPO / "results").glob("**/results.jsonl"))
        if "archive" not in log.relative_to(REPO / "results").parts
        for r in _timed_figures(log)
    ]
    unnamed = [r for r in timed if archive.unidentified(r)]
    assert timed and len(unnamed) <= 0.1 * len(timed), f"{len(unnamed)} of {len(timed)} name no CPU"
