"""The process-heavy part of tests/unit/test_compat_query.py (each test's marker says why); the rest
there runs in the fast tier. Here, every published compat.json validated against its schema: seconds of
CPU."""

from __future__ import annotations

import json

import pytest

from iree_matrix.findings import compat
from tests.unit.test_compat_query import ROOT


@pytest.mark.heavy
def test_the_published_compat_json_follows_its_schema():
    published = [ROOT / "results" / compat.FILENAME, *sorted((ROOT / "results").glob(f"*/{compat.FILENAME}"))]
    assert len(published) >= 4
    for path in published:
        document = json.loads(path.read_text())
        compat.validate(document)
        assert document["windows"] and document["models"], path
