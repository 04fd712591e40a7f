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
    # The parser's own keys are shown; a stage's opt-in is documented where the stage declares it
    # (`StageMetrics.opt_in_doc`, said by an unknown key's error), so a new stage edits no doc.
    assert (spec._BENCHMARK_KEYS | set(spec._OPT_INS)) - set(example["benchmark"]) == set()
    assert set(example["benchmark"]) <= spec._BENCHMARK_KEYS | set(spec.opt_ins())
    from iree_matrix.core import metrics

    assert all(doc for doc in metrics.opt_in_docs().values()), metrics.opt_in_docs()


def test_the_readme_stays_the_user_path() -> None:
    """≤ 150 lines: what a user does first; lab figures and their method live in docs/."""
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines: move measured detail to docs/"
