"""What a failed compile says first, and the op it names, read from iree-compile's MLIR diagnostics
(by the compile stage into its record, and from older records' messages by the answers)."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Optional

_ERROR = re.compile(r"^(?:(?P<where>\S+?:\d+(?::\d+)?):\s*)?error:\s*(?P<what>.+)$")
# torch ops the importer could not convert stay `torch.operator "torch.aten.gru.input"` (source line)
# or `"torch.operator"(...) <{name = "torch.aten.gru.input"}>` (generic form, in a note).
_TORCH_OPERATOR = re.compile(
    r'torch\.operator"?\s*(?:\(.*?\)\s*<\{.*?)?(?:name\s*=\s*)?"(?P<op>torch\.[\w.]+)"'
)
_QUOTED_OP = re.compile(r"'(?P<op>[\w]+\.[\w.]+)'(?: op\b)?")
_OP_DUMP = re.compile(r":\s+(?=%|\"[\w.]+\"\()")
_NOTE_OP = re.compile(r'note: see current operation:.*?"(?P<op>[\w]+\.[\w.]+)"')
# A crash has no `error:` line, only a backtrace; a frame in a torch op's rewrite pattern names the op.
_CRASH = re.compile(r"^Stack dump:$|^PLEASE submit a bug report|^Please report issues to ")
# LLVM's warning for a CPU it does not know (IREE then refuses the target and LLVM aborts).
_UNKNOWN_CPU = re.compile(r"'(?P<cpu>[^']+)' is not a recognized processor for this target")
_TORCH_PATTERN = re.compile(r"mlir::torch::Torch::(?P<op>Aten\w+Op)\b.*?(?P<file>\w+\.cpp)?:\d+:\d+\s*$")


# An error may name a leftover constant rather than the op that could not be lowered: compiled again
# with `--mlir-print-ir-after-failure`, the dump holds the unlowered torch op (constants elided).
_NAMES_A_CONSTANT = re.compile(r"failed to legalize operation 'torch\.constant\.\w+'")
AFTER_FAILURE_FLAGS = ("--mlir-print-ir-after-failure", "--mlir-elide-elementsattrs-if-larger=16")

CRASHED = "iree-compile crashed"  # how a crash's first error begins (`_crash`)
KERNEL_CAUSE = "caused by the kernel's spec or flags (the cell compiles without them)"  # not a compiler bug
KERNEL_FLAGS = "caused by the kernel's required flags"
_CRASHED_ON = re.compile(r"while lowering torch's (?P<op>\w+Op)\b")


# An op of the exported torch-dialect MLIR, as its line spells it: `%5 = torch.aten.pad %1, …` or
# `%7:2 = torch.operator "torch.aten.lstm.input"(…)`.
_SOURCE_OP = re.compile(
    r'=\s*(?:torch\.operator\s+"(?P<named>torch\.[\w.]+)"|(?P<op>torch\.(?:aten|prims|prim)\.[\w.]+))'
)


@dataclasses.dataclass(frozen=True)
class FirstError:
    message: str  # the compiler's first error, whole: "failed to legalize operation 'torch.operator' …"
    op: str  # the op it is about: "torch.aten.gru.input", "linalg.generic", or "" when none is named
    where: str = ""  # where the error points: "model.mlir:15:10" (the compiled file's line), or ""
    # The torch op on that line of the exported MLIR, where the error names a lowered op.
    source_op: str = ""
    # The model's Python line that op came from: "model.py:8: z = torch.searchsorted(…)", or "".
    source_line: str = ""

    def metrics(self) -> dict[str, str]:
        named = {"failing_op": self.op, "source_op": self.source_op, "source_line": self.source_line}
        return {"first_error": self.message, **{k: v for k, v in named.items() if v}}

    def text(self) -> str:
        """One line, uncut: the message, its op, and where the model's code has it."""
        at = f", at {self.source_line}" if self.source_line else ""
        if self.source_op and names_a_constant(self):
            return f"{self.message} (left unlowered: the model's {self.source_op}){at}"
        if self.source_op and self.source_op != self.op:
            lowered = f"op: {self.op}, lowered from" if self.op else "from"
            return f"{self.message} ({lowered} the model's {self.source_op}){at}"
        named = f" (op: {self.op})" if self.op and f"'{self.op}'" not in self.message else ""
        return f"{self.message}{named}{at}"

    def line(self) -> Optional[int]:
        parts = self.where.split(":")
        return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


def source_op(line: str) -> str:
    """The torch op an exported MLIR line holds ("" when it holds none)."""
    found = _SOURCE_OP.search(line)
    return (found["named"] or found["op"]) if found else ""


# Beside an exported model.mlir, where its ops came from in the model's code (scripts/mlir_where.py).
WHERE_SUFFIX = ".where.json"


def model_line(where: str, line: int) -> str:
    """The model's line for line `line` of the exported MLIR, from its `model.where.json`; "" where none."""
    try:
        data = json.loads(where)
        frame = str(data["frames"][str(line)])
        code = str(data.get("code", {}).get(frame) or "")
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""
    path, _, number = frame.rpartition(":")
    named = f"{path.replace(chr(92), '/').rsplit('/', 1)[-1]}:{number}"
    return f"{named}: {code}" if code else named


def names_a_constant(named: Optional[FirstError]) -> bool:
    """Whether the first error is a leftover constant's, not the failing op's."""
    return named is not None and bool(_NAMES_A_CONSTANT.search(named.message))


def unlowered_op(dump: str) -> str:
    """The first torch op left in an `--mlir-print-ir-after-failure` dump, or ""."""
    ops = (source_op(line[:2000]) for line in (dump or "").splitlines())
    # Not a list's construction: it stays beside its user.
    return next((op for op in ops if op and not op.startswith("torch.prim.")), "")


def pattern_class(op: str) -> str:
    """torch-mlir's C++ class of a torch op, as a crash's backtrace names it: "torch.aten.scatter.src" ->
    "AtenScatterSrcOp", "torch.aten._softmax" -> "Aten_SoftmaxOp"."""

    def camel(part: str) -> str:
        words = part.lstrip("_").split("_")
        return "_" * (len(part) - len(part.lstrip("_"))) + "".join(w[:1].upper() + w[1:] for w in words)

    return "".join(camel(part) for part in op.split(".")[1:]) + "Op"


def first_error(
    output: Optional[str], cause: str = "a compiler bug, not an error in the model"
) -> Optional[FirstError]:
    """The first `error:` of a compiler's output and its op (None: none); a crash is blamed on `cause`."""
    # An unknown CPU is the cause: what LLVM then says ("64-bit code requested …") names no CPU.
    if (cpu := unknown_cpu(output)) is not None:
        return FirstError(cpu, "")
    lines = (output or "").splitlines()
    for i, line in enumerate(lines):
        if not (found := _ERROR.match(line.strip())):
            continue
        # "… explicitly marked illegal: %22:2 = "torch.operator"(…) <{…}> : (…)": the op dump after
        # the colon is context (the op is named apart), the sentence before it is the error.
        message = _OP_DUMP.split(found["what"].strip(), 1)[0].strip()
        # The source line, the caret, the notes: up to the next error.
        context = list(itertools.takewhile(lambda after: not _ERROR.match(after.strip()), lines[i + 1 :]))
        return FirstError(message, _op(message, context), found["where"] or "")
    return _crash(lines, cause)


def unknown_cpu(output: Optional[str]) -> Optional[str]:
    if (found := _UNKNOWN_CPU.search(output or "")) is None:
        return None
    return (
        f"iree-compile does not know the CPU {found['cpu']!r} (LLVM: not a recognized processor for this "
        "target): name one it knows in the profile's target_cpu (--cpu, --fleet)"
    )


def _crash(lines: list[str], cause: str) -> Optional[FirstError]:
    """iree-compile's crash as its first error, with the C++ class of the torch op being lowered, or None."""
    if not any(_CRASH.search(line.strip()) for line in lines):
        return None
    frame = next(
        (m for line in lines if "matchAndRewrite" in line for m in [_TORCH_PATTERN.search(line)] if m), None
    )
    where = f" while lowering torch's {frame['op']}" if frame else ""
    where += f" ({frame['file']})" if frame and frame["file"] else ""
    return FirstError(f"{CRASHED}{where}: {cause}; its backtrace is in the compile log", "")


def _op(message: str, context: list[str]) -> str:
    for text in (message, *context):
        if torch_op := _TORCH_OPERATOR.search(text):
            return torch_op["op"]
    for text in context:
        if (noted := _NOTE_OP.search(text)) and noted["op"] != "torch.operator":
            return noted["op"]
    quoted = _QUOTED_OP.search(message)
    return quoted["op"] if quoted else ""


def of_record(metrics: Mapping[str, Any], message: Optional[str]) -> Optional[FirstError]:
    """A compile record's first error: from its metrics, else read from its message (older records)."""
    stored = metrics.get("first_error") if isinstance(metrics, Mapping) else None
    if isinstance(stored, str) and stored:
        op, source, line = (str(metrics.get(k) or "") for k in ("failing_op", "source_op", "source_line"))
        return FirstError(stored, op, source_op=source, source_line=line)
    return first_error(message)


def in_model(named: FirstError, source: Path, unlowered: str = "") -> FirstError:
    """`named` with the model's torch op on the line of `source` it points at (a crash, or a leftover
    constant: the op's first line) and the model's Python line that op came from."""
    line = named.line() if named.where.startswith(source.name) else None
    op = _first_line_of(source, lambda number, _: number == line)[1] if line is not None else ""
    # A crash: the C++ class of the torch op it was lowering ("AtenScatterSrcOp").
    crash = _CRASHED_ON.search(named.message) if line is None and named.message.startswith(CRASHED) else None
    if crash:
        line, op = _first_line_of(source, lambda _, found: pattern_class(found) == crash["op"])
    elif line is None and unlowered and names_a_constant(named):
        line, _ = _first_line_of(source, lambda _, found: found == unlowered)
        op = unlowered  # named even where the source is bytecode and gives no line
    if line is None:
        return dataclasses.replace(named, source_op=op) if op else named
    where = source.with_name(source.stem + WHERE_SUFFIX)
    said = model_line(where.read_text("utf-8"), line) if where.is_file() else ""
    return dataclasses.replace(named, source_op=op, source_line=said)


def _first_line_of(path: Path, wanted: Callable[[int, str], bool]) -> tuple[Optional[int], str]:
    """The first line of an exported MLIR that `wanted` accepts by its number and its torch op ("" where it
    holds none), and that op, or (None, ""); read no further (weights may follow in one long line)."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as text:
            for number, line in enumerate(text, 1):
                if wanted(number, op := source_op(line[:2000])):
                    return number, op
    except OSError:
        pass
    return None, ""
