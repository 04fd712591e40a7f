"""The spec generator (kernel/iree/spec_gen.py) on IR captured from real compilers: the hardswish model of
tests/data/kernels/hswish_model.py as IREE 3.9.0 and 3.13.0 print it after preprocessing
(`--compile-to=preprocessing --mlir-print-debuginfo`, the main$async function). Whether the spec
applies and matches torch is tests/integration/test_kernel_generated.py's."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from iree_matrix.iree import torch_ops
from iree_matrix.iree.ir_ops import parse_ops
from iree_matrix.kernel import kernels
from iree_matrix.kernel.iree import spec_gen
from iree_matrix.kernel.stages import kernel_generated as generated

DATA = Path(__file__).parents[1] / "data" / "kernels"
LIBRARY = Path(__file__).parents[2] / "kernels"  # the shipped library
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
    # The Linear alone: a matmul, its bias add and the fill: one output, but its weights are inputs
    # (as the matmul reads them: transposed, which IREE does at compile time).
    text, protos = spec_gen.spec(ir, MODULES, spec_gen.Declaration("k", "f", module="fc"), "k.o")
    assert protos[0].startswith("// in0: tensor<4x16xf32> (64 elements, row-major); in1: tensor<16x16xf32>")
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


def test_the_newcomers_kernel_toml_reads_as_a_generated_spec() -> None:
    kernel = kernels.load(DATA / "hswish")
    assert (kernel.generated, kernel.spec) == (True, "") and kernel.declared == (DECLARED,)
    assert kernel.spec_for("3.3.0") == kernel.spec_for("3.13.0") == kernels.GENERATED
    assert kernel.spec_files() == () and len(kernel.spec_digest()) == 64


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('replaces = { module = "act" }\n', "function = None: expected the C function"),
        ('function = "f"\nreplaces = { layer = "act" }\n', "replaces = {'layer': 'act'}: expected one of"),
        (
            'function = "f"\nreplaces = { module = "act" }\nspec = "s.mlir"\n',
            "spec = 's.mlir': a kernel whose",
        ),
        ('function = "not a name"\nreplaces = { class = "Hardswish" }\n', "function = 'not a name'"),
        ("", "no 'spec' (a kernel names its transform spec, or lets the tool write it"),
        ('function = "f"\nreplaces = { op = "aten.relu" }\n', "op: expected one of aten.softmax, aten.gelu"),
        (
            'function = "f"\nreplaces = { op = "aten.layer_norm", eps = true }\n',
            "eps = True: expected a number",
        ),
        ('function = "f"\nreplaces = { op = "aten.layer_norm", eps = "1e-5" }\n', "eps = '1e-5': expected a"),
        ('function = "f"\nreplaces = { op = "aten.softmax", dim = 1.5 }\n', "dim = 1.5: expected an integer"),
        ('function = "f"\nreplaces = { op = "aten.softmax", dim = "x" }\n', "dim = 'x': expected an integer"),
        (
            'function = "f"\nreplaces = { op = "aten.softmax", dim = true }\n',
            "dim = True: expected an integer",
        ),
        ('function = "f"\nreplaces = { op = "aten.gelu", approximate = "fast" }\n', 'expected "none" or'),
        (
            'function = "f"\nreplaces = { op = "aten.convolution", depthwise = "yes" }\n',
            "depthwise = 'yes': expected true or false",
        ),
        (
            'function = "f"\nreplaces = { op = "aten.convolution", kernel = "3x3" }\n',
            "kernel = '3x3': expected a list of sizes",
        ),
        (
            'function = "f"\nreplaces = { op = "aten.gelu", dim = -1 }\n',
            "aten.gelu takes the filters: approximate",
        ),
        ('spec = "k.c"\n[[calls]]\nfunction = "g"\n', "calls = [{'function': 'g'}]: [[calls]] add to a"),
        (
            'function = "f"\nreplaces = { module = "act" }\n[[calls]]\nfunction = "g"\n',
            "calls[0] = {'function': 'g'}: expected a table of function, replaces",
        ),
        (
            'function = "f"\nreplaces = { module = "act" }\n[[calls]]\nfunction = "g"\n'
            'replaces = { layer = "fc" }\n',
            "calls[0].replaces = {'layer': 'fc'}: expected one of",
        ),
        (
            'function = "f"\nreplaces = { module = "act", models = "m" }\n',
            "models: expected a list of models",
        ),
        ('function = "f"\nreplaces = { module = "act", models = [] }\n', "models: expected a list of models"),
        (
            'models = ["m"]\nfunction = "f"\nreplaces = { module = "act" }\n[[calls]]\nfunction = "g"\n'
            'replaces = { class = "Linear", models = ["n"] }\n',
            "calls[0].replaces = {'class': 'Linear', 'models': ['n']}: models: expected a list of the "
            "models it is for, of the kernel's (m)",
        ),
    ],
)
def test_a_bad_declaration_is_one_line(tmp_path: Path, text: str, said: str) -> None:
    (tmp_path / "k.c").write_text("void f(void) {}\n")
    (tmp_path / "kernel.toml").write_text(f'name = "k"\nsources = ["k.c"]\nobject = "k.o"\n{text}')
    with pytest.raises(kernels.KernelError) as caught:
        kernels.load(tmp_path)
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_args_order_the_c_arguments() -> None:
    """`args = ["output", "input:0"]`: the call and the prototype take the output first; bindings keep
    the inputs first (ReadOnly), so only the call's order changes."""
    ir = (DATA / "hswish_preprocessed_3.13.0.mlir").read_text()
    swapped = spec_gen.Declaration("hswish", "hswish_kernel", module="act", args=("output", "input:0"))
    text, protos = spec_gen.spec(ir, MODULES, swapped, "hswish.o")
    assert "func.call @hswish_kernel(%b1, %b0)" in text
    assert protos[0].splitlines()[2].lstrip().startswith("float* out_base")
    with pytest.raises(spec_gen.NotGenerated, match=r"have 1 input\(s\) and one output; name each once"):
        spec_gen.spec(ir, MODULES, spec_gen.Declaration("h", "f", module="act", args=("input:1",)), "h.o")


def test_args_pass_sizes_after_the_tensors() -> None:
    """`"input:0[1]"`, `"output[0]"`, an integer: index constants of the static shapes, size_t in C."""
    ir = (DATA / "hswish_preprocessed_3.13.0.mlir").read_text()
    sized = spec_gen.Declaration(
        "h", "f", module="act", args=("input:0", "output", "input:0[1]", "output[0]", "7")
    )
    text, protos = spec_gen.spec(ir, MODULES, sized, "h.o")
    assert "%s2 = arith.constant 16 : index" in text and "%s3 = arith.constant 4 : index" in text
    assert "%s4 = arith.constant 7 : index" in text
    assert (
        "func.call @f(%b0, %b1, %s2, %s3, %s4) : (memref<64xf32>, memref<64xf32>, index, index, index)"
        in text
    )
    assert protos[0].endswith("size_t s2 /* 16 */,\n    size_t s3 /* 4 */,\n    size_t s4 /* 7 */);")
    with pytest.raises(spec_gen.NotGenerated, match=r"'output\[2\]' names no tensor or size"):
        spec_gen.spec(
            ir,
            MODULES,
            spec_gen.Declaration("h", "f", module="act", args=("input:0", "output", "output[2]")),
            "h.o",
        )


def test_a_glob_names_the_module_whose_submodules_the_ops_come_from() -> None:
    """Ops attributed to `block.1.0 Conv2d` and `block.1.1 ReLU` are one instance of `block.1` (a
    Sequential, which no op names); a leaf the glob matches is its own; several globs, space-separated."""
    declared = spec_gen.Declaration("k", "f", module="block.[1-2] other")
    assert declared.instance("block.1.0 torch.nn.Conv2d") == "block.1"
    assert declared.instance("block.2 torch.nn.ReLU") == "block.2"
    assert declared.instance("other.3.x Linear") == "other"
    assert declared.instance("block.3.0 torch.nn.Conv2d") == "" and declared.instance("") == ""
    assert spec_gen.Declaration("k", "f", klass="ReLU").instance("block.2 torch.nn.ReLU") == "block.2"


def test_a_conv1d_whose_pad_zero_is_shared_and_whose_names_recur_in_a_later_function() -> None:
    """Whisper's Conv1d as IREE 3.9.0 prints it (trimmed): the pad's zero, read only in its body, is
    the same constant another module's fill reads (CSE), and the wrapper function after the model's
    reuses `%0` (`util.null`). Neither is an output; the input is the model's `%0`, as the pad reads it."""
    ir = (DATA / "conv1d_preprocessed_3.9.0.mlir").read_text()
    modules = {"3": "encoder.conv1 torch.nn.modules.conv.Conv1d", "4": "encoder AudioEncoder"}
    declared = spec_gen.Declaration("c", "conv1d_k3_torch", module="encoder.conv1")
    text, protos = spec_gen.spec(ir, modules, declared, "c.o")
    assert protos[0].startswith(
        "// in0: tensor<1x4x16xf32> (64 elements, row-major); "
        "in1: tensor<8x4x3xf32> (96 elements, row-major); "
        "in2: tensor<1x8x16xf32> (128 elements, row-major); out: tensor<1x8x16xf32>"
    )
    assert "linalg.conv_1d_ncw_fcw" in text and "tensor.pad" in text and "linalg.generic" not in text
    # A glob is the whole path: one that names the leaf only is told the path first.
    with pytest.raises(
        spec_gen.NotGenerated, match=r"module 'conv1' \(the model's modules: encoder.conv1 torch"
    ):
        spec_gen.spec(ir, modules, spec_gen.Declaration("c", "f", module="conv1"), "c.o")


# tests/data/kernels/softmax_gelu_model.py as turbine 3.9.0 + torch 2.13.0 export it (model.mlir, its
# resources left out) and as IREE 3.3.0, 3.9.0 and 3.13.0 print it after preprocessing.
LINES = torch_ops.model_lines((DATA / "softmax_gelu_model.mlir").read_text())
SOFTMAX = spec_gen.Declaration(
    "softmax",
    "softmax_last",
    op="aten.softmax",
    where=(("dim", "-1"),),
    args=("input:0", "output", "input:0[1]"),
)
GELU_TANH = spec_gen.Declaration("gelu_tanh", "gelu_tanh", op="aten.gelu", where=(("approximate", "tanh"),))


def _softmax_gelu(release: str, declared: spec_gen.Declaration) -> tuple[str, list[str]]:
    ir = (DATA / f"softmax_gelu_preprocessed_{release}.mlir").read_text()
    return spec_gen.spec(ir, {}, declared, "k.o", release != "3.3.0", LINES)


@pytest.mark.parametrize("release", ["3.3.0", "3.9.0", "3.13.0"])
def test_a_softmax_declared_by_torch_op_no_module_names(release: str) -> None:
    """`torch.softmax(h, dim=-1)` in forward: the ops of model.mlir's `torch.aten.softmax.int` line
    (max with its index, subtract, exp, sum, divide), compared whole, the row length after the tensors."""
    text, protos = _softmax_gelu(release, SOFTMAX)
    assert "^bb0(%v0: tensor<4x8xf32>):" in text and text.count("linalg.generic") == 5
    assert "math.exp" in text and "math.erf" not in text and "math.tanh" not in text
    assert NAME_ONLY_GENERIC not in text and "transform.match.structured" not in text
    assert "from\n// torch op aten.softmax dim=-1" in text
    assert protos == [protos[0]] and protos[0].endswith("size_t s2 /* 8 */);")


NAME_ONLY_GENERIC = 'attrs =  {"match.operation_name_only"}'


@pytest.mark.parametrize("release", ["3.3.0", "3.9.0", "3.13.0"])
def test_a_tanh_gelu_reading_captured_constants_is_matched_at_the_root(release: str) -> None:
    """nn.GELU(approximate="tanh") is one generic whose body reads scalar constants from outside it,
    so it is matched by name only, and such an op's operands are never bound: its input is a
    placeholder, the swap fetches it (get_operand), and its input and result types are checked beside
    (one transform.match.structured each: 3.3.0 matched nothing with both in one). The exact GELU
    (`approximate="none"`) is left alone."""
    text, protos = _softmax_gelu(release, GELU_TANH)
    assert text.count(NAME_ONLY_GENERIC) == 1 and "math.tanh" in text and "math.erf" not in text
    assert '^bb0():\n      %v0 = tensor.empty() {"match.operation_name_only"} : tensor<4x32xf32>' in text
    assert "ins(%v0 : tensor<4x32xf32>)" in text
    assert text.count("transform.match.structured %root") == 3
    assert "%k = transform.param.constant 1 : i64" in text
    assert text.count("transform.iree.match.cast_compatible_type %v = tensor<4x32xf32>") == 2
    assert "%v = transform.match.structured.result %s[0]" in text
    assert "%x0 = transform.get_operand %root[0]" in text
    assert "%all = transform.merge_handles %x0, %ins" in text and "cast_and_call %func(%all)" in text
    assert "in0: tensor<4x32xf32>" in protos[0] and "in1" not in protos[0]
    # The newcomer's declaration by module (issue 92): the same pattern, which before bound no input.
    ir = (DATA / f"softmax_gelu_preprocessed_{release}.mlir").read_text()
    act = {"6": "act torch.nn.modules.activation.GELU", "7": "act torch.nn.modules.activation.GELU"}
    by_module = spec_gen.Declaration("gelu_tanh", "gelu_tanh", module="act")
    assert (
        spec_gen.spec(ir, act, by_module, "k.o", release != "3.3.0")[0].split("module attributes")[1]
        == (text.split("module attributes")[1])
    )


def test_a_name_only_root_another_op_resembles_is_refused() -> None:
    """Undeclared `approximate`: the exact GELU too, on the softmax's shape; matched by name and types
    only, its pattern would take the softmax's exp as well, so no spec (never one that swaps the wrong
    op); and a torch op the model lacks is told with the ops it has."""
    with pytest.raises(spec_gen.NotGenerated) as caught:
        _softmax_gelu("3.13.0", spec_gen.Declaration("g", "g", op="aten.gelu"))
    said = str(caught.value)
    assert said.startswith("%23 = linalg.generic reads %cst_5 from outside its body") and "\n" not in said
    assert "%18 = linalg.generic (model.mlir line 13) has the same: a spec would replace it too" in said
    with pytest.raises(
        spec_gen.NotGenerated,
        match=r"^no torch op aten.layer_norm in this model's MLIR \(its ops: aten.gelu, aten.linear, "
        r"aten.softmax.int\)$",
    ):
        _softmax_gelu("3.13.0", spec_gen.Declaration("l", "l", op="aten.layer_norm"))


def test_torch_op_filters_read_the_ops_line() -> None:
    assert torch_ops.lines_of(LINES, "aten.gelu", {"approximate": "tanh"}) == ["7"]
    assert torch_ops.lines_of(LINES, "aten.gelu", {"approximate": "none"}) == ["15"]
    assert torch_ops.lines_of(LINES, "aten.gelu", {}) == ["7", "15"]
    assert torch_ops.lines_of(LINES, "aten.softmax", {"dim": "-1"}) == ["13"]
    assert torch_ops.lines_of(LINES, "aten.softmax", {"dim": "1"}) == ["13"]
    assert torch_ops.lines_of(LINES, "aten.softmax", {"dim": "0"}) == []
    conv = {  # a depthwise 3x3 Conv2d as torch-mlir spells it, and a dense 1x1
        "1": "%int1 = torch.constant.int 1",
        "2": "%int32 = torch.constant.int 32",
        "3": "%1 = torch.aten.convolution %arg0, %w, %none, %l, %l, %l, %false, %l0, %int32 : "
        "!torch.vtensor<[1,32,56,56],f32>, !torch.vtensor<[32,1,3,3],f32>, !torch.none -> "
        "!torch.vtensor<[1,32,56,56],f32>",
        "4": "%2 = torch.aten.convolution %1, %w2, %none, %l, %l, %l, %false, %l0, %int1 : "
        "!torch.vtensor<[1,32,56,56],f32>, !torch.vtensor<[16,32,1,1],f32>, !torch.none -> "
        "!torch.vtensor<[1,16,56,56],f32>",
    }
    assert torch_ops.lines_of(conv, "aten.convolution", {"depthwise": "true", "kernel": "3x3"}) == ["3"]
    assert torch_ops.lines_of(conv, "aten.convolution", {"depthwise": "false"}) == ["4"]
    assert torch_ops.lines_of(conv, "aten.convolution", {"kernel": "1x1"}) == ["4"]
    norm = {  # nn.LayerNorm(16) as turbine spells it (kernels/layer_norm declares eps = 1e-5)
        "1": "%float1.000000e-05 = torch.constant.float 1.000000e-05",
        "2": "%3 = torch.aten.layer_norm %arg0, %0, %1, %2, %float1.000000e-05, %false : "
        "!torch.vtensor<[4,16],f32>, !torch.list<int>, !torch.vtensor<[16],f32>, !torch.vtensor<[16],f32>, "
        "!torch.float, !torch.bool -> !torch.vtensor<[4,16],f32>",
    }
    assert torch_ops.lines_of(norm, "aten.layer_norm", {"eps": "1e-05"}) == ["2"]
    assert torch_ops.lines_of(norm, "aten.layer_norm", {"eps": "1e-06"}) == []
    assert torch_ops.lines_of(norm, "aten.layer_norm", {"eps": "true"}) == []  # no number: nothing


TYPES = "!torch.vtensor<[1,1,5,5],f32>, !torch.vtensor<[1,1,3,3],f32>, !torch.none -> " + (
    "!torch.vtensor<[1,1,3,3],f32>"
)


def test_a_convolutions_stride_padding_and_dilation_are_filters() -> None:
    """kernels/depthwise3x3_nchw declares `padding = [1, 1]`: a 3x3 depthwise convolution of another
    padding (or dilation) has sizes its C cannot tell from one it computes (padding 0 of a 5x5 image
    reads as stride 2), so such a convolution must stay out of the spec."""
    conv = {
        "1": "%int1 = torch.constant.int 1",
        "2": "%int0 = torch.constant.int 0",
        "3": "%int2 = torch.constant.int 2",
        "4": "%ones = torch.prim.ListConstruct %int1, %int1 : (!torch.int, !torch.int) -> !torch.list<int>",
        "5": "%zeros = torch.prim.ListConstruct %int0, %int0 : (!torch.int, !torch.int) -> !torch.list<int>",
        "6": "%twos = torch.prim.ListConstruct %int2, %int2 : (!torch.int, !torch.int) -> !torch.list<int>",
        "7": "%1 = torch.aten.convolution %x, %w, %none, %twos, %ones, %ones, %false, %zeros, %int1 : "
        + TYPES,
        "8": "%2 = torch.aten.convolution %x, %w, %none, %ones, %zeros, %ones, %false, %zeros, %int1 : "
        + TYPES,
    }
    assert torch_ops.lines_of(conv, "aten.convolution", {"padding": "1x1"}) == ["7"]
    assert torch_ops.lines_of(conv, "aten.convolution", {"padding": "0x0", "stride": "1x1"}) == ["8"]
    assert torch_ops.lines_of(conv, "aten.convolution", {"stride": "2x2", "dilation": "1x1"}) == ["7"]
    assert torch_ops.lines_of(conv, "aten.convolution", {"dilation": "2x2"}) == []


def test_kernels_declared_by_torch_op_load() -> None:
    softmax, gelu = (kernels.load(LIBRARY / name) for name in ("softmax", "gelu_tanh"))
    assert [(d.op, d.where) for d in softmax.declared] == [("aten.softmax", (("dim", "-1"),))]
    assert [(d.op, d.where) for d in gelu.declared] == [("aten.gelu", (("approximate", "tanh"),))]
    declared = [
        ln for ln in (LIBRARY / "gelu_tanh" / "kernel.toml").read_text().splitlines() if ln[:1] != "#"
    ]
    assert len(declared) <= 7  # a newcomer's declaration: no MLIR, a few lines
    assert softmax.spec_digest() != gelu.spec_digest()
    depthwise = kernels.load(LIBRARY / "depthwise3x3_nchw")
    assert dict(depthwise.declared[0].where) == {
        "depthwise": "true",
        "kernel": "3x3",
        "padding": "1x1",
        "dilation": "1x1",
    }


def test_the_last_dimension_of_any_rank_is_an_arg(tmp_path: Path) -> None:
    """kernels/softmax takes its row length as "input:0[-1]": the last axis of a softmax of any rank
    (an attention's [batch, heads, rows, row]), where "input:0[1]" was that of a rank-2 one only."""
    ir = (DATA / "softmax_gelu_preprocessed_3.13.0.mlir").read_text()
    last = dataclasses.replace(SOFTMAX, args=("input:0", "output", "input:0[-1]"))
    (dag,) = spec_gen.dags(spec_gen.parse_ops(ir), {}, last, LINES)
    row = spec_gen.shape(dag.inputs[0][1])[0][-1]
    assert last.order(dag) == [0, 1, str(row)] and row > 1
    (tmp_path / "k.c").write_text("")
    (tmp_path / "kernel.toml").write_text(
        'name = "k"\nsources = ["k.c"]\nobject = "k.o"\nfunction = "f"\nreplaces = { op = "aten.gelu" }\n'
        'args = ["input:0", "output", "input:0[-2]"]\n'
    )
    with pytest.raises(kernels.KernelError, match=r"\[-1\]: the last"):
        kernels.load(tmp_path)


def test_a_kernel_that_takes_its_workgroup_is_split_over_the_outputs_outer_dimension() -> None:
    """Issue 92 item 4: a generated spec ran the kernel once on one workgroup (one thread); with
    "workgroup.id"/"workgroup.count" among its args the dispatch runs on one workgroup per element of
    the output's outer parallel dimension (4 rows of hswish's 4x16), each given its place."""
    ir = (DATA / "hswish_preprocessed_3.13.0.mlir").read_text()
    args = ("input:0", "output", "workgroup.id", "workgroup.count")
    split = spec_gen.Declaration("hswish", "hswish_kernel", module="act", args=args)
    text, protos = spec_gen.spec(ir, MODULES, split, "hswish.o")
    assert "%cw = arith.constant 4 : index" in text and "hal.return %cw, %c1, %c1" in text
    assert "%s2 = hal.interface.workgroup.id[0] : index" in text
    assert "%s3 = hal.interface.workgroup.count[0] : index" in text
    assert (
        "func.call @hswish_kernel(%b0, %b1, %s2, %s3) : (memref<64xf32>, memref<64xf32>, index, index)"
        in text
    )
    assert protos[0].endswith("size_t s2 /* workgroup.id */,\n    size_t s3 /* workgroup.count */);")
    alone, _ = spec_gen.spec(ir, MODULES, DECLARED, "hswish.o")  # no workgroup argument: one workgroup
    assert "%cw = arith.constant 1 : index" in alone and "hal.interface.workgroup" not in alone


def test_a_glob_over_modules_of_different_forms_is_one_line_not_mlirs_duplicate_symbol() -> None:
    """Issue 94: glob "*" took the Linear and the Hardswish, and the spec written for both gave MLIR's
    "multiple public symbols with the name: hswish_kernel"; one C function takes one form."""
    ir = (DATA / "hswish_preprocessed_3.13.0.mlir").read_text()
    everything = spec_gen.Declaration("hswish", "hswish_kernel", module="*")
    with pytest.raises(spec_gen.NotGenerated, match=r"names ops of 2 different forms \(.*fc.*act.*\)"):
        spec_gen.spec(ir, MODULES, everything, "hswish.o")


# tests/data/kernels/depthwise_model.py as turbine 3.9.0 + torch 2.13.0 export it (model.mlir, its
# resources left out) and as IREE 3.13.0 prints it after preprocessing, plain and with the
# channels-last pipeline (`--iree-preprocessing-pass-pipeline=...convert-conv-to-channels-last`).
DEPTHWISE_NCHW = spec_gen.Declaration(
    "depthwise3x3_nchw",
    "depthwise3x3_nchw",
    op="aten.convolution",
    where=(("depthwise", "true"), ("kernel", "3x3")),
    args=("input:0", "input:1", "output", "input:0[1]", "input:0[2]", "input:0[3]", "output[2]", "output[3]"),
)


def test_a_kernel_declared_by_torch_op_is_never_handed_a_transposed_layout() -> None:
    """A depthwise convolution declared by torch op reads torch's NCHW input. Plain, the spec takes it
    as is; after the channels-last pass the convolution reads an NHWC tensor through a transpose, and
    the spec once handed the kernel that NHWC tensor (MobileNetV2 with kernels/depthwise3x3_nchw under
    advise's channels-last pick: max abs err 1.29): refused in one line instead."""
    lines = torch_ops.model_lines((DATA / "depthwise_model.mlir").read_text())
    plain = (DATA / "depthwise_preprocessed_3.13.0.mlir").read_text()
    text, protos = spec_gen.spec(plain, {}, DEPTHWISE_NCHW, "k.o", True, lines)
    assert "linalg.depthwise_conv_2d_nchw_chw" in text and "linalg.transpose" not in text
    assert protos[0].startswith("// in0: tensor<1x32x12x12xf32>")
    transposed = (DATA / "depthwise_channels_last_3.13.0.mlir").read_text()
    with pytest.raises(spec_gen.NotGenerated) as caught:
        spec_gen.spec(transposed, {}, DEPTHWISE_NCHW, "k.o", True, lines)
    said = str(caught.value)
    assert said.startswith(
        "torch op aten.convolution (model.mlir line 28) reads its input through a linalg.transpose"
    )
    assert "\n" not in said


@pytest.mark.shared_tmp  # a kernel's files are taken only from where every user may read them
def test_permuted_args_hand_the_c_another_layout_and_transpose_back(tmp_path: Path) -> None:
    """Issue 92 item 4: `"input:0.permute(0, 2, 3, 1)"` hands the C an NCHW input as NHWC (a
    linalg.transpose in the swap, which IREE folds into the dispatch beside it, as the hand-written
    depthwise spec's are), `"output.permute(...)"` has it write NHWC and transposes that back; the sizes,
    the prototype and the workgroups are of the tensors as the C sees them (MobileNetV3-small's NCHW
    depthwise layers under depthwise3x3.c's NHWC entries: kernels/depthwise3x3's declarations for it)."""
    lines = torch_ops.model_lines((DATA / "depthwise_model.mlir").read_text())
    plain = (DATA / "depthwise_preprocessed_3.13.0.mlir").read_text()
    nhwc = dataclasses.replace(
        DEPTHWISE_NCHW,
        args=(
            "input:0.permute(0, 2, 3, 1)",
            "input:1.permute(1, 2, 0)",
            "output.permute(0, 2, 3, 1)",
            "input:0[3]",
            "output[1]",
            "workgroup.id",
            "workgroup.count",
        ),
    )
    text, protos = spec_gen.spec(plain, {}, nhwc, "k.o", True, lines)
    assert protos[0].startswith("// in0: tensor<1x12x12x32xf32>") and "in1: tensor<3x3x32xf32>" in protos[0]
    into = "linalg.transpose ins(%in0 : tensor<1x32x12x12xf32>) outs(%p0_ : tensor<1x12x12x32xf32>)"
    assert into + " permutation = [0, 2, 3, 1]" in text
    assert "%c = flow.dispatch" in text and "permutation = [0, 3, 1, 2]\n    util.return %r" in text
    assert "arith.constant 32 : index" in text and "%cw = arith.constant 12 : index" in text
    bad = dataclasses.replace(nhwc, args=("input:0.permute(0, 1, 1, 2)", "input:1", "output"))
    with pytest.raises(spec_gen.NotGenerated, match=r"input:0\.permute\(0, 1, 1, 2\) permutes no tensor"):
        spec_gen.spec(plain, {}, bad, "k.o", True, lines)
    (tmp_path / "k.c").write_text("")
    (tmp_path / "kernel.toml").write_text(
        'name = "k"\nsources = ["k.c"]\nobject = "k.o"\nfunction = "f"\nreplaces = { op = "aten.gelu" }\n'
        'args = ["input:0.permute(1, 0)", "output.permute(1,0)"]\n'
    )
    assert kernels.load(tmp_path).declared[0].args == ("input:0.permute(1, 0)", "output.permute(1,0)")


@pytest.mark.shared_tmp  # a kernel's files are taken only from where every user may read them
def test_calls_swap_other_modules_for_other_functions_of_one_object(tmp_path: Path) -> None:
    """Issue 92: a kernel.toml's [[calls]] add declarations to its generated spec (MobileNetV2's 1x1
    convolutions beside its depthwise ones, one object): each form its own symbol, function and
    match pair, in declaration order."""
    (tmp_path / "k.c").write_text("void hswish_kernel(void) {}\nvoid fc_kernel(void) {}\n")
    (tmp_path / "kernel.toml").write_text(
        'name = "two"\nsources = ["k.c"]\nobject = "k.o"\nfunction = "hswish_kernel"\n'
        'replaces = { module = "act" }\n[[calls]]\nfunction = "fc_kernel"\nreplaces = { class = "Linear" }\n'
        'args = ["output", "input:0", "input:1", "input:2", "output[1]"]\n'
    )
    kernel = kernels.load(tmp_path)
    alone = kernels.load(DATA / "hswish")
    declared = generated.declarations(kernel)
    assert [(d.function, d.module, d.klass) for d in declared] == [
        ("hswish_kernel", "act", ""),
        ("fc_kernel", "", "Linear"),
    ]
    assert declared[1].args[-1] == "output[1]" and kernel.spec_digest() != alone.spec_digest()
    ir = (DATA / "hswish_preprocessed_3.13.0.mlir").read_text()
    text, protos = spec_gen.spec(ir, MODULES, declared, "k.o")
    assert "@match_two_0 -> @swap_two_0,\n          @match_two_1 -> @swap_two_1" in text
    assert "func.call @hswish_kernel(" in text and "func.call @fc_kernel(" in text
    assert [p.split("void ")[1].split("(")[0] for p in protos] == ["hswish_kernel", "fc_kernel"]
    assert "module 'act'; class 'Linear'" in text.splitlines()[1]
    # one declaration: the spec it always was
    assert spec_gen.spec(ir, MODULES, declared[:1], "k.o") == spec_gen.spec(ir, MODULES, declared[0], "k.o")


def test_weights_are_told_apart_from_data_in_a_deep_network_without_recursion() -> None:
    """The ops computed from weights alone were found by recursing up each source: a 1x1 convolution
    deep in MobileNetV2 went up the whole network (Python's RecursionError). A chain of 5,000 ops."""
    chain = "\n".join(f"    %v{n + 1} = arith.addf %v{n}, %v{n} : f32" for n in range(5000))
    ir = f"util.func public @main(%v0: f32) -> f32 {{\n{chain}\n    util.return %v5000 : f32\n}}\n"
    ops = parse_ops(ir)
    assert spec_gen._folded(ops, spec_gen._defining(ops)) == set()


def test_an_export_records_modules_where_any_declaration_names_one() -> None:
    """A kernel declared by torch op reads model.mlir's lines; one whose `[[calls]]` name a module
    needs the export's modules too (stages/export.py), else its spec has nothing to match."""
    from types import SimpleNamespace

    from iree_matrix.stages import export

    def ctx(*kernels: kernels.Kernel) -> SimpleNamespace:
        return SimpleNamespace(spec=SimpleNamespace(kernels={k.name: k for k in kernels}))

    softmax = spec_gen.Declaration("s", "f", op="aten.softmax")
    by_op = kernels.Kernel("s", Path("s"), ("s.c",), "", "s.o", declared=(softmax,))
    act = spec_gen.Declaration("m", "g", module="act", table="calls[0]")
    by_module = dataclasses.replace(by_op, name="m", declared=(softmax, act))
    hand_written = kernels.Kernel("h", Path("h"), ("h.c",), "spec.mlir", "h.o")
    assert not export._modules(ctx(by_op, hand_written))
    assert export._modules(ctx(by_op, by_module))


@pytest.mark.shared_tmp
def test_a_call_that_fails_or_takes_anothers_ops_is_named_by_its_table(tmp_path: Path) -> None:
    """A [[calls]] table's refusal names the table (`calls[N]`), and two declarations that take the
    same ops are refused: the first pattern would take them and the other call would never run."""
    (tmp_path / "k.c").write_text("void hswish_kernel(void) {}\nvoid other(void) {}\n")
    toml = (
        'name = "two"\nsources = ["k.c"]\nobject = "k.o"\nfunction = "hswish_kernel"\n'
        'replaces = { module = "act" }\n'
    )
    ir = (DATA / "hswish_preprocessed_3.13.0.mlir").read_text()
    (tmp_path / "kernel.toml").write_text(
        toml + '[[calls]]\nfunction = "other"\nreplaces = { module = "nowhere" }\n'
    )
    with pytest.raises(
        spec_gen.NotGenerated, match=r"^no op of this IR comes from calls\[0\] \(module 'nowhere'\)"
    ):
        spec_gen.spec(ir, MODULES, generated.declarations(kernels.load(tmp_path)), "k.o")
    (tmp_path / "kernel.toml").write_text(
        toml + '[[calls]]\nfunction = "other"\nreplaces = { module = "a*" }\n'
    )
    with pytest.raises(spec_gen.NotGenerated) as caught:
        spec_gen.spec(ir, MODULES, generated.declarations(kernels.load(tmp_path)), "k.o")
    assert str(caught.value) == "calls[0] (module 'a*') takes ops that module 'act' takes: name each op once"


@pytest.mark.shared_tmp
def test_modules_declared_together_are_one_call(tmp_path: Path) -> None:
    """`replaces = { module = ["fc", "act"], together = true }`: a Linear and its activation swapped
    for one fused call (issue 92 item 3). Their ops are one instance with one output; its inputs are
    the data, the Linear's weight as IREE transposed it from weights alone (folded: an input) and the
    bias. Without `together` each module is its own call; with a class, `together` is refused."""
    (tmp_path / "k.c").write_text("void linear_hswish(void) {}\n")
    head = 'name = "fused"\nsources = ["k.c"]\nobject = "k.o"\nfunction = "linear_hswish"\n'
    (tmp_path / "kernel.toml").write_text(head + 'replaces = { module = ["fc", "act"], together = true }\n')
    kernel = kernels.load(tmp_path)
    (declared,) = generated.declarations(kernel)
    assert declared.together and declared.said() == "module 'fc act' together"
    ir = (DATA / "hswish_preprocessed_3.13.0.mlir").read_text()
    text, protos = spec_gen.spec(ir, MODULES, declared, "k.o")
    assert text.count("func.call @linear_hswish(") == 1 and "linalg.matmul" in text
    said = "// in0: tensor<4x16xf32> (64 elements, row-major); in1: tensor<16x16xf32> (256 elements"
    assert protos[0].startswith(said) and "tensor<16xf32>" in protos[0].splitlines()[0]  # the data, W^T, b
    apart = dataclasses.replace(declared, together=False)
    with pytest.raises(spec_gen.NotGenerated, match="different forms"):  # a Linear and a Hardswish
        spec_gen.spec(ir, MODULES, apart, "k.o")
    assert kernel.spec_digest() != kernels.load(DATA / "hswish").spec_digest()
    (tmp_path / "kernel.toml").write_text(head + 'replaces = { class = "Linear", together = true }\n')
    with pytest.raises(kernels.KernelError, match="together = true: modules"):
        kernels.load(tmp_path)


def test_a_declaration_whose_args_fit_no_instance_leaves_it_to_a_later_one() -> None:
    """MobileNetV3-small's depthwise layers read NCHW from IREE 3.9.0 and NHWC on 3.3.0/3.4.0: an
    instance a declaration's args do not fit (a `.permute` of another rank) falls to a later declaration
    naming it; the first one's reason is said only where none fits. Here the Hardswish's 4x16 input."""
    ir = (DATA / "hswish_preprocessed_3.13.0.mlir").read_text()
    nchw = spec_gen.Declaration("k", "nchw", module="act", args=("input:0.permute(0, 2, 1)", "output"))
    plain = spec_gen.Declaration("k", "plain", module="act", table="calls[0]")
    with pytest.raises(spec_gen.NotGenerated, match=r"input:0\.permute\(0, 2, 1\) permutes no tensor"):
        spec_gen.spec(ir, MODULES, [nchw], "k.o")
    for every in ([nchw, plain], [plain, nchw]):  # the NHWC form's on 3.3.0; the NCHW form's on 3.13.0
        text, protos = spec_gen.spec(ir, MODULES, every, "k.o")
        assert "func.call @plain(" in text and "func.call @nchw(" not in text and len(protos) == 1


def test_a_declaration_is_for_the_models_it_names() -> None:
    """One kernel for three models (kernels/depthwise3x3): MobileNetV2's stem `features.0` would match
    MobileNetV3-small's (Conv2d + BatchNorm2d + Hardswish, as many tensors) and swap in a ReLU6: each
    declaration names its model (`replaces.models`), a cell takes those for its model (an export
    variant's or a recipe's too), and a model none is for is told in one line."""
    kernel = kernels.load(LIBRARY / "depthwise3x3")
    assert (
        not kernel.spec
        and kernel.spec_files() == ()
        and set(kernel.models)
        == {
            "mobilenet_v2",
            "mobilenet_v3_small",
            "yolox_nano",
        }
    )
    functions = {m: [d.function for d in generated.declarations(kernel, m)] for m in kernel.models}
    assert functions == {
        "mobilenet_v2": ["depthwise3x3_bn_relu6_torch", "stem_bn_relu6_torch"],
        "mobilenet_v3_small": ["depthwise_torch", "depthwise_torch"],
        "yolox_nano": ["depthwise_torch", "depthwise_torch_padded"],
    }
    assert generated.declarations(kernel, "mobilenet_v3_small~fx+decompose") == generated.declarations(
        kernel, "mobilenet_v3_small"
    )
    assert len(generated.declarations(kernel)) == 6
    with pytest.raises(
        spec_gen.NotGenerated,
        match=r"^no declaration is for the model 'resnet50' \(they are for mobilenet_v2, mobilenet_v3_small, "
        r"yolox_nano\)$",
    ):
        generated.written(kernel, "resnet50", "3.13.0", "", Path("unread"))
