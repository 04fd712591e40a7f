"""Every published results set is what the code renders from its own log: re-rendering it gives
byte-identical files (issue #27's "behaviour unchanged", and so that a rendering change is never
left half-published). Each set renders as `iree-matrix report` does (`--performance` where a
PERFORMANCE.md is published), from a copy of results/ that stands in for the published directory,
so the cross-checks between published logs see the same data."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest

from iree_matrix.core import shipped
from iree_matrix.report import documents as report

pytestmark = pytest.mark.heavy  # every published set rendered in full: seconds each

REPO = Path(__file__).resolve().parents[2]
PUBLISHED = REPO / "results"
SETS = sorted(log.parent.relative_to(REPO) for log in PUBLISHED.glob("**/results.jsonl"))


def _differing(ours: Path, theirs: Path) -> list[str]:
    """Files of `ours` whose re-rendered copy differs, not descending into another set."""
    compared = filecmp.dircmp(ours, theirs)
    out = [str(ours / name) for name in compared.diff_files]
    for name in compared.subdirs:
        if name != "manifests" and not (ours / name / "results.jsonl").is_file():
            out += _differing(ours / name, theirs / name)
    return out


@pytest.mark.parametrize("published", SETS, ids=str)
def test_a_published_set_re_renders_byte_identical(published: Path, tmp_path: Path, monkeypatch) -> None:
    copy = tmp_path / "results"
    shutil.copytree(PUBLISHED, copy)
    monkeypatch.setattr(shipped, "results_dir", lambda: copy)
    monkeypatch.chdir(tmp_path)
    report.render(published, (REPO / published / "PERFORMANCE.md").is_file(), print)
    stale = _differing(REPO / published, tmp_path / published)
    assert not stale, f"{published}: re-render it (`iree-matrix report --results-dir {published}`): {stale}"
