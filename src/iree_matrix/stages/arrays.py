"""The export's arrays as the run stage reads and compares them: numpy's dtypes, and the raw bits of
those numpy lacks.

scripts/export_model.py saves a tensor of a dtype numpy has no type for (bfloat16, the float8s) as its
raw bits in a void dtype of the same width, its export.json entry naming the dtype (`dtype`) and the
saved one (`saved_as`, '|V2'). IREE's tools read such a .npy input as the function's own type of that
width, but cannot write one (iree-run-module 3.13: "UNIMPLEMENTED; unsupported data encoding"), so the
run asks for that output's raw contents (`--output=@outputN.bin`) instead, read here with the shape
and dtype the export named.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from iree_matrix.bundle_runner import arrays as runner_arrays
from iree_matrix.core.errors import UserError

Described = Mapping[str, Any]  # one entry of export.json's "inputs" or "outputs"


def is_raw(described: Described) -> bool:
    """Saved as its raw bits: a dtype numpy lacks."""
    return bool(described.get("saved_as"))


def output_name(index: int, described: Described) -> str:
    """The file the run asks IREE to write output `index` to: .npy, or .bin for raw bits."""
    return f"output{index}.{'bin' if is_raw(described) else 'npy'}"


def load(path: Path, described: Described = {}) -> np.ndarray:  # noqa: B006  (read only)
    """An array the export saved (.npy) or IREE wrote (.npy, or a raw .bin of `described`'s shape):
    the bundle runner's reader (bundle_runner/arrays.py), one source for both."""
    return np.asarray(runner_arrays.load_array(path, described))


def as_float64(array: np.ndarray, described: Described = {}) -> np.ndarray:  # noqa: B006  (read only)
    """The values as float64, to compare: numpy's own dtypes cast; raw bits decoded by the dtype the
    export named (bfloat16 here, exactly; others with ml_dtypes, where it is installed), as the bundle
    runner decodes them (bundle_runner/arrays.py)."""
    try:
        return np.asarray(runner_arrays.as_float64(array, described))
    except runner_arrays.Undecodable:
        raise undecodable(str(described.get("dtype", ""))) from None


def undecodable(name: str) -> UserError:
    """Raw bits of dtype `name` that neither numpy nor ml_dtypes here decodes, in the tool's words."""
    return UserError(
        f"the export saved {name or 'an unnamed dtype'} arrays as raw bits (numpy has no such type), "
        "and iree-matrix cannot decode them here to compare: install ml_dtypes beside iree-matrix "
        "(pip install ml_dtypes)"
    )
