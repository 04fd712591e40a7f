"""Where each op of an exported model.mlir came from in the model's Python source.

iree-turbine's torch importer gives every op the location torch.export recorded for its FX node
(the node's stack trace as `loc("model.py":42:0)`, called from torch's own frames; iree-turbine's
fx_importer.py, `get_node_location`), but the text the export saves has no locations. A compile
error points at a line of that text ("model.mlir:19:10: error: failed to legalize operation …"):
this maps such a line to the model's own line, so the failure can say which line of the user's
code to rewrite. The module is printed a second time with its locations; the two prints hold the
same ops on the same lines once the location definitions (`#loc…`) are set aside.

Written next to model.mlir as `model.where.json`:
    {"frames": {"19": "/path/model.py:8"}, "code": {"/path/model.py:8": "z = torch.searchsorted(…)"},
     "modules": {"19": "features.3.conv.1 torch.nn.modules.activation.Hardswish"}}
"modules" (when the export is asked for it, `module_nodes`): the torch module each op came from,
joined by the model's frames of the stack trace turbine made the op's location of: torch.export's
nodes carry the same frames and their `nn_module_stack`; the n-th torch op of one trace is the n-th
node of it (ops on one line of the model, or a layer repeated in Sequential's loop, share a trace).
Standalone (the exporter's Python, any release's turbine): no import from iree_matrix.
"""

from __future__ import annotations

import json
import re

SUFFIX = ".where.json"
# torch's, turbine's and the interpreter's own frames: the model's line is the innermost other one.
_NOT_THE_MODELS = ("/torch/", "/iree/turbine/", "/shark_turbine/", "/torch_mlir/", "<")
_ALIAS = re.compile(r"^(#loc\d*) = loc\((.*)\)\s*$")
_TRAILING = re.compile(r"\sloc\((.*)\)\s*$")
_TOKEN = re.compile(r'#loc\d*|"((?:[^"\\]|\\.)*)":(\d+):\d+')
_CODE_CHARS = 100
# An op line's results and op name ("%5:2 = torch.operator", "return", "}"): what both prints share
# whatever else differs (the located print elides large constants).
_HEAD = re.compile(r"^\s*(?:%[\w#:]+(?:, %[\w#:]+)*\s*=\s*)?[^\s(<{]*")


def where_path(mlir_path):
    """model.mlir -> model.where.json beside it."""
    return mlir_path.with_name(mlir_path.stem + SUFFIX)


def _paired(plain, located):
    """(location aliases, plain's module lines, located's module lines, plain's first line) where
    the two prints hold the same lines; None where they do not."""
    aliases, body = {}, []
    for line in located.splitlines():
        alias = _ALIAS.match(line)
        if alias:
            aliases[alias.group(1)] = alias.group(2)
        else:
            body.append(line)
    plain_block, first = _module_block(plain.splitlines())
    located_block, _ = _module_block(body)
    if plain_block is None or located_block is None or len(plain_block) != len(located_block):
        return None
    return aliases, plain_block, located_block, first


def frames(plain, located):
    """{line of `plain` (from 1): "file:line"} for the ops whose location names a frame outside
    torch and turbine; {} when the two prints do not hold the same lines."""
    paired = _paired(plain, located)
    if paired is None:
        return {}
    aliases, plain_block, located_block, first = paired
    memo = {}
    found = {}
    for offset, (bare, with_loc) in enumerate(zip(plain_block, located_block)):
        if _head(bare) != _head(with_loc):  # not the same op: give up rather than mislead
            return {}
        trailing = _TRAILING.search(with_loc)
        if trailing is None:
            continue
        frame = next((f for f in _frames_of(trailing.group(1), aliases, memo, 0) if _is_models(f[0])), None)
        if frame is not None:
            found[str(first + offset + 1)] = "{}:{}".format(*frame)
    return found


def code_of(found, read=None):
    """{"file:line": that line's code, stripped and cut} for the frames found, read now (the file may
    change or move after the export)."""
    read = read or _read_lines
    files = {}
    code = {}
    for where in sorted(set(found.values())):
        path, _, number = where.rpartition(":")
        if path not in files:
            files[path] = read(path)
        lines = files[path]
        index = int(number) - 1
        if lines is not None and 0 <= index < len(lines):
            text = lines[index].strip()
            code[where] = text if len(text) <= _CODE_CHARS else text[: _CODE_CHARS - 1] + "…"
    return code


def save(module, mlir_path, nodes=None):
    """Write model.where.json for an exported module whose text is at `mlir_path`; nothing when the
    bindings cannot print locations or the prints disagree (the compile then says no line). With
    `nodes` (`module_nodes`), also the torch module of each op."""
    located = _Kept()
    try:
        module.operation.print(file=located, enable_debug_info=True, large_elements_limit=16)
        with open(mlir_path, encoding="utf-8", errors="replace") as plain:
            text = _module_text(plain)
        found = frames(text, "".join(located.parts))
        owners = modules(text, "".join(located.parts), nodes) if nodes else {}
    except Exception:  # an older binding without these options; no lines to map then
        return
    if found or owners:
        data = {"frames": found, "code": code_of(found)}
        if owners:
            data["modules"] = owners
        where_path(mlir_path).write_text(json.dumps(data, sort_keys=True), encoding="utf-8")


_TRACE = re.compile(r'File "([^"]+)", line ([0-9]+),')
_TORCH_OP = re.compile(r"^\s*(?:%[\w#:]+(?:, %[\w#:]+)*\s*=\s*)?torch\.")
_MAIN_OP = re.compile(r"^\s*(?:%[\w#:]+(?:, %[\w#:]+)*\s*=\s*)?torch\.(aten|prims|operator)\b")


def module_nodes(exported_program):
    """[(frames, "path Class")] of a torch.export program's call nodes, in graph order: the model's
    frames of its trace (innermost first) and the innermost module it ran in."""
    out = []
    for node in exported_program.graph.nodes:
        stack = node.meta.get("nn_module_stack")
        trace = node.meta.get("stack_trace")
        if node.op != "call_function" or not stack or not trace:
            continue
        path, kind = list(stack.values())[-1]
        path = re.sub(r"^L\['self'\]\.?|^L__self___?", "", str(path))
        path = re.sub(r"\[['\"]?([^\]'\"]+)['\"]?\]", r".\1", path).strip(".")
        if isinstance(kind, type):
            kind = kind.__module__ + "." + kind.__qualname__
        chain = _models_frames((f, int(n)) for f, n in reversed(_TRACE.findall(trace)))
        out.append((chain, f"{path} {kind}"))
    return out


def _models_frames(chain):
    """A trace's frames in the model's own code: turbine's export traces through dynamo and keeps
    only those (and dynamo's), torch.export's has torch's module frames too."""
    return tuple(f for f in chain if _is_models(f[0]))


def modules(plain, located, nodes):
    """{line of `plain`: "path Class"}: each op joined to the node of its location's trace."""
    paired = _paired(plain, located)
    if paired is None:
        return {}
    aliases, plain_block, located_block, first = paired
    by_trace = {}
    for chain, owner in nodes:
        by_trace.setdefault(chain, []).append(owner)
    memo, seen, waiting, found = {}, {}, {}, {}
    for offset, with_loc in enumerate(located_block):
        trailing = _TRAILING.search(with_loc)
        if not _TORCH_OP.match(with_loc):  # the module and function lines say no layer
            continue
        chain = _models_frames(_frames_of(trailing.group(1), aliases, memo, 0)) if trailing else ()
        owners = by_trace.get(chain)
        # A function torch.export's trace leaves out where turbine's keeps it (a method set on an
        # instance: whisper_tiny@decomposed's attention): its ops are the caller's nodes, counted
        # with the caller's (unjoined, the attention's Linears after it were counted as its ops).
        while not owners and len(chain) > 1:
            chain = chain[1:]
            owners = by_trace.get(chain)
        if not owners:
            continue
        line = str(first + offset + 1)
        if len(set(owners)) == 1:
            found[line] = owners[0]
            continue
        waiting.setdefault(chain, []).append(line)  # constants wait for the op they feed
        if _MAIN_OP.match(with_loc):
            n = seen.get(chain, 0)
            seen[chain] = n + 1
            for held in waiting.pop(chain):
                if n < len(owners):
                    found[held] = owners[n]
    return found


class _Kept:
    """A file for the located print that keeps the module and its location definitions, not the
    weights' resource section after them (`{-# dialect_resources … #-}`: the module's size again)."""

    def __init__(self):
        self.parts = []
        self.pending = ""
        self.done = False

    def write(self, text):
        if self.done:
            return
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.pending += text
        lines = self.pending.split("\n")
        self.pending = lines.pop()
        for line in lines:
            if line.startswith("{-#"):
                self.done = True
                return
            self.parts.append(line + "\n")


def _module_text(lines):
    """The text of an MLIR file up to its module's closing `}` (its resources stay unread)."""
    kept = []
    inside = False
    for line in lines:
        kept.append(line)
        inside = inside or line.startswith("module")
        if inside and line.startswith("}"):
            break
    return "".join(kept)


def _module_block(lines):
    """The lines from `module …` to its closing `}` and the index of the first; (None, 0) if none."""
    start = next((i for i, line in enumerate(lines) if line.startswith("module")), None)
    if start is None:
        return None, 0
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("}")), None)
    return (lines[start : end + 1], start) if end is not None else (None, 0)


def _frames_of(expr, aliases, memo, depth):
    """The file frames of a location, innermost first (a callsite names its callee first)."""
    out = []
    for token in _TOKEN.finditer(expr):
        if token.group(1) is not None:
            out.append((token.group(1), int(token.group(2))))
            continue
        name = token.group(0)
        if name not in memo:
            memo[name] = _frames_of(aliases.get(name, ""), aliases, memo, depth + 1) if depth < 32 else []
        out.extend(memo[name])
    return out


def _head(line):
    return _HEAD.match(line).group(0)


def _is_models(path):
    return not any(part in path for part in _NOT_THE_MODELS)


def _read_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as source:
            return source.read().splitlines()
    except OSError:
        return None
