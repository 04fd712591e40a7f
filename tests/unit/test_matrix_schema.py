"""The matrix file schema (src/iree_matrix/schemas/matrix-1.schema.json, issue 49): generated from the
definition the parser validates with (matrix/schema.py KEYS and DEFS, issue 70), a valid JSON Schema,
every node that can fail saying what it expects, the shipped matrices valid under it, and the one-line
errors it gives where the parser had none of its own (docs/matrix-files.md is checked against it in
test_docs_current.py)."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from iree_matrix.core.errors import SpecError
from iree_matrix.matrix import schema, spec
from tests.unit.test_spec import _error

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]


def _nodes(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _nodes(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _nodes(value, f"{where}/{i}")


def test_the_shipped_schema_file_is_the_one_the_definition_generates() -> None:
    shipped = (REPO / "src" / "iree_matrix" / schema.SCHEMA).read_text(encoding="utf-8")
    assert shipped == schema.file_text(), (
        "the schema file differs from matrix/schema.py: run bin/update_matrix_schema.py"
    )
    assert schema.shipped() == schema.generated()


def test_the_definitions_axes_are_the_parsers() -> None:
    assert tuple(spec.AXES) == schema.AXES  # the parser's are the definition's, in its order
    assert set(spec.AXES.values()) == {f.name for f in dataclasses.fields(spec.Cell)} - {"kernel"}
    assert set(schema.REQUIRED) <= set(schema.AXES)


def test_the_parser_validates_with_the_definition_not_the_file(monkeypatch, tmp_path) -> None:
    """A key added to the definition is accepted at once, the shipped file unchanged; the update
    script then finds the file stale, rewrites it, and finds it current."""
    planted = {"python": "3.11", "torch": "2.13.0", "turbine": "3.9.0", "compiler": "3.9.0", "models": "m"}
    with pytest.raises(SpecError, match="unknown key 'notes'"):
        schema.check({**planted, "notes": "x"}, Path("m.toml"))
    monkeypatch.setitem(schema.KEYS, "notes", schema.DEFS["description"])
    schema.schema.cache_clear()
    try:
        schema.check({**planted, "notes": "x"}, Path("m.toml"))
        copy = tmp_path / "src" / "iree_matrix" / schema.SCHEMA
        copy.parent.mkdir(parents=True)
        copy.write_text((REPO / "src" / "iree_matrix" / schema.SCHEMA).read_text(encoding="utf-8"))
        update = _update_script(monkeypatch)
        assert update.main(["--check", str(tmp_path)]) == 1
        assert update.main([str(tmp_path)]) == 0 and '"notes"' in copy.read_text(encoding="utf-8")
        assert update.main(["--check", str(tmp_path)]) == 0
    finally:
        monkeypatch.undo()
        schema.schema.cache_clear()


def _update_script(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(REPO / "bin"))  # its shared prelude, bin/checkout_rewrite.py
    found = importlib.util.spec_from_file_location(
        "update_matrix_schema", REPO / "bin" / "update_matrix_schema.py"
    )
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


def test_the_schema_is_a_json_schema_and_every_check_says_what_it_expects() -> None:
    jsonschema.Draft202012Validator.check_schema(schema.schema())
    for where, node in _nodes(schema.shipped()):
        if "type" in node or "anyOf" in node:
            bounded = node.get("type") == "integer" and {"minimum", "maximum"} <= set(node)
            assert "x-expected" in node or bounded, f"{where}: a check without x-expected (its error's fix)"


def test_every_key_of_a_table_the_schema_names_is_closed() -> None:
    """A table whose keys the schema lists refuses any other (a typo is an error, never ignored)."""
    for where, node in _nodes(schema.shipped()):
        if "properties" in node and where.rsplit("/", 1)[-1] != "properties":
            assert node.get("additionalProperties") is False, f"{where}: an open table"


@pytest.mark.parametrize("path", sorted((REPO / "matrix").glob("*.toml")), ids=lambda p: p.name)
def test_the_shipped_matrices_are_valid(path: Path) -> None:
    schema.check(tomllib.loads(path.read_text(encoding="utf-8")), path)


def test_a_stages_opt_in_joins_the_schema_when_loaded() -> None:
    """roofline is declared by the flops and peak stages' metrics, not written in the schema file."""
    assert "roofline" not in schema.shipped()["properties"]["benchmark"]["properties"]
    assert "roofline" in schema.opt_ins()
    assert {"dispatches", "op_timings", "instructions"} <= set(schema.opt_ins())


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ("[search]\nknob = 1\n", "unknown key 'search.knob' (known: knobs)"),
        ('[search.knobs.k]\ncpu = "x"\n', "unknown key 'search.knobs.k.cpu' (known: description, flags, "),
        ('[search.knobs]\nk = ["iree-x"]\n', "search.knobs.k = 'iree-x': expected iree-compile options"),
        ("[limits]\nmemory = 1.5\n", "limits.memory = 1.5: expected a size such as 8G"),
        ('[profile.p]\nneeds = "stack-1m"\n', "profile.p.needs = 'stack-1m': expected a list of knob names"),
        ("iree_source = 3\n", 'iree_source = 3: expected a string or a table such as "3.9.0" = "iree.ta'),
        ("[benchmark]\nthreads = 2000\n", "benchmark.threads = 2000: expected an integer from 0 to 1024"),
        ('[[include]]\ncompiler = ["3.9.0", 3]\n', "include[0].compiler = 3: expected a string (quote ver"),
        ("[images]\n'3.12' = 3\n", "images.3.12 = 3: expected an image reference (name:tag)"),
        ("description = 1\n", 'description = 1: expected a string, e.g. description = "what this matrix'),
        ('peers = "eager"\n[weights]\ntiny_cnn = 1\n', "weights.tiny_cnn = 1: expected the path of a torch"),
    ],
)
def test_a_schema_error_is_one_line_naming_the_key_the_value_and_the_fix(tmp_path, extra, said) -> None:
    assert said in _error(tmp_path, extra=extra)
