"""A full disk while writing the store or building an environment (#14): one line naming the path
and the space, the stage recorded as failed (never stored), everything written before it kept, and
no half-built venv left. The disk is faked by an injected writer failure; the real thing (a small
tmpfs) is tests/integration/test_full_disk.py."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from iree_matrix.core.errors import StageFailure, StorageError
from iree_matrix.core.model import store as store_module
from iree_matrix.core.model.outcome import Outcome
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.model.store import Store
from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import Bounds
from iree_matrix.envs import venv as venv_module
from iree_matrix.envs.venv import VenvBackend
from iree_matrix.matrix.plan import EnvSpec
from iree_matrix.matrix.wheelhouse import Pins, WheelPlatform

from .test_execute import _run, world  # noqa: F401 - the executor's fakes and their fixture


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _record(name: str) -> Record:
    return Record(job=f"compile:{name}", stage="compile", cell=name, key=name, status=Status.OK, labels={})


def _one_line(error: BaseException, *needles: str) -> str:
    message = str(error)
    assert "\n" not in message, message
    for needle in ("No space left on device", "free", *needles):
        assert needle in message, message
    return message


def test_store_commit_on_a_full_disk_is_one_line_and_keeps_earlier_entries(tmp_path, monkeypatch):
    store = Store(tmp_path / "store")
    with store.staging() as out:
        (out / "module.vmfb").write_bytes(b"kept")
        store.commit("compile", "a", out, _record("a"))
    with store.staging() as out:
        (out / "module.vmfb").write_bytes(b"lost")
        monkeypatch.setattr(store_module.os, "rename", _enospc)
        with pytest.raises(StorageError) as caught:
            store.commit("compile", "b", out, _record("b"))
    monkeypatch.undo()
    _one_line(caught.value, str(store.entry_path("compile", "b")), "it needs")
    assert store.get("compile", "a").artifact("module.vmfb").read_bytes() == b"kept"
    assert store.get("compile", "b") is None
    assert list((tmp_path / "store" / "staging").iterdir()) == []  # the staged copy is gone too


def test_a_staging_directory_that_cannot_be_made_is_one_line(tmp_path, monkeypatch):
    store = Store(tmp_path / "store")
    monkeypatch.setattr(Path, "mkdir", _enospc)
    with pytest.raises(StorageError) as caught, store.staging():
        pass
    _one_line(caught.value, str(tmp_path / "store" / "staging"))


def test_proc_failure_saying_no_space_is_not_a_result():
    done = processes.Completed(("pip",), 1, "", "ERROR: [Errno 28] No space left on device: '/x'", 1.0)
    failure = processes.failure(done, "pip-install")
    assert failure.error_class == "disk-full" and not failure.cacheable


ENV = EnvSpec("compiler", "3.11", ("iree-base-compiler==3.9.0",), "py3.11-iree-compiler3.9.0", arch="x86_64")


def _half_building(pip_output: str):
    """A `processes.run` whose venv step writes a partial environment and whose pip step fails."""

    def run(request):
        argv = request.argv
        if "venv" in argv:
            path = Path(argv[-1])
            (path / "bin").mkdir(parents=True)
            (path / "lib").mkdir()
            (path / "lib" / "half-a-wheel.so").write_bytes(b"\0" * 4096)
            return processes.Completed(tuple(argv), 0, "", "", 0.1)
        raise processes.failure(processes.Completed(tuple(argv), 1, "", pip_output, 0.1), request.error_class)

    return run


def _create(tmp_path: Path, monkeypatch, pip_output: str) -> tuple[VenvBackend, Path]:
    wheel = tmp_path / "iree_base_compiler-3.9.0-py3-none-any.whl"
    wheel.write_bytes(b"w" * 1000)
    monkeypatch.setattr(venv_module.processes, "run", _half_building(pip_output))
    backend = VenvBackend(tmp_path / "envs")
    pins = Pins((), WheelPlatform("3.11"), ())
    return backend, backend._path(ENV, pins.digest)


def test_a_venv_that_runs_out_of_space_is_removed_and_one_line(tmp_path, monkeypatch):
    """#14 defect 6: the half-built venv (198 MB in the drill) stayed in the cache."""
    backend, path = _create(tmp_path, monkeypatch, "ERROR: Could not install packages due to an OSError: "
                            "[Errno 28] No space left on device")  # fmt: skip
    with pytest.raises(StorageError) as caught:
        wheels = [tmp_path / "iree_base_compiler-3.9.0-py3-none-any.whl"]
        backend.create(ENV, Pins((), WheelPlatform("3.11"), ()), wheels, Bounds(60, tmp_path / "log"))
    _one_line(caught.value, str(path), "it needs at least 1000 bytes")
    assert not path.exists()


def test_a_venv_whose_install_fails_otherwise_is_removed_and_the_failure_kept(tmp_path, monkeypatch):
    backend, path = _create(tmp_path, monkeypatch, "ERROR: some-wheel.whl is not a supported wheel")
    with pytest.raises(StageFailure) as caught:
        backend.create(ENV, Pins((), WheelPlatform("3.11"), ()), [], Bounds(60, tmp_path / "log"))
    assert caught.value.error_class == "pip-install" and caught.value.cacheable
    assert not path.exists()


@pytest.mark.parametrize(
    "how",
    ["raises-enospc", "tool-says-no-space", "a-model-says-no-space", "store-commit-fails"],
)
def test_a_full_disk_mid_run_stops_it_records_the_stage_and_keeps_the_rest(world, tmp_path, monkeypatch, how):  # noqa: F811
    """The stage the disk stopped is published as a failure (not stored: the next run redoes it),
    everything finished before it stays published and stored, and nothing after it starts."""
    victim = "compile:m/e/3.9.0"
    if how == "raises-enospc":
        world.behaviour[victim] = _enospc
    elif how == "tool-says-no-space":
        message = "iree-compile: error: could not write module.vmfb: No space left on device"
        world.behaviour[victim] = lambda job: Outcome(Status.FAIL, message=message, error_class="disk-full",
                                                      cacheable=False)  # fmt: skip
    elif how == "a-model-says-no-space":  # #51: a full $TMPDIR was stored as the model's "model-error"
        message = "OSError: [Errno 28] No space left on device"
        world.behaviour[victim] = lambda job: Outcome(Status.FAIL, message=message, error_class="model-error")
    else:
        real = Store.commit

        def commit(self, stage, key, staged, record):
            if record.job == victim:
                monkeypatch.setattr(store_module.os, "rename", _enospc)
            try:
                return real(self, stage, key, staged, record)
            finally:
                monkeypatch.setattr(store_module.os, "rename", os.rename)

        monkeypatch.setattr(Store, "commit", commit)
    with pytest.raises(StorageError) as caught:
        _run(tmp_path)
    _one_line(caught.value)
    published = {r.job: r for r in _log(tmp_path)}
    assert published["install:env"].status is Status.OK and published["export:m/e"].status is Status.OK
    assert published[victim].status is Status.FAIL and published[victim].error_class == "disk-full"
    assert "run:m/e/3.9.0" not in published
    compiled = (tmp_path / "cache" / "store" / "compile").glob("*/record.json")
    assert not any(victim in record.read_text() for record in compiled)  # not stored: redone next run


def _log(tmp_path: Path):
    from iree_matrix.core.model.results import ResultsLog

    return ResultsLog(tmp_path / "results.jsonl")


def test_a_venv_failure_that_leaves_the_disk_full_is_a_full_disk_whatever_it_said(tmp_path, monkeypatch):
    """Found on a real 20 MB tmpfs: `python -m venv` reports ensurepip's ENOSPC only as
    "returned non-zero exit status 1", which was stored as a cacheable `venv` failure."""
    backend, path = _create(
        tmp_path, monkeypatch, "Error: Command '[..., 'ensurepip']' returned non-zero exit status 1."
    )
    monkeypatch.setattr(venv_module, "free_bytes", lambda p: 4096)
    with pytest.raises(StorageError) as caught:
        backend.create(ENV, Pins((), WheelPlatform("3.11"), ()), [], Bounds(60, tmp_path / "log"))
    assert str(path) in str(caught.value) and not path.exists()


def test_a_full_tmpdir_is_named_not_the_cache(tmp_path, monkeypatch):
    """#51: a tool's "No space left on device" from a full $TMPDIR was blamed on --cache, quoting the
    cache's free space. The fuller of the two file systems is named, with its own fix."""
    from iree_matrix.core import atomic_files

    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs /dev/shm on a file system of its own")
    free = {str(tmp_path): 49 << 30, str(shm): 0}
    monkeypatch.setattr(atomic_files, "free_bytes", lambda p: free.get(str(p)))
    monkeypatch.setattr(atomic_files.tempfile, "gettempdir", lambda: str(shm))
    assert atomic_files.fuller(tmp_path) == shm
    said = str(
        atomic_files.storage_error(
            atomic_files.fuller(tmp_path), "No space left on device", doing="export failed"
        )
    )
    assert (
        said.startswith("/dev/shm: export failed")
        and "set TMPDIR to a bigger disk" in said
        and "--cache" not in said
    )
    free[str(shm)] = 100 << 30
    assert atomic_files.fuller(tmp_path) == tmp_path
    assert atomic_files.fuller(tmp_path, tmp_path / "also-here") == tmp_path  # one file system: the output's


def test_a_full_disk_that_stops_a_run_is_not_called_an_interrupt(world, tmp_path):  # noqa: F811
    """Bad inputs, fifth round: the run a full results disk stopped said "interrupted: stopping running
    stages" above the disk's line, as if someone had pressed Ctrl-C."""
    import io
    import types

    from iree_matrix.core.model.results import ResultsLog
    from iree_matrix.execution.execute import Executor, Options
    from tests.unit.builders import FakeBackend

    from .test_execute import _plan

    world.behaviour["compile:m/e/3.9.0"] = _enospc
    out = io.StringIO()
    executor = Executor(
        types.SimpleNamespace(timeouts={}), _plan(), cache=tmp_path / "cache",
        results=ResultsLog(tmp_path / "results.jsonl"), backend=FakeBackend(), options=Options(), out=out,
    )  # fmt: skip
    with pytest.raises(StorageError):
        executor.run()
    said = out.getvalue()
    assert "cannot store results: stopping running stages" in said and "interrupted" not in said, said
