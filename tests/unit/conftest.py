"""Unit tests never ask the package index: release lists come from fakes (see test_releases.py)."""

from __future__ import annotations

import resource
from collections.abc import Iterator
from pathlib import Path

import pytest

from iree_matrix.core import shipped
from iree_matrix.matrix import releases


@pytest.fixture(autouse=True)
def _offline_index(monkeypatch):
    def offline(package: str, python: str) -> releases.Releases:
        raise releases.ReleaseError(f"unit tests do not ask the index (for {package})")

    monkeypatch.setattr(releases, "query_pip", offline)


@pytest.fixture
def no_published(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An install that carries no published results (`shipped.results_dir()` an empty folder), for a
    test of a run's own report or merge whose subject is not the published figures: a report relates
    its speed figures to the published bench, read and cross-checked against every published log,
    seconds of CPU per render."""
    published = tmp_path_factory.mktemp("published")
    monkeypatch.setattr(shipped, "results_dir", lambda: published)
    return published


# The unit tier stays minutes on 2 cores because its slow kinds live in tests/processes: a test marked
# as one of them here would be run by `nox -s unit` after all, so it is refused at collection.
SLOW_KINDS = ("processes", "heavy")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    misplaced = [
        item.nodeid
        for item in items
        if here in Path(item.fspath).parents and any(item.get_closest_marker(k) for k in SLOW_KINDS)
    ]
    if misplaced:
        raise pytest.UsageError(
            f"{misplaced[0]} is marked {' or '.join(SLOW_KINDS)}: move it to tests/processes/ "
            f"(the unit tier runs none; {len(misplaced)} such test(s))"
        )


# Issue 72 asks each unit test to stay under 1 s of CPU: the junit file records each test's CPU
# (setup and call, this process's and its waited-for children's) as its `cpu_s` property, and
# bin/test_durations.py lists the tests over the bar. A measurement, not an assertion: CPU seconds
# on a loaded machine vary, so no test fails on it.
_CPU_AT_SETUP = pytest.StashKey[float]()


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    item.stash[_CPU_AT_SETUP] = _cpu_seconds()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    yield
    started = item.stash.get(_CPU_AT_SETUP, None)
    if started is not None:
        item.user_properties.append(("cpu_s", round(_cpu_seconds() - started, 3)))
