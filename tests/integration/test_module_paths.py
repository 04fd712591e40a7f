"""A module's bytes do not depend on where the store lives: the compile stage gives iree-compile the
MLIR's bare name in a scratch directory that links it (`neutral_input`, `store.scratch`), so one
export compiled under two store paths gives one sha256. The absolute path, as the stage passed it
before, gives two: that half proves the check can fail. And a knob's relative output file lands in
the scratch directory, never over the stored export. Real iree-compile (the test session's
3.9.0) and turbine."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from iree_matrix.core.hashing import file_sha256
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.model.store import Store, scratch
from iree_matrix.core.system import landlock, processes
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.envs.venv import VenvEnvironment
from iree_matrix.iree.flags import BUILTIN_PROFILES, compile_flags
from iree_matrix.stages.compile import neutral_input

pytestmark = [pytest.mark.integration, pytest.mark.torch]


@pytest.fixture(scope="module")
def model_mlir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    aot = pytest.importorskip("iree.turbine.aot")
    if not Path(sys.executable).with_name("iree-compile").is_file():
        pytest.skip("no iree-compile beside the test interpreter (pip install iree-base-compiler)")

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3)

        def forward(self, x):  # noqa: ANN001, ANN201
            return torch.relu(self.conv(x)).mean(dim=(2, 3))

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("export") / "model.mlir"
    aot.export(Net(), args=(torch.randn(1, 3, 8, 8),)).save_mlir(str(path))
    return path


def _compile(model_mlir: Path, store: Path, *, neutral: bool, profile: str = "default") -> str:
    env = VenvEnvironment("test", Path(sys.executable).parent.parent, {})
    entry = store / "export" / "0123abcd"
    entry.mkdir(parents=True)
    mlir = Path(shutil.copy(model_mlir, entry / "model.mlir"))
    module = store / "compile" / "module.vmfb"
    module.parent.mkdir(parents=True)
    flags = compile_flags("3.9.0", "x86_64", BUILTIN_PROFILES[profile])
    source = neutral_input(mlir) if neutral else [str(mlir)]
    # As the stage does: the module's directory and the scratch one are where it may write (Landlock).
    with scratch(module.parent, [mlir]) as cwd:
        env.run(
            ProcessRequest(
                [env.tool("iree-compile"), *source, *flags, "-o", str(module)],
                timeout=600,
                cwd=cwd,
                writable=[module.parent, cwd],
            )
        )
    return file_sha256(module)


def test_one_export_under_two_store_paths_compiles_to_one_module(model_mlir: Path, tmp_path: Path) -> None:
    one = _compile(model_mlir, tmp_path / "a" / "store", neutral=True)
    two = _compile(model_mlir, tmp_path / "elsewhere" / "deeper" / "store", neutral=True)
    assert one == two
    # What the stage did before: the absolute path is in the module, so the stores disagree.
    three = _compile(model_mlir, tmp_path / "c" / "store", neutral=False)
    four = _compile(model_mlir, tmp_path / "d" / "store", neutral=False)
    assert three != four and one not in (three, four)


DUMP = "--iree-flow-dump-dispatch-graph-output-file=model.mlir"  # a knob that writes a file of its own


def _stored_export(model_mlir: Path, root: Path) -> tuple[Store, Path]:
    store = Store(root)
    with store.staging() as out:
        shutil.copy(model_mlir, out / "model.mlir")
        record = Record(job="export:m/e", stage="export", cell="m/e", key="k", status=Status.OK, labels={})
        entry = store.commit("export", "k", out, record)
    return store, entry.path / "model.mlir"


def _compile_with_a_dump(model_mlir: Path, root: Path, dump: str) -> tuple[processes.Completed, bool]:
    """One compile of a stored export, as the stage runs it (in a scratch directory linking the MLIR
    by its bare name), with the dispatch graph dumped to `dump`, a relative file name: the compile's
    result, and whether the dump is a file of its own in the scratch directory. The stored export
    must come out unchanged either way, with no file beside it."""
    store, mlir = _stored_export(model_mlir, root)
    before = file_sha256(mlir)
    env = VenvEnvironment("test", Path(sys.executable).parent.parent, {})
    flags = [
        *compile_flags("3.9.0", "x86_64", BUILTIN_PROFILES["default"]),
        "--iree-flow-dump-dispatch-graph",
        f"--iree-flow-dump-dispatch-graph-output-file={dump}",
    ]
    with store.staging() as out, scratch(out, [mlir]) as cwd:
        argv = [env.tool("iree-compile"), *neutral_input(mlir), *flags, "-o", str(out / "module.vmfb")]
        done = env.run(ProcessRequest(argv, timeout=600, cwd=cwd, writable=[out, cwd], check=False))
        dumped = (cwd / dump).is_file() and not (cwd / dump).is_symlink()
    entry = store.get("export", "k")
    assert entry is not None and file_sha256(mlir) == before, done.output
    assert store.changed(entry) is None and [p.name for p in entry.path.glob("*.mlir")] == ["model.mlir"]
    assert not (entry.path / dump).is_symlink() and not (entry.path / "graph.dot").exists()
    return done, dumped


def test_a_knobs_output_file_lands_in_the_scratch_directory(model_mlir: Path, tmp_path: Path) -> None:
    """Named otherwise than its input, the dump lands in the scratch directory and the compile
    succeeds."""
    done, dumped = _compile_with_a_dump(model_mlir, tmp_path / "store", "graph.dot")
    assert done.returncode == 0, done.output
    assert dumped, done.output


@pytest.mark.skipif(not landlock.abi(), reason="this kernel has no Landlock")
def test_a_knobs_output_file_named_as_its_input_never_lands_on_the_stored_export(
    model_mlir: Path, tmp_path: Path
) -> None:
    """Named as its input, the dump may not write through the scratch link (Landlock): the compile
    fails, saying which flag's file it was (not the store's path), and stores nothing."""
    done, _ = _compile_with_a_dump(model_mlir, tmp_path / "store", "model.mlir")
    assert done.returncode != 0, done.output
    failure = processes.failure(done, "compile-error")
    assert failure.error_class == "flag-output" and not failure.cacheable, failure.message
    assert "'model.mlir'" in failure.message and "store's path" not in failure.message


@pytest.mark.skipif(not landlock.abi(), reason="this kernel has no Landlock")
def test_the_sandbox_refuses_a_write_in_a_working_directory_it_was_not_given(
    model_mlir: Path, tmp_path: Path
) -> None:
    """What the stage did before: the compile ran in the export's entry. Now that directory is
    not writable to the tool unless listed, so the knob's file cannot replace the export."""
    store, mlir = _stored_export(model_mlir, tmp_path / "store")
    before = file_sha256(mlir)
    env = VenvEnvironment("test", Path(sys.executable).parent.parent, {})
    flags = [
        *compile_flags("3.9.0", "x86_64", BUILTIN_PROFILES["default"]),
        "--iree-flow-dump-dispatch-graph",
        DUMP,
    ]
    with store.staging() as out:
        argv = [env.tool("iree-compile"), *neutral_input(mlir), *flags, "-o", str(out / "module.vmfb")]
        done = env.run(ProcessRequest(argv, timeout=600, cwd=mlir.parent, writable=[out], check=False))
    assert done.returncode != 0 and file_sha256(mlir) == before, done.output
