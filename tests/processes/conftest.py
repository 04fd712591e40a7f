"""The process-heavy tier: unit tests that start processes, sleep or wait on real time (`processes`)
or take seconds of CPU (`heavy`). Kept out of tests/unit so that tier stays minutes on 2 cores; like
it, they never ask the package index."""

from __future__ import annotations

# The unit tier's fixtures: the autouse one applies here too.
from tests.unit.conftest import _offline_index, no_published  # noqa: F401
