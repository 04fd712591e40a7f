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
generic syntax as kernels/depthwise3x3/spec.mlir) calling the C function once for the whole tensor.
Every tensor reaches C as a flat row-major memref: base, aligned base, offset, size, stride.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Mapping, Sequence

NAME_ONLY = '"match.operation_name_only"'
# 3.4.0 spelled hal.executable.export's workgroup count as `count(...) -> (...)`; before it a bare
# region (`custom op 'count' is unknown` from 3.3.0 given the newer form): `counted`.
_C_TYPES = {"f32": "float", "f64": "double", "f16": "_Float16", "i8": "int8_t", "i16": "int16_t",
            "i32": "int32_t", "i64": "int64_t"}  # fmt: skip
_RESULTS = re.compile(r"^\s*((?:%[\w$.-]+(?::\d+)?)(?:\s*,\s*%[\w$.-]+)*)\s*=\s*")
_VALUE = re.compile(r"%[\w$.-]+")
_LOC_LINE = re.compile(r'"[^"]*":(\d+):\d+')
_ALIAS = re.compile(r"^(#loc\d*)\s*=\s*loc\((.*)\)\s*$")
_TENSOR = re.compile(r"^tensor<((?:\d+x)*)(\w+)>$")


class NotGenerated(ValueError):
    """Why no spec can be written for this IR: one line naming the op and the reason."""


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
        return [v for v in _VALUE.findall(_after_results(self.header)) if v not in self.results]

    def captured(self) -> list[str]:
        """Values its region uses that are defined outside the op (torch-mlir's scalar constants)."""
        inner = self.lines[1:-1]
        defined = {v for line in inner for v in _defined(line)}
        return list(dict.fromkeys(v for line in inner for v in _VALUE.findall(line) if v not in defined))

    def result_type(self) -> str:
        last = self.lines[-1].strip()
        return last.rsplit(" -> ", 1)[1] if " -> " in last else last.rsplit(" : ", 1)[-1]


def _after_results(line: str) -> str:
    match = _RESULTS.match(line)
    return line[match.end() :] if match else line


def _defined(line: str) -> list[str]:
    match = _RESULTS.match(line)
    found = _VALUE.findall(match.group(1)) if match else []
    if line.strip().startswith("^"):  # a block's arguments
        found += _VALUE.findall(line)
    return found


def strip_locations(text: str) -> str:
    """`text` without its ` loc(...)` parts (nested parentheses and quoted strings kept whole)."""
    out, i = [], 0
    while True:
        at = text.find(" loc(", i)
        if at < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:at])
        depth, j, quoted = 0, at + 4, False
        while j < len(text):
            c = text[j]
            if c == '"' and text[j - 1] != "\\":
                quoted = not quoted
            elif not quoted and c == "(":
                depth += 1
            elif not quoted and c == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        i = j + 1


def _location_lines(line: str, aliases: Mapping[str, str]) -> set[int]:
    at = line.rfind(" loc(")
    if at < 0:
        return set()
    expr = line[at:]
    for _ in range(8):  # aliases naming aliases
        expr = re.sub(r"#loc\d*", lambda m: aliases.get(m.group(0), ""), expr)
    return {int(n) for n in _LOC_LINE.findall(expr)}


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
            match = _RESULTS.match(line)
            name = _after_results(line).strip().split(" ", 1)[0].split("(", 1)[0].strip('"')
            current = Op(_VALUE.findall(match.group(1)) if match else [], name, [], set())
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


@dataclasses.dataclass(frozen=True)
class Declaration:
    kernel: str  # the kernel's name (symbols of the spec)
    function: str  # the C function
    module: str = ""  # a torch module path, or a glob of them
    klass: str = ""  # or a torch module class
    args: tuple[str, ...] = ()  # the C arguments' order: "input:N", "output" (default: inputs, output)

    def order(self, dag: Dag) -> list[int]:
        """Indexes into [inputs..., output] in the order the C function takes them."""
        if not self.args:
            return list(range(len(dag.inputs) + 1))
        picked = [len(dag.inputs) if a == "output" else int(a.partition(":")[2]) for a in self.args]
        if sorted(picked) != list(range(len(dag.inputs) + 1)):
            raise NotGenerated(
                f"args = {list(self.args)}: the ops replaced have {len(dag.inputs)} input(s) and one output; "
                f"name each once (input:0 ... input:{len(dag.inputs) - 1}, output)"
            )
        return picked

    def matches(self, attributed: str) -> bool:
        path, _, klass = attributed.partition(" ")
        if self.module:
            return fnmatch.fnmatchcase(path, self.module)
        return klass == self.klass or klass.rsplit(".", 1)[-1] == self.klass

    def said(self) -> str:
        return f"module {self.module!r}" if self.module else f"class {self.klass!r}"


@dataclasses.dataclass
class Dag:
    ops: list[Op]  # in IR order
    inputs: list[tuple[str, str]]  # (value, type), in first-use order
    output: str  # the root's result type


def dags(ops: Sequence[Op], modules: Mapping[str, str], declared: Declaration) -> list[Dag]:
    """One DAG per module instance the declaration names (ops attributed to it and the constants and
    empty tensors they read), each with one output."""
    defining = {r: op for op in ops for r in op.results}
    instances: dict[str, list[Op]] = {}
    for op in ops:
        owners = {modules.get(str(n), "") for n in op.lines_of_model}
        for owner in sorted(o for o in owners if o and declared.matches(o)):
            instances.setdefault(owner.split(" ")[0], []).append(op)
            break
    if not instances:
        seen = sorted({v for v in modules.values()})
        raise NotGenerated(
            f"no op of this IR comes from {declared.said()} (the model's modules: "
            f"{', '.join(seen[:12]) or 'none recorded'})"
        )
    return [_dag(path, mine, defining) for path, mine in instances.items()]


def _dag(path: str, mine: list[Op], defining: Mapping[str, Op]) -> Dag:
    read = {v for op in mine for v in op.operands()}
    roots = [op for op in mine if not set(op.results) & read]
    if len(roots) != 1:
        shown = ", ".join(f"{op.results[0] if op.results else ''} = {op.name}" for op in roots)
        raise NotGenerated(f"module {path!r} has {len(roots)} outputs ({shown}): a kernel replaces one")
    root = roots[0]
    if len(root.results) != 1:
        raise NotGenerated(f"module {path!r}: its last op {root.name} has {len(root.results)} results")
    taken: dict[int, Op] = {}
    inputs: list[str] = []
    todo = [root]
    while todo:
        op = todo.pop()
        if id(op) in taken:
            continue
        taken[id(op)] = op
        for value in op.operands():
            source = defining.get(value.split("#")[0])
            weights = source is not None and "dense_resource" in source.header
            if source is not None and not weights and (source in mine or _carried(source)):
                todo.append(source)
            elif value not in inputs:
                inputs.append(value)
    ordered = [op for op in defining.values() if id(op) in taken]
    ordered = list({id(op): op for op in ordered}.values())
    first_use = {v: i for i, v in enumerate(v for op in ordered for v in op.operands())}
    inputs.sort(key=lambda v: first_use.get(v, 0))
    typed = [(v, _type_of(v, ordered)) for v in inputs]
    return Dag(ordered, typed, root.result_type())


def _carried(op: Op) -> bool:
    """Ops a DAG takes with it wherever they were made: empty tensors and small constants (never the
    weights, `dense_resource`, which the kernel is given as inputs)."""
    return op.name in ("tensor.empty", "arith.constant")


def _type_of(value: str, ops: Sequence[Op]) -> str:
    """A value's type where an op of the DAG reads it (`ins(%a, %b : T1, T2)`, `%a : T`)."""
    for op in ops:
        for group in re.finditer(r"\((%[^():]*?) : ([^()]*(?:\([^()]*\)[^()]*)*)\)", op.header):
            names = [n.strip() for n in group.group(1).split(",")]
            types = _split_types(group.group(2))
            if value in names and len(types) == len(names):
                return types[names.index(value)]
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
    """The DAG's ops as the match region holds them: empty tensors and generics whose bodies read a
    value defined outside them as `match.operation_name_only` (cast_compatible_dag_from_root compares
    bodies by value mapping, so a body using torch-mlir's captured scalar constant never matches;
    name-only stops checking that body), each captured constant copied into the body so it parses."""
    body: list[str] = []
    for op in dag.ops:
        lines = [line.strip() for line in op.lines]
        if op.name == "tensor.empty":
            lines[0] = re.sub(r"(tensor\.empty\([^)]*\))", r"\1 {" + NAME_ONLY + "}", lines[0], count=1)
        captured = op.captured()
        if captured:
            if op.name != "linalg.generic" or not lines[0].endswith("{"):
                raise NotGenerated(f"{op.results[0]} = {op.name} reads {captured[0]} from outside its body")
            consts = []
            for value in captured:
                source = defining.get(value)
                if source is None or source.name != "arith.constant" or len(source.lines) != 1:
                    raise NotGenerated(
                        f"{op.results[0]} = {op.name}'s body reads {value}, which is no scalar constant"
                    )
                consts.append(source.lines[0].strip())
            lines[0] = lines[0][:-1].rstrip() + " attrs =  {" + NAME_ONLY + "} {"
            lines[2:2] = consts  # after the body's block line
        body += lines
    return body


def element_count(tensor: str) -> tuple[int, str]:
    match = _TENSOR.match(tensor)
    if match is None:
        why = "a dynamic shape" if "?" in tensor else "not a ranked tensor"
        raise NotGenerated(f"{tensor} is {why}: a generated kernel takes static shapes")
    count = 1
    for size in match.group(1).split("x")[:-1]:
        count *= int(size)
    if match.group(2) not in _C_TYPES:
        raise NotGenerated(f"{tensor}: element type {match.group(2)} has no C type here")
    return count, match.group(2)


def prototype(function: str, dag: Dag, order: Sequence[int] = ()) -> str:
    """The C declaration the spec calls: each tensor a flat memref (base, aligned, offset, size, stride)."""
    params, shapes = [], []
    tensors = [*dag.inputs, ("", dag.output)]
    for n in order or range(len(tensors)):
        value, kind = tensors[n]
        name = f"in{n}" if value else "out"
        count, element = element_count(kind)
        const = "const " if value else ""
        params.append(
            f"{const}{_C_TYPES[element]}* {name}_base, {const}{_C_TYPES[element]}* {name}, "
            f"size_t {name}_offset, size_t {name}_size, size_t {name}_stride"
        )
        shapes.append(f"{name}: {kind} ({count} elements, row-major)")
    return (
        f"// {'; '.join(shapes)}\n"
        f'__attribute__((visibility("protected"))) void {function}(\n    ' + ",\n    ".join(params) + ");"
    )


def spec(ir: str, modules: Mapping[str, str], declared: Declaration, object_name: str,
         counted: bool = True) -> tuple[str, list[str]]:  # fmt: skip
    """The transform spec for `ir` and the C prototypes it expects (one per distinct op form);
    `counted`: the release spells a workgroup count `count(...)` (3.4.0 and newer)."""
    ops = parse_ops(ir)
    defining = {r: op for op in ops for r in op.results}
    forms: dict[str, tuple[str, Dag]] = {}
    for dag in dags(ops, modules, declared):
        body = "\n".join(pattern_body(dag, defining))
        forms.setdefault(_renamed(body), (body, dag))
    parts, protos = [], []
    for n, (body, dag) in enumerate(forms.values()):
        order = declared.order(dag)
        parts.append(_form(f"{declared.kernel}_{n}".replace(".", "_").replace("-", "_"), body, dag,
                           declared.function, object_name, counted, order))  # fmt: skip
        protos.append(prototype(declared.function, dag, order))
    names = [f"{declared.kernel}_{n}".replace(".", "_").replace("-", "_") for n in range(len(forms))]
    pairs = ",\n          ".join(f"@match_{s} -> @swap_{s}" for s in names)
    text = (
        _HEAD.format(kernel=declared.kernel, said=declared.said())
        + "\n".join(parts)
        + _MAIN.format(pairs=pairs)
    )
    return text, protos


def _renamed(text: str) -> str:
    """SSA names renumbered in order of appearance: two instances of one form read the same."""
    names: dict[str, str] = {}
    return _VALUE.sub(lambda m: names.setdefault(m.group(0), f"%v{len(names)}"), text)


def _form(
    sym: str, body: str, dag: Dag, function: str, object_name: str, counted: bool, order: Sequence[int]
) -> str:
    kinds = [t for _, t in dag.inputs] + [dag.output]
    memrefs = []
    for kind in kinds:
        count, element = element_count(kind)
        memrefs.append(f"memref<{count}x{element}>")
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
    args = ", ".join(f"%b{i}" for i in order)
    if counted:
        export = (f"hal.executable.export public @{sym} ordinal(0) layout({layout}) "
                  "count(%device: !hal.device) -> (index, index, index) {")  # fmt: skip
    else:
        export = f"hal.executable.export public @{sym} ordinal(0) layout({layout}) {{"
        export += "\n      ^bb0(%device: !hal.device):"
    names = {v: f"%in{i}" for i, (v, _) in enumerate(dag.inputs)}
    # The pattern's block arguments carry the DAG's input names (renumbered with the body).
    block = ", ".join(f"{v}: {t}" for v, t in dag.inputs)
    region = _renamed(f"^bb0({block}):\n" + body)
    ins = ", ".join(names.values())
    in_types = ", ".join(t for _, t in dag.inputs)
    return _FORM.format(
        sym=sym, export=export, function=function, memrefs=", ".join(memrefs[i] for i in order),
        subspans=subspans, args=args, object=object_name, region=_indent(region, 6),
        ins=", ".join(f"{n}: {t}" for n, (_, t) in zip(names.values(), dag.inputs)),
        operands=ins, in_types=in_types, out=dag.output,
    )  # fmt: skip


def _indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in text.splitlines())


_HEAD = """// Generated by iree-matrix for kernel {kernel!r} from the ops of this cell's IR that come from
// torch {said} (`iree-matrix kernel ir` shows that IR): each form below matches those ops as this
// release prints them and swaps them for one dispatch calling the kernel's C function.
// Generics whose bodies read a constant defined outside them carry "match.operation_name_only":
// transform.iree.match.cast_compatible_dag_from_root compares bodies by value mapping and never
// matches such a body, so for those ops only the name is checked.

#x86_64 = #hal.executable.target<"llvm-cpu", "embedded-elf-x86_64">
#arm_64 = #hal.executable.target<"llvm-cpu", "embedded-elf-arm_64">
#arm_32 = #hal.executable.target<"llvm-cpu", "embedded-elf-arm_32">

module attributes {{transform.with_named_sequence}} {{
"""

_FORM = """
  "hal.executable.source"() ({{
      {export}
        %c1 = arith.constant 1 : index
        hal.return %c1, %c1, %c1 : index, index, index
      }}
      builtin.module {{
        func.func private @{function}({memrefs}) attributes {{hal.import.static}}
        func.func @{sym}() {{
          %c0 = arith.constant 0 : index
{subspans}
          func.call @{function}({args}) : ({memrefs}) -> ()
          return
        }}
      }}
      "hal.executable.source_end"() : () -> ()
  }}) {{sym_name = "{sym}", sym_visibility = "private",
    objects = #hal.executable.objects<{{
      #x86_64 = [#hal.executable.object<{{path = "{object}"}}>],
      #arm_64 = [#hal.executable.object<{{path = "{object}"}}>],
      #arm_32 = [#hal.executable.object<{{path = "{object}"}}>]
    }}>}} : () -> ()

  util.func private @call_{sym}({ins}) -> {out} {{
    %r = flow.dispatch @{sym}::@{sym}({operands}) : ({in_types}) -> {out}
    util.return %r : {out}
  }}

  transform.named_sequence @match_{sym}(%root: !transform.any_op {{transform.readonly}})
      -> (!transform.any_value, !transform.any_value) {{
    %ins, %outs = transform.iree.match.cast_compatible_dag_from_root %root {{
{region}
    }} : (!transform.any_op) -> (!transform.any_value, !transform.any_value)
    transform.yield %ins, %outs : !transform.any_value, !transform.any_value
  }}

  transform.named_sequence @swap_{sym}(%ins: !transform.any_value {{transform.readonly}},
                                        %out: !transform.any_value {{transform.readonly}}) {{
    %root = transform.get_defining_op %out : (!transform.any_value) -> !transform.any_op
    %module = transform.util.get_nearest_symbol_table %root : (!transform.any_op) -> !transform.any_op
    %executable = transform.util.import_symbol @{sym} into %module if undefined
        : (!transform.any_op) -> !transform.any_op
    %func = transform.util.import_symbol @call_{sym} into %module if undefined
        : (!transform.any_op) -> !transform.any_op
    %call = transform.util.cast_and_call %func(%ins) -> %out after %root {{
      transform.type_conversion.tensor.cast_shape_dynamic_dims
    }} : (!transform.any_op, !transform.any_value, !transform.any_value, !transform.any_op)
        -> !transform.any_op
    transform.yield
  }}
"""

_MAIN = """
  transform.named_sequence @__transform_main(%module: !transform.any_op) {{
    %funcs = transform.structured.match ops{{["util.func"]}} in %module
        : (!transform.any_op) -> !transform.any_op
    transform.foreach %funcs : !transform.any_op {{
    ^bb0(%func: !transform.any_op):
      transform.foreach_match in %func
          {pairs}
        : (!transform.any_op) -> (!transform.any_op)
    }}
    transform.apply_dce to %module : !transform.any_op
    %inlined = transform.apply_registered_pass "inline" to %module : (!transform.any_op) -> !transform.any_op
    transform.yield
  }}
}}
"""
