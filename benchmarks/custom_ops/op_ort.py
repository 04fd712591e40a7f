"""compare.py's ONNX Runtime steps: the custom-op library's build, what the user writes in Python
for ORT (the session, the custom node, the MobileNetV2 rewrite), the single layers and MobileNetV2
checked and timed in paired rounds, and ORT's profiler by op."""

from __future__ import annotations

import importlib.util
import io
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import op_common
from op_common import HERE, OP_DOMAIN, OP_NAME, REPO, SHAPES, fmt_ratio, fmt_us, numpy_depthwise, paired

# ---------------------------------------------------------------------------------------------
# 1. The build (what the user runs).


def build_ort_library(
    kernel_dir: Path, out_dir: Path, ort_include: Path = HERE / "ort_include"
) -> tuple[Path, list[str]]:
    lib = out_dir / "libdepthwise_ort.so"
    cmd = op_common.build_shared_library(
        HERE / "depthwise_ort.c", lib, [f"-I{ort_include}", f"-I{kernel_dir}"]
    )
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
# Timing ORT's sessions: inputs and outputs bound once, the call alone timed.


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
    # torch annotates `f` as a path, but its TorchScript exporter (dynamo=False) writes to a file object too.
    torch.onnx.export(
        net,
        (x,),
        buf,  # type: ignore[arg-type, unused-ignore]
        opset_version=17,
        dynamo=False,
        input_names=["x"],
        output_names=["y"],
    )
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
    t = paired({"ort": rb, "custom": rc}, rounds, min_s=3 * op_common.MIN_S)
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
