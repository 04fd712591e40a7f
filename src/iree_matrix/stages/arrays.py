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

from iree_matrix.core.errors import UserError

Described = Mapping[str, Any]  # one entry of export.json's "inputs" or "outputs"


def is_raw(described: Described) -> bool:
    """Saved as its raw bits: a dtype numpy lacks."""
    return bool(described.get("saved_as"))


def output_name(index: int, described: Described) -> str:
    """The file the run asks IREE to write output `index` to: .npy, or .bin for raw bits."""
    return f"output{index}.{'bin' if is_raw(described) else 'npy'}"


def load(path: Path, described: Described = {}) -> np.ndarray:  # noqa: B006  (read only)
    """An array the export saved (.npy) or IREE wrote (.npy, or a raw .bin of `described`'s shape)."""
    if path.suffix != ".bin":
        saved: np.ndarray = np.load(path)
        return saved
    width = np.dtype(str(described["saved_as"])).itemsize
    raw = np.fromfile(path, dtype=np.uint8)
    shape = tuple(int(n) for n in described["shape"])
    return raw.view(f"V{width}").reshape(shape)


def as_float64(array: np.ndarray, described: Described = {}) -> np.ndarray:  # noqa: B006  (read only)
    """The values as float64, to compare: numpy's own dtypes cast; raw bits decoded by the dtype the
    export named (bfloat16 here, exactly; others with ml_dtypes, where it is installed)."""
    if array.dtype.kind != "V":
        return array.astype(np.float64)
    name = str(described.get("dtype", ""))
    if name == "bfloat16":  # the upper half of a float32
        bits = array.view(np.uint16).astype(np.uint32) << 16
        return bits.view(np.float32).astype(np.float64)
    try:
        import ml_dtypes  # type: ignore[import-not-found,unused-ignore]

        decoded: np.ndarray = array.view(getattr(ml_dtypes, name)).astype(np.float64)
        return decoded
    except (ImportError, AttributeError, TypeError, ValueError):
        raise UserError(
            f"the export saved {name or 'an unnamed dtype'} arrays as raw bits (numpy has no such type), "
            "and iree-matrix cannot decode them here to compare: install ml_dtypes beside iree-matrix "
            "(pip install ml_dtypes)"
        ) from None
