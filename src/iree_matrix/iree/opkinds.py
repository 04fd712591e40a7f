"""Op kinds: one vocabulary for where time goes in IREE (dispatches), torch (ATen operators) and ONNX
Runtime (graph nodes), so a report can say "IREE loses 9 ms on depthwise convolutions". A 1x1 convolution
counts as a matmul (IREE lowers it to one); a depthwise convolution is its own kind (IREE names it with an
odd count of dims). Fusion differs between them, so "elementwise" and "norm" are compared with care."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Optional

KINDS = (
    "conv",
    "depthwise",
    "matmul",
    "attention",
    "softmax",
    "norm",
    "reduction",
    "sort",
    "elementwise",
    "copy",
    "other",
)


def problem(kind: str) -> Optional[str]:
    """Why `kind` is no op kind of KINDS (a kernel.toml's `op_kinds`), None when it is one."""
    return None if kind in KINDS else f"expected one of {', '.join(KINDS)}"


# IREE dispatch names: the first matching pattern names the kind (order matters).
_IREE = (
    ("depthwise", re.compile(r"depthwise|dwconv", re.I)),
    ("attention", re.compile(r"attention", re.I)),
    ("softmax", re.compile(r"softmax", re.I)),
    ("conv", re.compile(r"conv", re.I)),
    ("matmul", re.compile(r"matmul|mmt4d|batch_mm|\bmm\b", re.I)),
    ("norm", re.compile(r"norm", re.I)),
    ("reduction", re.compile(r"reduction|reduce|\bsum\b|\bmean\b", re.I)),
    ("sort", re.compile(r"(?:^|_)(?:sort|topk)(?:_|$)", re.I)),  # iree_linalg_ext.sort / topk
    ("copy", re.compile(r"memcpy|transpose|\bpack|unpack|pad|copy|fill|gather|scatter|slice|_encode_", re.I)),
    ("elementwise", re.compile(r"elementwise|generic", re.I)),
)
_IREE_CONV_DIMS = re.compile(r"(?:^|_)conv_(\d+(?:x\d+)+)_")

# ATen operator names (without `aten::`), tried in order: the first pattern that matches wins.
_TORCH = (
    ("attention", re.compile(r"scaled_dot_product|flash_attention|efficient_attention")),
    ("softmax", re.compile(r"softmax")),
    ("norm", re.compile(r"(layer|batch|group|instance|rms)_norm")),
    ("matmul", re.compile(r"^(_?addmm|mm|bmm|matmul|linear|baddbmm|_mkl_linear|einsum|dot|addmv|mv)$")),
    ("reduction", re.compile(r"^(mean|sum|amax|amin|max|min|argmax|norm|.*pool.*)$")),
    ("sort", re.compile(r"^(sort|argsort|msort|topk|kthvalue)$")),
    (
        "copy",
        re.compile(
            r"^(copy_|clone|contiguous|cat|to|_to_copy|index_put_?|_index_put_impl_|index_copy_?"
            r"|constant_pad_nd|pad|embedding|index_select|stack|slice|select|expand|repeat"
            r"|flip|roll|gather|scatter_?|empty.*|zeros.*|ones.*|fill_|zero_|resize_"
            r"|as_strided|view|reshape|_unsafe_view|permute|transpose|t|flatten|unsqueeze"
            r"|squeeze|narrow|split|chunk|unbind|detach|lift_fresh)$"
        ),
    ),
)
# Packed by hand: a lookup table, several entries a line; formatted, it would take one line per entry.
_ORT = {
    "matmul": ("MatMul", "Gemm", "FusedMatMul", "MatMulNBits", "MatMulInteger", "Einsum", "FusedGemm"),
    "attention": ("Attention", "MultiHeadAttention", "GroupQueryAttention"),
    "softmax": ("Softmax", "LogSoftmax"),
    "norm": ("LayerNormalization", "BatchNormalization", "SimplifiedLayerNormalization",
             "SkipLayerNormalization", "SkipSimplifiedLayerNormalization", "InstanceNormalization",
             "GroupNormalization", "RMSNormalization"),
    "reduction": ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "GlobalAveragePool", "AveragePool",
                  "MaxPool", "GlobalMaxPool", "ArgMax"),
    "sort": ("TopK",),
    "copy": ("Transpose", "Reshape", "Concat", "Gather", "GatherElements", "Slice", "Split", "Expand",
             "Pad", "Cast", "Identity", "Squeeze", "Unsqueeze", "Flatten", "Shape", "ScatterND",
             "ScatterElements", "Tile", "ConstantOfShape", "Range", "MemcpyToHost", "MemcpyFromHost",
             "ReorderInput", "ReorderOutput"),
}  # fmt: skip


def _conv_kind(weight_shape: Optional[Sequence[int]]) -> str:
    """A convolution by its weight (OC, IC/groups, *kernel): pointwise is a matmul, one input
    channel per group (with more than one output channel) is depthwise."""
    if not weight_shape or len(weight_shape) < 3:
        return "conv"
    out_channels, in_per_group, *kernel = weight_shape
    if all(k == 1 for k in kernel):
        return "matmul"
    return "depthwise" if in_per_group == 1 and out_channels > 1 else "conv"


def of_dispatch(name: str) -> str:
    """An IREE dispatch (or its op part: `conv_112x112x32x3x3_f32`)."""
    if (dims := _IREE_CONV_DIMS.search(name)) and "depthwise" not in name.lower():
        return "depthwise" if len(dims.group(1).split("x")) % 2 == 1 else "conv"
    return next((kind for kind, pattern in _IREE if pattern.search(name)), "other")


def of_torch(op: str, weight_shape: Optional[Sequence[int]] = None) -> str:
    """A torch profiler event (`aten::mkldnn_convolution`) with its weight shape when it has one."""
    name = op.split("::", 1)[-1].lower()
    if "depthwise" in name:
        return "depthwise"
    if "conv" in name:  # lowercased above
        return _conv_kind(weight_shape)
    return next(
        (kind for kind, pattern in _TORCH if pattern.search(name)), "elementwise" if name else "other"
    )


def of_onnx(op_type: str, weight_shape: Optional[Sequence[int]] = None) -> str:
    """An ONNX Runtime node by its op type (`Conv`, `FusedConv`, `MatMul`...)."""
    if op_type in ("Conv", "FusedConv", "NhwcConv", "NhwcFusedConv", "ConvTranspose"):
        return _conv_kind(weight_shape)
    return next(
        (kind for kind, names in _ORT.items() if op_type in names), "elementwise" if op_type else "other"
    )


CLASSIFIERS: dict[str, Callable[..., str]] = {"iree": of_dispatch, "torch": of_torch, "onnxruntime": of_onnx}
