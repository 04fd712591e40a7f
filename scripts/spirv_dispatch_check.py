#!/usr/bin/env python3
"""Look for the workgroup data race IREE's SPIR-V codegen emits for depthwise convolutions, and
patch a kernel to prove it (docs/gpu.md, "Why real models mismatch on lavapipe").

    races DIR            list the kernels in DIR (the `*.spirv.mlir` files written by
                         `iree-compile --iree-hal-dump-executable-intermediates-to=DIR`) whose
                         accumulator is zero-filled in one top-level loop/branch and accumulated in
                         a later one with no barrier anywhere in the kernel
    add-barriers IN OUT  copy the SPIR-V binary IN (a `*.spv` from the same dump) to OUT with an
                         OpControlBarrier(Workgroup, Workgroup, AcquireRelease | UniformMemory |
                         WorkgroupMemory) at the start of the merge block of every top-level loop
                         and branch; give OUT back to the compiler with
                         `--iree-hal-substitute-executable-object=<executable>=OUT`

`races` is a heuristic over IREE's own SPIR-V dialect text (a zero-fill of f32 storage or
workgroup memory, a later construct that stores, no barrier), not a general race detector.
`add-barriers` inserts barriers in uniform control flow only (top-level constructs of a kernel
with one function, which is what IREE emits); it is a diagnostic, not a fix.
"""

from __future__ import annotations

import argparse
import re
import struct
import sys
from pathlib import Path

TOP_LEVEL = ("    spirv.mlir.loop {", "    spirv.mlir.selection {")


def top_level_constructs(text: str) -> list[str]:
    """The function body's top-level `spirv.mlir.loop` / `spirv.mlir.selection` blocks, in order."""
    blocks: list[str] = []
    current: list[str] = []
    inside = False
    for line in text.splitlines():
        if line in TOP_LEVEL:
            current, inside = [line], True
        elif inside:
            current.append(line)
            if line == "    }":
                blocks.append("\n".join(current))
                inside = False
    return blocks


def racy(text: str) -> bool:
    """True when a zero-fill and a later store sit in different top-level constructs, no barrier."""
    if "ControlBarrier" in text:
        return False
    zeros = set(re.findall(r"(%cst\w*) = spirv\.Constant 0\.0+e\+00 : f32", text))
    blocks = top_level_constructs(text)

    def fills(block: str) -> bool:
        return any(
            re.search(rf'spirv\.Store "(?:StorageBuffer|Workgroup)" %\w+, {re.escape(z)} : f32', block)
            for z in zeros
        )

    first = next((i for i, block in enumerate(blocks) if fills(block)), None)
    return first is not None and any('spirv.Store "' in block for block in blocks[first + 1 :])


def races(directory: Path) -> int:
    found = 0
    for path in sorted(directory.glob("*.spirv.mlir")):
        text = path.read_text()
        if racy(text):
            found += 1
            size = re.search(r'"LocalSize", (\d+), (\d+), (\d+)', text)
            workgroup = "x".join(size.groups()) if size else "?"
            print(
                f"{path.name}: zero-fill, then accumulation in a later loop, no barrier "
                f"(workgroup {workgroup})"
            )
    print(f"{found} kernel(s) with the race pattern in {directory}")
    return found


# SPIR-V opcodes used below
OP_TYPE_INT, OP_CONSTANT, OP_CONTROL_BARRIER = 21, 43, 224
OP_PHI, OP_LOOP_MERGE, OP_SELECTION_MERGE, OP_LABEL = 245, 246, 247, 248
SCOPE_WORKGROUP = 2
SEMANTICS = 0x8 | 0x40 | 0x100  # AcquireRelease | UniformMemory | WorkgroupMemory


def add_barriers(source: Path, target: Path) -> int:
    data = source.read_bytes()
    words = list(struct.unpack(f"<{len(data) // 4}I", data))
    header, body = words[:5], words[5:]
    if header[0] != 0x07230203:
        raise SystemExit(f"{source}: not a SPIR-V binary")
    instructions = []
    i = 0
    while i < len(body):
        count = body[i] >> 16
        instructions.append(body[i : i + count])
        i += count
    scope_id, semantics_id = header[3], header[3] + 1
    header[3] += 2  # id bound
    out: list[list[int]] = []
    constants_added = False
    merge_stack: list[int] = []
    top_merges: set[int] = set()
    inserted = 0
    for ins in instructions:
        out.append(ins)
        opcode = ins[0] & 0xFFFF
        if opcode == OP_TYPE_INT and ins[2] == 32 and not constants_added:
            out.append([(4 << 16) | OP_CONSTANT, ins[1], scope_id, SCOPE_WORKGROUP])
            out.append([(4 << 16) | OP_CONSTANT, ins[1], semantics_id, SEMANTICS])
            constants_added = True
        elif opcode in (OP_LOOP_MERGE, OP_SELECTION_MERGE):
            if not merge_stack:
                top_merges.add(ins[1])
            merge_stack.append(ins[1])
        elif opcode == OP_LABEL and merge_stack and ins[1] == merge_stack[-1]:
            merge_stack.pop()
            if ins[1] in top_merges:
                out.append([(4 << 16) | OP_CONTROL_BARRIER, scope_id, scope_id, semantics_id])
                inserted += 1
    if not constants_added:
        raise SystemExit(f"{source}: no 32-bit integer type to build the barrier's operands from")
    ordered: list[list[int]] = []
    for ins in out:  # an OpPhi must stay first in its block
        if ins[0] & 0xFFFF == OP_PHI and ordered and ordered[-1][0] & 0xFFFF == OP_CONTROL_BARRIER:
            barrier = ordered.pop()
            ordered += [ins, barrier]
        else:
            ordered.append(ins)
    flat = header + [word for ins in ordered for word in ins]
    target.write_bytes(struct.pack(f"<{len(flat)}I", *flat))
    print(f"{target}: {inserted} barrier(s) added")
    return inserted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    scan = sub.add_parser("races", help="list kernels with the zero-fill/accumulate race pattern")
    scan.add_argument("directory", type=Path)
    patch = sub.add_parser("add-barriers", help="insert barriers between a kernel's top-level loops")
    patch.add_argument("source", type=Path)
    patch.add_argument("target", type=Path)
    args = parser.parse_args(argv)
    if args.command == "races":
        races(args.directory)
    else:
        add_barriers(args.source, args.target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
