"""The digests records carry: a run's outputs (exact values, not the .npy header), and every file a
compile left beside its module."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iree_matrix.stages.artifacts import MODULE
from iree_matrix.stages.compile import artifact_digests
from iree_matrix.stages.run import outputs_digest


def _save(folder: Path, *arrays: np.ndarray) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"output{i}.npy" for i in range(len(arrays))]
    for path, array in zip(paths, arrays):
        np.save(path, array)
    return paths


def test_equal_values_give_one_digest_and_any_difference_another(tmp_path: Path) -> None:
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    first = outputs_digest(_save(tmp_path / "1", a, a[:1]))
    assert first == outputs_digest(_save(tmp_path / "2", a.copy(), a[:1].copy()))
    assert first == outputs_digest(_save(tmp_path / "f", np.asfortranarray(a), a[:1]))  # layout on disk
    nudged = a.copy()
    nudged[2, 3] = np.nextafter(nudged[2, 3], np.float32(100))  # one ulp
    assert first != outputs_digest(_save(tmp_path / "3", nudged, a[:1]))
    assert first != outputs_digest(_save(tmp_path / "4", a.reshape(4, 3), a[:1]))  # shape
    assert first != outputs_digest(_save(tmp_path / "5", a.astype(np.float64), a[:1]))  # dtype
    assert first != outputs_digest(_save(tmp_path / "6", a[:1], a))  # order


def test_a_compile_digests_every_artifact_but_the_module_by_relative_path(tmp_path: Path) -> None:
    (tmp_path / MODULE.path).write_bytes(b"module")
    (tmp_path / "statistics.json").write_text("{}")
    (tmp_path / "dispatches").mkdir()
    (tmp_path / "dispatches" / MODULE.path).write_bytes(b"a dispatch module of the same name")
    got = artifact_digests(tmp_path)
    assert sorted(got) == ["dispatches/module.vmfb", "statistics.json"]
    assert got["statistics.json"] == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
