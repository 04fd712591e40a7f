"""iree/miscompiled.py finds a constant padding by a negative amount in turbine's MLIR (measured to
differ from torch on 3.10.0-3.13.0: tests/integration/test_routes.py), names the model's line from
the export's model.where.json, and leaves every padding by positive amounts alone; a mismatch's
message then carries words hint `negative-pad` is keyed on."""

from __future__ import annotations

import json

from iree_matrix.execution import progress
from iree_matrix.iree import hints, miscompiled

# turbine 3.9.0's export of `F.pad(x, (0, 0, 1, -1))` (tests/data/routes/token_shift.py's op; the
# long type lists cut to `…`)
SHIFT = """module @module {
  func.func @main(%arg0: !torch.vtensor<[2,12,32],f32>) -> !torch.vtensor<[2,12,32],f32> {
    %int0 = torch.constant.int 0
    %int0_0 = torch.constant.int 0
    %int1 = torch.constant.int 1
    %int-1 = torch.constant.int -1
    %0 = torch.prim.ListConstruct %int0, %int0_0, %int1, %int-1 : (!torch.int, !torch.int, …) -> …
    %str = torch.constant.str "constant"
    %none = torch.constant.none
    %1 = torch.aten.pad %arg0, %0, %str, %none : !torch.vtensor<[2,12,32],f32>, … -> …
    return %1 : !torch.vtensor<[2,12,32],f32>
  }
}"""


def test_a_negative_padding_is_named_with_the_models_line():
    where = json.dumps(
        {
            "frames": {"10": "/home/me/nets/rwkv.py:30"},
            "code": {"/home/me/nets/rwkv.py:30": "prev = F.pad(x, (0, 0, 1, -1))"},
        }
    )
    assert miscompiled.negative_pads(SHIFT, where) == (
        "torch.aten.pad with a negative padding [0, 0, 1, -1], at rwkv.py:30: prev = F.pad(x, (0, 0, 1, -1))",
    )
    said = miscompiled.words(SHIFT)
    assert (
        said
        == "\nthe model has an op IREE computes wrongly: torch.aten.pad with a negative padding [0, 0, 1, -1]"
    )
    message = "outputs differ from torch: max abs err 0.161" + said
    found = hints.find(message, "run")
    assert found is not None and found.name == "negative-pad" and "[:, :-1]" in found.advice
    # the summary's line is the op's, not the errors' (which would cut it off)
    assert progress.headline(message).startswith("the model has an op IREE computes wrongly: torch.aten.pad")


def test_positive_paddings_and_other_negative_constants_are_left_alone():
    positive = SHIFT.replace("%int-1 = torch.constant.int -1", "%int-1 = torch.constant.int 0")
    assert miscompiled.negative_pads(positive) == ()
    assert miscompiled.words(positive) == ""
    # a slice's end of -1 (the by-hand route: pad, then `[:, :-1]`) is no padding
    sliced = SHIFT.replace("torch.aten.pad %arg0, %0", "torch.aten.slice.Tensor %arg0, %0")
    assert miscompiled.negative_pads(sliced) == ()
    decomposed = SHIFT.replace(
        "torch.aten.pad %arg0, %0, %str, %none", "torch.aten.constant_pad_nd %arg0, %0, %float0"
    )
    assert miscompiled.negative_pads(decomposed) == (
        "torch.aten.constant_pad_nd with a negative padding [0, 0, 1, -1]",
    )


def test_a_determinant_is_named_only_for_a_cpu_without_avx2():
    det = (
        "    %sign, %logabsdet = torch.aten.linalg_slogdet %0 : !torch.vtensor<[8,8],f32> -> …\n"
        "    %1 = torch.aten.linalg_det %0 : !torch.vtensor<[8,8],f32> -> !torch.vtensor<[],f32>\n"
    )
    for cpu in ("generic", "x86-64", "x86-64-v2"):
        assert miscompiled.determinants(det, "", cpu) == (
            f"torch.aten.linalg_slogdet compiled for a CPU without AVX2 (target-cpu={cpu})",
            f"torch.aten.linalg_det compiled for a CPU without AVX2 (target-cpu={cpu})",
        )
    for cpu in ("x86-64-v3", "znver5", "host", ""):
        assert miscompiled.words(det, "", cpu) == ""
    found = hints.find(
        "outputs differ from torch: max abs err 649" + miscompiled.words(det, "", "generic"), "run"
    )
    assert found is not None and found.name == "det-no-avx2" and "x86-64-v3" in found.advice


def test_a_determinant_compiled_for_host_is_named_where_the_host_has_no_avx2():
    """`default` compiles for `host`: on a user's older CPU (no AVX2) that is the case that matters."""
    det = "    %1 = torch.aten.linalg_det %0 : !torch.vtensor<[8,8],f32> -> !torch.vtensor<[],f32>\n"
    assert miscompiled.determinants(det, "", "host", host_avx2=False) == (
        "torch.aten.linalg_det compiled for a CPU without AVX2 (target-cpu=host)",
    )
    assert miscompiled.determinants(det, "", "host", host_avx2=True) == ()
    assert miscompiled.determinants(det, "", "znver5", host_avx2=False) == ()  # a CPU named: its own ISA
    assert "det-no-avx2" == hints.find(miscompiled.words(det, "", "host", False), "run").name


def test_a_failed_compile_at_a_pad_names_the_negative_padding(tmp_path):
    """A crop, `F.pad(y, (0, 0, 0, -1))`: 3.13.0 refuses it ("slice along dimension 0 runs
    out-of-bounds", lowered from torch.aten.pad) and the compile's words said nothing of the crop."""
    mlir = tmp_path / "model.mlir"
    mlir.write_text(SHIFT)
    said = miscompiled.cannot_compile(mlir, "torch.aten.pad")
    assert (
        said
        == "\nthe model has an op IREE cannot compile: torch.aten.pad with a negative padding [0, 0, 1, -1]"
    )
    found = hints.find("slice along dimension 0 runs out-of-bounds: 6 >= 6" + said, "compile")
    assert found is not None and found.name == "negative-pad" and "`y[:, :-1]`" in found.advice
    assert miscompiled.cannot_compile(mlir, "torch.aten.mm") == ""  # stopped at another op: not the pad's
    assert miscompiled.cannot_compile(tmp_path / "gone.mlir", "torch.aten.pad") == ""
