"""The spec generator (kernel/iree/spec_gen.py) on torch's adaptive average pool as IREE 3.13.0 prints it
after preprocessing (tests/data/kernels/pool_model.py, plain and with the channels-last pipeline):
a DAG whose generic reads another of its ops inside its body, and transposes that move no element.
Whether the spec applies and matches torch is tests/integration/test_kernel_generated.py's."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.iree import torch_ops
from iree_matrix.iree.ir_ops import parse_ops
from iree_matrix.kernel.iree import spec_gen

DATA = Path(__file__).parents[1] / "data" / "kernels"

# tests/data/kernels/pool_model.py (a squeeze-excitation block) as turbine 3.9.0 + torch 2.13.0 export it
# and IREE 3.13.0 prints it after preprocessing, plain and with the channels-last pipeline.
POOL = spec_gen.Declaration(
    "global_avg_pool",
    "global_avg_pool",
    op="aten.adaptive_avg_pool2d",
    where=(("output_size", "1x1"),),
    args=("input:0", "output", "input:0[2]", "input:0[3]", "workgroup.id", "workgroup.count"),
)


def test_a_pool_gathering_from_its_own_pad_is_one_dag_whose_input_the_swap_fetches_through_the_body() -> None:
    """torch-mlir lowers adaptive_avg_pool2d(x, 1) to a tensor.pad of x that a generic's body reads
    by tensor.extract (no operand reads the pad), then a divide: the pad was a second output ("has 2
    outputs"). It is part of the DAG, and the swap reaches x by the body's tensor.extract."""
    lines = torch_ops.model_lines((DATA / "pool_model.mlir").read_text())
    assert torch_ops.lines_of(lines, "aten.adaptive_avg_pool2d", {"output_size": "1x1"}) == ["20"]
    assert torch_ops.lines_of(lines, "aten.adaptive_avg_pool2d", {"output_size": "2x2"}) == []
    plain = (DATA / "pool_preprocessed_3.13.0.mlir").read_text()
    text, protos = spec_gen.spec(plain, {}, POOL, "k.o", True, lines)
    assert protos[0].startswith(
        "// in0: tensor<1x32x12x12xf32> (4608 elements, row-major); out: tensor<1x32x1x1x"
    )
    assert "size_t s2 /* 12 */,\n    size_t s3 /* 12 */," in protos[0]
    swap = text.split("@swap_global_avg_pool_0", 1)[1]
    assert 'transform.structured.match ops{["tensor.extract"]} in %h0_0' in swap
    assert "%h0_1 = transform.get_producer_of_operand %h0_1_in[0]" in swap  # the pad: its operand 0 is x
    assert "%x0 = transform.get_operand %h0_1[0]" in swap
    assert "tensor.pad" in text.split("@match_global_avg_pool_0", 1)[1].split("@swap", 1)[0]
    transposed = (DATA / "pool_channels_last_3.13.0.mlir").read_text()  # the pad made NHWC, moved back
    with pytest.raises(spec_gen.NotGenerated, match=r"line 20\) reads its input through a linalg.transpose"):
        spec_gen.spec(transposed, {}, POOL, "k.o", True, lines)


def test_a_transpose_of_size_one_dims_moves_nothing() -> None:
    """The channels-last pass makes a pool's [1, C, 1, 1] [1, 1, 1, C]: the same elements in the same
    order (MobileNetV3-small's squeeze-excitation pools), not another layout for the kernel."""
    op = "%t = linalg.transpose ins(%a : tensor<{}>) outs(%b : tensor<1x1x1x16xf32>) permutation = [{}]"
    text = "util.func @f() {{\n  " + op + "\n}}"
    moves = [spec_gen._moves(parse_ops(text.format(*case))[0]) for case in (
        ("1x16x1x1xf32", "0, 2, 3, 1"), ("1x16x4x4xf32", "0, 2, 3, 1"), ("1x16x4x1xf32", "0, 2, 1, 3"),
    )]  # fmt: skip
    assert moves == [False, True, True]
