"""Builders and fakes shared by unit tests in more than one file (advise's sittings, a planted package,
the query command run in-process, the machine lock's turns, the labels each stage's jobs carry): one
copy of each, so a change to what they build is made once."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from iree_matrix.advise import paired_rounds
from iree_matrix.commands import query as query_command
from iree_matrix.core.model.records import LabelError, Labels
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.system import locks
from iree_matrix.execution import abtest


def sitting_run(profile: str, sha: str, status: Status = Status.OK, **extra) -> Record:
    """Model `m`'s run of `profile` on IREE 3.13.0, its module `sha`, timed at 10 ms by the run stage."""
    labels = {"model": "m", "source_model": "m", "function": "main", "compiler": "3.13.0"}
    labels |= {"runtime": "3.13.0", "profile": profile, "arch": "x86_64"}
    metrics = {"module_sha256": sha, "matches": True, "cpu_ms": {"median": 10.0, "n": 3}}
    return Record(f"run:m/{profile}", "run", f"m/{profile}", "k", status, labels, metrics, **extra)


def fake_sittings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, ...]]:
    """Times paired rounds without running anything: each arm's module is a path under tmp_path, no
    machine lock is taken, and arm i of a sitting takes 10 + i ms each round. Returns the list each
    sitting appends its arms' names to, in order."""
    monkeypatch.setattr(abtest, "arm_of", lambda record, name, caches: abtest.Arm(name, (), tmp_path / name))
    monkeypatch.setattr(locks, "machine_lock", lambda *a, **k: contextlib.nullcontext())
    sat: list[tuple[str, ...]] = []

    def sit(arms, rounds, repetitions, progress=None):
        sat.append(tuple(a.name for a in arms))
        return paired_rounds.Rounds(
            tuple(a.name for a in arms), tuple((10.0 + i,) * rounds for i in range(len(arms)))
        )

    monkeypatch.setattr(paired_rounds, "sit", sit)
    return sat


def plant_package(tmp_path: Path, files: dict[str, str]) -> Path:
    """A package `iree_matrix` under tmp_path holding `files` (path -> text) and its __init__.py, for
    a check that reads src/ whole to show what it finds in a package made to hold it."""
    package = tmp_path / "iree_matrix"
    for name, text in {"__init__.py": "", **files}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    return package


def query(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """`iree-matrix query ARGV...` in this process: its exit code and what it printed."""
    parser = argparse.ArgumentParser()
    query_command.add_arguments(parser)
    code = query_command.main(parser.parse_args(list(argv)))
    return code, capsys.readouterr().out


@dataclasses.dataclass(frozen=True)
class FakeSummary:
    """What workflow.print_summary reads of a run's summary: the records it ran (by job), the problems
    it lists and its tally; one second, one job executed, none reused, not interrupted. A test that
    adds a record after a first print appends to `ran` and `problems`."""

    ran: list[Record]
    problems: list[Record]
    said: str = "1 fail"
    seconds: float = 1.0
    executed: int = 1
    reused: tuple[str, ...] = ()
    interrupted: bool = False

    @property
    def records(self) -> dict[str, Record]:
        return {r.job: r for r in self.ran}

    def tally(self) -> str:
        return self.said

    def answers(self) -> list[Record]:
        return []

    def failures(self) -> list[Record]:
        return self.problems


@dataclasses.dataclass(frozen=True)
class FakeBackend:
    """An executor's backend that contains nothing: no orphans to remove, no contained CPU time; its
    name is the one the estimate reads published times under."""

    name: str = "fake"

    def remove_orphans(self) -> list[str]:
        return []

    def contained_cpu_seconds(self) -> float:
        return 0.0


def plugged_in(
    package: types.ModuleType, folder: Path, files: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """`files` (module name -> source) written to `folder` and found as modules of `package`, a
    plugin namespace with a refresh() (stages, report sections), until the generator ends; then
    forgotten, so the next test sees the package as shipped. For a fixture to `yield from`."""
    folder.mkdir()
    for name, source in files.items():
        (folder / f"{name}.py").write_text(source)
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(folder)])
    importlib.invalidate_caches()
    package.refresh()
    yield
    for name in files:
        sys.modules.pop(f"{package.__name__}.{name}", None)
    package.refresh()


def timed_turns(
    machine_lock: Callable[..., AbstractContextManager[object]], lock: Path, holds: float
) -> list[str]:
    """What `machine_lock(timed, lock)` lets happen, in order: a timed stage beside an ordinary one
    (which takes nothing), then a second timed stage while a first holds the lock for `holds` seconds.
    Timed stages taking turns: ["timed beside an ordinary stage", "first timed done", "second timed"]."""
    events: list[str] = []

    def timed(name: str) -> None:
        with machine_lock(True, lock):
            events.append(name)

    with machine_lock(False, lock):  # an ordinary stage (a compile of this run) takes nothing
        timed("timed beside an ordinary stage")
    with machine_lock(True, lock):  # another run times
        thread = threading.Thread(target=timed, args=("second timed",))
        thread.start()
        time.sleep(holds)
        events.append("first timed done")
    thread.join(timeout=5)
    return events


# The labels the planner gives every job of a stage (a record read back may lack some: older ones did).
_EXPORT = ("model", "source_model", "function", "python", "torch", "turbine", "exporter")
_COMPILE = (*_EXPORT, "compiler", "arch", "profile")
STAGE_LABELS: dict[str, tuple[str, ...]] = {
    "runtime-build": ("runtime", "arch", "runtime_source", "linkage"),
    "install": ("env", "kind", "python"),
    "kernel": ("kernel", "arch"),
    "export": _EXPORT,
    "compile": _COMPILE,
    "run": (*_COMPILE, "runtime"),
    "dispatches": (*_COMPILE, "runtime"),
    "peer": ("model", "source_model", "function", "python", "torch", "peers"),
}


def stage_labels(labels: Mapping[str, str], job: str, stage: str) -> Labels:
    """A planned job's labels read as the schema (`Labels.of`), and a `LabelError` naming the first label
    every `stage` job carries that these lack."""
    view = Labels.of(labels, job=job)
    needed = STAGE_LABELS.get(stage, ())
    if missing := [name for name in needed if not getattr(view, name)]:
        raise LabelError(
            f"{job}: no label {missing[0]!r}, which every {stage} record carries ({', '.join(needed)})"
        )
    return view
