"""The depthwise 3x3 kernel of kernels/depthwise3x3 plugged into ONNX Runtime and into LiteRT
(TFLite) as a custom op, each beside the runtime's own depthwise convolution; and what IREE's route
asks of the same kernel (issue 67, item 4; the write-up is docs/kernels-compared.md).

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
import contextlib
import importlib.util
import inspect
import io
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OP_DOMAIN = "iree_matrix"
OP_NAME = "Depthwise3x3Relu6"
# MobileNetV2's depthwise layers (H, W, C, stride) at 224x224.
SHAPES = [
    (112, 112, 32, 1),
    (112, 112, 96, 2),
    (56, 56, 144, 1),
    (28, 28, 192, 1),
    (14, 14, 576, 1),
    (7, 7, 960, 1),
]


def cpu_name() -> str:
    info: dict[str, str] = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        k, _, v = line.partition(":")
        info.setdefault(k.strip(), v.strip())
    if not info:
        return platform.processor() or "unknown CPU"
    return (
        f"{info.get('model name', '?')} (family {info.get('cpu family', '?')} model "
        f"{info.get('model', '?')}), {os.cpu_count()} CPUs seen"
    )


def code_lines(text: str, comment: str) -> int:
    """Lines that are neither blank nor only a comment."""
    n = 0
    for line in text.splitlines():
        s = line.strip()
        if s and not s.startswith(comment) and not s.startswith("#!"):
            n += 1
    return n


def c_code_lines(text: str) -> int:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return code_lines(text, "//")


# ---------------------------------------------------------------------------------------------
# 1. The build (what the user runs).


def build_ort_library(
    kernel_dir: Path, out_dir: Path, ort_include: Path = HERE / "ort_include"
) -> tuple[Path, list[str]]:
    lib = out_dir / "libdepthwise_ort.so"
    cmd = [
        sys.executable,
        "-m",
        "ziglang",
        "cc",
        "-shared",
        "-fPIC",
        "-O3",
        "-march=native",
        "-std=c11",
        f"-I{ort_include}",
        f"-I{kernel_dir}",
        "-o",
        str(lib),
        str(HERE / "depthwise_ort.c"),
    ]
    subprocess.run(cmd, check=True)
    return lib, cmd


# ---------------------------------------------------------------------------------------------
# 2. What the user writes in Python for ONNX Runtime: a session with the library, and the graph.


def ort_session(model_bytes: bytes, library: Path | None):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if library is not None:
        so.register_custom_ops_library(str(library))
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def custom_node(x: str, w_hwc: str, bias: str, y: str, stride: int):
    from onnx import helper

    return helper.make_node(OP_NAME, [x, w_hwc, bias], [y], domain=OP_DOMAIN, stride=stride)


def single_layer_graphs(h: int, w: int, c: int, stride: int, rng) -> dict[str, bytes]:
    """Conv(group=C) + Clip(0, 6) three ways: ORT's (NCHW), the custom op (NHWC), the custom op
    between Transposes (NCHW in and out)."""
    from onnx import TensorProto, helper, numpy_helper

    wt = (rng.standard_normal((c, 1, 3, 3)) * 0.3).astype(np.float32)
    b = rng.standard_normal(c).astype(np.float32)
    oh, ow = (h - 1) // stride + 1, (w - 1) // stride + 1
    w_init = numpy_helper.from_array(wt, "W")
    w_hwc = numpy_helper.from_array(np.ascontiguousarray(wt[:, 0].transpose(1, 2, 0)), "W_hwc")
    b_init = numpy_helper.from_array(b, "B")
    lo = numpy_helper.from_array(np.array(0.0, np.float32), "lo")
    hi = numpy_helper.from_array(np.array(6.0, np.float32), "hi")
    nchw_in = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, c, h, w])
    nchw_out = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, c, oh, ow])
    nhwc_in = helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, h, w, c])
    nhwc_out = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, oh, ow, c])
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid(OP_DOMAIN, 1)]

    def model(nodes, inits, i, o):
        g = helper.make_graph(nodes, "dw", [i], [o], inits)
        return helper.make_model(g, opset_imports=opsets, ir_version=8).SerializeToString()

    conv = helper.make_node(
        "Conv",
        ["X", "W", "B"],
        ["t"],
        group=c,
        kernel_shape=[3, 3],
        pads=[1, 1, 1, 1],
        strides=[stride, stride],
    )
    clip = helper.make_node("Clip", ["t", "lo", "hi"], ["Y"])
    return {
        "ort_conv": model([conv, clip], [w_init, b_init, lo, hi], nchw_in, nchw_out),
        "custom_nhwc": model(
            [custom_node("X", "W_hwc", "B", "Y", stride)], [w_hwc, b_init], nhwc_in, nhwc_out
        ),
        "custom_nchw": model(
            [
                helper.make_node("Transpose", ["X"], ["xt"], perm=[0, 2, 3, 1]),
                custom_node("xt", "W_hwc", "B", "yt", stride),
                helper.make_node("Transpose", ["yt"], ["Y"], perm=[0, 3, 1, 2]),
            ],
            [w_hwc, b_init],
            nchw_in,
            nchw_out,
        ),
    }


def rewrite_depthwise(model):
    """MobileNetV2's ONNX: every Conv(group=C, 3x3, pad 1) whose one consumer is Clip(0, 6) becomes
    Transpose -> Depthwise3x3Relu6 -> Transpose. Returns the number rewritten."""
    from onnx import helper, numpy_helper

    g = model.graph
    inits = {i.name: i for i in g.initializer}
    consumers: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    const = {n.output[0]: n for n in g.node if n.op_type == "Constant"}

    def scalar(name):
        if name in inits:
            return float(numpy_helper.to_array(inits[name]))
        if name in const:
            return float(numpy_helper.to_array(const[name].attribute[0].t))
        return None

    new_nodes, drop, count = [], set(), 0
    for n in g.node:
        if id(n) in drop:
            continue
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        if n.op_type == "Conv" and len(n.input) == 3 and n.input[1] in inits:
            wt = numpy_helper.to_array(inits[n.input[1]])
            users = consumers.get(n.output[0], [])
            if (
                wt.shape[1] == 1
                and wt.shape[2:] == (3, 3)
                and a.get("group", 1) == wt.shape[0] > 1
                and list(a.get("pads", [])) == [1, 1, 1, 1]
                and list(a.get("dilations", [1, 1])) == [1, 1]
                and len(users) == 1
                and users[0].op_type == "Clip"
                and len(users[0].input) == 3
                and scalar(users[0].input[1]) == 0.0
                and scalar(users[0].input[2]) == 6.0
            ):
                clip = users[0]
                stride = int(a.get("strides", [1, 1])[0])
                hwc = numpy_helper.from_array(
                    np.ascontiguousarray(wt[:, 0].transpose(1, 2, 0)), n.input[1] + "_hwc"
                )
                g.initializer.append(hwc)
                x, y = n.input[0], clip.output[0]
                new_nodes += [
                    helper.make_node("Transpose", [x], [x + "_nhwc_" + str(count)], perm=[0, 2, 3, 1]),
                    custom_node(x + "_nhwc_" + str(count), hwc.name, n.input[2], y + "_nhwc", stride),
                    helper.make_node("Transpose", [y + "_nhwc"], [y], perm=[0, 3, 1, 2]),
                ]
                drop.add(id(clip))
                count += 1
                continue
        new_nodes.append(n)
    del g.node[:]
    g.node.extend(new_nodes)
    used = {i for n in g.node for i in n.input}
    kept = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(kept)
    model.opset_import.append(helper.make_opsetid(OP_DOMAIN, 1))
    return count


# ---------------------------------------------------------------------------------------------
# Timing: paired, interleaved rounds, one thread.


def bound_runner(sess, feed: dict[str, np.ndarray]):
    import onnxruntime as ort

    binding = sess.io_binding()
    for name, arr in feed.items():
        binding.bind_ortvalue_input(name, ort.OrtValue.ortvalue_from_numpy(arr))
    for o in sess.get_outputs():
        binding.bind_output(o.name, "cpu")

    def run():
        sess.run_with_iobinding(binding)

    return run, binding


MIN_S = 0.1  # seconds of calls per arm and round (--min-s)


def paired(runners: dict[str, object], rounds: int, min_s: float | None = None) -> dict[str, list[float]]:
    """Per round, each arm in a shuffled order runs calls for at least `min_s` seconds (the same
    count for every arm, fixed by the slowest in a warm-up); its figure is the mean time per call."""
    for r in runners.values():
        for _ in range(3):
            r()
    slowest = 0.0
    for r in runners.values():
        t0 = time.perf_counter()
        for _ in range(5):
            r()
        slowest = max(slowest, (time.perf_counter() - t0) / 5)
    calls = max(3, int((min_s or MIN_S) / max(slowest, 1e-7)))
    out: dict[str, list[float]] = {k: [] for k in runners}
    rnd = random.Random(67)
    for _ in range(rounds):
        order = list(runners)
        rnd.shuffle(order)
        for k in order:
            r = runners[k]
            t0 = time.perf_counter()
            for _ in range(calls):
                r()
            out[k].append((time.perf_counter() - t0) / calls)
    return out


def fmt_us(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1e6:9.1f} us [{min(xs) * 1e6:.1f}-{max(xs) * 1e6:.1f}]"


def fmt_ratio(a: list[float], b: list[float]) -> str:
    r = [x / y for x, y in zip(a, b)]
    return f"{statistics.median(r):.3f}x [{min(r):.3f}-{max(r):.3f}]"


def numpy_depthwise(x_chw: np.ndarray, w: np.ndarray, b: np.ndarray, s: int) -> np.ndarray:
    """The reference: float64 depthwise 3x3, zero padding 1, stride s, + bias, ReLU6 (C, H, W)."""
    c, h, wd = x_chw.shape
    oh, ow = (h - 1) // s + 1, (wd - 1) // s + 1
    xp = np.pad(x_chw.astype(np.float64), ((0, 0), (1, 1), (1, 1)))
    acc = sum(
        xp[:, ky : ky + s * (oh - 1) + 1 : s, kx : kx + s * (ow - 1) + 1 : s]
        * w.reshape(c, 3, 3)[:, ky, kx][:, None, None]
        for ky in range(3)
        for kx in range(3)
    )
    return np.clip(acc + b[:, None, None], 0, 6)


def check_small_shapes(lib: Path) -> None:
    """Channel tails (not a multiple of 16), odd widths, both strides: custom op vs numpy."""
    from onnx import load_from_string, numpy_helper

    rng = np.random.default_rng(1)
    worst = 0.0
    for h, w, c, s in ((9, 7, 19, 1), (9, 7, 35, 2), (8, 8, 16, 2), (5, 3, 3, 1)):
        g = single_layer_graphs(h, w, c, s, rng)
        inits = {i.name: numpy_helper.to_array(i) for i in load_from_string(g["ort_conv"]).graph.initializer}
        x = rng.standard_normal((1, c, h, w)).astype(np.float32)
        y = (
            ort_session(g["custom_nhwc"], lib)
            .run(None, {"X": np.ascontiguousarray(x.transpose(0, 2, 3, 1))})[0][0]
            .transpose(2, 0, 1)
        )
        worst = max(worst, float(np.abs(y - numpy_depthwise(x[0], inits["W"], inits["B"], s)).max()))
    print(
        f"custom op vs a float64 numpy reference on 9x7x19 /1, 9x7x35 /2, 8x8x16 /2, 5x3x3 /1: "
        f"max |diff| {worst:.2e}" + ("" if worst < 1e-5 else "  MISMATCH")
    )


def run_single_layers(lib: Path, rounds: int) -> None:
    check_small_shapes(lib)
    rng = np.random.default_rng(67)
    print(
        "\n## ONNX Runtime: one depthwise layer (Conv group=C + Clip(0,6)), one thread, "
        f"{rounds} paired rounds; median per call [min-max of rounds]"
    )
    print(
        f"{'H x W x C /s':>18} | {'ORT Conv (NCHW)':>28} | {'custom op (NHWC)':>28} | "
        f"{'custom op + 2 Transposes':>28} | custom/Conv | custom+T/Conv | max |diff|"
    )
    for h, w, c, s in SHAPES:
        graphs = single_layer_graphs(h, w, c, s, rng)
        x = rng.standard_normal((1, c, h, w)).astype(np.float32)
        x_nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        sess = {k: ort_session(m, None if k == "ort_conv" else lib) for k, m in graphs.items()}
        feeds = {"ort_conv": {"X": x}, "custom_nhwc": {"X": x_nhwc}, "custom_nchw": {"X": x}}
        ref = sess["ort_conv"].run(None, feeds["ort_conv"])[0]
        got = sess["custom_nhwc"].run(None, feeds["custom_nhwc"])[0].transpose(0, 3, 1, 2)
        got_t = sess["custom_nchw"].run(None, feeds["custom_nchw"])[0]
        diff = max(float(np.abs(ref - got).max()), float(np.abs(ref - got_t).max()))
        runners = {}
        keep = []
        for k in graphs:
            run, binding = bound_runner(sess[k], feeds[k])
            runners[k] = run
            keep.append(binding)
        t = paired(runners, rounds)
        print(
            f"{f'{h}x{w}x{c} /{s}':>18} | {fmt_us(t['ort_conv']):>28} | "
            f"{fmt_us(t['custom_nhwc']):>28} | {fmt_us(t['custom_nchw']):>28} | "
            f"{fmt_ratio(t['custom_nhwc'], t['ort_conv'])} | "
            f"{fmt_ratio(t['custom_nchw'], t['ort_conv'])} | {diff:.2e}"
        )
        if diff > 1e-4:
            print(f"  MISMATCH: custom op differs from ORT's Conv by {diff:.3e}")


def run_mobilenet(lib: Path, rounds: int) -> None:
    print(
        "\n## ONNX Runtime: MobileNetV2 (scripts/models/mobilenet_v2.py, seed 0: torchvision's "
        "layout, calibrated BatchNorms), one thread"
    )
    if importlib.util.find_spec("torch") is None:
        print("skipped: torch not installed in this interpreter")
        return
    import onnx
    import torch

    sys.path.insert(0, str(REPO / "scripts" / "models"))
    import mobilenet_v2  # the project's model, plain torch

    spec = mobilenet_v2.build(0)
    net, (x,) = spec.module, spec.inputs
    with torch.no_grad():
        want = net(x).numpy()
    buf = io.BytesIO()
    torch.onnx.export(net, (x,), buf, opset_version=17, dynamo=False, input_names=["x"], output_names=["y"])
    base = onnx.load_from_string(buf.getvalue())
    custom = onnx.load_from_string(buf.getvalue())
    n = rewrite_depthwise(custom)
    convs = sum(1 for nd in base.graph.node if nd.op_type == "Conv")
    print(f"rewritten: {n} depthwise Conv + Clip of {convs} Conv nodes")
    s_base = ort_session(base.SerializeToString(), None)
    s_custom = ort_session(custom.SerializeToString(), lib)
    feed = {"x": x.numpy()}
    y_base = s_base.run(None, feed)[0]
    y_custom = s_custom.run(None, feed)[0]
    print(
        f"max |diff|: ORT vs torch {np.abs(y_base - want).max():.2e}, "
        f"ORT + custom op vs torch {np.abs(y_custom - want).max():.2e}, "
        f"vs ORT {np.abs(y_custom - y_base).max():.2e}"
    )
    rb, kb = bound_runner(s_base, feed)
    rc, kc = bound_runner(s_custom, feed)
    t = paired({"ort": rb, "custom": rc}, rounds, min_s=3 * MIN_S)
    print(f"ORT alone:             {fmt_us(t['ort'])}")
    print(f"ORT + custom op:       {fmt_us(t['custom'])}")
    print(f"custom / ORT (paired): {fmt_ratio(t['custom'], t['ort'])}")
    # Where the time goes: ORT's own profiler, one more session of each.
    # ORT names its fused NCHWc nodes after their output (`<Clip's output>_nchwc`).
    dw_out = {
        nd.output[0]
        for nd in base.graph.node
        if nd.op_type == "Conv" and any(a.name == "group" and a.i > 1 for a in nd.attribute)
    }
    depthwise = dw_out | {
        nd.output[0] for nd in base.graph.node if nd.op_type == "Clip" and nd.input[0] in dw_out
    }
    depthwise |= {nd.name for nd in base.graph.node if nd.output[0] in depthwise}
    print("ORT's profiler, mean per run (20 runs; the depthwise Conv nodes apart):")
    for label, model_bytes, library in (
        ("ORT alone", base.SerializeToString(), None),
        ("ORT + custom op", custom.SerializeToString(), lib),
    ):
        print(f"  {label}: " + profile_by_op(model_bytes, library, feed, depthwise))


def profile_by_op(model_bytes: bytes, library: Path | None, feed, depthwise: set[str]) -> str:
    import json

    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    so.enable_profiling = True
    with tempfile.TemporaryDirectory() as d:
        so.profile_file_prefix = os.path.join(d, "p")
        if library is not None:
            so.register_custom_ops_library(str(library))
        s = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])
        for _ in range(20):
            s.run(None, feed)
        events = json.loads(Path(s.end_profiling()).read_text())
    per_op: dict[str, float] = {}
    runs = 0
    for e in events:
        if e.get("cat") == "Session" and e.get("name") == "model_run":
            runs += 1
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time"):
            op = e.get("args", {}).get("op_name", "?")
            node = e["name"][: -len("_kernel_time")]
            if op == "Conv" and (node in depthwise or node.removesuffix("_nchwc") in depthwise):
                op = "Conv (depthwise)"
            per_op[op] = per_op.get(op, 0.0) + e["dur"]
    top = sorted(per_op.items(), key=lambda kv: -kv[1])[:6]
    return ", ".join(f"{op} {us / max(runs, 1) / 1000:.3f} ms" for op, us in top) + " (per run)"


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
    cmd = [
        sys.executable,
        "-m",
        "ziglang",
        "cc",
        "-shared",
        "-fPIC",
        "-O3",
        "-march=native",
        "-std=c11",
        f"-I{litert_include}",
        f"-I{kernel_dir}",
        f"-L{litert_lib_dir}",
        "-lLiteRt",
        f"-Wl,-rpath,{litert_lib_dir}",
        "-o",
        str(lib),
        str(HERE / "depthwise_litert.c"),
    ]
    subprocess.run(cmd, check=True)
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
    global MIN_S
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
    MIN_S = args.min_s
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
