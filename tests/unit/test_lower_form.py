"""Compilers older than the export (issue #38): the `linalg:<release>` form's spec and plan, and the
constants inlined so the 2023 compilers can serialize them."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix import stages
from iree_matrix.core.errors import SpecError
from iree_matrix.iree import mlir_resources
from iree_matrix.matrix import releases, spec, spec_file
from tests.unit.fake_index import INDEX, FakeIndex

BASE = (
    'python = "3.11"\ncompiler = ["20230209.425", "3.13.0"]\nmodels = "tiny_cnn"\n'
    'torch = "2.13.0"\nturbine = "3.9.0"\n'
)
ENV = "py3.11-torch2.13.0-turbine3.9.0"
DATED = {**INDEX, "iree-compiler": ["20230209.425", "20231113.707"], "iree-runtime": ["20230209.425"]}


def _load(tmp_path: Path, text: str) -> spec.MatrixSpec:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    return spec_file.load(path, resolver=releases.Resolver(None, query=FakeIndex(DATED)))


def test_lowering_compiler_reads_the_form():
    assert spec.lowering_compiler("linalg:20231113.707") == "20231113.707"
    assert spec.lowering_compiler("linalg") is None
    assert spec.lowering_compiler("text") is None
    assert spec.lowering_compiler("onnx:17") is None


def test_a_lowering_that_is_no_release_is_one_line(tmp_path):
    with pytest.raises(SpecError) as caught:
        _load(tmp_path, BASE + 'forms = "linalg:newest"\n')
    message = str(caught.value)
    assert "\n" not in message and "forms = 'linalg:newest'" in message
    assert 'expected "linalg:<IREE release>"' in message


def test_the_linalg_form_plans_one_lowering_for_every_compiler(tmp_path):
    matrix = _load(tmp_path, BASE + 'forms = ["text", "linalg:20231113.707"]\n')
    by_id = {j.id: j for j in stages.plan(matrix).jobs}
    lowered = f"{ENV}+linalg-iree20231113.707"
    lower = by_id[f"lower:tiny_cnn/{lowered}"]
    # One export for both forms; the lowering runs in the lowering release's own compiler env.
    assert [j.id for j in by_id.values() if j.stage == "export"] == [f"export:tiny_cnn/{ENV}"]
    assert f"export:tiny_cnn/{ENV}" in lower.deps
    assert lower.env.requirements == ("iree-compiler==20231113.707",)
    assert lower.label.exporter == lowered and lower.label.form == "linalg:20231113.707"
    for compiler in ("20230209.425", "3.13.0"):
        compiled = by_id[f"compile:tiny_cnn/{lowered}/iree{compiler}/x86_64/default"]
        assert lower.id in compiled.deps and f"export:tiny_cnn/{ENV}" in compiled.deps
        assert compiled.label.exporter == lowered and compiled.label.form == ""
        run = by_id[f"run:tiny_cnn/{lowered}/iree{compiler}/x86_64/default"]
        assert compiled.id in run.deps
    # The text form's ids stay as they were, with no lowering among their dependencies.
    text = by_id[f"compile:tiny_cnn/{ENV}/iree20230209.425/x86_64/default"]
    assert not any(d.startswith("lower:") for d in text.deps)


_MODEL = """module @module {
  util.global private @w = dense_resource<__auto.w> : tensor<2xf32>
  func.func @main() -> tensor<1xf32> {
    %0 = torch.vtensor.literal(dense_resource<torch_tensor_1_torch.float32> : tensor<1xf32>) : !torch.vtensor
  }
}

{-#
  dialect_resources: {
    builtin: {
      __auto.w: "0x040000000000803F00000040",
      torch_tensor_1_torch.float32: "0x040000000000C03F"
    }
  }
#-}
"""


def test_inline_resources_writes_each_blob_as_dense_hex_without_its_alignment():
    out = mlir_resources.inline_resources(_MODEL)
    assert 'util.global private @w = dense<"0x0000803F00000040"> : tensor<2xf32>' in out
    assert 'torch.vtensor.literal(dense<"0x0000C03F"> : tensor<1xf32>)' in out
    assert "dense_resource" not in out and "{-#" not in out
    assert out.endswith("}\n")


def test_inline_resources_leaves_a_file_without_resources_alone():
    text = "module {\n}\n"
    assert mlir_resources.inline_resources(text) == text


def test_a_resource_without_its_blob_is_named():
    broken = _MODEL.replace("__auto.w: ", "__auto.other: ")
    with pytest.raises(mlir_resources.ResourceError, match=r"dense_resource<__auto.w> has no blob"):
        mlir_resources.inline_resources(broken)
