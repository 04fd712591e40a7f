"""A bundle's peers check their outputs as IREE's arms do: an output whose order is unspecified (an
unsorted topk's, `unordered` in the export's description) is compared as a set. Before, torch eager
and ONNX Runtime there compared it by position, and a peer that returned the same values in another
order read as not matching torch. Real torch on the runner's own path (bundle_runner/worker.py)."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from iree_matrix.bundle_runner import worker  # noqa: E402

MODEL = """
import types
import torch

class TopK(torch.nn.Module):
    def forward(self, x):
        return torch.topk(x, 3, dim=1, sorted=False).values

def build(seed=0):
    return types.SimpleNamespace(module=TopK())
"""


def _bundle(tmp_path: Path, described: list[dict[str, object]]) -> dict[str, object]:
    (tmp_path / "torch" / "models").mkdir(parents=True)
    (tmp_path / "torch" / "models" / "topk_model.py").write_text(textwrap.dedent(MODEL))
    (tmp_path / "torch" / "models" / "__init__.py").write_text("")
    export = tmp_path / "exports" / "e"
    (export / "inputs").mkdir(parents=True)
    (export / "reference").mkdir()
    x = np.array([[5.0, 1.0, 4.0, 2.0, 3.0], [0.5, 9.0, 7.0, 8.0, 1.0]], dtype=np.float32)
    np.save(export / "inputs" / "0.npy", x)
    eager = torch.topk(torch.from_numpy(x), 3, dim=1, sorted=False).values.numpy()
    np.save(export / "reference" / "0.npy", eager[:, ::-1].copy())  # the same values, in another order
    return {
        "root": "torch", "module": "models.topk_model", "function": "main", "seed": 0,
        "export": "exports/e", "inputs": ["0.npy"], "references": ["0.npy"], "atol": 1e-6, "rtol": 1e-6,
        "arrays": {"inputs": [], "outputs": described},
    }  # fmt: skip


@pytest.fixture(autouse=True)
def _own_models_package(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The runner imports the bundle's `models` package by putting its folder on sys.path: both go
    again after each test, or the next test of this worker imports the wrong `models`."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in [n for n in sys.modules if n == "models" or n.startswith("models.")]:
        monkeypatch.delitem(sys.modules, name)  # another test's, given back after
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name == "models" or name.startswith("models."):
            del sys.modules[name]


@pytest.mark.parametrize("unordered", [True, False])
def test_torch_eager_there_compares_an_unsorted_topk_as_a_set(tmp_path: Path, unordered: bool) -> None:
    order = _bundle(
        tmp_path, [{"dtype": "float32", "shape": [2, 3], **({"unordered": 1} if unordered else {})}]
    )
    answer = worker._load_torch(tmp_path, order, worker._Arms())
    assert answer["ok"] is True
    assert answer["matches"] is unordered  # by position the reversed values differ
