"""A stage owns its results (issue #40 item 2): its metrics are one dataclass (`core/model/metrics/`) the
stage writes and declares and every reader reads back, typed by field; any stage's record of a
cell is found through the one index by stage."""

from __future__ import annotations

from typing import Optional

import pytest

from iree_matrix import stages
from iree_matrix.core.model import metrics
from iree_matrix.core.model.metrics.peak import PeakMetrics
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.metrics.runtime_build import RuntimeBuildMetrics
from iree_matrix.core.model.metrics_view import Metrics, StageMetrics, Timed, metric
from iree_matrix.core.model.results import Index, Record, Status


class _Toy(StageMetrics, stage="toy"):
    count: Optional[int] = metric("how many")
    share: Optional[float] = metric("a fraction")
    name: str = metric("what", "")
    parts: tuple[str, ...] = metric("its parts", ())


def test_a_record_reads_back_as_its_stages_dataclass_each_value_by_its_type():
    raw = {"count": 3, "share": "0.5", "name": 7, "parts": ["a", 2], "other": 1}
    assert _Toy.read(raw) == _Toy(count=3, share=0.5, name="", parts=("a", "2"))
    assert _Toy.read({"count": True, "share": float("nan")}) == _Toy()  # a bool is no count
    assert _Toy.read({}) == _Toy()


def test_the_writer_writes_what_the_reader_reads_and_the_stage_declares_it():
    written = _Toy(count=2, parts=("x",)).written()
    assert written == {"count": 2, "name": "", "parts": ("x",)}  # None left out
    assert _Toy.read(written) == _Toy(count=2, parts=("x",))
    assert _Toy.described() == {
        "count": "how many",
        "share": "a fraction",
        "name": "what",
        "parts": "its parts",
    }


def test_every_stage_that_writes_metrics_declares_them_as_its_dataclass():
    """One model per stage: a stage with metrics declares exactly its dataclass's fields, and every
    dataclass names a stage that exists (a new stage writing a dict of its own fails here)."""
    with_metrics = [s for s in stages.ordered() if s.metrics]
    assert {"export", "compile", "run", "peer", "flops", "peak"} <= {s.name for s in with_metrics}
    for stage in with_metrics:
        kind = metrics.of_stage(stage.name)
        assert kind is not None, f"the {stage.name} stage writes metrics without a StageMetrics dataclass"
        assert stage.metrics == kind.described()
    assert {kind.stage for kind in metrics.declared()} <= set(stages.names())
    # and none is read any other way: a record's metrics offer nothing but their stage's dataclass
    assert [name for name in vars(Metrics) if not name.startswith("_")] == ["of"]


def test_a_stage_that_gathers_its_metrics_is_held_to_its_dataclass_where_it_writes_them():
    assert RunMetrics.checked({"matches": True, "latency_ms": {"median": 1.0}}) == {
        "matches": True,
        "latency_ms": {"median": 1.0},
    }
    with pytest.raises(
        ValueError, match=r"the run stage wrote metrics RunMetrics does not declare: \['latncy_ms'\]"
    ):
        RunMetrics.checked({"matches": True, "latncy_ms": 1.0})


def test_a_field_whose_name_is_no_python_name_reads_and_writes_under_its_key():
    raw = {"iree-run-module_bytes": 10, "iree-run-module_stripped_bytes": 4}
    built = RuntimeBuildMetrics.read(raw)
    assert (
        built.tool_bytes("iree-run-module") == 10 and built.tool_bytes("iree-run-module", stripped=True) == 4
    )
    assert built.tool_bytes("iree-benchmark-module") is None and built.written().items() >= raw.items()
    assert "iree-run-module_bytes" in RuntimeBuildMetrics.described()


def test_a_run_reads_its_timed_figures_and_the_load_the_executor_added():
    raw = {
        "latency_ms": {"median": 2.0, "min": 1.0, "max": 3.0, "n": 5},
        "cpu_ms": {"median": 1.5, "times": [1, 2]},
        "timing": "emulated (qemu-user, cortex-a72)",
        "other_load": 0.5,
    }
    ran = RunMetrics.read(raw)
    assert (
        ran.latency_median == 2.0 and ran.latency == Timed(2.0, 1.0, 3.0, 5) and ran.cpu_times == [1.0, 2.0]
    )
    assert ran.emulated and ran.other_load == 0.5 and not ran.matches and ran.gpu_devices == ()
    assert RunMetrics.read({"latency_ms": 4}).latency_median == 4.0  # an older record's bare median
    assert RunMetrics.read({"timing": 3}).timing is None and not RunMetrics.read({}).emulated


def _record(stage: str, cell: str, **metrics: object) -> Record:
    return Record(f"{stage}:{cell}", stage, cell, "k", Status.OK, {"arch": "x86_64"}, metrics)


def test_the_index_finds_any_stages_record_of_a_cell():
    peak = _record("peak", "x86_64", gflops_1=10.0, threads=4)
    index = Index.of([_record("toy", "m/e/c/x86_64/default", count=1), peak])
    assert index.get("peak", "x86_64") is peak and index.get("peak", "aarch64") is None
    assert list(index.stage("toy")) == ["m/e/c/x86_64/default"] and index.stage("nope") == {}
    assert peak.metric.of(PeakMetrics).gflops_1 == 10.0 and peak.metric.of(PeakMetrics).threads == 4


def test_an_opt_in_is_a_key_a_stage_declares_parsed_and_checked_in_spec(tmp_path):
    from iree_matrix.core.errors import SpecError
    from iree_matrix.matrix import schema, spec_file

    assert {"roofline", "instructions", "dispatches", "op_timings"} <= set(schema.opt_ins())
    path = tmp_path / "m.toml"
    base = 'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.9.0"\nmodels = "tiny_cnn"\n'
    path.write_text(base + '[benchmark]\nroofline = "tiny_cnn/*"\n')
    benchmark = spec_file.load(path).benchmark
    assert benchmark.globs("roofline") == ("tiny_cnn/*",) and benchmark.opts_in("roofline", "tiny_cnn")
    assert not benchmark.opts_in("instructions", "tiny_cnn")
    path.write_text(base + '[benchmark]\nno_such_opt_in = "tiny_cnn/*"\n')
    with pytest.raises(
        SpecError, match=r"unknown key 'benchmark.no_such_opt_in' \(known: devices, dispatches, instr"
    ):
        spec_file.load(path)


def test_no_test_or_script_reads_a_metric_by_the_old_property_names() -> None:
    """`record.metric` offers only `of(...)`; tests are not type-checked, so an old-style read
    (`record.metric.timing`) there would fail only when that (perhaps slow) test runs."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    old = re.compile(r"\.metric\.(?!of\(|raw\b)[a-z_]+")
    found = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for folder in ("tests", "scripts", "benchmarks", "bin")
        for path in sorted((root / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if old.search(line) and path.name != Path(__file__).name
    ]
    assert not found, "read metrics as record.metric.of(StageMetrics).field:\n" + "\n".join(found)
