"""A transform spec written from a kernel's declaration (kernel.toml `function` + `replaces = {module
= ...}` or `{class = ...}`) and the IR the spec will run on: text in, text out, no IREE here.

The IR is what `iree-compile --compile-to=preprocessing --mlir-print-debuginfo` prints for the cell
(the module the preprocessing transform spec sees, each op with the `loc("model.mlir":LINE:COL)` of
the torch op it came from); `modules` maps those lines of the exported model.mlir to the torch module
each came from (the export's model.where.json, scripts/mlir_where.py). The ops attributed to the
declared module form a DAG whose root is the one op no other of them reads; the spec matches that DAG
as printed (constants and all, in this release's own op form) with
`transform.iree.match.cast_compatible_dag_from_root` and swaps it for a `flow.dispatch` of a
`"hal.executable.source"` (the form that works beside other dispatches, IREE-NOTES "eighth round";
generic syntax as kernels/depthwise3x3/spec.mlir) calling the C function: once for the whole tensor,
or once a workgroup where `args` ask for its place. Every tensor reaches C as a flat row-major memref:
base, aligned base, offset, size, stride. `[[calls]]` add declarations to the same spec; `together`
makes several modules one instance.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Mapping, Sequence

from iree_matrix.iree import torch_ops
from iree_matrix.iree.ir_ops import C_TYPES, RESULTS, TENSOR, VALUE, Op, element_count, parse_ops, shape
from iree_matrix.iree.ir_ops import NotGenerated as NotGenerated  # the stages' and tests' name for it
from iree_matrix.iree.ir_ops import strip_locations as strip_locations  # the tests'
from iree_matrix.kernel.iree import spec_mlir

NAME_ONLY = '"match.operation_name_only"'
# 3.4.0 spelled hal.executable.export's workgroup count as `count(...) -> (...)`; before it a bare
# region (`custom op 'count' is unknown` from 3.3.0 given the newer form): `counted`.


WORKGROUP = ("workgroup.id", "workgroup.count")  # C arguments the dispatch gives: its place in the split
_WORKGROUP_OP = {w: f"hal.interface.{w}[0] : index" for w in WORKGROUP}


@dataclasses.dataclass(frozen=True)
class Declaration:
    kernel: str  # the kernel's name (symbols of the spec)
    function: str  # the C function
    module: str = ""  # torch module paths or globs of them, space-separated
    klass: str = ""  # or a torch module class
    op: str = ""  # or a torch op (iree/torch_ops.py's vocabulary) and its filters, (key, value)
    where: tuple[tuple[str, str], ...] = ()
    # the C arguments' order: "input:N", "output" (default: inputs, output); and sizes after them:
    # "input:N[D]" / "output[D]" (dimension D of that tensor's static shape, -1 its last, any rank) or
    # an integer; and
    # "workgroup.id" / "workgroup.count" (`WORKGROUP`): the call then runs on as many workgroups as the
    # output's outer parallel dimension has elements, each told its share, as IREE's own dispatches
    # are split (one workgroup is one thread: a generated kernel kept its gain at 1 thread only)
    args: tuple[str, ...] = ()
    together: bool = False  # the modules' ops are one instance: one call for them all
    table: str = ""  # kernel.toml's [[calls]] table it is ("calls[0]"), named in what is said of it
    models: tuple[str, ...] = ()  # the models it is for (kernel.toml's `replaces.models`; () every one)

    def order(self, dag: Dag) -> list[int | str]:
        """Indexes into [inputs..., output] in the order the C function takes them; a size as its
        `arith.constant` value (a str)."""
        if not self.args:
            return list(range(len(dag.inputs) + 1))
        shapes = [shape(t)[0] for _, t in [*dag.inputs, ("", dag.output)]]
        picked: list[int | str] = []
        for arg in self.args:
            if arg in WORKGROUP:
                picked.append(arg)
                continue
            tensor, _, dim = arg.split(".permute")[0].rstrip("]").partition("[")
            n = len(dag.inputs) if tensor == "output" else int(tensor.partition(":")[2] or -1)
            rank = len(shapes[n]) if 0 <= n < len(shapes) else 0  # dimension -1: the last
            if not tensor.isdigit() and not -rank <= int(dim or 0) < rank:
                said = ", ".join(t for _, t in dag.inputs)
                raise NotGenerated(f"args: {arg!r} names no tensor or size of the ops it replaces ({said})")
            picked.append(tensor if tensor.isdigit() else str(shapes[n][int(dim)]) if dim else n)
        if sorted(p for p in picked if isinstance(p, int)) != list(range(len(dag.inputs) + 1)):
            raise NotGenerated(
                f"args = {list(self.args)}: the ops replaced have {len(dag.inputs)} input(s) and one output; "
                f"name each once (input:0 ... input:{len(dag.inputs) - 1}, output)"
            )
        return picked

    def seen(self, dag: Dag) -> tuple[Dag, str, str]:
        """The DAG as the C is handed it, and the swap's transposes before the dispatch and after it (args'
        `"input:0.permute(0, 2, 3, 1)"`: NCHW as NHWC; `"output.permute(...)"`: the C writes it so)."""
        typed, made = [*((f"%in{n}", t) for n, (_, t) in enumerate(dag.inputs)), ("%c", dag.output)], ["", ""]
        for tensor, _, perm in (a[:-1].partition(".permute(") for a in self.args if ".permute(" in a):
            n = len(dag.inputs) if tensor == "output" else int(tensor[6:])
            p = [int(i) for i in perm.split(",")]
            if n >= len(typed) or sorted(p) != list(range(len((dims := shape(was := typed[n][1]))[0]))):
                raise NotGenerated(f"args: {tensor}.permute({perm}) permutes no tensor the ops replaced have")
            now, back = f"tensor<{''.join(f'{dims[0][i]}x' for i in p)}{dims[1]}>", n == len(dag.inputs)
            t, to, p = (now, was, [p.index(i) for i in range(len(p))]) if back else (was, now, p)
            made[back] += _TRANSPOSED.format(x=typed[n][0], y="%r" if back else f"%p{n}", t=t, to=to, p=p)
            typed[n] = (f"%p{n}", now)
        return dataclasses.replace(dag, inputs=typed[:-1], output=typed[-1][1]), made[0], made[1]

    def instance(self, attributed: str) -> str:
        """The module the declaration names that an op attributed to `path Class` is part of: the
        path or its nearest ancestor a glob matches ("" if none)."""
        path, _, klass = attributed.partition(" ")
        if not self.module:
            return path if klass == self.klass or klass.rsplit(".", 1)[-1] == self.klass else ""
        parts = path.split(".")
        prefixes = (".".join(parts[:n]) for n in range(len(parts), 0, -1))
        return next((p for p in prefixes if any(fnmatch.fnmatchcase(p, g) for g in self.module.split())), "")

    def said(self, where: bool = True) -> str:
        """What it names, after its [[calls]] table's (`where`: in a message, not the spec's text)."""
        if self.op:
            said = f"op {self.op}" + "".join(f" {k}={v}" for k, v in self.where)
        else:
            said = f"module {self.module!r}" if self.module else f"class {self.klass!r}"
            said += " together" if self.together else ""
        return f"{self.table} ({said})" if self.table and where else said


@dataclasses.dataclass
class Dag:
    ops: list[Op]  # in IR order
    inputs: list[tuple[str, str]]  # (value, type), in first-use order
    output: str  # the root's result type
    # inputs only name-only ops read (the matcher binds no operand of such an op): the swap fetches
    # each itself, (input index, steps root -> the op reading it, its operand index there); a step is
    # an operand index, or "op.name:N": the one such op in the body, its operand N (`_path`)
    hidden: list[tuple[int, list[int | str], int]] = dataclasses.field(default_factory=list)
    path: str = ""  # the module (or torch op's line) it is of: said where forms do not agree


def dags(
    ops: Sequence[Op], modules: Mapping[str, str], declared: Declaration, lines: Mapping[str, str]
) -> list[Dag]:
    """One DAG per module instance the declaration names (ops attributed to it and the constants and
    empty tensors they read), or per model.mlir line (`lines`: {number: text}) that is the torch op
    it names, each with one output."""
    defining = _defining(ops)
    instances: dict[str, list[Op]] = {}
    wanted = set(torch_ops.lines_of(lines, declared.op, dict(declared.where))) if declared.op else set()
    for op in ops:
        at = [str(n) for n in op.lines_of_model]
        named = (f"module {p!r}" for p in (declared.instance(modules.get(n, "")) for n in at) if p)
        by_op = (f"torch op {declared.op} (model.mlir line {n})" for n in at if n in wanted)
        if owners := sorted(by_op if declared.op else named):
            instances.setdefault(declared.said(False) if declared.together else owners[0], []).append(op)
    if not instances and declared.op:
        raise NotGenerated(
            f"no torch {declared.said()} in this model's MLIR (its ops: "
            f"{', '.join(torch_ops.names(lines)) or 'none read'})"
        )
    if not instances:
        seen = sorted({v for v in modules.values()})
        # A glob names the whole path: a module whose path ends with it is what was meant, shown first.
        globs = ["*." + g for g in declared.module.split()]
        ends = [v for v in seen if any(fnmatch.fnmatchcase(v.split()[0], g) for g in globs)]
        raise NotGenerated(
            f"no op of this IR comes from {declared.said()} (the model's modules: "
            f"{', '.join(dict.fromkeys(ends + seen[:12])) or 'none recorded'})"
        )
    folded = _folded(ops, defining)
    found = [_dag(path, mine, defining, folded) for path, mine in instances.items()]
    # A kernel declared by torch op reads the op's tensors in torch's layout; one that a layout pass
    # (the channels-last preprocessing) transposed first would be handed another layout: MobileNetV2's
    # depthwise convolutions then matched and the NCHW kernel read NHWC data (max abs err 1.29).
    if moved := [d.path for d in found if declared.op and any(_moves(o) for o in d.ops)]:
        raise NotGenerated(
            f"{moved[0]} reads its input through a linalg.transpose in this IR (a layout pass, such as the "
            "channels-last preprocessing): the kernel would be given another layout than torch's"
        )
    return found


def _moves(op: Op) -> bool:
    """Whether `op` is a linalg.transpose that moves data: one of sizes-1 dims only (a pool's
    [1, C, 1, 1] made [1, 1, 1, C] by the channels-last pass) keeps every element where it was."""
    if op.name != "linalg.transpose":
        return False
    sizes = shape(_io_types(op)[0][0])[0] if _io_types(op)[0] else []
    found = re.search(r"permutation = \[([\d, ]*)\]", op.header)
    order = [int(d) for d in found.group(1).split(",")] if found else []
    kept = [d for d in order if d < len(sizes) and sizes[d] != 1]
    return not sizes or len(order) != len(sizes) or kept != sorted(kept)


def _dag(path: str, mine: list[Op], defining: Mapping[str, Op], folded: set[int]) -> Dag:
    read = {v for op in mine for v in op.operands() + _inner(op, mine, defining, folded)}
    # A constant or empty tensor is taken along where it is read, never a result (a pad's zero, read
    # in its body only, is shared with other modules' fills once CSE'd: Whisper's Conv1d).
    if len(roots := [op for op in mine if not set(op.results) & read and not _carried(op)]) != 1:
        shown = ", ".join(f"{op.results[0] if op.results else ''} = {op.name}" for op in roots)
        raise NotGenerated(f"{path} has {len(roots)} outputs ({shown}): a kernel replaces one")
    if len((root := roots[0]).results) != 1:
        raise NotGenerated(f"{path}: its last op {root.name} has {len(root.results)} results")
    taken: dict[int, Op] = {}
    inputs: list[str] = []
    todo = [root]
    while todo:
        if id(op := todo.pop()) in taken:
            continue
        taken[id(op)] = op
        for value in op.operands() + _inner(op, mine, defining, folded):
            source = defining.get(value.split("#")[0])
            if source is not None and (_carried(source) or source in mine and id(source) not in folded):
                todo.append(source)
            elif value not in inputs:
                inputs.append(value)
    ordered = list({id(op): op for op in defining.values() if id(op) in taken}.values())
    first_use = {v: i for i, v in enumerate(v for op in ordered for v in op.operands())}
    inputs.sort(key=lambda v: first_use.get(v, 0))
    typed = [(v, _type_of(v, ordered, defining.get(v))) for v in inputs]
    return Dag(ordered, typed, root.result_type(), path=path)


def _inner(op: Op, mine: list[Op], defining: Mapping[str, Op], folded: set[int]) -> list[str]:
    """Values `op`'s body reads that another op of its instance computes: torch-mlir's adaptive pool
    gathers from a tensor.pad of its input inside a generic's body. That op is part of the DAG."""
    made = (defining.get(v) for v in op.captured())
    return [v for v, s in zip(op.captured(), made) if s in mine and not _carried(s) and id(s) not in folded]


def _defining(ops: Sequence[Op]) -> dict[str, Op]:
    """The op defining each value: the first of that name, the model's own function's (the module's
    later functions, IREE's wrappers, reuse its names: `%0 = util.null`)."""
    defining: dict[str, Op] = {}
    for op in ops:
        for result in op.results:
            defining.setdefault(result, op)
    return defining


def _folded(ops: Sequence[Op], defining: Mapping[str, Op]) -> set[int]:
    """The ops (by id) that compute from weights alone (`dense_resource`, a global, and ops of them
    only: a BatchNorm's 1/sqrt(var + eps), a filter's reshape): the kernel is given their result,
    which IREE computes at compile time, as an input. One pass in IR order (each op's sources come
    before it): asked op by op, up each source, it recursed through the whole network (MobileNetV2's
    last 1x1 convolution: Python's recursion limit)."""
    folded: set[int] = set()
    for op in ops:
        sources = [defining.get(v.split("#")[0]) for v in op.operands() + op.captured()]
        weights = [s is not None and id(s) in folded for s in sources]
        rest = all(w or s is not None and _carried(s) for w, s in zip(weights, sources))
        computed = not _carried(op) and any(weights) and rest
        if "dense_resource" in op.header or op.name == "util.global.load" or computed:
            folded.add(id(op))
    return folded


def _carried(op: Op) -> bool:
    """Ops a DAG takes with it wherever they were made: empty tensors and small constants (never the
    weights, `dense_resource`, which the kernel is given as inputs), and fills of such (the zero a
    convolution accumulates into, shared by every layer of one shape)."""
    return op.name in ("tensor.empty", "arith.constant", "linalg.fill") and "dense_resource" not in op.header


def _type_of(value: str, ops: Sequence[Op], source: Op | None = None) -> str:
    """A value's type where an op of the DAG reads it (`ins(%a, %b : T1, T2)`, `%a : T`), else as
    its one-result defining op gives it (`tensor.pad %a ... : T to ...` reads it untyped)."""
    for op in ops:
        for group in re.finditer(r"\((%[^():]*?) : ([^()]*(?:\([^()]*\)[^()]*)*)\)", op.header):
            names = [n.strip() for n in group.group(1).split(",")]
            if value in names and len(types := _split_types(group.group(2))) == len(names):
                return types[names.index(value)]
    if source is not None and len(source.results) == 1 and TENSOR.match(source.result_type()):
        return source.result_type()
    raise NotGenerated(f"cannot tell the type of {value}, an input of the DAG")


def _split_types(text: str) -> list[str]:
    out, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += c in "<([{"
        depth -= c in ">)]}"
        if c == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    out.append(text[start:].strip())
    return out


def pattern_body(dag: Dag, defining: Mapping[str, Op]) -> list[str]:
    """The DAG's ops as the match region holds them: empty tensors, and generics and pads whose bodies
    read a value defined outside them, as `match.operation_name_only` (cast_compatible_dag_from_root
    compares bodies by value mapping, so a body using torch-mlir's captured scalar constant never
    matches; name-only stops checking that body, and a pad's low/high: its result type still pins
    their sum), each captured constant copied into the body so it parses. The matcher binds no
    operand of a name-only op: an input only such ops read is a placeholder there (`dag.hidden`)."""
    per_op: list[list[str]] = []
    name_only: set[int] = set()
    for op in dag.ops:
        lines = [line.strip() for line in op.lines]
        if op.name == "tensor.empty":
            lines[0] = re.sub(r"(tensor\.empty\([^)]*\))", r"\1 {" + NAME_ONLY + "}", lines[0], count=1)
        if captured := op.captured():
            generic = op.name == "linalg.generic" and lines[0].endswith("{")
            if not generic and not (op.name == "tensor.pad" and lines[-1].startswith("} :")):
                raise NotGenerated(f"{op.results[0]} = {op.name} reads {captured[0]} from outside its body")
            consts = []
            for value in (v for v in captured if defining.get(v) not in dag.ops):  # else defined above
                source = defining.get(value)
                if source is None or source.name != "arith.constant" or len(source.lines) != 1:
                    raise NotGenerated(
                        f"{op.results[0]} = {op.name}'s body reads {value}, which is no scalar constant"
                    )
                consts.append(source.lines[0].strip())
            if generic:
                lines[0] = lines[0][:-1].rstrip() + " attrs =  {" + NAME_ONLY + "} {"
            else:  # a pad's attributes follow its region
                lines[-1] = "} {" + NAME_ONLY + "}" + lines[-1][1:]
            name_only.add(id(op))
            lines[2:2] = consts  # after the body's block line
        per_op.append(lines)
    return _placeholders(dag, per_op, name_only)


def _placeholders(dag: Dag, per_op: list[list[str]], name_only: set[int]) -> list[str]:
    """`per_op` joined, each input that no compared op reads given a name-only placeholder
    (`dag.hidden`: how the swap fetches it). The ops the matcher does not reach (read only by
    name-only ops: hardswish's first three) are replaced unchecked: under a root matched by name only
    that is sound only for a root no other op of this IR resembles (`_alike`)."""
    made = {r: op for op in dag.ops for r in op.results}
    root, reached, todo = dag.ops[-1], {}, [dag.ops[-1]]
    while todo:  # cast_compatible_dag_from_root's walk: a name-only op's operands are not followed
        if id(op := todo.pop()) not in reached:
            reached[id(op)] = op
            todo += [] if id(op) in name_only else [made[v] for v in op.operands() if v in made]
    bound = {v for op in reached.values() if id(op) not in name_only for v in op.operands()}
    head: list[str] = []
    for n, (value, kind) in ((n, typed) for n, typed in enumerate(dag.inputs) if typed[0] not in bound):
        reader = next(op for op in dag.ops if value in op.operands())
        dag.hidden.append((n, _path(root, reader, dag.ops), reader.operands().index(value)))
        head.append(f"{value}_hidden = tensor.empty() {{{NAME_ONLY}}} : {kind}")
        for lines in per_op:
            lines[0] = re.sub(re.escape(value) + r"(?![\w$.-])", value + "_hidden", lines[0])
    return head + [line for lines in per_op for line in lines]


def _io_types(op: Op) -> tuple[list[str], list[str]]:
    """A structured op's `ins(...)` and `outs(...)` types."""
    found = [re.search(rf"\b{k}\((%[^:]*?) : ([^()]*)\)", op.header) for k in ("ins", "outs")]
    return tuple(_split_types(m.group(2)) if m else [] for m in found)  # type: ignore[return-value]


def _root_checks(dag: Dag) -> str:
    """What the pattern cannot check of a root matched by name only, checked beside it: its inputs'
    and result's types (transform.match.structured); "" if the root is compared whole."""
    if not (root := dag.ops[-1]).captured():
        return ""
    ins, _ = _io_types(root)
    # One transform.match.structured each: 3.3.0 matched nothing with an input's and the result's
    # types checked in one.
    typed = [(f"input %s[{i}]", t) for i, t in enumerate(ins)] + [("result %s[0]", root.result_type())]
    checks = [_GET.format(what="num_inputs %s", kind="param<i64>") + _COUNT.format(k=len(ins))]
    checks += [_GET.format(what=what, kind="any_value") + _TYPE.format(kind=kind) for what, kind in typed]
    return "".join(_STRUCTURED.format(check=check) for check in checks)


_GET = "%v = transform.match.structured.{what} : (!transform.any_op) -> !transform.{kind}"
_COUNT = (
    "\n      %k = transform.param.constant {k} : i64 -> !transform.param<i64>"
    "\n      transform.match.param.cmpi eq %v, %k : !transform.param<i64>"
)
_TYPE = "\n      transform.iree.match.cast_compatible_type %v = {kind} : !transform.any_value"
_STRUCTURED = """
    transform.match.structured %root : !transform.any_op {{
    ^bb0(%s: !transform.any_op):
      {check}
      transform.match.structured.yield
    }}"""


def _alike(dags_: Sequence[Dag], ops: Sequence[Op]) -> None:
    """Refuse a root matched by name only (its body reads a captured constant) where another op of
    this IR has its name and types: the spec's checks could not tell them apart."""
    roots = {id(d.ops[-1]) for d in dags_}
    for root in (d.ops[-1] for d in dags_ if d.ops[-1].captured()):
        alike = [o for o in ops if id(o) not in roots and _typed(o) == _typed(root)]
        if alike or root.name != "linalg.generic":  # a pad: not even its types are checked
            line = min(alike[0].lines_of_model, default="?") if alike else ""
            other = f"{alike[0].results[0]} = {alike[0].name} (model.mlir line {line})" if alike else "any op"
            raise NotGenerated(
                f"{root.results[0]} = {root.name} reads {root.captured()[0]} from outside its body, so "
                f"IREE's matcher checks only its name and types, and {other} has the same: a spec would "
                "replace it too"
            )


def _typed(op: Op) -> tuple[str, tuple[list[str], list[str]], str]:
    return op.name, _io_types(op), op.result_type()


def _path(root: Op, target: Op, ops: Sequence[Op]) -> list[int | str]:
    """Steps from `root` to `target` (transform.get_producer_of_operand's): an operand index, or where
    `root`'s body reads the value, "op.name:N" (the body's op of that name, its operand N)."""
    defining = _defining(ops)
    steps: list[tuple[int | str, str]] = [*enumerate(v.split("#")[0] for v in root.operands())]
    steps += [(step, v) for v in root.captured() if (step := _body_reader(root, v))]
    for n, value in steps:
        if (source := defining.get(value)) is target:
            return [n]
        if source is not None and source is not root and (found := _path(source, target, ops)):
            return [n, *found]
    return []


def _body_reader(op: Op, value: str) -> str:
    """The one op of `op`'s body that reads `value`, as "name:N" (N: its operand there), where no other
    op of the body has that name (a match by name then finds it alone); "" if none is so."""
    read = [(line[m.end() :] if (m := RESULTS.match(line)) else line).strip() for line in op.lines[1:-1]]
    readers = [(text.split(" ", 1)[0], VALUE.findall(text)) for text in read if value in VALUE.findall(text)]
    if len(readers) != 1 or [text.split(" ", 1)[0] for text in read].count(name := readers[0][0]) != 1:
        return ""
    return f"{name}:{readers[0][1].index(value)}"


def prototype(function: str, dag: Dag, order: Sequence[int | str] = ()) -> str:
    """The C declaration the spec calls: each tensor a flat memref (base, aligned, offset, size,
    stride), each size a size_t."""
    params: list[str] = []
    shapes: list[str] = []
    tensors = [*dag.inputs, ("", dag.output)]
    for n in order or range(len(tensors)):
        if isinstance(n, str):
            params.append(f"size_t s{len(params)} /* {n} */")
            continue
        value, kind = tensors[n]
        name = f"in{n}" if value else "out"
        count, element = element_count(kind)
        const = "const " if value else ""
        params.append(
            f"{const}{C_TYPES[element]}* {name}_base, {const}{C_TYPES[element]}* {name}, "
            f"size_t {name}_offset, size_t {name}_size, size_t {name}_stride"
        )
        shapes.append(f"{name}: {kind} ({count} elements, row-major)")
    return (
        f"// {'; '.join(shapes)}\n"
        f'__attribute__((visibility("protected"))) void {function}(\n    ' + ",\n    ".join(params) + ");"
    )


def spec(
    ir: str,
    modules: Mapping[str, str],
    declared: Declaration | Sequence[Declaration],
    object_name: str,
    counted: bool = True,
    lines: Mapping[str, str] | None = None,
    links: Sequence[str] = spec_mlir.LINKED,
) -> tuple[str, list[str]]:
    """The transform spec for `ir` and the C prototypes it expects (one per distinct op form), of one
    declaration or several (kernel.toml's `[[calls]]`: other ops, other functions of the same object);
    `counted`: the release spells a workgroup count `count(...)` (3.4.0 on); `lines`: the model.mlir's
    {number: text}, for a declaration by torch op; `links`: the mechanism's `spec_links` (object_name's)."""
    defining = _defining(ops := parse_ops(ir))
    linked = [text.format(object=object_name) for text in links]
    every = [declared] if isinstance(declared, Declaration) else list(declared)
    parts, protos = [], []  # the forms' text, their C prototypes
    names: list[str] = []
    taken: dict[int, str] = {}  # op -> the declaration whose call replaces it
    # instance -> why no declaration's args fit it (None once one does): an instance of another op form
    # (MobileNetV3-small's NHWC on 3.3.0, NCHW from 3.9.0) is left to a later declaration naming it
    misfit: dict[str, NotGenerated | None] = {}
    for one in every:
        found = []
        for dag in dags(ops, modules, one, lines or {}):
            try:
                one.order(one.seen(dag)[0])
                found.append(dag)
                misfit[dag.path] = None
            except NotGenerated as exc:
                misfit.setdefault(dag.path, exc)
        _alike(found, ops)
        _one_signature(found, one)
        # Two calls for one op: the first pattern would take it and the other call never run
        if twice := [taken[id(o)] for d in found for o in d.ops if id(o) in taken and not _carried(o)]:
            raise NotGenerated(f"{one.said()} takes ops that {twice[0]} takes: name each op once")
        taken.update((id(op), one.said()) for dag in found for op in dag.ops)
        forms: dict[str, tuple[str, Dag]] = {}
        for dag in found:
            body = "\n".join(pattern_body(dag, defining))
            forms.setdefault(_renamed(body), (body, dag))
        for body, dag in forms.values():
            names.append(sym := f"{one.kernel}_{len(names)}".replace(".", "_").replace("-", "_"))
            parts.append(_form(sym, body, dag, one, linked, counted))
            protos.append(prototype(one.function, seen := one.seen(dag)[0], one.order(seen)))
    if why := next(filter(None, misfit.values()), None):
        raise why
    pairs = ",\n          ".join(f"@match_{s} -> @swap_{s}" for s in names)
    head = spec_mlir.HEAD.format(kernel=every[0].kernel, said="; ".join(d.said(False) for d in every))
    return head + "\n".join(parts) + spec_mlir.MAIN.format(pairs=pairs), protos


def _one_signature(found: Sequence[Dag], declared: Declaration) -> None:
    """One C function takes one form of arguments: where the declaration's instances differ in how
    many tensors they pass or of which element types (a glob `*` took a Linear and a Hardswish), one
    line says so; it was MLIR's "multiple public symbols with the name" from the spec written."""
    forms = {(len(d.inputs), tuple(shape(t)[1] for _, t in [*d.inputs, ("", d.output)])): d for d in found}
    if len(forms) > 1:
        said = "; ".join(
            f"{d.path or '?'}: {n} input(s) of {', '.join(kinds)}" for (n, kinds), d in forms.items()
        )
        raise NotGenerated(
            f"{declared.said()} names ops of {len(forms)} different forms ({said}): the C function "
            f"{declared.function} takes one; name only modules of one form"
        )


def _renamed(text: str) -> str:
    """SSA names renumbered in order of appearance: two instances of one form read the same."""
    names: dict[str, str] = {}
    return VALUE.sub(lambda m: names.setdefault(m.group(0), f"%v{len(names)}"), text)


def _form(sym: str, body: str, dag: Dag, declared: Declaration, linked: Sequence[str], counted: bool) -> str:
    (seen, before, after), function = declared.seen(dag), declared.function
    order = declared.order(seen)
    # one workgroup per element of the output's outer parallel dimension where the C takes its place
    workgroups = next((s for s in shape(seen.output)[0] if s > 1), 1) if set(order) & set(WORKGROUP) else 1
    memrefs = ["memref<{}x{}>".format(*element_count(t)) for t in [*(t for _, t in dag.inputs), dag.output]]
    bindings = ", ".join(
        ["#hal.pipeline.binding<storage_buffer, ReadOnly>"] * len(dag.inputs)
        + ["#hal.pipeline.binding<storage_buffer>"]
    )
    layout = f"#hal.pipeline.layout<bindings = [{bindings}]>"
    subspans = "\n".join(
        f"          %b{i} = hal.interface.binding.subspan layout({layout}) binding({i}) alignment(64) "
        f"offset(%c0) : {m}"
        for i, m in enumerate(memrefs)
    )
    sizes = "".join(
        f"\n          %s{i} = {_WORKGROUP_OP.get(n) or f'arith.constant {n} : index'}"
        for i, n in enumerate(order)
        if isinstance(n, str)
    )
    args = ", ".join(f"%b{n}" if isinstance(n, int) else f"%s{i}" for i, n in enumerate(order))
    called = ", ".join(memrefs[n] if isinstance(n, int) else "index" for n in order)
    export = f"hal.executable.export public @{sym} ordinal(0) layout({layout}) " + (
        "count(%device: !hal.device) -> (index, index, index) {"
        if counted
        else "{\n      ^bb0(%device: !hal.device):"
    )
    # The pattern's block arguments carry the DAG's input names (renumbered with the body); the
    # hidden inputs, fetched by the swap, come first in the call's function.
    hidden = [n for n, _, _ in dag.hidden]
    block = ", ".join(f"{v}: {t}" for n, (v, t) in enumerate(dag.inputs) if n not in hidden)
    steps = []
    for k, (_, path, operand) in enumerate(dag.hidden):
        handles = ["%root"] + [f"%h{k}_{j}" for j in range(len(path))]
        for at, h, n in zip(handles, handles[1:], path):
            if isinstance(n, str):  # the op of the body that reads it: matched inside the op, then followed
                name, _, n = n.rpartition(":")
                steps.append(f'{h}_in = transform.structured.match ops{{["{name}"]}} in {at} : {_ANY}')
                at = f"{h}_in"
            steps.append(f"{h} = {_PRODUCER.format(handle=at, n=n)}")
        steps.append(f"%x{k} = {_OPERAND.format(handle=handles[-1], n=operand)}")
    if steps:
        fetched = ", ".join(f"%x{k}" for k in range(len(dag.hidden)))
        steps.append(f"%all = transform.merge_handles {fetched}, %ins : !transform.any_value")
    inputs = hidden + [n for n in range(len(dag.inputs)) if n not in hidden]
    return spec_mlir.FORM.format(
        sym=sym,
        export=export,
        function=function,
        memrefs=called,
        subspans=subspans + sizes,
        args=args,
        static=linked[0],
        objects=linked[1],
        region="\n".join(" " * 6 + line for line in _renamed(f"^bb0({block}):\n" + body).splitlines()),
        ins=", ".join(f"%in{n}: {dag.inputs[n][1]}" for n in inputs),
        checks=_root_checks(dag),
        operands=", ".join(v for v, _ in seen.inputs),
        in_types=", ".join(t for _, t in seen.inputs),
        out=dag.output,
        before=before,
        made="%c" if after else "%r",
        out_call=seen.output + after,
        all="%all" if steps else "%ins",
        steps="".join(f"\n    {line}" for line in steps),
        workgroups=workgroups,
    )


_TRANSPOSED = """
    {y}_ = tensor.empty() : {to}
    {y} = linalg.transpose ins({x} : {t}) outs({y}_ : {to}) permutation = {p}"""
_ANY = "(!transform.any_op) -> !transform.any_op"
_PRODUCER = "transform.get_producer_of_operand {handle}[{n}] : " + _ANY
_OPERAND = "transform.get_operand {handle}[{n}] : (!transform.any_op) -> !transform.any_value"
