"""Weights once per bundle: modules of one model compiled with different flags share most of their bytes,
so each is cut at content-defined boundaries (a rolling sum over WINDOW bytes with its low bits zero: an
inserted byte moves no boundary but its own) and each distinct chunk travels once, each module as a recipe
of the pack's ranges. The runner rebuilds every module and checks its sha256 (bundle_runner/modules.py), so
no timing changes; why not IREE's parameter archives: docs/bundles.md."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from iree_matrix.core.cache_layout import CacheLayout

PACK = "modules/chunks.bin"  # every distinct chunk, once
RECIPES = "modules/recipes.json"  # each module: the pack's (offset, length) ranges it is made of
WINDOW = 64  # bytes the rolling sum runs over
MASK = (1 << 12) - 1  # a boundary where the sum's low 12 bits are zero: chunks of about 4 KiB
SMALLEST, LARGEST = 1024, 64 * 1024
# One random 64-bit number per byte value, fixed: the same content is cut the same way every time.
_GEAR = np.random.default_rng(0x1BEE).integers(0, 2**63, size=256, dtype=np.uint64)


def boundaries(data: bytes) -> list[int]:
    """Where `data` is cut (each chunk's end), by its content: between SMALLEST and LARGEST bytes apart."""
    values = _GEAR[np.frombuffer(data, dtype=np.uint8)]
    sums = np.cumsum(values, dtype=np.uint64)  # wraps modulo 2**64, as the difference below does
    windowed = sums[WINDOW:] - sums[:-WINDOW]  # the sum over the WINDOW bytes ending at i + WINDOW
    candidates = (np.nonzero((windowed & np.uint64(MASK)) == 0)[0] + WINDOW + 1).tolist()
    ends, start = [], 0
    for end in [*candidates, len(data)]:  # the data's end: a chunk however short
        while end - start > LARGEST:
            start += LARGEST
            ends.append(start)
        if end - start >= SMALLEST or (end == len(data) and start < end):
            ends.append(end)
            start = end
    return ends


def pack(modules: Mapping[str, Path], cache: Path) -> tuple[Path, Path, int]:
    """The pack and the recipes of `modules` (bundle name -> file), written into the cache (kept by
    the modules' names, which are their digests); and the bytes the pack saves."""
    key = hashlib.sha256("\n".join(sorted(modules)).encode()).hexdigest()[:32]
    folder = CacheLayout(cache).bundles / "chunks" / key
    folder.mkdir(parents=True, exist_ok=True)
    where: dict[bytes, int] = {}  # a chunk's digest -> its offset in the pack
    recipes: dict[str, dict[str, Any]] = {}
    whole = 0
    partial = folder / "chunks.bin.partial"
    with open(partial, "wb") as out:
        for name, path in sorted(modules.items()):
            data = path.read_bytes()
            whole += len(data)
            pieces: list[list[int]] = []
            start = 0
            for end in boundaries(data):
                chunk = data[start:end]
                if (digest := hashlib.blake2b(chunk, digest_size=16).digest()) not in where:
                    where[digest] = out.tell()
                    out.write(chunk)
                _append(pieces, where[digest], end - start)
                start = end
            recipes[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "pieces": pieces}
        packed = out.tell()
    partial.replace(folder / "chunks.bin")
    (folder / "recipes.json").write_text(json.dumps(recipes, sort_keys=True, separators=(",", ":")) + "\n")
    return folder / "chunks.bin", folder / "recipes.json", whole - packed


def _append(pieces: list[list[int]], offset: int, length: int) -> None:
    """A range added to a recipe, joined to the one before where it continues it in the pack."""
    if pieces and pieces[-1][0] + pieces[-1][1] == offset:
        pieces[-1][1] += length
    else:
        pieces.append([offset, length])


def packed_files(files: Mapping[str, Path], cache: Path) -> tuple[dict[str, Path], dict[str, str], int]:
    """`files` with its modules (modules/*.vmfb) replaced by the pack and the recipes, where two or
    more modules travel; the manifest's `modules_packed`; the bytes saved. Else `files` as it is."""
    modules = {
        name: path for name, path in files.items() if name.startswith("modules/") and name.endswith(".vmfb")
    }
    if len(modules) < 2:
        return dict(files), {}, 0
    pack_file, recipes, saved = pack(modules, cache)
    out = {name: path for name, path in files.items() if name not in modules}
    out.update({PACK: pack_file, RECIPES: recipes})
    said = {
        "pack": PACK,
        "recipes": RECIPES,
        "scheme": f"content-defined chunks, {WINDOW}-byte rolling sum, "
        f"about {MASK + 1} bytes ({SMALLEST}-{LARGEST})",
    }
    return out, said, saved
