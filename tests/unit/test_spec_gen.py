"""The spec generator (iree/spec_gen.py) on IR captured from real compilers: the hardswish model of
tests/data/kernels/hswish_model.py as IREE 3.9.0 and 3.13.0 print it after preprocessing
(`--compile-to=preprocessing --mlir-print-debuginfo`, the main$async function). Whether the spec
applies and matches torch is tests/integration/test_kernel_generated.py's."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.iree import spec_gen

DATA = Path(__file__).parents[1] / "data" / "kernels"
# model.mlir's lines 3-5 are the Linear's ops, 6 the Hardswish (the export's model.where.json).
MODULES = {"3": "fc Linear", "4": "fc Linear", "5": "fc Linear", "6": "act Hardswish"}
DECLARED = spec_gen.Declaration("hswish", "hswish_kernel", module="act")


@pytest.mark.parametrize("release", ["3.9.0", "3.13.0"])
def test_the_hardswish_dag_is_matched_as_printed(release: str) -> None:
    ir = (DATA / f"hswish_preprocessed_{release}.mlir").read_text()
    text, protos = spec_gen.spec(ir, MODULES, DECLARED, "hswish.o")
    # One input (the Linear's output), five generics, the 6.0 tensor constant kept in the pattern.
    assert "^bb0(%v0: tensor<4x16xf32>):" in text
    assert text.count("linalg.generic") == 5 and "dense<6.000000e+00> : tensor<f32>" in text
    # The three generics reading a scalar constant from outside their body: name only, the constant inside.
    assert text.count('attrs =  {"match.operation_name_only"}') == 3
    assert "arith.constant 3.000000e+00 : f32" in text
    assert "linalg.matmul" not in text and "loc(" not in text
    assert "count(%device: !hal.device)" in text and '"hal.executable.source"()' in text
    assert "func.func private @hswish_kernel(memref<64xf32>, memref<64xf32>)" in text
    assert protos == [
        "// in0: tensor<4x16xf32> (64 elements, row-major); out: tensor<4x16xf32> (64 elements, row-major)\n"
        '__attribute__((visibility("protected"))) void hswish_kernel(\n'
        "    const float* in0_base, const float* in0, size_t in0_offset, size_t in0_size, "
        "size_t in0_stride,\n"
        "    float* out_base, float* out, size_t out_offset, size_t out_size, size_t out_stride);"
    ]


def test_before_3_4_the_workgroup_count_is_a_bare_region() -> None:
    ir = (DATA / "hswish_preprocessed_3.9.0.mlir").read_text()
    text, _ = spec_gen.spec(ir, MODULES, DECLARED, "hswish.o", counted=False)
    assert "count(" not in text and "^bb0(%device: !hal.device):" in text


def test_a_class_declaration_matches_too() -> None:
    ir = (DATA / "hswish_preprocessed_3.13.0.mlir").read_text()
    by_class = spec_gen.Declaration("hswish", "hswish_kernel", klass="Hardswish")
    got, want = (spec_gen.spec(ir, MODULES, d, "hswish.o") for d in (by_class, DECLARED))
    assert got[0].split("module attributes")[1] == want[0].split("module attributes")[1] and got[1] == want[1]


def test_what_cannot_be_generated_is_one_line() -> None:
    ir = (DATA / "hswish_preprocessed_3.13.0.mlir").read_text()
    with pytest.raises(
        spec_gen.NotGenerated,
        match=r"no op of this IR comes from module 'head' \(the model's modules: act Hardswish, fc Linear\)",
    ):
        spec_gen.spec(ir, MODULES, spec_gen.Declaration("k", "f", module="head"), "k.o")
    # The Linear alone: a matmul, its bias add and the fill: one output, but its weights are inputs.
    text, protos = spec_gen.spec(ir, MODULES, spec_gen.Declaration("k", "f", module="fc"), "k.o")
    assert protos[0].startswith("// in0: tensor<16x16xf32> (256 elements, row-major); in1: tensor<4x16xf32>")
    assert "linalg.matmul" in text
    with pytest.raises(spec_gen.NotGenerated, match="dynamic shape"):
        spec_gen.element_count("tensor<?x16xf32>")


def test_locations_are_removed_whole() -> None:
    line = '%0 = arith.addf %a, %b : f32 loc(callsite("x.py":1:0 at fused["y(z)":2:0]))'
    assert spec_gen.strip_locations(line) == "%0 = arith.addf %a, %b : f32"


def test_3_3_0s_own_op_form_the_i64_six_converted_in_a_generic() -> None:
    """3.3.0 lowers the same hardswish to another form (the 6 as `arith.sitofp` of `dense<6> :
    tensor<i64>` in a rank-0 generic): the pattern holds that form, the constant carried with it."""
    ir = (DATA / "hswish_preprocessed_3.3.0.mlir").read_text()
    text, protos = spec_gen.spec(ir, MODULES, DECLARED, "hswish.o", counted=False)
    assert "arith.constant dense<6> : tensor<i64>" in text and "arith.sitofp" in text
    assert text.count("linalg.generic") == 6 and "^bb0(%v0: tensor<4x16xf32>):" in text
    assert "in0: tensor<4x16xf32>" in protos[0] and "in1" not in protos[0]
