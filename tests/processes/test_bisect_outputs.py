"""The process-heavy part of tests/unit/test_bisect_outputs.py (each test's marker says why); the rest
there runs in the fast tier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.scripts_path import scripts_importable

scripts_importable()

import bisect_outputs  # noqa: E402  (scripts/ is on sys.path now)
import export_model as em  # noqa: E402


@pytest.mark.torch
@pytest.mark.heavy
def test_a_bfloat16_output_is_asked_for_raw_and_read_back_exactly(tmp_path: Path) -> None:
    """`tensor.numpy()` failed on bfloat16 ("Got unsupported ScalarType BFloat16")."""
    torch = pytest.importorskip("torch")
    ref = torch.tensor([[1.0, -2.0], [3.140625, float("-inf")]], dtype=torch.bfloat16)
    assert bisect_outputs.result_name(0, ref) == "result0.bin"
    assert bisect_outputs.result_name(3, torch.ones(2)) == "result3.npy"
    # what iree-run-module --output=@result0.bin writes: the values' bits, no header
    em._raw_bytes(ref.contiguous()).tofile(tmp_path / "result0.bin")
    got = bisect_outputs.read_result(tmp_path / "result0.bin", ref)
    assert got.dtype == np.float64 and got.tolist() == [[1.0, -2.0], [3.140625, -np.inf]]
    np.save(tmp_path / "result1.npy", np.array([0.5, 2.0], np.float32))
    assert bisect_outputs.read_result(tmp_path / "result1.npy", torch.ones(2)).tolist() == [0.5, 2.0]
    # the inputs go through the export's own saver, as raw bits iree-run-module reads as bfloat16
    described = em.save_arrays(tmp_path, "input", [ref])
    assert described == [{"shape": [2, 2], "dtype": "bfloat16", "saved_as": "|V2"}]
