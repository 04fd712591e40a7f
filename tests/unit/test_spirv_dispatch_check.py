"""scripts/spirv_dispatch_check.py's `races` heuristic (docs/gpu.md, "Why real models mismatch on
lavapipe"): a kernel that zero-fills its accumulator in one top-level construct and accumulates in a
later one with no barrier is flagged; the same kernel with a barrier, or with both in one construct,
is not."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_PATH = Path(__file__).resolve().parents[2] / "scripts" / "spirv_dispatch_check.py"
_SPEC = importlib.util.spec_from_file_location("spirv_dispatch_check", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
check = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(check)

HEAD = """  spirv.func @conv() "None" {
    %cst = spirv.Constant 0.000000e+00 : f32
    %one = spirv.Constant 1.000000e+00 : f32
"""
FILL = """    spirv.mlir.loop {
      spirv.Store "StorageBuffer" %p, %cst : f32
    }
"""
ACCUMULATE = """    spirv.mlir.loop {
      %v = spirv.Load "StorageBuffer" %p : f32
      %s = spirv.FAdd %v, %one : f32
      spirv.Store "StorageBuffer" %p, %s : f32
    }
"""
BARRIER = """    spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|WorkgroupMemory>
"""
TAIL = """    spirv.Return
  }
"""


def test_a_zero_fill_and_a_later_accumulation_without_a_barrier_is_racy(tmp_path: Path) -> None:
    kernel = HEAD + FILL + ACCUMULATE + TAIL
    assert len(check.top_level_constructs(kernel)) == 2
    assert check.racy(kernel)
    assert not check.racy(HEAD + FILL + BARRIER + ACCUMULATE + TAIL)
    assert not check.racy(HEAD + ACCUMULATE + TAIL)  # nothing zero-filled
    (tmp_path / "a.spirv.mlir").write_text(kernel)
    (tmp_path / "b.spirv.mlir").write_text(HEAD + ACCUMULATE + TAIL)
    assert check.races(tmp_path) == 1
