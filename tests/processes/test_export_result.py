"""The process-heavy part of tests/unit/test_export_result.py (each test's marker says why); the rest
there runs in the fast tier."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

import export_model as em  # noqa: E402  (scripts/ is on sys.path now; importing it needs no torch)


@pytest.mark.torch
@pytest.mark.heavy
def test_torch_threads_is_restored_even_after_a_failure():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with em.torch_threads(1):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), em.torch_threads(1):
            raise RuntimeError("a model that fails")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
