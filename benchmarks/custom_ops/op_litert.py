"""compare.py's LiteRT (TFLite) steps: the custom-op kernel's build against LiteRT's C headers, a
converted depthwise layer rewritten to the custom op, checked and timed beside LiteRT's built-in;
and what the installed wheels offer a custom op, read from their files."""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from op_common import HERE, build_shared_library, c_code_lines, code_lines, fmt_ratio, fmt_us, paired

# ---------------------------------------------------------------------------------------------
# 4. TFLite (LiteRT): the custom op through LiteRT's C API custom-op kernel.

TFL_SHAPES = [
    (112, 112, 32, 1),
    (56, 56, 144, 1),
    (56, 56, 144, 2),
    (28, 28, 192, 1),
    (14, 14, 576, 1),
    (7, 7, 960, 1),
]


def build_litert_library(
    kernel_dir: Path, out_dir: Path, litert_include: Path, litert_lib_dir: Path
) -> tuple[Path, list[str]]:
    lib = out_dir / "libdepthwise_litert.so"
    flags = [
        f"-I{litert_include}",
        f"-I{kernel_dir}",
        f"-L{litert_lib_dir}",
        "-lLiteRt",
        f"-Wl,-rpath,{litert_lib_dir}",
    ]
    cmd = build_shared_library(HERE / "depthwise_litert.c", lib, flags)
    return lib, cmd


def tflite_builtin_model(h: int, w: int, c: int, stride: int, rng):
    """DepthwiseConv2D 3x3 + ReLU6 as TFLite has it (PyTorch's padding: 'same' at stride 1,
    ZeroPadding2D(1) + 'valid' at stride 2), converted by TensorFlow's converter."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    dw = (rng.standard_normal((3, 3, c, 1)) * 0.3).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    x = tf.keras.Input((h, w, c), batch_size=1)
    y = x if stride == 1 else tf.keras.layers.ZeroPadding2D(1)(x)
    layer = tf.keras.layers.DepthwiseConv2D(3, stride, "same" if stride == 1 else "valid")
    y = layer(y)
    layer.set_weights([dw, b])
    y = tf.keras.layers.ReLU(6.0)(y)
    with contextlib.redirect_stdout(io.StringIO()):
        flat = tf.lite.TFLiteConverter.from_keras_model(tf.keras.Model(x, y)).convert()
    return flat, dw, b


def tflite_to_custom(flat: bytes, stride: int) -> bytes:
    """The model's DEPTHWISE_CONV_2D (and the PAD before it) replaced by the custom op
    Depthwise3x3Relu6 (stride in its custom_options); constant data 64-byte aligned."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    m = flatbuffer_utils.read_model_from_bytearray(bytearray(flat))
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = schema.BuiltinOperator.CUSTOM
    code.customCode, code.version = "Depthwise3x3Relu6", 1
    m.operatorCodes.append(code)
    g = m.subgraphs[0]
    kept, padded = [], {}
    for op in g.operators:
        oc = m.operatorCodes[op.opcodeIndex]
        kind = max(oc.builtinCode, oc.deprecatedBuiltinCode)
        if kind == schema.BuiltinOperator.PAD:
            padded[op.outputs[0]] = op.inputs[0]
            continue
        if kind == schema.BuiltinOperator.DEPTHWISE_CONV_2D:
            op.opcodeIndex = len(m.operatorCodes) - 1
            op.builtinOptionsType, op.builtinOptions = 0, None
            op.customOptions, op.customOptionsFormat = [stride], 0
            op.inputs[0] = padded.get(op.inputs[0], op.inputs[0])
        kept.append(op)
    g.operators = kept
    return aligned_buffers(m, flatbuffer_utils)


def aligned_buffers(m, flatbuffer_utils, align: int = 64) -> bytes:
    """Constant data moved behind the flatbuffer at 64-byte offsets (Buffer.offset/size): LiteRT's
    custom-op dispatcher wraps each input in a host-memory tensor buffer, which must be 64-byte
    aligned ("Unaligned host memory pointer" otherwise), and a flatbuffer aligns data to 16."""
    blobs = []
    for buf in m.buffers:
        if buf.data is not None and len(buf.data) > 0:
            blobs.append((buf, bytes(bytearray(buf.data))))
            buf.data, buf.offset, buf.size = None, 2, len(blobs[-1][1])  # placeholder offset
    first = bytes(flatbuffer_utils.convert_object_to_bytearray(m))
    pos = -(-len(first) // align) * align
    for buf, data in blobs:
        buf.offset = pos
        pos = -(-(pos + len(data)) // align) * align
    out = bytearray(flatbuffer_utils.convert_object_to_bytearray(m))
    assert len(out) == len(first)
    for buf, data in blobs:
        out += bytes(buf.offset - len(out)) + data
    return bytes(out)


class LiteRtRunner:
    """One .tflite model through LiteRT's CompiledModel (CPU), via depthwise_litert.c."""

    def __init__(self, lib, path: Path, custom: bool):
        import ctypes

        st, step = ctypes.c_int(), ctypes.c_int()
        with quiet_stderr() as log:
            self.h = lib.dw_litert_open(str(path).encode(), int(custom), ctypes.byref(st), ctypes.byref(step))
        if not self.h:
            raise RuntimeError(
                f"LiteRT refused {path.name}: status {st.value} at step {step.value}: "
                + " | ".join(log.read().splitlines()[-3:])
            )
        self.lib = lib

    def run(self) -> None:
        if self.lib.dw_litert_run(self.h) != 0:
            raise RuntimeError("LiteRtRunCompiledModel failed")

    def __call__(self, x: np.ndarray, out_shape) -> np.ndarray:
        y = np.zeros(out_shape, np.float32)
        self.lib.dw_litert_set_input(self.h, x.ctypes.data, x.nbytes)
        with quiet_stderr() as log:
            rc = self.lib.dw_litert_run(self.h)
        if rc != 0:
            raise RuntimeError("LiteRT run failed: " + " | ".join(log.read().splitlines()[-4:]))
        self.lib.dw_litert_get_output(self.h, y.ctypes.data, y.nbytes)
        return y


@contextlib.contextmanager
def quiet_stderr():
    """LiteRT logs to the process's stderr (fd 2): kept aside, readable for a failure's words."""
    with tempfile.TemporaryFile(mode="w+") as f:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(f.fileno(), 2)
        try:
            yield f
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            f.seek(0)


def load_litert_library(path: Path):
    import ctypes

    lib = ctypes.CDLL(str(path))
    lib.dw_litert_open.restype = ctypes.c_void_p
    lib.dw_litert_open.argtypes = [
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_int),
    ]
    for f in ("dw_litert_set_input", "dw_litert_get_output"):
        getattr(lib, f).argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    lib.dw_litert_run.argtypes = [ctypes.c_void_p]
    lib.dw_litert_close.argtypes = [ctypes.c_void_p]
    lib.dw_litert_close.restype = None
    return lib


def run_tflite(kernel_dir: Path, litert_include: Path | None, rounds: int) -> None:
    print("\n## TFLite (LiteRT): the custom op through LiteRT's C API (LiteRtCustomOpKernel)")
    missing = [m for m in ("ai_edge_litert", "tensorflow") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"skipped: {', '.join(missing)} not installed in this interpreter")
        return
    if litert_include is None or not (litert_include / "litert/c/litert_custom_op_kernel.h").exists():
        print(
            f"skipped: no litert/c/litert_custom_op_kernel.h under {litert_include}: LiteRT's C "
            "headers are in no wheel (ai-edge-litert ships libLiteRt.so and no .h); give "
            "--litert-include (LiteRT's source at the wheel's release)"
        )
        return
    from importlib import metadata

    litert_dir = Path(importlib.util.find_spec("ai_edge_litert").submodule_search_locations[0])
    rng = np.random.default_rng(67)
    with tempfile.TemporaryDirectory() as d:
        lib_path, cmd = build_litert_library(kernel_dir, Path(d), litert_include, litert_dir)
        print(
            f"ai-edge-litert {metadata.version('ai-edge-litert')}, tensorflow-cpu (converter) "
            f"{metadata.version('tensorflow-cpu')}; built: "
            + " ".join(Path(c).name if c.endswith(".c") else c for c in cmd[1:])
        )
        lib = load_litert_library(lib_path)
        src = (HERE / "depthwise_litert.c").read_text()
        op_part = src.split("// -----")[0]
        user_py = "".join(inspect.getsource(f) for f in (tflite_to_custom, aligned_buffers))
        print(
            f"what the user writes for LiteRT: depthwise_litert.c {len(src.splitlines())} lines "
            f"({c_code_lines(src)} of code; the op alone {c_code_lines(op_part)}, the rest loads "
            f"and runs a model from C since Python's API cannot take the op), Python: graph "
            f"rewrite {len(user_py.splitlines())} lines ({code_lines(user_py, '#')} of code)"
        )
        print(
            f"one layer, {rounds} paired rounds, median per call [min-max of rounds]; LiteRT's "
            "own arm is its CPU path (XNNPACK)"
        )
        print(
            f"{'H x W x C /s':>18} | {'LiteRT built-in':>28} | {'LiteRT + custom op':>28} | "
            "custom/built-in | max |diff| vs built-in, vs numpy"
        )
        for h, w, c, s in TFL_SHAPES:
            flat, dw, b = tflite_builtin_model(h, w, c, s, rng)
            paths = {"builtin": Path(d) / "b.tflite", "custom": Path(d) / "c.tflite"}
            paths["builtin"].write_bytes(flat)
            paths["custom"].write_bytes(tflite_to_custom(flat, s))
            runners = {k: LiteRtRunner(lib, p, k == "custom") for k, p in paths.items()}
            x = rng.standard_normal((1, h, w, c)).astype(np.float32)
            oh, ow = (h - 1) // s + 1, (w - 1) // s + 1
            ys = {k: r(x, (1, oh, ow, c)) for k, r in runners.items()}
            xp = np.pad(x[0].astype(np.float64), ((1, 1), (1, 1), (0, 0)))
            ref = sum(
                xp[ky : ky + s * (oh - 1) + 1 : s, kx : kx + s * (ow - 1) + 1 : s, :] * dw[ky, kx, :, 0]
                for ky in range(3)
                for kx in range(3)
            )
            ref = np.clip(ref + b, 0, 6)
            d_builtin = float(np.abs(ys["custom"] - ys["builtin"]).max())
            d_ref = max(float(np.abs(y[0] - ref).max()) for y in ys.values())
            t = paired({k: r.run for k, r in runners.items()}, rounds)
            print(
                f"{f'{h}x{w}x{c} /{s}':>18} | {fmt_us(t['builtin']):>28} | {fmt_us(t['custom']):>28} | "
                f"{fmt_ratio(t['custom'], t['builtin'])} | {d_builtin:.2e}, {d_ref:.2e}"
            )
            if max(d_builtin, d_ref) > 1e-4:
                print("  MISMATCH")
            for r in runners.values():
                lib.dw_litert_close(r.h)


# ---------------------------------------------------------------------------------------------
# 4b. TFLite: what the wheels offer a custom op (the facts, from the files).


def dynamic_symbols(path: Path) -> list[str]:
    nm = shutil.which("nm")
    if not nm:
        return []
    out = subprocess.run([nm, "-D", "--defined-only", str(path)], capture_output=True, text=True)
    return [line.split()[-1] for line in out.stdout.splitlines() if line.strip()]


def tflite_facts() -> None:
    print("\n## TFLite: what the installed wheels give a custom op")
    for pkg in ("ai_edge_litert", "tensorflow"):
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            print(f"{pkg}: not installed in this interpreter")
            continue
        root = Path(list(spec.submodule_search_locations)[0])
        from importlib import metadata

        dist = {"ai_edge_litert": "ai-edge-litert", "tensorflow": "tensorflow-cpu"}[pkg]
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            dist, version = "tensorflow", metadata.version("tensorflow")
        headers = [
            p
            for p in root.rglob("*.h")
            if "lite" in str(p.relative_to(root)).split(os.sep)[:3] or "tensorflow/lite" in str(p)
        ]
        tfl_headers = sorted(
            str(p.relative_to(root))
            for p in headers
            if re.search(r"lite/(core/)?c/(common|c_api)\.h$", str(p))
        )
        print(
            f"{dist} {version}: {len(headers)} header files under */lite/*; "
            f"TFLite's C API headers (lite/c/common.h, lite/c/c_api.h, lite/core/c/*): "
            f"{tfl_headers or 'none'}"
        )
        for so in sorted(root.rglob("*.so*")):
            if (
                "lite" not in so.name.lower()
                and "tflite" not in str(so).lower()
                and so.name != "libtensorflow_cc.so.2"
            ):
                continue
            syms = dynamic_symbols(so)
            tfl = [s for s in syms if s.startswith(("TfLite", "_ZN6tflite"))]
            add_custom = [s for s in syms if "MutableOpResolver" in s and "AddCustom" in s]
            litert_custom = [s for s in syms if s.startswith("LiteRtAddCustomOpKernelOption")]
            print(
                f"  {so.relative_to(root)}: {len(syms)} exported symbols, {len(tfl)} TfLite*/tflite::, "
                f"MutableOpResolver::AddCustom: {'yes' if add_custom else 'no'}, "
                f"LiteRtAddCustomOpKernelOption: {'yes' if litert_custom else 'no'}"
            )
        for py in (root / "interpreter.py", root / "lite/python/interpreter.py"):
            if py.exists():
                text = py.read_text()
                pub = re.search(r"class Interpreter\b.*?def __init__\((.*?)\):", text, re.S)
                print(
                    f"  {py.relative_to(root)}: Interpreter(custom_op_registerers=...) "
                    f"{'yes' if pub and 'custom_op_registerers' in pub.group(1) else 'no'}; "
                    f"InterpreterWithCustomOps: "
                    f"{'yes' if 'class InterpreterWithCustomOps' in text else 'no'}"
                )
