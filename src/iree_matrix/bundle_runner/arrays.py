"""A cell's arrays and their check against torch's: ONE source for the runner and iree-matrix's run stage,
so a bundle's verdict and a run's cannot drift apart. A dtype numpy lacks (bfloat16, float8s) is saved as
raw bits in a void dtype (`saved_as`), decoded by the dtype the export named (ml_dtypes for float8s)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from .base import BundleError, descriptions

if TYPE_CHECKING:
    from .base import Array, Json


class Undecodable(BundleError):
    """Raw bits of a dtype neither numpy nor an importable ml_dtypes can decode."""


def as_float64(array: object, described: Optional[Mapping[str, Any]] = None) -> Array:
    """An array's values as float64 to compare: numpy's dtypes cast; raw bits decoded by the dtype the
    export named (bfloat16 exactly; the float8s where ml_dtypes is importable, else Undecodable)."""
    import numpy as np

    array = np.asarray(array)
    if array.dtype.kind != "V":
        return array.astype(np.float64)
    if (name := str((described or {}).get("dtype", ""))) == "bfloat16":
        return (array.view(np.uint16).astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    try:
        import ml_dtypes  # type: ignore[import-not-found,unused-ignore]  # optional: absent where mypy runs

        decoded: Array = array.view(getattr(ml_dtypes, name)).astype(np.float64)
        return decoded
    except (ImportError, AttributeError, TypeError, ValueError):
        raise Undecodable(
            f"the cell's {name or 'unnamed'} arrays are raw bits numpy cannot decode: "
            "`python3 -m pip install ml_dtypes`"
        ) from None


def output_name(index: int, described: Mapping[str, Any]) -> str:
    """The file IREE's tools write output `index` to: .npy, or .bin (raw bits) for a dtype .npy cannot
    name, which they read but cannot write (`load_array` reads it by the export's shape)."""
    return f"output{index}.{'bin' if described.get('saved_as') else 'npy'}"


def load_array(path: Path, described: Optional[Mapping[str, Any]] = None) -> Array:
    """An array the export saved (.npy) or an IREE tool wrote: .npy, or an output's raw contents
    (`--output=@outputN.bin`, for a dtype .npy cannot name) read with the shape the export described."""
    import numpy as np

    if path.suffix != ".bin":
        saved: Array = np.load(path)
        return saved
    described = described or {}
    width = np.dtype(str(described["saved_as"])).itemsize
    shape = tuple(int(n) for n in described["shape"])
    return np.fromfile(path, dtype=np.uint8).view(f"V{width}").reshape(shape)


def load_arrays(paths: Sequence[Path], described: Sequence[Mapping[str, Any]] = ()) -> list[Array]:
    """`load_array` of each path, by the export's description at its index (where it has one)."""
    return [load_array(p, described[i] if i < len(described) else None) for i, p in enumerate(paths)]


def compare(
    got_arrays: Sequence[Any],
    references: Sequence[Any],
    atol: float,
    rtol: float,
    described: Sequence[Mapping[str, Any]] = (),
) -> Json:
    """The run check: only where torch's own value is finite (a NaN or inf there is the model's:
    `unchecked_values`), the largest absolute and relative error, IREE's NaN or inf there counted apart
    (`nonfinite_values`), and whether every checked value is finite and within the model's tolerance of
    torch's. `described`: the outputs' export.json entries, which decode raw bits (bfloat16) and name an
    output whose order along a dim is unspecified (`unordered`: an unsorted topk's), compared as a set."""
    import numpy as np

    max_abs = max_rel = 0.0
    matches = True
    unchecked = nonfinite = 0
    for index, (got, ref) in enumerate(zip(got_arrays, references)):
        if got.shape != ref.shape:
            return {"error": f"output shape {got.shape}, torch gave {ref.shape}", "index": index}
        entry = described[index] if index < len(described) else {}
        ref64, got64 = as_float64(ref, entry), as_float64(got, entry)
        axis = entry.get("unordered")
        if isinstance(axis, int) and not isinstance(axis, bool) and 0 <= axis < ref64.ndim:
            # an unsorted topk's output (export.json says so): its order along axis is unspecified,
            # so both sides compare as sets, each sorted along it
            ref64, got64 = np.sort(ref64, axis=axis), np.sort(got64, axis=axis)
        checked = np.isfinite(ref64)
        ref64, got64 = ref64[checked], got64[checked]
        unchecked += int(checked.size - np.count_nonzero(checked))
        finite = np.isfinite(got64)
        nonfinite += int(finite.size - np.count_nonzero(finite))
        err = np.abs(got64[finite] - ref64[finite])
        abs_err = float(err.max()) if err.size else 0.0
        scale = float(np.abs(ref64).max()) if ref64.size else 0.0
        max_abs = max(max_abs, abs_err)
        max_rel = max(max_rel, abs_err / scale if scale > 0 else abs_err)
        matches = matches and bool(finite.all()) and bool(np.allclose(got64, ref64, rtol=rtol, atol=atol))
    return {
        "max_abs_err": max_abs,
        "max_rel_err": max_rel,
        "atol": atol,
        "rtol": rtol,
        "matches": matches,
        **({"nonfinite_values": nonfinite} if nonfinite else {}),
        **({"unchecked_values": unchecked} if unchecked else {}),
    }


def check_outputs(got: Sequence[Any], references: Sequence[Any], order: Json) -> Json:
    """`compare` by what a cell or a peer's order carries: the model's tolerance and the export's
    output descriptions (raw bits to decode, an output to compare as a set)."""
    return compare(
        got, references, float(order["atol"]), float(order["rtol"]), descriptions(order, "outputs")
    )


def outputs_digest(arrays: Sequence[Any]) -> str:
    """One sha256 over the arrays' dtypes, shapes and bytes, in order: independent of how a .npy
    header was written, equal exactly when every value is bit-for-bit equal."""
    import numpy as np

    h = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        h.update(f"{array.dtype.str}{array.shape};".encode())
        h.update(array.tobytes())
    return h.hexdigest()


def mismatch_words(check: Mapping[str, Any]) -> str:
    """'outputs differ from torch: …' for a `compare` that did not match."""
    nonfinite = check.get("nonfinite_values")
    said = f"{nonfinite} NaN or inf where torch's are finite; elsewhere " if nonfinite else ""
    return (
        f"outputs differ from torch: {said}max abs err {check['max_abs_err']:.3g}, max rel err "
        f"{check['max_rel_err']:.3g} (atol {check['atol']}, rtol {check['rtol']})"
        + (f"; {unchecked_words(check)}" if check.get("unchecked_values") else "")
    )


def unchecked_words(check: Mapping[str, Any]) -> Optional[str]:
    """What a comparison left unchecked (torch's own NaN or inf), or None."""
    if not (unchecked := check.get("unchecked_values")):
        return None
    return f"{unchecked} values not checked: torch's own output is NaN or inf there (the model's, not IREE's)"
