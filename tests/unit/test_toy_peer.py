"""Adding a peer is adding its module: CONTRIBUTING.md's example peer (TorchScript), written into a
copy of scripts/peer_frameworks/ and nowhere else, is a peer a matrix file may ask for, that the peer
stage plans with its place, its pins and its module in the key, that the worker runs and checks
against eager, and that the reports name — with no edit to spec.py, versions.py, the reports or
scripts/peers.py."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from iree_matrix import stages
from iree_matrix.core import shipped
from iree_matrix.core.errors import SpecError
from iree_matrix.core.model.results import Record, Status
from iree_matrix.matrix import peers as peer_registry
from iree_matrix.matrix import spec, spec_file
from iree_matrix.report import machine, performance
from iree_matrix.stages import peer

REPO = Path(__file__).resolve().parents[2]
TOY = "torchscript"


def _contributing_example() -> str:
    """The module CONTRIBUTING.md's "Adding a peer" shows, as it is written there."""
    text = (REPO / "CONTRIBUTING.md").read_text()
    section = text[text.index("## Adding a peer") :]
    return section[section.index("```python\n") + len("```python\n") : section.index("\n```\n")] + "\n"


def _scripts_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toy: bool) -> Iterator[Path]:
    """A copy of scripts/ with the toy peer's module written (`toy`) or taken away (a checkout that
    has it already, as when the example is dropped into a copy of the repository), as the peers'."""
    copy = tmp_path / "scripts"
    shutil.copytree(shipped.scripts_dir(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    module = copy / peer_registry.PACKAGE / f"{TOY}.py"
    if toy:
        module.write_text(_contributing_example())
    else:
        module.unlink(missing_ok=True)
    monkeypatch.setattr(shipped, "scripts_dir", lambda: copy)
    peer_registry.refresh()
    yield copy
    peer_registry.refresh()


@pytest.fixture
def scripts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of scripts/ with the toy peer's module added: the only file written."""
    yield from _scripts_copy(tmp_path, monkeypatch, toy=True)


@pytest.fixture
def without_the_toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from _scripts_copy(tmp_path, monkeypatch, toy=False)


def _matrix(tmp_path: Path, peers: str) -> spec.MatrixSpec:
    path = tmp_path / "m.toml"
    path.write_text(
        'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.9.0"\n'
        f'models = "tiny_cnn"\npeers = {peers}\n'
    )
    return spec_file.load(path)


def test_the_toy_is_a_peer_in_its_place(scripts: Path) -> None:
    names = peer_registry.names()
    ranks = [peer_registry.get(name).rank for name in names]
    assert TOY in names and ranks == sorted(ranks)  # its rank's place among the others
    assert names[names.index(TOY) - 1 : names.index(TOY) + 2] == ("torch_compile", TOY, "onnxruntime")
    toy = peer_registry.get(TOY)
    assert (toy.display, toy.requirements, toy.op_kinds) == ("TorchScript", (), None)
    assert toy.path == scripts / "peer_frameworks" / "torchscript.py"


def test_a_matrix_file_may_ask_for_the_toy_and_its_plan_times_it(scripts: Path, tmp_path: Path) -> None:
    matrix = _matrix(tmp_path, '["onnxruntime", "torchscript"]')
    assert matrix.peers == (TOY, "onnxruntime")  # the peers' order, not the file's
    jobs = [job for job in stages.plan(matrix).jobs if job.stage == "peer"]
    assert [job.label.peers for job in jobs] == ["torchscript,onnxruntime"]
    assert jobs[0].env.requirements == (
        "torch==2.13.0",
        "numpy",
        "onnxruntime==1.31.1",
        "onnx==1.23.2",
        "onnxscript==0.7.2",
    )  # fmt: skip  (the toy needs torch alone)
    assert peer._framework_files(matrix.peers)[TOY] == scripts / "peer_frameworks" / "torchscript.py"


def test_without_the_toy_module_a_matrix_asking_for_it_is_refused(
    without_the_toy: Path, tmp_path: Path
) -> None:
    known = ", ".join(peer_registry.names())
    assert TOY not in known
    with pytest.raises(SpecError, match=f"peers = 'torchscript': unknown peer .known: {known}"):
        _matrix(tmp_path, '["torchscript"]')


def _peer_record(entries: dict) -> Record:
    labels = {"model": "tiny_cnn", "source_model": "tiny_cnn", "torch": "2.13.0"}
    return Record(job="peer:tiny_cnn/p", stage="peer", cell="tiny_cnn/p", status=Status.OK, key="k",
                  labels=labels, metrics={"peers": entries})  # fmt: skip


def _timed(cpu: float) -> dict:
    return {"status": "ok", "latency_ms": {"median": cpu}, "cpu_ms": {"median": cpu, "min": cpu, "max": cpu}}


def _run(cpu: float) -> Record:
    exporter = "py3.11-torch2.13.0-turbine3.9.0"
    labels = {"model": "tiny_cnn", "source_model": "tiny_cnn", "exporter": exporter, "compiler": "3.9.0",
              "runtime": "3.9.0", "profile": "default"}  # fmt: skip
    metrics = {"timing": "native", "latency_ms": {"median": cpu}, "cpu_ms": {"median": cpu}}
    return Record(job=f"run:tiny_cnn/{exporter}/iree3.9.0/x86_64/default", stage="run", cell="c",
                  status=Status.OK, key="k", labels=labels, metrics=metrics)  # fmt: skip


def test_the_reports_name_the_toy(scripts: Path) -> None:
    records = [_run(1.0), _peer_record({TOY: _timed(2.0), "onnxruntime": _timed(3.0)})]
    text = "\n".join(machine.render_machine(records))
    assert "IREE `default` against TorchScript" in text
    assert "TorchScript under `torch.set_num_threads(1)` (the peer stage's)" in text
    said = "torch eager, torch.compile and TorchScript under `torch.set_num_threads(1)`, ONNX Runtime with"
    assert peer_registry.one_thread_prose(peer_registry.names()).startswith(said)
    tables = "\n".join(performance.render_performance(records) + performance.render_cpu_performance(records))
    assert "## Performance: IREE against TorchScript and ONNX Runtime" in tables  # the peers the records ran
    header = next(line for line in tables.splitlines() if line.startswith("| model"))
    assert [c.strip() for c in header.strip("|").split("|")][-2:] == [TOY, "onnxruntime"]
    ran = "TorchScript under `torch.set_num_threads(1)`, ONNX Runtime with one intra-op thread"
    assert ran in tables  # PERFORMANCE.md's one-thread prose
    assert peer_registry.display(TOY) == "TorchScript"


# The unit tests that name the peers, run with the toy installed: a peer added beside the shipped ones
# changes none of their answers, and no published document until a run times it.


def test_with_the_toy_the_peer_environment_and_the_headings_are_unchanged(scripts: Path) -> None:
    from tests.unit import test_machine, test_report_sections

    test_machine.test_the_peer_environment_installs_only_what_the_asked_peers_need()
    headings = [ln for ln in performance.render_all(test_report_sections._records()) if ln.startswith("## ")]
    assert headings[0] == "## Performance: IREE against torch eager"
