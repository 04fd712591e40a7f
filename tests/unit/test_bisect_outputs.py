"""scripts/bisect_outputs.py reads back what IREE wrote as the run stage does: a bfloat16 output as raw
contents (iree-run-module cannot write a bfloat16 .npy), decoded as torch's dtype; torch's own NaN or
inf left unchecked (export_reference.py's `difference`, which the export's traced check uses too).
Its run through a real iree-compile is the whole script (minutes of exporter
environment); these are its pieces, on this environment's torch."""

from __future__ import annotations

import numpy as np

from tests.scripts_path import scripts_importable

scripts_importable()

import export_reference  # noqa: E402  (scripts/ is on sys.path now)


def test_torchs_own_nan_is_not_compared_and_irees_nan_differs() -> None:
    ref = np.array([np.nan, 1.0, np.inf, 4.0])
    err, scale, differs = export_reference.difference(np.array([0.0, 1.0, 9.0, 4.0]), ref, 1e-5, 1e-5)
    assert (err, scale, differs) == (0.0, 4.0, False)
    err, scale, differs = export_reference.difference(np.array([0.0, np.nan, 9.0, 4.5]), ref, 1e-5, 1e-5)
    assert (err, differs) == (0.5, True)
    assert export_reference.difference(np.zeros(2), np.full(2, np.nan), 0, 0) == (0.0, 0.0, False)
