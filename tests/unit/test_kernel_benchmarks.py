"""benchmarks/kernel_sitting.py: which of a kernel's entries a module takes
is what it dispatches (the compile stopped at flow), not the names in its bytes (the whole object
is linked, every entry with it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


sitting = _load("kernel_sitting")

# The shape of a module printed at flow with the kernel's spec (3.3.0's, abridged): the kernel's
# executable declares and defines every entry, the plain and the fused; only two are dispatched.
FLOW = """
  hal.executable.source private @depthwise3x3 {
    hal.executable.export public @s1 ordinal(0) layout(#layout)
    hal.executable.export public @s1_bn ordinal(2) layout(#layout_bn)
    hal.executable.export public @stem ordinal(4) layout(#layout_stem)
    builtin.module {
      func.func private @depthwise3x3_bn_relu6_s1_nhwc(memref<?xf32>) attributes {hal.import.static}
      func.func @s1() { return }
      func.func @s1_bn() { return }
      func.func @stem() { return }
    }
  }
  %0 = flow.dispatch @depthwise3x3::@s1[%oh](%h, %w, %in, %ft) : (i32) -> tensor<1x56x56x144xf32>
  %1 = flow.dispatch @depthwise3x3::@s1[%oh](%h, %w, %in, %ft) : (i32) -> tensor<1x56x56x144xf32>
  %2 = flow.dispatch @depthwise3x3::@s2[%oh](%h, %w, %in, %ft) : (i32) -> tensor<1x28x28x144xf32>
  %3 = flow.dispatch @main$async_dispatch_7::@main$async_dispatch_7_generic_1x56x56x144_f32(%2)
"""


def test_the_entries_counted_are_the_dispatched_ones_not_the_linked_names():
    counts = sitting.count_dispatches(FLOW, "depthwise3x3")
    assert counts == {"s1": 2, "s2": 1}  # s1_bn and stem are in the executable, never called
    assert sitting.entries_line(counts) == "s1 ×2, s2 ×1"
    assert sitting.entries_line(sitting.count_dispatches(FLOW, "other")) == "none"
    # The names a scan of the bytes found (what both scripts reported before): all of them.
    assert all(name in FLOW for name in ("s1_bn", "stem"))
    # a generated spec's executables: the kernel's name and a number (not another kernel's name)
    generated = (
        "flow.dispatch @depthwise3x3_2::@depthwise3x3_2(%a)\nflow.dispatch @depthwise3x3_nchw_0::@x(%a)"
    )
    assert sitting.count_dispatches(generated, "depthwise3x3") == {"depthwise3x3_2": 1}


def test_dispatched_runs_the_same_compile_stopped_at_flow(tmp_path, monkeypatch):
    """The command is the module's own, its `-o FILE` replaced by the flow output; a release that
    does not know the printer's elision flags is asked again without them."""
    calls = []

    def fake_run(cmd, **kw):
        calls.append(cmd)
        import subprocess

        if any(c.startswith("--mlir-elide") for c in cmd):
            return subprocess.CompletedProcess(cmd, 1, "", "Unknown command line argument '--mlir-elide-x'")
        return subprocess.CompletedProcess(cmd, 0, FLOW, "")

    monkeypatch.setattr(sitting.subprocess, "run", fake_run)
    counts = sitting.dispatched(["iree-compile", "model.mlir", "--flag", "-o", str(tmp_path / "m.vmfb")])
    assert counts == {"s1": 2, "s2": 1}
    assert calls[0][:3] == ["iree-compile", "model.mlir", "--flag"] and "--compile-to=flow" in calls[0]
    assert str(tmp_path / "m.vmfb") not in calls[0] and calls[0][-2:] == ["-o", "-"]
    assert not any(c.startswith("--mlir-elide") for c in calls[1])
