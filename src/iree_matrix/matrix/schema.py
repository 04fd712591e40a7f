"""A matrix file's shape, defined once (`KEYS`, `DEFS`): what the parser validates with (`check`),
what `schemas/matrix-1.schema.json` is generated from and docs/matrix-files.md is checked against;
each node's `x-expected` says what a value should be. What a value means is the parser's to check.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Union

import jsonschema
from jsonschema.exceptions import ValidationError

from iree_matrix.core.errors import SpecError
from iree_matrix.core.model import metrics

SCHEMA = "schemas/matrix-1.schema.json"
OPT_IN = "#/$defs/opt_in"


# --- the definition: each node that can fail carries `x-expected` (test_matrix_schema holds it) ----

Node = dict[str, Any]  # a JSON Schema (2020-12) node

# The axes whose product is the cells (matrix/spec.py AXES: a test holds the two equal), and those
# every matrix names.
AXES = ("python", "torch", "turbine", "compiler", "runtime", "arch", "models", "profiles", "forms")
REQUIRED = ("python", "torch", "turbine", "compiler", "models")


def _about(description: str) -> Node:
    return {"description": description} if description else {}


def _ref(name: str, description: str = "") -> Node:
    """A shape defined once under `$defs`."""
    return {**_about(description), "$ref": f"#/$defs/{name}"}


def _value(kind: Union[str, list[str]], expected: str, description: str = "", **checks: Any) -> Node:
    """A value of one JSON type (or any of several), with `checks` such as minimum or pattern."""
    return {**_about(description), "type": kind, **checks, "x-expected": expected}


def _integer(low: int, high: int, description: str) -> Node:
    """An integer in [low, high]: its error says the range itself."""
    return {**_about(description), "type": "integer", "minimum": low, "maximum": high}


def _list(item: Node, expected: str, description: str = "") -> Node:
    return {**_about(description), "type": "array", "items": item, "x-expected": expected}


def _one_or_more(item_expected: str, description: str = "") -> Node:
    """A string, or a non-empty list of strings."""
    item = {"type": "string", "x-expected": item_expected}
    one = {"type": ["string", "array"], "minItems": 1, "items": item}
    return {**_about(description), **one, "x-expected": "a string or a non-empty list of strings"}


def _tables(rule: str, expected: str, description: str) -> Node:
    """[[NAME]]: an array of tables of one shape."""
    return {**_about(description), "type": "array", "x-expected": expected, "items": _ref(rule)}


def _table(
    expected: str,
    keys: Mapping[str, Node],
    description: str = "",
    marks: Mapping[str, Any] = {},  # noqa: B006
) -> Node:
    """A table of `keys` and no other (a typo is an error, never ignored); `marks` are the x- notes its errors
    read (x-unknown: what an unknown key's error says; x-opt-ins: the stages' opt-ins join it)."""
    return {
        **_about(description),
        "type": "object",
        "x-expected": expected,
        **marks,
        "additionalProperties": False,
        "properties": dict(keys),
    }


def _named(value: Node, expected: str, description: str = "") -> Node:
    """A table of names the user chooses, each holding `value`."""
    return {**_about(description), "type": "object", "x-expected": expected, "additionalProperties": value}


_KNOB_NAMES = _value("string", "a knob name")

DEFS: dict[str, Node] = {
    "description": _value(
        "string",
        'a string, e.g. description = "what this matrix answers"',
        "what this matrix (or profile) is for: said in the plan and the report",
    ),
    "axis": _one_or_more('a string (quote versions: "3.9.0")'),
    "strings": _one_or_more("a string"),
    "opt_in": _one_or_more(
        "a string", 'an opt-in: "<model unit>/<profile>" globs naming the cells a stage measures more of'
    ),
    "flags": _list(
        _value("string", 'iree-compile options like "--iree-opt-data-tiling"', pattern="^--"),
        'a list of iree-compile options like "--iree-opt-data-tiling"',
    ),
    "rule": _table("a table of axes", {axis: _ref("axis") for axis in AXES}),
    "profile": _table(
        "a table",
        dict(
            target_cpu=_value(
                "string",
                '"host", a CPU name, or "" for generic',
                '"host", an LLVM CPU name, or "" for a generic CPU',
            ),
            opt_level=_value(
                "string",
                "one of O0, O1, O2, O3",
                "--iree-opt-level: O0, O1, O2, O3 (IREE >= 3.3.0; older releases skip the cell)",
            ),
            flags=_ref(
                "flags",
                "iree-compile options, passed as they are (checked against each release's iree-compile "
                "--help-hidden when planned)",
            ),
            description=_ref("description"),
            needs=_list(
                _KNOB_NAMES,
                'a list of knob names, e.g. ["stack-1m"]',
                "knobs (profiles) whose flags this one takes with it",
            ),
            group=_value(
                "string",
                "a string: knobs of one group exclude each other",
                "knobs of one group exclude each other in a search",
            ),
            pairs=_list(
                _KNOB_NAMES,
                'a list of knob names it works with, e.g. ["loop-unrolling"]',
                "knobs it works with: beside one, the search ranks it as promising as that one was alone",
            ),
            releases=_value(
                "string",
                'a version range like ">=3.9.0" or ">=3.3,<3.11"',
                'the releases it is for (a version range such as ">=3.3.0"); others skip the cell, saying so',
            ),
        ),
    ),
}

KEYS: dict[str, Node] = {
    "description": _ref("description"),
    "python": _ref("axis", 'the Python of every environment: "3.11"'),
    "torch": _ref(
        "axis", 'torch releases, a selector ("all", ">=2.5"), or "supported" (iree-turbine\'s tested range)'
    ),
    "turbine": _ref("axis", "iree-turbine releases, or a selector"),
    "compiler": _ref(
        "axis",
        "IREE compiler releases (iree-base-compiler, or date versions for iree-compiler), or a selector: "
        '"all", "history", ">=3.0"',
    ),
    "runtime": _ref(
        "axis",
        'the runtimes each module runs on: "same" (its compiler\'s own, the default), releases, a selector, '
        'or "src:<release>" (built here from source)',
    ),
    "arch": _ref(
        "axis",
        'targets: "x86_64" (the default), "aarch64:cortex-a72", "armv6", a GPU target such as "vulkan-spirv"',
    ),
    "models": _ref("axis", "built-in model names, or model files (path.py:factory)"),
    "profiles": _ref(
        "axis", 'compile profiles: built in or [profile.NAME]; "a+b" combines them (default ["default"])'
    ),
    "forms": _ref(
        "axis",
        'how an export reaches the compiler: "text" (the default), "bytecode", "onnx", "onnx:<opset>", '
        '"linalg:<release>"',
    ),
    "compiler_python": _value(
        "string",
        'a Python minor version such as "3.11"',
        "the Python of the compiler and runtime environments, so a Python axis multiplies only the exporters",
    ),
    "peers": _ref(
        "strings",
        "other runtimes timed beside IREE on the same inputs (a peer stage), each the name of a module of "
        "scripts/peer_frameworks/: eager, torch_compile, onnxruntime and tflite are shipped",
    ),
    "kernels": _ref(
        "strings",
        "kernel directories (each with a kernel.toml: C sources, a transform spec, the object it names), "
        "relative to the file: each cell of a model a kernel is meant for is planned again with it swapped "
        "in (…/default+k:NAME)",
    ),
    "iree_source": {
        **_value(
            ["string", "object"],
            'a string or a table such as "3.9.0" = "iree.tar.xz"',
            "where a src:<release> runtime's source is: a directory, a tarball or git+URL@TAG, for every "
            "release, or a table of release = source",
        ),
        "additionalProperties": _value("string", "IREE's source: a directory, a tarball, or git+URL@TAG"),
    },
    "exclude": _tables(
        "rule",
        "[[exclude]] tables",
        "drop the cells matching every axis a rule names (a list matches any of its values)",
    ),
    "include": _tables(
        "rule", "[[include]] tables", "add cells; the axes a rule does not name take the matrix's values"
    ),
    "profile": _named(_ref("profile"), "[profile.NAME] tables", "your own compile profiles, [profile.NAME]"),
    "search": _table(
        "a [search] table, e.g. [search.knobs.NAME]",
        {
            "knobs": _named(
                {"anyOf": [_ref("flags"), _ref("profile")], "x-expected": "a table"},
                '[search.knobs.NAME] tables or NAME = ["--flag", ...]',
                '[search.knobs.NAME]: the keys of a [profile.NAME], or NAME = ["--flag", ...]',
            )
        },
        "the flag search's own knobs (iree-matrix search)",
    ),
    "benchmark": _table(
        "a [benchmark] table",
        dict(
            repetitions=_integer(1, 10000, "iree-benchmark-module repetitions and torch eager calls"),
            seed=_integer(0, 2**32 - 1, "the seed of weights and inputs (numpy's: 32 bits)"),
            time_budget=_value(
                "number",
                "a number of seconds, 0 or more",
                "seconds of calls each timed pass of a run aims for: at least 3 repetitions, at most "
                "`repetitions`; 0: every repetition",
                minimum=0,
            ),
            time_cross_runtime=_value(
                "boolean", "true or false", "false: another runtime's run is checked, untimed"
            ),
            threads=_integer(0, 1024, "every framework's thread count; 0: one per CPU of the host"),
            devices=_ref("strings", "IREE's CPU HAL drivers each module is run with: local-task, local-sync"),
            dispatches=_ref(
                "opt_in",
                "whose dispatches are each benchmarked on their own (op-wise bisection; one extra compile "
                "per executable)",
            ),
            op_timings=_ref(
                "opt_in",
                "whose runs also time every dispatch in context (IREE >= 3.12's HAL profiler) and whose "
                "peers report their time per op",
            ),
            instructions=_ref(
                "opt_in",
                "whose modules also get their instructions per call counted (valgrind's callgrind on "
                "local-sync)",
            ),
        ),
        "how runs are timed, and the cells opted in to more measurement",
        # The stages' own opt-ins join it when loaded (`schema`), documented where they are declared.
        marks={"x-opt-ins": True},
    ),
    "timeouts": _named(
        _value("number", "a positive, finite number of seconds", exclusiveMinimum=0),
        "a [timeouts] table of stage = seconds",
        "seconds per stage (the stages name their own keys)",
    ),
    "limits": _table(
        'a [limits] table such as memory = "8G"',
        dict(
            memory=_value(
                ["string", "integer"],
                "a size such as 8G",
                '"8G", "512M", a share of this machine\'s memory ("80%"), or "none"',
            ),
            processes=_value(
                ["integer", "string"],
                'a positive number or "none"',
                'tasks (processes and threads), or "none"',
            ),
        ),
        "what each command of an environment may use",
        marks={"x-unknown": "expected memory or processes"},
    ),
    "weights": _named(
        _value("string", "the path of a torch state dict (.pt)"),
        'a [weights] table such as mobilenet_v2 = "mnv2.pt"',
        "real weights: a torch state dict per model or function (whisper_tiny.encoder)",
    ),
    "images": _named(
        _value("string", "an image reference (name:tag)"),
        'an [images] table such as "3.12" = "python:3.12-slim"',
        "docker backend: a base image per Python instead of a Debian suite",
    ),
    "interpreters": _named(
        _value("string", "the path of a python executable"),
        'a table such as "3.10" = "/opt/py310/bin/python3"',
        "venv backend: the interpreter for a Python version",
    ),
    "supported_torch": _named(
        _value("string", 'a version specifier such as ">=2.5,<2.8"'),
        'a table such as "3.9.0" = ">=2.5,<2.10"',
        'replace a row of iree-turbine\'s tested torch ranges (torch = "supported")',
    ),
}


def generated() -> dict[str, Any]:
    """The matrix file's JSON Schema, from `KEYS` and `DEFS`: what `SCHEMA` ships (editors read it)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://iree-matrix/matrix-1.schema.json",
        "title": "iree-matrix matrix file",
        "description": (
            "A matrix file (matrix/*.toml): the axes whose product is the cells, and the tables that shape "
            "them (docs/matrix-files.md). Generated from src/iree_matrix/matrix/schema.py (KEYS, DEFS), the "
            "one list of keys iree-matrix validates every file with; bin/update_matrix_schema.py writes it "
            "and a unit test holds docs/matrix-files.md to it. Each node's x-expected is what its error "
            "says a value should be. The values' meaning (a release, a target, a model, a flag a compiler "
            "has) is checked by the parser, against the registries that know it."
        ),
        "type": "object",
        "x-expected": "a TOML document of keys and tables",
        "required": list(REQUIRED),
        "x-required": f"every matrix names {', '.join(REQUIRED)}",
        "additionalProperties": False,
        "properties": copy.deepcopy(KEYS),
        "$defs": copy.deepcopy(DEFS),
    }


def file_text() -> str:
    """`generated()` as the shipped file holds it."""
    return json.dumps(generated(), indent=2, ensure_ascii=False) + "\n"


def shipped() -> dict[str, Any]:
    """The schema file as shipped (what an editor reads; `generated()`, a unit test holds)."""
    return dict(json.loads(resources.files("iree_matrix").joinpath(SCHEMA).read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The definition's schema plus the opt-in keys the stages declare (`core/model/metrics`)."""
    found = generated()
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
    if errors := sorted(validator.iter_errors(data), key=lambda e: _order(e, data)):
        raise SpecError(f"{path}: {_said(errors[0], data)}")


def _order(error: ValidationError, data: Mapping[str, Any]) -> tuple[int, int, tuple[int, ...]]:
    """Unknown keys first (the outermost first), then missing ones, then the rest in the file's order."""
    kind = {"additionalProperties": 0, "required": 1}.get(str(error.validator), 2)
    return kind, len(error.absolute_path), _positions(error.absolute_path, data)


def _positions(where: Sequence[Any], data: Any) -> tuple[int, ...]:
    out, node = [], data
    for step in where:
        out.append(list(node).index(step) if isinstance(node, Mapping) else int(step))
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
        if inside := [e for e in error.context or () if e.validator != "type" or e.relative_path]:
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
