"""CHANGELOG.md is kept: it opens with an Unreleased section, its newest release is the version
pyproject.toml and `iree_matrix.__version__` both say (what every record carries as `tool_version`),
and its releases run newest first, each with its date."""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

from packaging.version import Version

import iree_matrix

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
HEADING = re.compile(r"^## \[(?P<name>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?\s*$", re.MULTILINE)
KINDS = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


def _sections() -> list[tuple[str, str, str]]:
    """Each `## [name] - date` heading with the text under it, in file order."""
    text = (REPO / "CHANGELOG.md").read_text()
    found = list(HEADING.finditer(text))
    assert found, "CHANGELOG.md has no `## [...]` heading"
    ends = [m.start() for m in found[1:]] + [len(text)]
    return [(m["name"], m["date"] or "", text[m.end() : end]) for m, end in zip(found, ends)]


def test_unreleased_comes_first():
    (name, when, _), *_ = _sections()
    assert name == "Unreleased" and not when, f"the first section is [{name}]: open an [Unreleased] above it"


def test_newest_release_is_the_packages_version():
    released = [name for name, _, _ in _sections() if name != "Unreleased"]
    assert released, "CHANGELOG.md names no released version"
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert released[0] == project, (
        f"CHANGELOG.md's newest release is {released[0]}, pyproject.toml's {project}"
    )
    assert iree_matrix.__version__ == project, (
        f"iree_matrix.__version__ is {iree_matrix.__version__}, pyproject.toml's {project}"
    )


def test_releases_run_newest_first_with_dates():
    released = [(name, when) for name, when, _ in _sections() if name != "Unreleased"]
    versions = [Version(name) for name, _ in released]
    assert versions == sorted(versions, reverse=True) and len(set(versions)) == len(versions), versions
    for name, when in released:
        assert when, f"[{name}] has no date: `## [{name}] - YYYY-MM-DD`"
        date.fromisoformat(when)
    dates = [when for _, when in released]
    assert dates == sorted(dates, reverse=True), f"release dates out of order: {dates}"


def test_changes_are_filed_under_keep_a_changelog_kinds():
    for name, _, body in _sections():
        kinds = re.findall(r"^### (.+?)\s*$", body, flags=re.MULTILINE)
        unknown = [k for k in kinds if k not in KINDS]
        assert not unknown, f"[{name}] files changes under {unknown}: use {', '.join(KINDS)}"
        assert len(set(kinds)) == len(kinds), f"[{name}] has a kind twice: {kinds}"
