"""What the documentation states about the code is what the code does: the record schema's version
CONTRIBUTING.md names, every key a matrix file may hold shown in docs/matrix-files.md's example (and
no key the schema lacks named there), the errors it quotes the schema's own (issue #49 item 8), and
a README short enough to stay the user's path (issue #40)."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

from iree_matrix.core.errors import SpecError
from iree_matrix.core.model import metrics
from iree_matrix.core.model.results import SCHEMA_VERSION
from iree_matrix.matrix import schema

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]


def test_contributing_names_the_schema_version_the_code_writes() -> None:
    stated = re.findall(r"schema version (\d+)", (REPO / "CONTRIBUTING.md").read_text())
    assert stated == [str(SCHEMA_VERSION)]


def _doc() -> str:
    return (REPO / "docs" / "matrix-files.md").read_text()


def _example(text: Optional[str] = None) -> dict:
    text = _doc() if text is None else text
    block = re.search(r"```toml\n(.*?)```", text, re.DOTALL)
    assert block, "docs/matrix-files.md has no ```toml example"
    return tomllib.loads(block.group(1))


def _keys(node: Any, data: Any = None, path: str = "", out: Optional[set[str]] = None) -> set[str]:
    """The key paths a schema node names (`data` None), or those of `data` walked along it:
    `benchmark.seed`, `profile.*` for a table of names, `include[]` for an array of tables, and a
    table shape the schema defines once (`$defs`) rooted at its name (`#profile.flags`), so the
    example documents a profile's keys once for [profile.NAME] and [search.knobs.NAME] alike."""
    out = set() if out is None else out
    ref = node.get("$ref", "")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        target = schema.schema()["$defs"][name]
        return _keys(target, data, f"#{name}" if "properties" in target else path, out)
    for branch in node.get("anyOf", []):
        if data is None or isinstance(data, dict) == (branch.get("$ref") == "#/$defs/profile"):
            _keys(branch, data, path, out)
    properties, others = node.get("properties", {}), node.get("additionalProperties")
    shaped = "properties" in node or "additionalProperties" in node  # a table's schema
    for key in properties if data is None else data if isinstance(data, dict) and shaped else ():
        sub = properties.get(key, others if isinstance(others, dict) else {})
        named = key in properties or not isinstance(others, dict)  # else a name of the table's (`*`)
        at = f"{path}.{key}" if named else f"{path}.*"
        out.add(at.lstrip("."))
        _keys(sub, None if data is None else data[key], at, out)
    if isinstance(others, dict) and data is None:
        out.add(f"{path}.*".lstrip("."))
        _keys(others, None, f"{path}.*", out)
    items = node.get("items")
    if isinstance(items, dict) and "$ref" in items:
        for item in [None] if data is None else data:
            _keys(items, item, f"{path}[]", out)
    return out


def test_the_matrix_file_example_shows_every_key_of_the_schema() -> None:
    """docs/matrix-files.md's example against src/iree_matrix/schemas/matrix-1.schema.json, the one
    list of keys the parser validates with: every key shown is in the schema, every key of the
    shipped schema is shown. A rule of [[include]] / [[exclude]] names axes, shown as axes."""
    example = _keys(schema.schema(), _example())
    assert example <= _keys(schema.schema()), "the example holds a key the schema refuses"
    axes = {key for key in example if "." not in key}
    shown = example | {f"#rule.{axis}" for axis in axes}
    assert _keys(schema.shipped()) - shown == set(), "keys of the schema the example does not show"
    # The schema's own opt-ins are shown; a stage's opt-in is documented where the stage declares it
    # (`StageMetrics.opt_in_doc`, said by an unknown key's error), so a new stage edits no doc.
    assert all(doc for doc in metrics.opt_in_docs().values()), metrics.opt_in_docs()


def test_the_example_check_finds_a_key_the_schema_lacks_and_one_not_shown() -> None:
    planted = _example()
    planted["compilers"] = ["3.9.0"]  # a typo'd key shown
    del planted["limits"]  # a key of the schema no longer shown
    shown = _keys(schema.schema(), planted)
    assert shown - _keys(schema.schema()) == {"compilers"}
    assert {"limits", "limits.memory", "limits.processes"} <= _keys(schema.shipped()) - shown


def _prose_keys(text: str) -> set[str]:
    """The top-level keys the page's prose names as a matrix file spells them: `[weights]`,
    `[[include]]`, `compiler_python = "3.11"` (code blocks aside: the example is checked above)."""
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return set(re.findall(r"`\[\[?(\w+)[\].]", prose)) | set(re.findall(r"`(\w+) = ", prose))


def test_every_key_the_prose_names_is_in_the_schema() -> None:
    named = _prose_keys(_doc())
    assert {"weights", "include", "compiler_python", "supported_torch"} <= named  # the check reads them
    assert named - set(schema.shipped()["properties"]) == set(), "the page names keys the schema lacks"


def test_a_key_the_prose_names_that_the_schema_lacks_is_found() -> None:
    planted = 'Set `[weight] m = "w.pt"` and `compilers = ["3.9.0"]`, or `[[include]]`.\n'
    planted += "```toml\nx = 1\n```"  # the example's keys are the example check's
    assert _prose_keys(planted) - set(schema.shipped()["properties"]) == {"weight", "compilers"}


_QUOTED = re.compile(r"^iree-matrix: error: (matrix/mine\.toml: .*)$", re.MULTILINE)
_MISTAKE = re.compile(
    r"matrix/mine\.toml: (?:unknown key '(?P<unknown>\w+)'|(?P<key>\w+) = (?P<value>.+?): )"
)


def _expected(key: str) -> str:
    node = schema.schema()["properties"][key]
    if "$ref" in node:
        node = schema.schema()["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    return str(node["x-expected"])


def test_the_errors_the_page_quotes_are_the_schemas() -> None:
    """Each quoted error is what the schema says of the page's own example with that one mistake, and
    a wrong value's words are the key's `x-expected` (the schema's, not the page's)."""
    schema.check(_example(), Path("matrix/mine.toml"))  # the example itself is valid
    quoted = _QUOTED.findall(_doc())
    assert len(quoted) >= 2, "docs/matrix-files.md quotes no error"
    for line in quoted:
        found = _MISTAKE.match(line)
        assert found, f"a quoted error this test cannot reproduce: {line}"
        data = _example()
        if found["unknown"]:
            data[found["unknown"]] = ["3.9.0"]
        else:
            data[found["key"]] = ast.literal_eval(found["value"])
            assert line.endswith(": expected " + _expected(found["key"])), line
        with pytest.raises(SpecError) as raised:
            schema.check(data, Path("matrix/mine.toml"))
        assert str(raised.value) == line


def test_a_quoted_error_the_schema_does_not_give_is_found() -> None:
    stale = "matrix/mine.toml: compiler = 3.9: not a version"
    data = {**_example(), "compiler": 3.9}
    with pytest.raises(SpecError) as raised:
        schema.check(data, Path("matrix/mine.toml"))
    assert str(raised.value) != stale and not stale.endswith(": expected " + _expected("compiler"))


def test_the_readme_stays_the_user_path() -> None:
    """≤ 120 lines (issue 93): what a user does first; reference lives in docs/, dated runs in lab/."""
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 120, f"README.md has {len(lines)} lines: move detail to docs/ or lab/"


def test_the_readme_opens_with_the_commands() -> None:
    """A newcomer's first screen (issue 83): both commands and the `iree-matrix` install in 40 lines,
    no line over 200 characters (issue 93), the answers `iree-matrix report` renders included."""
    lines = (REPO / "README.md").read_text().splitlines()
    first = "\n".join(lines[:40])
    for command in ("nox -s matrix", "nox -s tests", "pip install ."):
        assert command in first, f"README.md's first 40 lines lack `{command}`"
    wide = [n for n, line in enumerate(lines, 1) if len(line) > 200]
    assert not wide, f"README.md lines over 200 characters: {wide}"


def test_docs_stay_reference() -> None:
    """docs/ is reference (issue 93): ≤ 60,000 words in all, docs/first-run.md ≤ 150 lines; dated runs
    and measurement logs go to lab/, leaving a pointer."""
    words = sum(len(doc.read_text().split()) for doc in (REPO / "docs").glob("*.md"))
    assert words <= 60_000, f"docs/*.md hold {words} words: move dated runs and measurements to lab/"
    lines = len((REPO / "docs" / "first-run.md").read_text().splitlines())
    assert lines <= 150, f"docs/first-run.md has {lines} lines: move dated runs to lab/first-run-timings.md"
