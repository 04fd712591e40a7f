"""A module's bytes do not depend on where the store lives: the compile stage gives iree-compile the
MLIR's bare name from the MLIR's own directory (`neutral_input`, `cwd`), so one export compiled
under two store paths gives one sha256. The absolute path, as the stage passed it before, gives two:
that half proves the check can fail. Real iree-compile (the test session's 3.9.0) and turbine."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from iree_matrix.core._hashing import file_sha256
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
    # As the stage does: the module's directory is the one place the command may write (Landlock).
    env.run(
        [env.tool("iree-compile"), *source, *flags, "-o", str(module)],
        timeout=600,
        cwd=mlir.parent,
        writable=[module.parent],
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
