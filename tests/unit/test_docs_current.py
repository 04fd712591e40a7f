"""What the documentation states about the code is what the code does: the record schema's version
CONTRIBUTING.md names, every key a matrix file may hold shown in docs/matrix-files.md's example, and
a README short enough to stay the user's path (issue #40)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from iree_matrix.core.results import SCHEMA_VERSION
from iree_matrix.matrix import spec

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]


def test_contributing_names_the_schema_version_the_code_writes() -> None:
    stated = re.findall(r"schema version (\d+)", (REPO / "CONTRIBUTING.md").read_text())
    assert stated == [str(SCHEMA_VERSION)]


def _example() -> dict:
    text = (REPO / "docs" / "matrix-files.md").read_text()
    block = re.search(r"```toml\n(.*?)```", text, re.DOTALL)
    assert block, "docs/matrix-files.md has no ```toml example"
    return tomllib.loads(block.group(1))


def test_the_matrix_file_example_shows_every_key() -> None:
    example = _example()
    assert set(spec._TOP_KEYS) - set(example) == set()
    assert set(example) <= set(spec._TOP_KEYS), "the example holds a key the parser refuses"
    for name, body in [*example["profile"].items(), *example["search"]["knobs"].items()]:
        assert set(body) <= spec._PROFILE_KEYS, name
    shown = {key for body in example["profile"].values() for key in body}
    assert spec._PROFILE_KEYS - shown == set()
    assert spec._SEARCH_KEYS - set(example["search"]) == set()
    benchmark_keys = spec._BENCHMARK_KEYS | set(spec.opt_ins())  # the stages' opt-ins too
    assert benchmark_keys - set(example["benchmark"]) == set()
    assert set(example["benchmark"]) <= benchmark_keys


def test_the_readme_stays_the_user_path() -> None:
    """≤ 150 lines: what a user does first; lab figures and their method live in docs/."""
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines: move measured detail to docs/"
