"""Weights once per bundle (issue 69 item 6): modules cut where their content says, each distinct chunk
packed once (execution/bundle_chunks.py), and the runner putting each module together again, bit for
bit, refusing one whose chunks do not make it (bundle_runner/modules.py)."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from iree_matrix.bundle_runner import base as runner_base
from iree_matrix.bundle_runner import modules as runner_modules
from iree_matrix.execution import bundle_chunks


def _bytes(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def test_a_boundary_moves_with_its_content_not_with_what_came_before() -> None:
    body = _bytes(400_000, 1)
    cuts = bundle_chunks.boundaries(body)
    assert cuts[-1] == len(body)
    sizes = [b - a for a, b in zip([0, *cuts], cuts)]
    assert all(s <= bundle_chunks.LARGEST for s in sizes) and all(
        s >= bundle_chunks.SMALLEST for s in sizes[:-1]
    )
    shifted = bundle_chunks.boundaries(b"a longer header" + body)
    # Past the first few chunks, every cut is at the same content (moved by the 15 bytes added).
    assert set(c - 15 for c in shifted[5:]) <= set(cuts) and len(shifted) > 50


def _modules(tmp_path: Path) -> dict[str, Path]:
    """Three 'modules' of one model: the same weights after different code and headers."""
    weights = _bytes(300_000, 7)
    out = {}
    for index, code in enumerate((_bytes(9_000, 11), _bytes(12_345, 12), _bytes(7_777, 13))):
        data = b"IREE" + bytes([index]) * 40 + code + weights + code[:100]
        path = tmp_path / f"m{index}.vmfb"
        path.write_bytes(data)
        out[f"modules/{hashlib.sha256(data).hexdigest()}.vmfb"] = path
    return out


def test_modules_sharing_weights_travel_as_one_pack_and_come_back_bit_for_bit(tmp_path: Path) -> None:
    modules = _modules(tmp_path)
    files = {**modules, "exports/e/export.json": tmp_path / "m0.vmfb"}
    packed, said, saved = bundle_chunks.packed_files(files, tmp_path / "cache")
    assert set(packed) == {"exports/e/export.json", bundle_chunks.PACK, bundle_chunks.RECIPES}
    whole = sum(p.stat().st_size for p in modules.values())
    assert packed[bundle_chunks.PACK].stat().st_size < 0.5 * whole and saved > 0.5 * whole
    root = tmp_path / "bundle"
    for name in (bundle_chunks.PACK, bundle_chunks.RECIPES):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(packed[name].read_bytes())
    manifest = {"modules_packed": said}
    assert runner_modules.assemble(root, manifest) == 3
    for name, source in modules.items():
        assert runner_modules.module_path(root, {"module": name}).read_bytes() == source.read_bytes()


def test_a_recipe_that_does_not_make_its_module_is_refused(tmp_path: Path) -> None:
    modules = _modules(tmp_path)
    packed, said, _ = bundle_chunks.packed_files(modules, tmp_path / "cache")
    root = tmp_path / "bundle"
    (root / "modules").mkdir(parents=True)
    (root / bundle_chunks.PACK).write_bytes(packed[bundle_chunks.PACK].read_bytes())
    recipes = json.loads(packed[bundle_chunks.RECIPES].read_text())
    first = sorted(recipes)[0]
    recipes[first]["pieces"][0][1] -= 1  # one byte short
    (root / bundle_chunks.RECIPES).write_text(json.dumps(recipes))
    with pytest.raises(runner_base.BundleError, match="its chunks do not make the module"):
        runner_modules.assemble(root, {"modules_packed": said})
    with pytest.raises(runner_base.BundleError, match="neither in the bundle nor assembled"):
        runner_modules.module_path(root, {"module": first})


def test_one_module_travels_whole(tmp_path: Path) -> None:
    modules = dict(list(_modules(tmp_path).items())[:1])
    assert bundle_chunks.packed_files(modules, tmp_path / "cache") == (modules, {}, 0)
