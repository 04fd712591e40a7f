"""A matrix file's shape, checked against `schemas/matrix-1.schema.json`: the one list of its keys,
tables and value types, which docs/matrix-files.md is checked against (tests/unit/test_docs_current.py)
and which an editor can use too (e.g. `#:schema` in Even Better TOML). Its first error becomes one line
naming the file, the key, the value and what it should be (each node's `x-expected`).

What a value means - a release, a target, a model, a profile, a flag a compiler has, a stage's name
in `[timeouts]` - is the parser's to check (matrix/spec.py), against the registries that know it.
A stage's own `[benchmark]` opt-in (`StageMetrics.opt_in`) joins the schema when it is loaded, so a new
stage edits neither this file nor the schema's.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from iree_matrix.core.errors import SpecError
from iree_matrix.core.model import metrics

SCHEMA = "schemas/matrix-1.schema.json"
OPT_IN = "#/$defs/opt_in"


def shipped() -> dict[str, Any]:
    """The schema file as shipped (what an editor reads)."""
    text = resources.files("iree_matrix").joinpath(SCHEMA).read_text(encoding="utf-8")
    return dict(json.loads(text))


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The shipped schema plus the opt-in keys the stages declare (`core/model/metrics`)."""
    found = copy.deepcopy(shipped())
    benchmark = found["properties"]["benchmark"]["properties"]
    for key, doc in metrics.opt_in_docs().items():
        benchmark.setdefault(key, {"description": doc, "$ref": OPT_IN})
    return found


def opt_ins() -> tuple[str, ...]:
    """Every `[benchmark]` key that opts cells in to a stage's measurement: the schema's opt-ins."""
    benchmark = schema()["properties"]["benchmark"]["properties"]
    return tuple(sorted(key for key, node in benchmark.items() if node.get("$ref") == OPT_IN))


def check(data: Mapping[str, Any], path: Path) -> None:
    """Raise a one-line `SpecError` for the first way `data` breaks the schema."""
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: _order(e, data))
    if errors:
        raise SpecError(f"{path}: {_said(errors[0], data)}")


def _order(error: ValidationError, data: Mapping[str, Any]) -> tuple[int, int, tuple[int, ...]]:
    """Unknown keys first (the outermost first), then missing ones, then the rest in the file's order."""
    kind = {"additionalProperties": 0, "required": 1}.get(str(error.validator), 2)
    return kind, len(error.absolute_path), _positions(error.absolute_path, data)


def _positions(where: Sequence[Any], data: Any) -> tuple[int, ...]:
    out, node = [], data
    for step in where:
        if isinstance(node, Mapping):
            out.append(list(node).index(step))
        else:
            out.append(int(step))
        node = node[step]
    return tuple(out)


def _key(where: Sequence[Any], data: Any) -> str:
    """`include[0].compiler`: a table of an array by its index; an item of a list of values by none
    (the message shows the item)."""
    key, node = "", data
    for step in where:
        child = node[step]
        if isinstance(step, int):
            key += f"[{step}]" if isinstance(child, Mapping) else ""
        else:
            key += f".{step}" if key else str(step)
        node = child
    return key


def _said(error: ValidationError, data: Mapping[str, Any]) -> str:
    if error.validator in ("anyOf", "oneOf"):  # the branch for the value's type says more, if one is
        inside = [e for e in error.context or () if e.validator != "type" or e.relative_path]
        if inside:
            return _said(min(inside, key=lambda e: _order(e, data)), data)
    key = _key(error.absolute_path, data)
    node: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    instance: Any = error.instance
    prefix = f"{key}." if key else ""
    if error.validator == "additionalProperties":
        known = sorted(node.get("properties", {}))
        unknown = next(k for k in instance if k not in known)
        if "x-unknown" in node:
            return f"{prefix}{unknown} = {instance[unknown]!r}: {node['x-unknown']}"
        said = f"unknown key {prefix + unknown!r} (known: {', '.join(known)}"
        if node.get("x-opt-ins"):  # the stages' opt-ins are documented where they are declared
            docs = metrics.opt_in_docs().items()
            said += "; the stages' opt-ins: " + "; ".join(f"{k}: {d}" for k, d in docs)
        return said + ")"
    if error.validator == "required":
        missing = next(k for k in node["required"] if k not in instance)
        return f"missing key {prefix + missing!r} ({node['x-required']})"
    return f"{key} = {instance!r}: expected {_expected(node)}"


def _expected(node: Mapping[str, Any]) -> str:
    if "x-expected" in node:
        return str(node["x-expected"])
    if node.get("type") == "integer" and "minimum" in node and "maximum" in node:
        return f"an integer from {node['minimum']} to {node['maximum']}"
    raise AssertionError(f"{SCHEMA}: a node without x-expected: {node}")  # test_matrix_schema holds none
