"""What decides a timing is defined once (`Context.timing`, `Context.machine_timing`) and every timed
stage's key is built from it: the keys stay those of the results already stored and published (a
changed key would time every stored run again), checked against published records' own keys."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from iree_matrix.core.hashing import digest
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.export import ExportMetrics
from iree_matrix.core.model.results import Record, ResultsLog, Status
from iree_matrix.core.model.store import Entry
from iree_matrix.core.system import host
from iree_matrix.matrix.spec import Benchmark
from iree_matrix.stages import Context, model_worker, peak

PUBLISHED = Path(__file__).parents[2] / "results" / "bench-rocketlake" / "results.jsonl"


# scripts/peak/peak.c as it was when the published peak was measured
PEAK_C = "6b7c3dc7c6ea4a029c35fad06d04546cbf8cfca44a16086d882fe86a6652b923"


def _records() -> list[Record]:
    return list(ResultsLog(PUBLISHED))


def _context(benchmark: Benchmark, deps: dict[str, Entry], tmp_path: Path, **spec: Any) -> Context:
    return Context(SimpleNamespace(benchmark=benchmark, **spec), None, None, deps, 60.0,  # type: ignore[arg-type]
                   tmp_path / "log")  # fmt: skip


def test_a_published_runs_key_is_the_timed_key_of_its_inputs(tmp_path, monkeypatch) -> None:
    records = _records()
    run = next(r for r in reversed(records) if r.stage == "run" and r.status is Status.OK and r.host.known)

    def of(stage: str) -> Record:  # the run's compile, export (by cell) and runtime install (by lock)
        return next(
            r for r in records if r.stage == stage and ((run.cell + "/").startswith(r.cell + "/")
            or r.env.get("lock_digest") == run.env["lock_digest"] and stage == "install")
        )  # fmt: skip

    compiled, exported, install = of("compile"), of("export"), of("install")
    monkeypatch.setattr(host, "identity", lambda: run.host.identity)
    ctx = _context(Benchmark(repetitions=5, threads=2), {install.job: Entry(install, tmp_path)}, tmp_path)
    key = ctx.timed_key(
        "run",
        module=f"sha256:{compiled.metric.of(CompileMetrics).module_sha256}",
        export=exported.metric.of(ExportMetrics).io_sha256,
    )
    assert key == run.key


def test_a_published_peaks_key_is_its_machine_timing(tmp_path, monkeypatch) -> None:
    measured = next(r for r in _records() if r.stage == "peak")
    monkeypatch.setattr(host, "identity", lambda: measured.host.identity)
    # peak.c and the compiler as they were when it was measured (the method names the compiler)
    monkeypatch.setattr(peak, "file_sha256", lambda path: PEAK_C)
    monkeypatch.setattr(peak, "compiler_version", lambda: "cc (Debian 12.2.0-14+deb12u1) 12.2.0")
    ctx = _context(Benchmark(threads=2), {}, tmp_path)
    assert peak.PeakStage().key(None, ctx) == measured.key  # type: ignore[arg-type]


def test_the_workers_key_fields_are_those_they_were(tmp_path, monkeypatch) -> None:
    """The export and peer workers' fields (their keys add their own): the model, its measurement,
    and the timing, under the names the stored keys hashed."""
    install = Record("install:py3.11-torch", "install", "py3.11-torch", "k", Status.OK, {},
                     env={"backend": "venv", "lock_digest": "lock", "python": "3.11.7"})  # fmt: skip
    monkeypatch.setattr(host, "identity", lambda: "x86_64|GenuineIntel|6|167|1|fc7df03f53a7dec4|2")
    monkeypatch.setattr(model_worker, "model_sources", lambda ref: {"model": "m"})
    bench = Benchmark(repetitions=7, threads=3, seed=11)
    ctx = _context(bench, {install.job: Entry(install, tmp_path)}, tmp_path, models={"m": None}, weights={})
    job = SimpleNamespace(model="m", function="forward", label=SimpleNamespace(model="m"))
    fields = model_worker.key_fields(job, ctx)  # type: ignore[arg-type]
    before = {  # key_fields as it was written out before `Context.timing`
        "model": "m", "function": "forward", "sources": {"model": "m"}, "weights": None,
        "env": {"backend": "venv", "lock": "lock", "python": "3.11.7", "base": None, "tools": None},
        "seed": 11, "repetitions": 7, "threads": 3, "host": "x86_64|GenuineIntel|6|167|1|fc7df03f53a7dec4|2",
    }  # fmt: skip
    assert fields == before and digest(fields) == digest(before)


def test_the_tools_own_matrices_time_alike_so_their_exports_are_one(tmp_path, monkeypatch) -> None:
    """`nox -s matrix`, `advise`, the published sets and the tests' smoke store export a model with
    the same torch timing (Context.timing: repetitions, threads; and the seed), so on one cache each
    later command reuses the export, its ONNX Runtime peer and default's run by key. advise's 3
    repetitions against the default's 5 re-exported every model after a first run (issue 95)."""
    from iree_matrix.matrix import spec_file

    monkeypatch.setattr(host, "identity", lambda: "x86_64|AuthenticAMD|25|1|1|1ddebed04610ae65|16")
    monkeypatch.setattr("os.cpu_count", lambda: 16)  # an unset thread count would follow the cores
    env = {"backend": "venv", "lock_digest": "l"}
    install = Record("install:e", "install", "e", "k", Status.OK, {}, env=env)
    deps = {install.job: Entry(install, tmp_path)}
    matrices = Path(__file__).parents[2] / "matrix"
    timing = {
        name: (_context(spec.benchmark, deps, tmp_path).timing(), spec.benchmark.seed)
        for name in ("default", "advise", "export-recipes", "bench", "smoke")
        if (spec := spec_file.load(matrices / f"{name}.toml"))
    }
    assert timing["default"][0]["repetitions"] == 5 and timing["default"][0]["threads"] == 2
    assert all(got == timing["default"] for got in timing.values()), timing
