"""A compile error's line of model.mlir traced to the model's Python line (scripts/mlir_where.py in
the exporter, compile_errors.model_line and the compile stage's record on the host)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from iree_matrix.iree import compile_errors
from iree_matrix.iree.ir_ops import strip_locations

SCRIPTS = Path(__file__).parents[2] / "scripts"
sys.path.insert(0, str(SCRIPTS))
import mlir_where  # noqa: E402  (scripts/ is on sys.path now; it imports nothing of torch's)

TORCH = "/venv/lib/python3.11/site-packages/torch/_dynamo/functional_export.py"
# The two prints of one turbine export (a Linear, a searchsorted, a relu; trimmed types), as the
# bindings write them: the located one defines its locations before and after the module.
LOCATED = f"""#loc1 = loc("/home/me/m.py":7:0)
#loc2 = loc("{TORCH}":232:0)
#loc5 = loc(callsite(#loc1 at #loc2))
module @module {{
  func.func @main(%arg0: !torch.vtensor<[2,8],f32> loc(callsite(#loc1 at #loc2))) -> !torch.vtensor<[2,4],f32> {{
    %2 = torch.aten.linear %arg0, %0, %1 : !torch.vtensor<[2,8],f32> -> !torch.vtensor<[2,4],f32> loc(#loc5)
    %none_3 = torch.constant.none loc(#loc6)
    %5 = torch.operator "torch.aten.searchsorted.Tensor"(%3, %4) : (!torch.vtensor<[5],f32>) -> !torch.vtensor<[2,4],si64> loc(#loc6)
    %6 = torch.aten.relu %2 : !torch.vtensor<[2,4],f32> -> !torch.vtensor<[2,4],f32> loc(#loc7)
    %7 = torch.aten.add %6, %6 : !torch.vtensor<[2,4],f32> -> !torch.vtensor<[2,4],f32> loc(#loc8)
    return %6, %5 : !torch.vtensor<[2,4],f32>, !torch.vtensor<[2,4],si64> loc(#loc5)
  }} loc(#loc5)
}} loc(#loc)
#loc = loc(unknown)
#loc3 = loc("/home/me/m.py":8:0)
#loc4 = loc("/home/me/m.py":9:0)
#loc6 = loc(callsite(#loc3 at #loc2))
#loc7 = loc(callsite(#loc4 at #loc2))
#loc8 = loc(callsite(#loc2 at #loc2))
"""  # noqa: E501  # fmt: skip
# The saved text: the same lines with no location (the nested `loc(callsite(…))` of an argument too).
_LOC = re.compile(r" loc\((?:[^()]|\([^()]*\))*\)")
PLAIN = "\n".join(_LOC.sub("", line) for line in LOCATED.splitlines() if not line.startswith("#loc"))
PLAIN += "\n{-#\n  dialect_resources: {}\n#-}\n"
CODE = {"/home/me/m.py": [""] * 6 + ["y = self.l(x)", "z = torch.searchsorted(edges, y)", "return y.relu()"]}


def test_each_op_line_is_traced_to_the_models_innermost_frame():
    found = mlir_where.frames(PLAIN, LOCATED)
    assert found == {
        "3": "/home/me/m.py:7",  # the linear: the model's line, not torch's frame that called it
        "4": "/home/me/m.py:8",
        "5": "/home/me/m.py:8",  # the searchsorted, line 5 of the plain print (its error points there)
        "6": "/home/me/m.py:9",
        "8": "/home/me/m.py:7",
        "9": "/home/me/m.py:7",
    }  # line 7 (the add) has torch's frames only: no line of the model's named
    assert PLAIN.splitlines()[4].lstrip().startswith('%5 = torch.operator "torch.aten.searchsorted')


def test_prints_that_do_not_hold_the_same_lines_map_nothing():
    relu6 = LOCATED.replace("    %6 = torch.aten.relu", "    %6 = torch.aten.relu6")
    assert mlir_where.frames(PLAIN, relu6) == {}
    assert mlir_where.frames(PLAIN, LOCATED.replace("  } loc(#loc5)\n", "")) == {}
    assert mlir_where.frames("no module here", LOCATED) == {}


def test_the_code_is_read_at_export_and_cut():
    found = mlir_where.frames(PLAIN, LOCATED)
    code = mlir_where.code_of(found, read=lambda path: CODE.get(path))
    assert code["/home/me/m.py:8"] == "z = torch.searchsorted(edges, y)"
    assert mlir_where.code_of({"1": "/gone.py:3"}, read=lambda path: None) == {}
    long = mlir_where.code_of({"1": "/x.py:1"}, read=lambda path: ["  y = " + "f(" * 80])["/x.py:1"]
    assert len(long) == 100 and long.endswith("…") and long.startswith("y = f(")


def test_the_located_print_keeps_no_resources():
    kept = mlir_where._Kept()
    for chunk in (LOCATED[:100], LOCATED[100:], '{-#\n  dialect_resources: { blob: "0x00" }\n#-}\n'):
        kept.write(chunk)
    assert "".join(kept.parts) == LOCATED and kept.done


def test_the_exporter_and_the_compile_stage_agree_on_the_file():
    assert mlir_where.SUFFIX == compile_errors.WHERE_SUFFIX
    assert mlir_where.where_path(Path("/s/model.mlir")) == Path("/s/model" + compile_errors.WHERE_SUFFIX)


def test_model_line_names_the_file_and_its_code():
    where = json.dumps({"frames": {"5": "/home/me/m.py:8"}, "code": {"/home/me/m.py:8": "z = f(x)"}})
    assert compile_errors.model_line(where, 5) == "m.py:8: z = f(x)"
    assert compile_errors.model_line(json.dumps({"frames": {"5": "C:\\me\\m.py:8"}}), 5) == "m.py:8"
    for bad in ("", "not json", "[]", json.dumps({"frames": []}), where):
        assert compile_errors.model_line(bad, 6) == ""


ERROR = (
    "model.mlir:5:10: error: failed to legalize operation 'torch.operator' that was explicitly marked "
    "illegal\n"
    '    %5 = torch.operator "torch.aten.searchsorted.Tensor"(%3, %4) : (!torch.vtensor<[5],f32>)\n'
)


def test_a_compile_record_says_the_models_line(tmp_path):
    from iree_matrix.stages import compile as compile_stage

    mlir = tmp_path / "model.mlir"
    mlir.write_text(PLAIN)
    (tmp_path / "model.where.json").write_text(
        json.dumps({"frames": mlir_where.frames(PLAIN, LOCATED), "code": {"/home/me/m.py:8": "z = f(x)"}})
    )
    outcome = compile_stage._failed(RuntimeError("compile-error"), ERROR, ["iree-compile"], mlir)
    assert outcome.metrics.get("source_line") == "m.py:8: z = f(x)"
    said = compile_errors.of_record(outcome.metrics, None)
    assert said is not None and said.text() == (
        "failed to legalize operation 'torch.operator' that was explicitly marked illegal "
        "(op: torch.aten.searchsorted.Tensor), at m.py:8: z = f(x)"
    )
    (tmp_path / "model.where.json").unlink()  # an export made before the file existed: no line said
    assert "source_line" not in compile_stage._failed(RuntimeError("x"), ERROR, [], mlir).metrics


def test_torch_ops_are_named_as_their_cpp_class():
    assert compile_errors.pattern_class("torch.aten.scatter.src") == "AtenScatterSrcOp"
    assert compile_errors.pattern_class("torch.aten.index_put.hacked_twin") == "AtenIndexPutHackedTwinOp"
    assert compile_errors.pattern_class("torch.aten._softmax") == "Aten_SoftmaxOp"
    assert compile_errors.pattern_class("torch.prims.convert_element_type") == "PrimsConvertElementTypeOp"


CRASH = (
    "Please report issues to https://github.com/iree-org/iree/issues and include the crash backtrace.\n"
    "Stack dump:\n"
    "#12 0x00007f1f3e11938e mlir::torch::(anonymous namespace)::ConvertAtenScatterOp<mlir::torch::Torch::"
    "AtenScatterSrcOp>::matchAndRewrite(mlir::torch::Torch::AtenScatterSrcOp, mlir::torch::Torch::"
    "AtenScatterSrcOpAdaptor, mlir::ConversionPatternRewriter&) const TorchToTMTensor.cpp:0:0\n"
)
GATE = (
    "module @module {\n"
    "  func.func @main(%arg0: !torch.vtensor<[4,8],f32>) -> !torch.vtensor<[4,8],f32> {\n"
    "    %0 = torch.aten.topk %arg0, %int2 : !torch.vtensor<[4,8],f32> -> !torch.vtensor<[4,2],f32>\n"
    "    %1 = torch.aten.scatter.src %zeros, %int-1, %idx, %0 : !torch.vtensor<[4,8],f32> -> !torch.vtensor<[4,8],f32>\n"  # noqa: E501
    "    return %1 : !torch.vtensor<[4,8],f32>\n  }\n}\n"
)


def test_a_crash_is_traced_to_the_first_line_of_the_op_it_was_lowering(tmp_path):
    """A crash names no line, only the C++ class of the torch op whose lowering crashed: the first
    line of the model's MLIR holding that op is where the model has it (issue #69's mixture of experts:
    `zeros.scatter(-1, topk_idx, weights)`)."""
    from iree_matrix.stages import compile as compile_stage

    mlir = tmp_path / "model.mlir"
    mlir.write_text(GATE)
    where = {"frames": {"4": "/u/moe.py:31"}, "code": {"/u/moe.py:31": "gate = zeros.scatter(-1, idx, w)"}}
    (tmp_path / "model.where.json").write_text(json.dumps(where))
    metrics = compile_stage._failed(RuntimeError("compile-error"), CRASH, [], mlir).metrics
    assert metrics.get("source_op") == "torch.aten.scatter.src"
    assert metrics.get("source_line") == "moe.py:31: gate = zeros.scatter(-1, idx, w)"
    said = compile_errors.of_record(metrics, None)
    assert said is not None and said.text().startswith(
        "iree-compile crashed while lowering torch's AtenScatterSrcOp"
    )
    assert said.text().endswith(
        "(from the model's torch.aten.scatter.src), at moe.py:31: gate = zeros.scatter(-1, idx, w)"
    )
    mlir.write_text(GATE.replace("scatter.src", "scatter_add"))  # no such op in the model: nothing said
    assert "source_op" not in compile_stage._failed(RuntimeError("x"), CRASH, [], mlir).metrics


def test_ops_of_one_trace_are_joined_to_torch_modules_in_graph_order() -> None:
    """turbine's locations keep only the model's frames (it traces through dynamo), so a Linear and a
    Hardswish called on one line share a trace: its n-th torch op is its n-th node."""
    model, dynamo = "/m.py", "/venv/torch/_dynamo/functional_export.py"
    located = f"""#loc1 = loc("{model}":16:0)
#loc2 = loc("{dynamo}":232:0)
#loc3 = loc(callsite(#loc1 at #loc2))
module @module {{
  func.func @main(%arg0: !torch.vtensor<[4,16],f32>) -> !torch.vtensor<[4,16],f32> {{
    %0 = torch.vtensor.literal(dense<0.0> : tensor<16x16xf32>) : !torch.vtensor<[16,16],f32> loc(#loc3)
    %2 = torch.aten.linear %arg0, %0 : !torch.vtensor<[4,16],f32> -> !torch.vtensor<[4,16],f32> loc(#loc3)
    %3 = torch.aten.hardswish %2 : !torch.vtensor<[4,16],f32> -> !torch.vtensor<[4,16],f32> loc(#loc3)
    return %3 : !torch.vtensor<[4,16],f32> loc(#loc3)
  }} loc(#loc3)
}} loc(#loc)
#loc = loc(unknown)
"""
    plain = "\n".join(strip_locations(line) for line in located.splitlines() if not line.startswith("#"))
    nodes = [(((model, 16),), "fc Linear"), (((model, 16),), "act Hardswish")]
    assert mlir_where.modules(plain, located, nodes) == {
        "3": "fc Linear",
        "4": "fc Linear",
        "5": "act Hardswish",
    }


def test_ops_of_a_function_torch_export_leaves_out_are_their_callers_nodes() -> None:
    """A method set on an instance (whisper_tiny@decomposed's attention) is a frame of turbine's
    locations and none of torch.export's traces: its ops are counted with its caller's nodes, so the
    Linear after it is joined to its own module, not taken for one of the attention's ops."""
    model, inner, dynamo = "/m.py", "/patch.py", "/venv/torch/_dynamo/functional_export.py"
    located = f"""#loc1 = loc("{model}":16:0)
#loc2 = loc("{dynamo}":232:0)
#loc3 = loc(callsite(#loc1 at #loc2))
#loc4 = loc("{inner}":5:0)
#loc5 = loc(callsite(#loc4 at #loc3))
module @module {{
  func.func @main(%arg0: !torch.vtensor<[4,16],f32>) -> !torch.vtensor<[4,16],f32> {{
    %0 = torch.aten.relu %arg0 : !torch.vtensor<[4,16],f32> -> !torch.vtensor<[4,16],f32> loc(#loc5)
    %1 = torch.aten.linear %0, %0 : !torch.vtensor<[4,16],f32> -> !torch.vtensor<[4,16],f32> loc(#loc3)
    return %1 : !torch.vtensor<[4,16],f32> loc(#loc3)
  }} loc(#loc3)
}} loc(#loc)
#loc = loc(unknown)
"""
    plain = "\n".join(strip_locations(line) for line in located.splitlines() if not line.startswith("#"))
    nodes = [(((model, 16),), "attn Attention"), (((model, 16),), "attn.out Linear")]
    assert mlir_where.modules(plain, located, nodes) == {"3": "attn Attention", "4": "attn.out Linear"}
