"""A stage owns its results (issue #40 item 2): its metrics are one dataclass (`core/model/metrics/`) the
stage writes and declares and every reader reads back, typed by field; any stage's record of a
cell is found through the one index by stage."""

from __future__ import annotations

import dataclasses
from typing import Optional

import pytest

from iree_matrix import stages
from iree_matrix.core.model.metrics.flops import FlopsMetrics
from iree_matrix.core.model.metrics.peak import PeakMetrics
from iree_matrix.core.model.metrics_view import StageMetrics, metric
from iree_matrix.core.model.results import Index, Record, Status


@dataclasses.dataclass(frozen=True)
class _Toy(StageMetrics):
    stage = "toy"
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


def test_converted_stages_declare_their_dataclass_fields():
    for kind in (PeakMetrics, FlopsMetrics):
        assert stages.get(kind.stage).metrics == kind.described()


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
    from iree_matrix.matrix import spec, spec_file

    assert {"roofline", "instructions", "dispatches", "op_profile"} <= set(spec.opt_ins())
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
