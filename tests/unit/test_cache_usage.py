"""`iree-matrix cache` says what the cache takes on disk; `cache prune` removes what no stage has to
redo (logs, wheelhouse) unless told more, and never under a running matrix."""

from __future__ import annotations

from pathlib import Path

from iree_matrix import cli
from iree_matrix.core.system.locks import cache_lock
from iree_matrix.envs import cache_usage


def _cache(tmp_path: Path) -> Path:
    cache = tmp_path / "cache"
    for part, size in (("logs", 10_000), ("wheelhouse", 200_000), ("store", 50_000), ("envs", 30_000)):
        (cache / part / "x").mkdir(parents=True)
        (cache / part / "x" / "f").write_bytes(b"\0" * size)
    return cache


def test_usage_counts_each_part(tmp_path: Path) -> None:
    parts = {p.name: p.bytes for p in cache_usage.usage(_cache(tmp_path))}
    assert set(parts) == {"logs", "wheelhouse", "store", "envs"}
    assert parts["wheelhouse"] >= 200_000 > parts["store"] >= 50_000


def test_prune_by_default_removes_only_what_no_stage_redoes(tmp_path: Path, capsys) -> None:
    cache = _cache(tmp_path)
    assert cli.main(["cache", "--cache", str(cache)]) == 0
    assert "wheelhouse" in capsys.readouterr().out
    assert cli.main(["cache", "prune", "--cache", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "removed logs" in out and "removed wheelhouse" in out and "freed" in out
    assert not (cache / "logs").exists() and not (cache / "wheelhouse").exists()
    assert (cache / "store").is_dir() and (cache / "envs").is_dir()
    assert cli.main(["cache", "prune", "all", "--cache", str(cache)]) == 0
    assert not (cache / "store").exists() and not (cache / "envs").exists()


def test_a_bad_part_or_a_running_matrix_is_one_line(tmp_path: Path, capsys) -> None:
    cache = _cache(tmp_path)
    assert cli.main(["cache", "prune", "bogus", "--cache", str(cache)]) == 2
    assert "cache prune bogus: no such part (parts: logs, wheelhouse, envs, images, store, or all)" in (
        capsys.readouterr().err
    )
    with cache_lock(cache):
        assert cli.main(["cache", "prune", "--cache", str(cache)]) == 2
    assert "another iree-matrix run is using" in capsys.readouterr().err
    assert (cache / "wheelhouse").is_dir()
