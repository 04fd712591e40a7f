"""The ops of the IR a cell's preprocessing prints (`iree-compile --compile-to=preprocessing
--mlir-print-debuginfo`), as kernel/iree/spec_gen.py reads them: each top-level op of a util.func with its
lines as printed (locations removed) and the lines of the exported model.mlir its location names."""

from __future__ import annotations

import dataclasses
import math
import re

RESULTS = re.compile(r"^\s*((?:%[\w$.-]+(?::\d+)?)(?:\s*,\s*%[\w$.-]+)*)\s*=\s*")
VALUE = re.compile(r"%[\w$.-]+")
LOC_LINE = re.compile(r'"[^"]*":(\d+):\d+')
_ALIAS = re.compile(r"^(#loc\d*)\s*=\s*loc\((.*)\)\s*$")


@dataclasses.dataclass
class Op:
    results: list[str]
    name: str
    lines: list[str]  # as printed, locations removed
    lines_of_model: set[int]  # the model.mlir lines its location names

    @property
    def header(self) -> str:
        """The op's first line without the region it opens (its operands, attributes, types)."""
        first = self.lines[0]
        return first[:-1] if len(self.lines) > 1 and first.rstrip().endswith("{") else first

    def operands(self) -> list[str]:
        return [v for v in VALUE.findall(_after_results(self.header)) if v not in self.results]

    def captured(self) -> list[str]:
        """Values its region uses that are defined outside the op (torch-mlir's scalar constants)."""
        inner = self.lines[1:-1]
        defined = {v for line in inner for v in _defined(line)}
        return list(dict.fromkeys(v for line in inner for v in VALUE.findall(line) if v not in defined))

    def result_type(self) -> str:
        last = self.lines[-1].strip()
        typed = last.rsplit(" -> ", 1)[1] if " -> " in last else last.rsplit(" : ", 1)[-1]
        return re.split(r" (?:into|to) ", typed)[-1]  # a reshape's `T into U`, a pad's `T to U`: U


def _after_results(line: str) -> str:
    return line[match.end() :] if (match := RESULTS.match(line)) else line


def _defined(line: str) -> list[str]:
    found = VALUE.findall(match.group(1)) if (match := RESULTS.match(line)) else []
    if line.strip().startswith("^"):  # a block's arguments
        found += VALUE.findall(line)
    return found


def strip_locations(text: str) -> str:
    """`text` without its ` loc(...)` parts (nested parentheses and quoted strings kept whole)."""
    out, i = [], 0
    while True:
        if (at := text.find(" loc(", i)) < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:at])
        depth, j, quoted = 0, at + 4, False
        while j < len(text):
            if (c := text[j]) == '"' and text[j - 1] != "\\":
                quoted = not quoted
            elif not quoted and c == "(":
                depth += 1
            elif not quoted and c == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        i = j + 1


def _location_lines(line: str, aliases: dict[str, str]) -> set[int]:
    if (at := line.rfind(" loc(")) < 0:
        return set()
    expr = line[at:]
    for _ in range(8):  # aliases naming aliases
        expr = re.sub(r"#loc\d*", lambda m: aliases.get(m.group(0), ""), expr)
    return {int(n) for n in LOC_LINE.findall(expr)}


def parse_ops(ir: str) -> list[Op]:
    """The top-level ops of every util.func in the printed IR, in order."""
    aliases = {m.group(1): m.group(2) for m in map(_ALIAS.match, ir.splitlines()) if m}
    ops: list[Op] = []
    depth, current, in_func = 0, None, False
    for raw in ir.splitlines():
        opens, closes = _braces(raw)
        if not in_func:
            if re.match(r"\s*util\.func\b", raw) and raw.rstrip().endswith("{"):
                in_func, depth = True, 0
            continue
        if current is None:
            if raw.strip().startswith("}") and depth == 0:  # the function's end
                in_func = False
                continue
            line = strip_locations(raw)
            match = RESULTS.match(line)
            name = _after_results(line).strip().split(" ", 1)[0].split("(", 1)[0].strip('"')
            current = Op(VALUE.findall(match.group(1)) if match else [], name, [], set())
        current.lines.append(strip_locations(raw).rstrip())
        depth += opens - closes
        if depth == 0:
            current.lines_of_model = _location_lines(raw, aliases)
            ops.append(current)
            current = None
    return ops


def _braces(line: str) -> tuple[int, int]:
    """Region braces opened and closed on a line: `{` at its end, `}` at its start (attribute
    dictionaries open and close on one line)."""
    text = strip_locations(line).strip()
    return int(text.endswith("{")), int(text.startswith("}"))


C_TYPES = {
    "f32": "float",
    "f64": "double",
    "f16": "_Float16",
    "i8": "int8_t",
    "i16": "int16_t",
    "i32": "int32_t",
    "i64": "int64_t",
}
TENSOR = re.compile(r"^tensor<((?:\d+x)*)(\w+)>$")


class NotGenerated(ValueError):
    """Why no spec can be written for this IR: one line naming the op and the reason."""


def shape(tensor: str) -> tuple[list[int], str]:
    """A static tensor type's sizes and element type."""
    if (match := TENSOR.match(tensor)) is None:
        why = "a dynamic shape" if "?" in tensor else "not a ranked tensor"
        raise NotGenerated(f"{tensor} is {why}: a generated kernel takes static shapes")
    return [int(size) for size in match.group(1).split("x")[:-1]], match.group(2)


def element_count(tensor: str) -> tuple[int, str]:
    sizes, element = shape(tensor)
    if element not in C_TYPES:
        raise NotGenerated(f"{tensor}: element type {element} has no C type here")
    return math.prod(sizes), element
