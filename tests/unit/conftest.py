"""Unit tests never ask the package index: release lists come from fakes (see test_releases.py)."""

from __future__ import annotations

import pytest

from iree_matrix.matrix import releases


@pytest.fixture(autouse=True)
def _offline_index(monkeypatch):
    def offline(package: str, python: str) -> releases.Releases:
        raise releases.ReleaseError(f"unit tests do not ask the index (for {package})")

    monkeypatch.setattr(releases, "query_pip", offline)
