"""The process-heavy part of tests/unit/test_runner_gpu.py: torch's peers of a GPU sitting
(iree_matrix/bundle_runner/gpu.py `load_torch_cuda`) with the real torch of this machine, which has no GPU."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest

from iree_matrix.bundle_runner import gpu as runner_gpu
from tests.scripts_path import scripts_importable

SCRIPTS = scripts_importable()  # the reference models (models.tiny_cnn), as the export worker finds them


def _tiny_cnn_order(tmp_path: Path) -> dict:
    """A GPU sitting's torch spec over the tiny CNN's own inputs and eager outputs, as a bundle holds it."""
    import numpy as np
    import torch

    shutil.copytree(SCRIPTS / "models", tmp_path / "torch" / "models")
    built = importlib.import_module("models.tiny_cnn").build(seed=0)
    export = tmp_path / "exports" / "e"
    (export / "inputs").mkdir(parents=True)
    (export / "reference").mkdir()
    np.save(export / "inputs" / "input0.npy", built.inputs[0].numpy())
    with torch.no_grad():
        np.save(export / "reference" / "output0.npy", built.module(*built.inputs).numpy())
    return {"export": "exports/e", "inputs": ["input0.npy"], "references": ["output0.npy"],
            "atol": built.atol, "rtol": built.rtol, "root": "torch", "module": "models.tiny_cnn",
            "function": "main", "seed": 0}  # fmt: skip


@pytest.mark.torch
@pytest.mark.heavy
def test_torch_without_a_cuda_device_says_so(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    arms: dict = {}
    said = runner_gpu.load_torch_cuda(tmp_path, {}, arms, {})
    assert said == {"ok": False, "version": torch.__version__,
                    "error": "torch sees no CUDA device (torch.cuda.is_available())"}  # fmt: skip
    assert arms == {}


@pytest.mark.torch
@pytest.mark.heavy
def test_torchs_peers_are_built_from_the_models_source_checked_and_timed_on_the_same_path(
    tmp_path: Path,
) -> None:
    """The CUDA path's code on the CPU (`on="cpu"`): the model rebuilt from its file and seed matches
    the reference, eager and torch.compile each warmed up, checked and then timed by wall time."""
    pytest.importorskip("torch")
    if not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("torch.compile's inductor needs a C compiler on the CPU")
    order = _tiny_cnn_order(tmp_path)
    arms: dict = {}
    syncs: dict = {}
    said = runner_gpu.load_torch_cuda(tmp_path, order, arms, syncs, on="cpu")
    assert said["ok"] and said["arms"]["eager"]["ok"] and said["arms"]["eager"]["matches"] is True, said
    compiled = said["arms"]["torch.compile"]
    assert compiled["ok"] and compiled["matches"] is True and compiled["max_abs_err"] <= order["atol"], (
        compiled
    )
    assert syncs == {}  # no CUDA: nothing to synchronise
    assert len(runner_gpu.time_calls(arms["eager"], 3)) == 3
