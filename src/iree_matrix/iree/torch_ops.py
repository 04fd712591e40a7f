"""Which lines of an exported model.mlir are the torch op a kernel declares it replaces (kernel.toml
`replaces = { op = "aten.softmax" }`, with that op's filters, e.g. `approximate = "tanh"`): the
vocabulary of declared ops, the spellings turbine's model.mlir gives each (torch-mlir's op names),
and what each filter reads from the op's line (its constant operands, its operands' shapes).

Every op of the IR a cell's preprocessing prints carries the `loc("model.mlir":LINE:COL)` of the
torch op it came from, so one such line is one instance (kernel/iree/spec_gen.py groups the IR's ops
by it)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping

_LISTS = ("stride", "padding", "dilation")  # a convolution's int lists, as filters: [1, 1] is "1x1"
# declared name -> (its spellings in model.mlir, `torch.aten.` left out; the filters it takes)
OPS = {
    "aten.softmax": (("softmax.int", "_softmax", "_safe_softmax"), ("dim",)),
    "aten.gelu": (("gelu",), ("approximate",)),
    "aten.layer_norm": (("layer_norm", "native_layer_norm"), ("eps",)),
    "aten.convolution": (("convolution", "conv1d", "conv2d"), ("kernel", "depthwise", *_LISTS)),
    "aten.adaptive_avg_pool2d": (("adaptive_avg_pool2d", "_adaptive_avg_pool2d"), ("output_size",)),
}
# What each filter's value must be in kernel.toml (what an error says, the check): a value of
# another kind would never match, or stop the spec's generator far from the file that said it.
VALUES: dict[str, tuple[str, Callable[[object], bool]]] = {
    "dim": ("an integer (-1: the last axis)", lambda v: type(v) is int),
    "approximate": ('"none" or "tanh"', lambda v: v in ("none", "tanh")),
    "eps": ("a number (1e-5)", lambda v: type(v) in (int, float)),
    "depthwise": ("true or false", lambda v: type(v) is bool),
    **dict.fromkeys(
        ("kernel", "output_size", *_LISTS),
        ("a list of sizes, e.g. [3, 3]", lambda v: isinstance(v, list) and all(type(d) is int for d in v)),
    ),
}
_OP = re.compile(r"^\s*(%[\w$.-]+)(?::\d+)?\s*=\s*torch\.([\w.]+)\s*(.*)$")
_SHAPE = re.compile(r"<\[([-\d,?]*)\]")


def lines_of(lines: Mapping[str, str], op: str, where: Mapping[str, str]) -> list[str]:
    """The model.mlir lines (numbers, as str) that are `op` and hold every filter of `where`."""
    parsed = {n: m for n, m in ((n, _OP.match(text)) for n, text in lines.items()) if m}
    constants = {
        m.group(1): m.group(3).strip('" ') for m in parsed.values() if m.group(2).startswith("constant.")
    }
    for m in (m for m in parsed.values() if m.group(2) == "prim.ListConstruct"):  # `%int1, %int1 : ...`
        items = re.findall(r"%[\w$.-]+", m.group(3).partition(" : ")[0])
        constants[m.group(1)] = "x".join(constants.get(v, "?") for v in items)
    found = []
    for n, match in ((n, m) for n, m in parsed.items() if m.group(2).removeprefix("aten.") in OPS[op][0]):
        operands, _, types = match.group(3).partition(" : ")
        shapes = [[int(d) for d in s.replace("?", "-1").split(",") if d] for s in _SHAPE.findall(types)]
        read = [constants.get(v, "") for v in re.findall(r"%[\w$.-]+", operands)]
        found += [n] if all(_holds(key, want, read, shapes) for key, want in where.items()) else []
    return sorted(found, key=int)


def _holds(key: str, want: str, read: list[str], shapes: list[list[int]]) -> bool:
    """Whether the op whose constant operands are `read` ("" where none) and whose tensors have
    `shapes` (operands', then results') holds the filter `key = want` (kernel.toml's value as a str:
    "tanh", "-1", "3x3", "true")."""
    if key in ("approximate", *_LISTS):  # aten.gelu %x, %str ("none" when none is given); aten.convolution
        at = 1 if key == "approximate" else 3 + _LISTS.index(key)  # %x, %w, %bias, %stride, %padding, ...
        return (read[at] if len(read) > at and read[at] else "none") == want
    if key == "dim":  # aten.softmax.int %x, %dim, %dtype: -1 is the last axis of any rank
        rank = len(shapes[0]) or 1
        return read[1].lstrip("-").isdigit() and int(read[1]) % rank == int(want) % rank
    if key == "eps":  # aten.layer_norm %x, %shape, %weight, %bias, %eps, ...: 1e-5 as 1.000000e-05
        with contextlib.suppress(ValueError, IndexError):  # no number there, or a bad one asked for
            return float(read[4]) == float(want)
        return False
    if key == "output_size":  # aten.adaptive_avg_pool2d %x, %list: [1, 1] as "1x1"
        return len(read) > 1 and read[1] == want
    if key == "kernel":  # a convolution's weight: [out, in / groups, *kernel]
        return "x".join(str(d) for d in shapes[1][2:]) == want
    groups = int(read[-1]) if read[-1].isdigit() else 1  # depthwise: groups = input channels
    return (groups > 1 and groups == shapes[0][1]) == (want == "true")


def names(lines: Mapping[str, str]) -> list[str]:
    """The torch ops model.mlir holds (`aten.linear`, ...), constants and lists left out."""
    found = {m.group(2) for m in map(_OP.match, lines.values()) if m and m.group(2).startswith("aten.")}
    return sorted(found)


def model_lines(mlir_text: str) -> dict[str, str]:
    """{line number: text} of a model.mlir, its resources left out."""
    return {str(n): line for n, line in enumerate(mlir_text.split("\n{-#", 1)[0].splitlines(), 1)}
