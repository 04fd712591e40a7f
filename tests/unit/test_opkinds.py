"""One op-kind vocabulary for IREE's dispatches, torch's ATen ops and ONNX Runtime's nodes, and the
in-context dispatch profile's parser (a real `iree-profile dispatch --format=jsonl` as fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.bundle_runner import gap as runner_gap
from iree_matrix.findings.gap import kind_gaps, op_kind_times
from iree_matrix.iree import opkinds

PROFILES = Path(__file__).parents[1] / "data" / "profiles"


@pytest.mark.parametrize(
    "name, kind",
    [
        ("main$async_dispatch_1_conv_32x112x112x3x3x3_f32", "conv"),  # stem: OC x H x W x IC x KH x KW
        ("main$async_dispatch_2_conv_112x112x32x3x3_f32", "depthwise"),  # H x W x C x KH x KW
        ("main$async_dispatch_3_matmul_like_16x12544x32_f32", "matmul"),  # a 1x1 conv, lowered
        ("forward$async_dispatch_9_softmax_6x1500x1500xf32", "softmax"),
        ("main$async_dispatch_4_attention_6x1500x64x1500x64_f32", "attention"),
        ("main$async_dispatch_0_slow_memcpy", "copy"),
        ("main$async_dispatch_5_reduction_1280x49_i1xf32xf32", "reduction"),
        ("main$async_dispatch_6_elementwise_1280_f32", "elementwise"),
        ("main$async_dispatch_4_matmul_like_96x112x112x16_f32", "matmul"),
        ("main$async_dispatch_1_conv_2d_nchw_fchw_1x32x112x112x3x3x3_f32", "conv"),
        ("main$async_dispatch_7_depthwise_conv_2d_nhwc_hwc_1x56x56x144x3x3_f32", "depthwise"),
        ("main$async_dispatch_3_elementwise_1x96x56x56_f32", "elementwise"),
        ("main$async_dispatch_5_reduction_384_f32", "reduction"),
        ("main$async_dispatch_5_sort_1x64x64xf32_dispatch_tensor_store", "sort"),  # a kNN's topk
        ("main$async_dispatch_7_something", "other"),
    ],
)
def test_iree_dispatches(name, kind):
    assert opkinds.of_dispatch(name) == kind


@pytest.mark.parametrize(
    "op, weight, kind",
    [
        ("aten::mkldnn_convolution", [32, 3, 3, 3], "conv"),
        ("aten::mkldnn_convolution", [32, 1, 3, 3], "depthwise"),
        ("aten::mkldnn_convolution", [16, 32, 1, 1], "matmul"),  # pointwise = matmul, as IREE sees it
        ("aten::convolution", [384, 80, 3], "conv"),  # 1-D
        ("aten::addmm", None, "matmul"),
        ("aten::linear", None, "matmul"),
        ("aten::_scaled_dot_product_flash_attention_for_cpu", None, "attention"),
        ("aten::_softmax", None, "softmax"),
        ("aten::native_layer_norm", None, "norm"),
        ("aten::_native_batch_norm_legit_no_training", None, "norm"),
        ("aten::adaptive_avg_pool2d", None, "reduction"),
        ("aten::topk", None, "sort"),
        ("aten::copy_", None, "copy"),
        ("aten::hardtanh", None, "elementwise"),
        ("aten::gelu", None, "elementwise"),
    ],
)
def test_torch_ops(op, weight, kind):
    assert opkinds.of_torch(op, weight) == kind


@pytest.mark.parametrize(
    "op, weight, kind",
    [
        ("FusedConv", [32, 1, 3, 3], "depthwise"),
        ("Conv", [32, 3, 3, 3], "conv"),
        ("Conv", [16, 32, 1, 1], "matmul"),
        ("MatMul", None, "matmul"),
        ("Gemm", None, "matmul"),
        ("Softmax", None, "softmax"),
        ("LayerNormalization", None, "norm"),
        ("GlobalAveragePool", None, "reduction"),
        ("TopK", None, "sort"),
        ("Transpose", None, "copy"),
        ("Clip", None, "elementwise"),
    ],
)
def test_onnx_nodes(op, weight, kind):
    assert opkinds.of_onnx(op, weight) == kind


def test_real_dispatch_profile_parses_and_groups():
    """MobileNetV2 through IREE 3.13.0: 3 repetitions x 10 calls of iree-benchmark-module with the
    HAL profiler on, `iree-profile dispatch --format=jsonl` of the capture."""
    text = (PROFILES / "mobilenet_v2-iree3.13.0-dispatch.jsonl").read_text()
    rows = runner_gap.parse_dispatch_groups(text, calls=30)
    assert len(rows) == 37  # the module's 37 executable functions
    assert all(r["per_call"] >= 1 for r in rows)  # each dispatched at least once per call
    assert rows == sorted(rows, key=lambda r: r["ms_per_call"], reverse=True)
    total = sum(r["ms_per_call"] for r in rows)
    assert 5 < total < 200  # ms per call: the model runs in tens of ms
    kinds = op_kind_times({"dispatches": rows}, "iree")
    assert kinds is not None and sum(kinds.values()) == pytest.approx(total)
    assert {"conv", "depthwise", "matmul"} <= set(kinds)
    assert kinds["depthwise"] > kinds["conv"]  # 17 depthwise layers against one stem conv


def test_peer_profile_grouping_and_absent_profiles():
    profile = {"ops": [
        {"op": "aten::mkldnn_convolution", "weight_shape": [32, 1, 3, 3], "ms_per_call": 2.0},
        {"op": "aten::mkldnn_convolution", "weight_shape": [32, 16, 1, 1], "ms_per_call": 1.0},
        {"op": "aten::addmm", "weight_shape": None, "ms_per_call": 0.5},
    ]}  # fmt: skip
    assert op_kind_times(profile, "torch") == {"depthwise": 2.0, "matmul": 1.5}
    assert op_kind_times({"unavailable": "no profiler"}, "onnxruntime") is None
    assert op_kind_times(None, "torch") is None


def test_kind_gaps_compare_unfused_attention_with_its_parts():
    # The Whisper encoder: IREE runs attention as one op, ONNX Runtime as MatMul + Softmax. Kind by
    # kind, "attention 1770 ms vs 0 ms" and "matmul 40 vs 89" would be read as IREE losing only on
    # attention and winning on matmul; the three compare only together.
    iree = {"attention": 1770.0, "matmul": 40.0, "softmax": 2.0, "conv": 163.0}
    ort = {"matmul": 89.2, "softmax": 10.5, "conv": 4.65}
    gaps = dict((k, g) for g, k in kind_gaps(iree, ort))
    assert gaps == pytest.approx({"attention+matmul+softmax": 1812.0 - 99.7, "conv": 163.0 - 4.65})
    assert [k for _, k in kind_gaps(iree, ort)] == ["attention+matmul+softmax", "conv"]  # largest first
    # Both sides with an attention kind (or neither): kind by kind, a kind one side lacks counts 0 there.
    both = {"attention": 3.0, "matmul": 1.0}
    assert kind_gaps(both, {"attention": 1.0, "reduction": 0.5}) == [
        (2.0, "attention"),
        (1.0, "matmul"),
        (-0.5, "reduction"),
    ]
    assert kind_gaps({"conv": 1.0}, {"conv": 1.0}) == [(0.0, "conv")]
