"""What compare, calibrate, search and advise run from a record (issue #51): a record's command names
its runtime tool, module and inputs, and records arrive through `merge` from other parties. An arm is
built only from files of this host's cache: a tool its venv's packages installed (RECORD's sha256) and
stored artifacts (the entry's SHA256SUMS), each with the bytes it had then. Real files, a real store
and a venv laid out as pip lays one out; nothing is run."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.model.store import Store
from iree_matrix.execution import abtest

TOOL = b"#!/bin/sh\necho an iree-benchmark-module stand-in\n"


def _venv(cache: Path) -> Path:
    """A runtime venv as pip leaves it: bin/ tools listed in a dist-info RECORD with their sha256."""
    root = cache / "envs" / "venv" / "py3.11-iree-runtime3.13.0-abc"
    (root / "bin").mkdir(parents=True)
    (root / "pyvenv.cfg").write_text("home = /usr/bin\n")
    for tool in ("iree-run-module", "iree-benchmark-module"):
        (root / "bin" / tool).write_bytes(TOOL)
    digest = base64.urlsafe_b64encode(hashlib.sha256(TOOL).digest()).rstrip(b"=").decode()
    info = root / "lib" / "python3.11" / "site-packages" / "iree_base_runtime-3.13.0.dist-info"
    info.mkdir(parents=True)
    (info / "RECORD").write_text(
        "".join(
            f"../../../bin/{t},sha256={digest},{len(TOOL)}\n"
            for t in ("iree-run-module", "iree-benchmark-module")
        )
    )
    return root


def _stored(cache: Path, stage: str, key: str, name: str, data: bytes) -> Path:
    """An artifact committed through the real store (its SHA256SUMS written by `commit`)."""
    store = Store(cache / "store")
    with store.staging() as staged:
        (staged / name).parent.mkdir(parents=True, exist_ok=True)
        (staged / name).write_bytes(data)
        record = Record(job=f"{stage}:{key}", stage=stage, cell=key, status=Status.OK, key=key, labels={})
        return store.commit(stage, key, staged, record).artifact(name)


def _run(tool: Path, module: Path, data: Path) -> Record:
    return Record(
        job="run:m/1", stage="run", cell="m/1", status=Status.OK, key="k",
        labels={"model": "m", "compiler": "3.13.0", "runtime": "3.13.0", "profile": "default"},
        metrics={"timing": "native"},
        command=(str(tool), "--device=local-task", f"--module={module}", "--function=main",
                 f"--input=@{data}"),
    )  # fmt: skip


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "default-cache"))  # not the one under test
    return tmp_path / "cache"


def _parts(cache: Path) -> tuple[Path, Path, Path]:
    tools = _venv(cache) / "bin"
    module = _stored(cache, "compile", "c1", "module.vmfb", b"a module")
    data = _stored(cache, "export", "e1", "inputs/input0.npy", b"an input")
    return tools, module, data


def test_an_arm_is_built_from_the_caches_own_intact_files(cache: Path) -> None:
    tools, module, data = _parts(cache)
    arm = abtest.arm_of(_run(tools / "iree-run-module", module, data), "a", [cache])
    assert arm.module == module  # one thread, the run's module, function and inputs; no output flags
    assert arm.argv == (str(tools / "iree-benchmark-module"), "--device=local-sync", f"--module={module}",
                        "--function=main", f"--input=@{data}")  # fmt: skip
    assert arm.command(3)[-2:] == ["--benchmark_repetitions=3", "--benchmark_format=json"]


def test_a_tool_outside_this_hosts_caches_is_not_run(cache: Path, tmp_path: Path) -> None:
    _tools, module, data = _parts(cache)
    elsewhere = _venv(tmp_path / "from-a-merge") / "bin"  # intact, but not a cache of this host's
    with pytest.raises(abtest.NotComparable, match="is not in this host's iree-matrix cache"):
        abtest.arm_of(_run(elsewhere / "iree-run-module", module, data), "a", [cache])


def test_a_tool_its_packages_did_not_install_is_not_run(cache: Path) -> None:
    tools, module, data = _parts(cache)
    planted = tools.parent / "extra" / "iree-benchmark-module"
    planted.parent.mkdir()
    planted.write_bytes(TOOL)
    with pytest.raises(abtest.NotComparable, match="is not a file the packages of .* installed"):
        abtest.arm_of(_run(planted.with_name("iree-run-module"), module, data), "a", [cache])


def test_a_tool_changed_after_install_is_not_run(cache: Path) -> None:
    tools, module, data = _parts(cache)
    (tools / "iree-benchmark-module").write_bytes(TOOL + b"touch /tmp/owned\n")
    with pytest.raises(abtest.NotComparable, match="damaged environment .*sha256 differs from its RECORD"):
        abtest.arm_of(_run(tools / "iree-run-module", module, data), "a", [cache])


def test_a_module_changed_after_it_was_stored_is_not_timed(cache: Path) -> None:
    tools, module, data = _parts(cache)
    module.write_bytes(b"another module")
    with pytest.raises(abtest.NotComparable, match="module.vmfb changed after it was stored"):
        abtest.arm_of(_run(tools / "iree-run-module", module, data), "a", [cache])


def test_an_input_outside_the_store_is_not_read(cache: Path) -> None:
    tools, module, _data = _parts(cache)
    secret = cache / "elsewhere.npy"  # in the cache, but no store entry's artifact
    secret.write_bytes(b"x")
    with pytest.raises(abtest.NotComparable, match="its --input .* is not in an iree-matrix store entry"):
        abtest.arm_of(_run(tools / "iree-run-module", module, secret), "a", [cache])


def test_the_default_cache_is_trusted_without_being_named(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools, module, data = _parts(cache)
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(cache))
    assert abtest.arm_of(_run(tools / "iree-run-module", module, data)).module == module


def _kernel_run(tools: Path, module: Path, data: Path, *flags: str, kernel: str = "depthwise3x3") -> Record:
    """A kernel cell's run as stages/run.py records it: the kernel's run flags before the call."""
    plain = _run(tools / "iree-run-module", module, data)
    command = (str(tools / "iree-run-module"), "--device=local-task", "--task_topology_group_count=2",
               f"--module={module}", *flags, "--function=main", f"--input=@{data}",
               "--output=@/tmp/o.npy")  # fmt: skip
    labels = {**plain.labels, **({"kernel": kernel} if kernel else {})}
    return Record(job="run:m/1+k", stage="run", cell="m/1+k", status=Status.OK, key="k2", labels=labels,
                  metrics=plain.metrics, command=command)  # fmt: skip


def test_a_kernels_arm_passes_its_run_flags_as_its_run_did(cache: Path) -> None:
    """A kernel's `run_flags` (kernels/depthwise3x3's 192 KiB worker stack) went with every run of
    its modules and every bundle's, but not with the arm compare, calibrate, search and advise's
    sitting and proof time: the arm now keeps them, in the run's order, and never a flag the run
    gives itself (its device's threads, its outputs) nor a file of flags."""
    tools, module, data = _parts(cache)
    stack = "--task_worker_stack_size=196608"
    arm = abtest.arm_of(_kernel_run(tools, module, data, stack, "--flagfile=/etc/passwd"), "k", [cache])
    assert arm.argv == (str(tools / "iree-benchmark-module"), "--device=local-sync", f"--module={module}",
                        stack, "--function=main", f"--input=@{data}")  # fmt: skip
    # a record without a kernel keeps the run's own flags only (as before)
    plain = abtest.arm_of(_kernel_run(tools, module, data, stack, kernel=""), "p", [cache])
    assert stack not in plain.argv


def test_one_module_with_other_run_flags_is_another_build(cache: Path) -> None:
    """Byte-identical modules are "the same module", untimed, unless their kernels' run flags differ."""
    tools, module, data = _parts(cache)
    a = abtest.arm_of(_kernel_run(tools, module, data), "a", [cache])
    b = abtest.arm_of(_kernel_run(tools, module, data, "--task_worker_stack_size=196608"), "b", [cache])
    timed = abtest.compare(a, b, rounds=2, repetitions=1, timer=lambda arm, reps: 2.0 if arm is a else 1.0)
    assert timed.a_ms == (2.0, 2.0) and timed.b_ms == (1.0, 1.0)
    assert abtest.compare(a, a, timer=lambda arm, reps: 1.0).result.verdict == "same module"
