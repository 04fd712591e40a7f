"""The depthwise 3x3 kernel of kernels/depthwise3x3 plugged into ONNX Runtime and into LiteRT
(TFLite) as a custom op, each beside the runtime's own depthwise convolution; and what IREE's route
asks of the same kernel (issue 67, item 4; the write-up is lab/kernels-compared.md).

What it does, each step printed:
1. ONNX Runtime: builds depthwise_ort.c (ORT's C API around the kernel's C source, #included from
   --kernel-dir) with Zig's clang (PyPI `ziglang`) against ORT's C API headers (--ort-include:
   no wheel ships them, see ort_include/README.md); checks the op against a float64 numpy
   reference on small shapes; then, for MobileNetV2's depthwise shapes, one layer (Conv group=C +
   Clip(0, 6)) three ways: ORT's Conv (NCHW), the custom op (NHWC), the custom op between two
   Transposes; outputs checked against ORT's Conv, one-thread time per call in paired rounds;
2. MobileNetV2 (scripts/models/mobilenet_v2.py, seed 0; torch.onnx export) with its 17 depthwise
   Conv + Clip rewritten to Transpose -> custom op -> Transpose, checked against torch, timed
   paired, and ORT's profiler split by op (needs torch);
3. LiteRT: builds depthwise_litert.c (LiteRtCustomOpKernel + a few calls that load and run a
   model, linked to ai-edge-litert's libLiteRt.so) against LiteRT's C headers (--litert-include:
   no wheel ships them, see litert_include.md); converts one depthwise layer with TensorFlow's
   converter, rewrites it to the custom op, checks and times it against LiteRT's built-in
   (XNNPACK) (needs ai-edge-litert and tensorflow-cpu);
4. TFLite facts: what the installed ai-edge-litert / tensorflow wheels offer a custom op
   (headers, exported symbols, the Python registerer hook), each read from the files;
5. IREE: the kernel's own lines (C + spec) and whether the pip runtime has `--executable_plugin`.

The process is pinned to one CPU (--no-pin to leave it): LiteRT's thread count is not settable
through its exported C API.

    python -m venv /tmp/v && /tmp/v/bin/pip install onnxruntime==1.30.0 onnx ziglang==0.15.1 \
        torch==2.13.0 ai-edge-litert==2.3.0 tensorflow-cpu==2.21.0
    /tmp/v/bin/python benchmarks/custom_ops/compare.py --kernel-dir kernels/depthwise3x3 \
        --ort-include ORT_HEADERS --litert-include LITERT_SRC [--iree-run-module PATH] [--rounds 21]
"""

from __future__ import annotations

import argparse
import inspect
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# The steps, one module each beside this one (run as a script, its folder is on sys.path).
import op_common
from op_common import HERE, REPO, c_code_lines, code_lines, cpu_name
from op_litert import run_tflite, tflite_facts
from op_ort import (
    build_ort_library,
    custom_node,
    ort_session,
    rewrite_depthwise,
    run_mobilenet,
    run_single_layers,
)

# ---------------------------------------------------------------------------------------------
# 5. IREE: the kernel's own lines and the plugin flag.


def iree_facts(kernel_dir: Path, iree_run_module: str | None) -> None:
    print("\n## IREE: the same kernel as a custom dispatch (kernels/depthwise3x3)")
    for name in ("depthwise3x3.c", "spec.mlir", "kernel.toml"):
        p = kernel_dir / name
        if p.exists():
            text = p.read_text()
            code = (
                c_code_lines(text)
                if name.endswith(".c")
                else code_lines(text, "//" if name.endswith(".mlir") else "#")
            )
            print(f"{name}: {len(text.splitlines())} lines, {code} of code")
    if iree_run_module:
        out = subprocess.run([iree_run_module, "--help"], capture_output=True, text=True).stdout
        print(
            f"{iree_run_module} --help: --executable_plugin "
            f"{'present' if '--executable_plugin' in out else 'absent'}"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kernel-dir", type=Path, default=REPO / "kernels" / "depthwise3x3")
    ap.add_argument(
        "--ort-include",
        type=Path,
        default=Path(os.environ.get("ORT_INCLUDE", HERE / "ort_include")),
        help="a folder with onnxruntime_c_api.h (ORT's release archive's include/)",
    )
    ap.add_argument(
        "--litert-include",
        type=Path,
        default=os.environ.get("LITERT_INCLUDE"),
        help="a folder with litert/c/*.h (LiteRT's source at the ai-edge-litert release)",
    )
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument(
        "--min-s",
        type=float,
        default=0.1,
        help="seconds of calls per arm and round (three times that for MobileNetV2)",
    )
    ap.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin the process to one CPU (LiteRT's CPU options are not exported, "
        "so pinning is how its arms get one thread's worth of CPU)",
    )
    ap.add_argument("--iree-run-module", default=shutil.which("iree-run-module"))
    ap.add_argument("--skip-mobilenet", action="store_true")
    args = ap.parse_args()
    op_common.MIN_S = args.min_s  # paired()'s default, read at each call
    from importlib import metadata

    import onnxruntime as ort

    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[-1]
        os.sched_setaffinity(0, {cpu})
        print(f"pinned to CPU {cpu}")
    print(
        f"machine: {cpu_name()}, {platform.machine()}; Python {platform.python_version()}; "
        f"onnxruntime {ort.__version__}; onnx {metadata.version('onnx')}; "
        f"C compiler: ziglang {metadata.version('ziglang')} (zig cc, clang)"
    )
    if not (args.kernel_dir / "depthwise3x3.c").exists():
        print(f"no depthwise3x3.c in {args.kernel_dir}: give --kernel-dir")
        return 2
    if not (args.ort_include / "onnxruntime_c_api.h").exists():
        print(
            f"no onnxruntime_c_api.h in {args.ort_include}: the ONNX Runtime steps need ORT's C "
            "API headers, which no wheel, npm package or Debian 12 package ships "
            "(benchmarks/custom_ops/ort_include/README.md); give --ort-include"
        )
        tflite_facts()
        iree_facts(args.kernel_dir, args.iree_run_module)
        return 2
    with tempfile.TemporaryDirectory() as d:
        lib, cmd = build_ort_library(args.kernel_dir, Path(d), args.ort_include)
        print(
            "built: "
            + " ".join(Path(c).name if c.startswith("/") and c.endswith(".c") else c for c in cmd[1:])
        )
        wrapper = (HERE / "depthwise_ort.c").read_text()
        user_py = "".join(inspect.getsource(f) for f in (ort_session, custom_node, rewrite_depthwise))
        print(
            f"what the user writes for ORT: depthwise_ort.c {len(wrapper.splitlines())} lines "
            f"({c_code_lines(wrapper)} of code, the kernel #included), Python: session + node + "
            f"MobileNetV2 rewrite {len(user_py.splitlines())} lines ({code_lines(user_py, '#')} of code)"
        )
        run_single_layers(lib, args.rounds)
        if not args.skip_mobilenet:
            run_mobilenet(lib, args.rounds)
    run_tflite(args.kernel_dir, args.litert_include, args.rounds)
    tflite_facts()
    iree_facts(args.kernel_dir, args.iree_run_module)
    return 0


if __name__ == "__main__":
    sys.exit(main())
