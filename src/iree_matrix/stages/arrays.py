"""The export's arrays as the run stage reads and compares them. A dtype numpy lacks (bfloat16) is
saved as its raw bits (export.json's `saved_as`), which IREE's tools read but cannot write: the run
asks for that output's raw contents (`--output=@outputN.bin`), read here by the export's shape."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from iree_matrix.bundle_runner import arrays as runner_arrays
from iree_matrix.core.errors import UserError

Described = Mapping[str, Any]  # one entry of export.json's "inputs" or "outputs"


def output_name(index: int, described: Described) -> str:
    """The file the run asks IREE to write output `index` to: .npy, or .bin for raw bits."""
    return f"output{index}.{'bin' if described.get('saved_as') else 'npy'}"


def load(path: Path, described: Described = {}) -> np.ndarray:  # noqa: B006  (read only)
    """An array the export saved or IREE wrote: the bundle runner's reader, one source for both."""
    return np.asarray(runner_arrays.load_array(path, described))


def undecodable(name: str) -> UserError:
    """Raw bits of dtype `name` that neither numpy nor ml_dtypes here decodes, in the tool's words."""
    return UserError(
        f"the export saved {name or 'an unnamed dtype'} arrays as raw bits (numpy has no such type), "
        "and iree-matrix cannot decode them here to compare: install ml_dtypes beside iree-matrix "
        "(pip install ml_dtypes)"
    )
