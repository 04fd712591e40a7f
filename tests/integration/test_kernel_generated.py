"""The newcomer's kernel: 13 lines of C and a kernel.toml of 6 lines that names the torch module it
replaces (tests/data/kernels/hswish: `replaces = { module = "act" }`), no MLIR. One `matrix --kernel`
run on IREE 3.3.0, 3.9.0 and 3.13.0 (real wheels, Zig's clang): each release's compile writes the
spec from its own IR (3.3.0 lowers hardswish to another op form), applies it beside the Linear's
own dispatch, and the outputs match torch. Then what a declaration that cannot be served says: a
module no op comes from, a C file without the function (the prototype the spec calls); and
`iree-matrix kernel ir` prints the IR with each op's module and that prototype."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Record, Status

from .conftest import REPO, iree_matrix, records

pytestmark = [pytest.mark.integration, pytest.mark.shared_tmp]

DATA = REPO / "tests" / "data" / "kernels"
LIBRARY = REPO / "kernels"  # the shipped library
CELL = "hswish_model-hswish/py3.11-torch2.13.0-turbine3.9.0/iree{}/x86_64/default"
RELEASES = ("3.3.0", "3.9.0", "3.13.0")
MATRIX = """
python = ["3.11"]
torch = ["2.13.0"]
turbine = ["3.9.0"]
compiler = ["3.3.0", "3.9.0", "3.13.0"]
models = ["{data}/hswish_model.py:hswish"]

[benchmark]
repetitions = 1
"""


FUSED_TOML = """replaces = { module = ["fc", "act"], together = true }
args = ["input:0", "input:1", "input:2", "output", "input:0[0]", "input:0[1]", "output[1]"]"""
FUSED_C = """#include <stddef.h>
#define M(n) const float *n##_base, const float *n, size_t n##_offset, size_t n##_size, size_t n##_stride
void hswish_kernel(M(x), M(wt), M(b), float *y_base, float *y, size_t y_offset, size_t y_size,
                   size_t y_stride, size_t rows, size_t in, size_t out) {
  x += x_offset, wt += wt_offset, b += b_offset, y += y_offset;
  for (size_t r = 0; r < rows; ++r)
    for (size_t j = 0; j < out; ++j) {
      float a = b[j];
      for (size_t k = 0; k < in; ++k) a += x[r * in + k] * wt[k * out + j];
      float t = a + 3.0f;
      t = t < 0.0f ? 0.0f : t > 6.0f ? 6.0f : t;
      y[r * out + j] = a * t / 6.0f;
    }
}
"""


def _variant(tmp_path: Path, name: str, old: str, new: str, c: str = "") -> Path:
    where = tmp_path / name
    shutil.copytree(DATA / "hswish", where)
    toml = (where / "kernel.toml").read_text().replace('name = "hswish"', f'name = "{name}"')
    (where / "kernel.toml").write_text(toml.replace(old, new))
    if c:
        (where / "hswish.c").write_text(c)
    return where


def test_a_kernel_from_its_module_name_on_three_releases(cache: Path, tmp_path: Path) -> None:
    assert len((DATA / "hswish" / "kernel.toml").read_text().splitlines()) <= 10
    head = _variant(tmp_path, "head", 'module = "act"', 'module = "head"')
    other = _variant(tmp_path, "other", "", "", c="void something_else(void) {}\n")
    # the Linear and its Hardswish as one call (`together`): the data, W^T (IREE's transpose of the
    # weight, folded from weights alone), the bias; then rows, in and out features
    fused = _variant(tmp_path, "fused", 'replaces = { module = "act" }', FUSED_TOML, c=FUSED_C)
    matrix = tmp_path / "hswish.toml"
    matrix.write_text(MATRIX.format(data=DATA))
    started = time.monotonic()
    done = iree_matrix(
        "matrix", "--matrix", str(matrix), "--backend", "venv", "--kernel", str(DATA / "hswish"),
        "--kernel", str(head), "--kernel", str(other), "--kernel", str(fused),
        cache=cache, results=tmp_path / "results", timeout=1500,
    )  # fmt: skip
    print(f"three releases, three kernels: {time.monotonic() - started:.0f} s")
    assert done.returncode == 0, done.stderr
    got = records(tmp_path / "results")
    for release in RELEASES:
        cell = CELL.format(release)
        compiled = got[f"compile:{cell}+k:hswish"]
        assert compiled.status is Status.OK, (release, compiled.message)
        facts = compiled.metrics["custom_kernel"]
        assert facts["applied"] and facts["functions_found"] == ["hswish_kernel"], (release, facts)
        assert facts["spec"] == "generated" and len(facts["spec_sha256"]) == 64
        # The Linear is still IREE's: the module has a dispatch of IREE's beside the kernel's one.
        assert compiled.metrics["dispatch_count"] >= 2, (release, compiled.metrics["dispatch_count"])
        ran = got[f"run:{cell}+k:hswish"]
        assert ran.status is Status.OK, (release, ran.message)
        # No op of the model comes from a module "head": one line naming what there is.
        missed = got[f"compile:{cell}+k:head"]
        assert (missed.status, missed.error_class) == (Status.FAIL, "kernel-not-generated"), missed.message
        assert "no op of this IR comes from module 'head'" in (missed.message or "")
        assert "act torch.nn.modules.activation.Hardswish" in (missed.message or "")
        # A C file without the function: the prototype the generated spec calls.
        lacking = got[f"compile:{cell}+k:other"]
        assert (lacking.status, lacking.error_class) == (Status.FAIL, "kernel-rejected"), lacking.message
        assert "defines no function hswish_kernel" in (lacking.message or "")
        assert "void hswish_kernel( const float* in0_base" in (lacking.message or "")
        # Together: the whole model one call of the C, which matched torch
        together = got[f"compile:{cell}+k:fused"]
        assert together.status is Status.OK and together.metrics["custom_kernel"]["applied"], together.message
        assert together.metrics["dispatch_count"] == 1, (release, together.metrics["dispatch_count"])
        assert got[f"run:{cell}+k:fused"].status is Status.OK, (release, got[f"run:{cell}+k:fused"].message)
    # 3.3.0's op form is its own (an i64 six converted in a generic): another spec, not 3.9.0's.
    digests = {
        r: got[f"compile:{CELL.format(r)}+k:hswish"].metrics["custom_kernel"]["spec_sha256"] for r in RELEASES
    }
    assert digests["3.3.0"] != digests["3.9.0"]

    # The IR the spec runs on, then the spec itself (what an answer's `kernel-spec.mlir` line writes).
    asked = [f"{DATA / 'hswish_model.py'}:hswish", "--release", "3.13.0", "--kernel", str(DATA / "hswish")]
    shown, spec = (
        subprocess.run(
            [sys.executable, "-m", "iree_matrix", "kernel", action, *asked, "--cache", str(cache)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        for action in ("ir", "spec")
    )
    assert shown.returncode == 0, shown.stderr
    assert "linalg.matmul" in shown.stdout and "// <- fc torch.nn.modules.linear.Linear" in shown.stdout
    assert "// <- act torch.nn.modules.activation.Hardswish" in shown.stdout and " loc(" not in shown.stdout
    assert "void hswish_kernel(" in shown.stdout
    assert spec.returncode == 0, spec.stderr
    assert spec.stdout.startswith("// Generated by iree-matrix for kernel 'hswish'"), spec.stdout[:200]
    assert "@hswish_kernel(" in spec.stdout and "transform.foreach_match" in spec.stdout


def _matrix_with(
    kernel: Path, compilers: str, model: str, cache: Path, tmp_path: Path, *more: Path
) -> dict[str, Record]:
    """One `matrix --kernel` run of MATRIX on `compilers` and `model` (as the matrix names them),
    with `kernel` and any `more`; its records, after its exit status is checked."""
    matrix = tmp_path / "m.toml"
    matrix.write_text(MATRIX.format(data=DATA).replace('"3.3.0", "3.9.0", "3.13.0"', compilers).replace(
        f'"{DATA}/hswish_model.py:hswish"', f'"{model}"'))  # fmt: skip
    started = time.monotonic()
    kernels = [a for k in (kernel, *more) for a in ("--kernel", str(k))]
    done = iree_matrix("matrix", "--matrix", str(matrix), "--backend", "venv", *kernels,
                       cache=cache, results=tmp_path / "results", timeout=1500)  # fmt: skip
    print(f"{model} with {kernel.name} on {compilers}: {time.monotonic() - started:.0f} s")
    assert done.returncode == 0, done.stderr
    return records(tmp_path / "results")


def _generated(got: dict[str, Record], cell: str, function: str) -> Record:
    """The cell's compile took the kernel by a generated spec that calls `function`, and its run
    matched torch; the compile's record."""
    compiled = got[f"compile:{cell}"]
    assert compiled.status is Status.OK, (cell, compiled.message)
    facts = compiled.metrics["custom_kernel"]
    assert facts["applied"] and facts["spec"] == "generated", (cell, facts)
    assert function in facts["functions_found"], (cell, facts)
    ran = got[f"run:{cell}"]
    assert ran.status is Status.OK, (cell, ran.message)  # checked against torch
    return compiled


def test_depthwise3x3s_spec_generated_on_mobilenet_v2(cache: Path, tmp_path: Path) -> None:
    """kernels/depthwise3x3: the shipped depthwise C under a spec the tool writes from its kernel.toml's
    declarations (no MLIR). For MobileNetV2 they name its 17 depthwise Conv2d + BatchNorm2d + ReLU6
    blocks by module glob, and the stem; each block (10 shapes, stride 1 and 2) is matched as IREE 3.13.0
    prints it after the channels-last pass and swapped for one call, the stem for another, and the
    outputs match torch. In the same run kernels/inverted_residual, four declarations (`[[calls]]`) in one
    spec: the depthwise blocks, the stem and the 1x1 expansions and projections, 30 forms, every one of
    its functions called and the outputs matching torch."""
    got = _matrix_with(
        LIBRARY / "depthwise3x3", '"3.13.0"', "mobilenet_v2", cache, tmp_path, LIBRARY / "inverted_residual"
    )
    cell = "mobilenet_v2/py3.11-torch2.13.0-turbine3.9.0/iree3.13.0/x86_64/default+k:{}"
    dw = _generated(got, cell.format("depthwise3x3"), "stem_bn_relu6_torch")
    spec = (cache / "store" / "compile" / dw.key / "kernel-spec.mlir").read_text()
    calls = ["depthwise3x3_bn_relu6_torch", "stem_bn_relu6_torch", "depthwise_torch"]
    assert [spec.count(f"func.call @{f}(") for f in calls] == [10, 1, 0]  # 10 depthwise shapes, the stem
    blocks = _generated(got, cell.format("inverted_residual"), "conv1x1_torch")
    spec = (cache / "store" / "compile" / blocks.key / "kernel-spec.mlir").read_text()
    calls = ["depthwise3x3_bn_relu6_torch", "stem_bn_relu6_torch", "conv1x1_bn_relu6_torch", "conv1x1_torch"]
    forms = [spec.count(f"func.call @{f}(") for f in calls]  # 10 depthwise shapes, 1 stem, 7 and 12 1x1
    assert forms == [10, 1, 7, 12] and spec.count("named_sequence @match_inverted_residual_") == 30, forms


def test_mobilenet_v3_smalls_depthwise_spec_generated_on_two_releases(cache: Path, tmp_path: Path) -> None:
    """kernels/depthwise3x3's declarations for MobileNetV3-small (issue 92 item 4): its eleven depthwise
    Conv2d, 3x3 and 5x5, stride 1 and 2, by module glob, under depthwise3x3.c's NHWC entries; never
    MobileNetV2's stem declaration, whose `features.0` this model has too. On 3.13.0 after the
    channels-last pass nine of them read an NCHW input (after a hardswish, or features.1's after the
    stem's), two an NHWC one (after a ReLU): nine forms (the two 14x14x240 layers are one, the two
    7x7x576 another); args' `.permute` hands the C NHWC and a [K][K][C] filter, the swap transposing
    around the call. On 3.3.0 all eleven read NHWC: the NCHW declaration fits none of them and leaves
    them to the NHWC one, nine forms in the older spelling. The outputs match torch on both."""
    got = _matrix_with(LIBRARY / "depthwise3x3", '"3.3.0", "3.13.0"', "mobilenet_v3_small", cache, tmp_path)
    for release, inputs in (("3.13.0", 7), ("3.3.0", 0)):
        cell = (
            f"mobilenet_v3_small/py3.11-torch2.13.0-turbine3.9.0/iree{release}/x86_64/default+k:depthwise3x3"
        )
        key = _generated(got, cell, "depthwise_torch").key
        spec = (cache / "store" / "compile" / key / "kernel-spec.mlir").read_text()
        assert spec.count("func.call @depthwise_torch(") == 9 and "_relu6_torch" not in spec, release
        # the swaps' transposes, per form: the filter and, where it is NCHW, the input; the output
        handed = [line for line in spec.splitlines() if "linalg.transpose" in line and "outs(%p" in line]
        assert len(handed) == 9 + inputs and spec.count("outs(%r_ : ") == 9, (release, len(handed))
        assert ("count(%device" in spec) is (release == "3.13.0"), release


def test_yolox_nanos_depthwise_spec_generated(cache: Path, tmp_path: Path) -> None:
    """kernels/depthwise3x3's declarations for YOLOX-nano (issue 92 item 4): its thirty depthwise Conv2d
    (3x3, stride 1 and 2), each reading an NCHW input after the channels-last pass, under
    depthwise3x3.c's NHWC entries. Two declarations: the head's reg_convs.N.0 read the pad IREE shares
    with cls_convs.N.0 (CSE), so their DAG starts at the padded tensor and another entry takes it.
    Twelve and three forms; the outputs match torch."""
    got = _matrix_with(LIBRARY / "depthwise3x3", '"3.13.0"', "yolox_nano", cache, tmp_path)
    cell = "yolox_nano/py3.11-torch2.13.0-turbine3.9.0/iree3.13.0/x86_64/default+k:depthwise3x3"
    spec = (
        cache / "store" / "compile" / _generated(got, cell, "depthwise_torch_padded").key / "kernel-spec.mlir"
    ).read_text()
    forms = [spec.count(f"func.call @{f}(") for f in ("depthwise_torch", "depthwise_torch_padded")]
    assert forms == [12, 3], forms


def test_a_module_declared_kernel_reaches_a_recipes_export(cache: Path, tmp_path: Path) -> None:
    """The recipe `fx+decompose` (torch.export, torch's decompositions, IREE's fx importer) keeps each
    op's torch module too, so kernels/conv1d_k3, declared by module path, swaps both stems of that
    export and matches torch (it failed `kernel-not-generated`: "the export recorded no torch module
    per op")."""
    kernel = tmp_path / "conv1d_k3"
    shutil.copytree(REPO / "kernels" / "conv1d_k3", kernel)
    toml = (kernel / "kernel.toml").read_text()
    (kernel / "kernel.toml").write_text(toml.replace('models = ["whisper_tiny"]', ""))
    got = _matrix_with(kernel, '"3.13.0"', f"{DATA}/conv1d_model.py:stems~fx+decompose", cache, tmp_path)
    cell = "conv1d_model-stems~fx+decompose/py3.11-torch2.13.0-turbine3.9.0/iree3.13.0/x86_64/"
    cell += "default+k:conv1d_k3"
    spec = cache / "store" / "compile" / _generated(got, cell, "conv1d_k3_torch").key / "kernel-spec.mlir"
    assert spec.read_text().count("func.call @conv1d_k3_torch(") == 2  # stride 1 and 2


def test_whispers_stem_kernel_generated_beside_a_linear(cache: Path, tmp_path: Path) -> None:
    """kernels/conv1d_k3 (Whisper's two Conv1d stems, declared by module path) on a small model with
    the same modules and the same GELU on the forward's line (tests/data/kernels/conv1d_model.py),
    on IREE 3.9.0 and 3.13.0: each release's spec swaps both convolutions (stride 1 and 2) for the
    C beside the Linear's own dispatch, and the outputs match torch."""
    kernel = tmp_path / "conv1d_k3"
    shutil.copytree(REPO / "kernels" / "conv1d_k3", kernel)
    toml = (kernel / "kernel.toml").read_text()
    assert 'models = ["whisper_tiny"]' in toml
    (kernel / "kernel.toml").write_text(toml.replace('models = ["whisper_tiny"]', ""))
    got = _matrix_with(kernel, '"3.9.0", "3.13.0"', f"{DATA}/conv1d_model.py:stems", cache, tmp_path)
    for release in ("3.9.0", "3.13.0"):
        cell = f"conv1d_model-stems/py3.11-torch2.13.0-turbine3.9.0/iree{release}/x86_64/default+k:conv1d_k3"
        compiled = _generated(got, cell, "conv1d_k3_torch")
        assert compiled.metrics["custom_kernel"]["functions_found"] == ["conv1d_k3_torch"], release
        assert compiled.metrics["dispatch_count"] >= 2, (release, compiled.metrics["dispatch_count"])


def test_kernels_declared_by_torch_op_on_three_releases(cache: Path, tmp_path: Path) -> None:
    """The library's softmax (`replaces = { op = "aten.softmax", dim = -1 }`: a bare torch.softmax no
    module names) and gelu_tanh (`{ op = "aten.gelu", approximate = "tanh" }`: one generic whose body
    reads captured constants, the pattern's root) on
    softmax_gelu_model.py, one `matrix` run on IREE 3.3.0, 3.9.0 and 3.13.0 (real wheels): each
    release's compile writes each spec from its own IR and applies it beside IREE's own dispatches,
    and the outputs match torch. A GELU declared without `approximate` takes the exact GELU too, on
    the softmax's exp's types: refused in one line, never a spec that would swap the exp."""
    any_gelu = tmp_path / "any_gelu"
    shutil.copytree(LIBRARY / "gelu_tanh", any_gelu)  # blocks.h, a link there, copied as a file
    toml = (any_gelu / "kernel.toml").read_text().replace('name = "gelu_tanh"', 'name = "any_gelu"')
    (any_gelu / "kernel.toml").write_text(toml.replace(', approximate = "tanh"', ""))
    matrix = tmp_path / "m.toml"
    model = f"{DATA}/softmax_gelu_model.py:softmax_gelu"
    matrix.write_text(MATRIX.format(data=DATA).replace(f'"{DATA}/hswish_model.py:hswish"', f'"{model}"'))
    started = time.monotonic()
    declared = (LIBRARY / "softmax", LIBRARY / "gelu_tanh", any_gelu)
    kernels = [a for k in declared for a in ("--kernel", str(k))]
    argv = ["matrix", "--matrix", str(matrix), "--backend", "venv", *kernels]
    done = iree_matrix(*argv, cache=cache, results=tmp_path / "results", timeout=1500)
    print(f"three releases, three kernels by torch op: {time.monotonic() - started:.0f} s")
    assert done.returncode == 0, done.stderr
    got = records(tmp_path / "results")
    for release in RELEASES:
        cell = f"softmax_gelu_model-softmax_gelu/py3.11-torch2.13.0-turbine3.9.0/iree{release}/x86_64/default"
        for kernel, function in (("softmax", "softmax_last"), ("gelu_tanh", "gelu_tanh")):
            compiled = _generated(got, f"{cell}+k:{kernel}", function)
            assert compiled.metrics["dispatch_count"] >= 2, (
                release,
                kernel,
                compiled.metrics["dispatch_count"],
            )
        refused = got[f"compile:{cell}+k:any_gelu"]
        assert (refused.status, refused.error_class) == (Status.FAIL, "kernel-not-generated"), refused.message
        assert "from outside its body" in (refused.message or "")
        assert "a spec would replace it too" in (refused.message or "")


# (library kernel, model, its cell's name, the function the spec calls)
BY_OP = [
    # kernels/layer_norm (`replaces = { op = "aten.layer_norm", eps = 1e-5 }`): where the LayerNorm is a
    # chain of reductions and elementwise ops, the one of eps 1e-5 is swapped for layer_norm_last and
    # the one of eps 1e-6 (and the Linear) left to IREE
    ("layer_norm", "layer_norm_model.py:layer_norms", "layer_norm_model-layer_norms", "layer_norm_last"),
    # kernels/global_avg_pool (`replaces = { op = "aten.adaptive_avg_pool2d", output_size = [1, 1] }`)
    # on a squeeze-excitation block: torch-mlir lowers the pool to a tensor.pad of its input that a
    # generic's body gathers from, then a divide; the swap reaches the input through the body's
    # tensor.extract, beside IREE's own dispatches
    ("global_avg_pool", "pool_model.py:squeeze_excite", "pool_model-squeeze_excite", "global_avg_pool"),
]


@pytest.mark.parametrize(("kernel", "model", "name", "function"), BY_OP, ids=[k[0] for k in BY_OP])
def test_a_library_kernel_by_torch_op_on_three_releases(
    kernel: str, model: str, name: str, function: str, cache: Path, tmp_path: Path
) -> None:
    """A library kernel declared by torch op, one `matrix` run on IREE 3.3.0, 3.9.0 and 3.13.0 (real
    wheels): each release writes the spec from its own IR and calls the kernel once; IREE's own
    dispatches stay for the rest, and the outputs match torch."""
    got = _matrix_with(LIBRARY / kernel, '"3.3.0", "3.9.0", "3.13.0"', f"{DATA}/{model}", cache, tmp_path)
    for release in RELEASES:
        cell = f"{name}/py3.11-torch2.13.0-turbine3.9.0/iree{release}/x86_64/default"
        compiled = _generated(got, f"{cell}+k:{kernel}", function)
        spec = (cache / "store" / "compile" / compiled.key / "kernel-spec.mlir").read_text()
        assert spec.count(f"func.call @{function}(") == 1, release  # layer_norm: the eps 1e-6 one is IREE's
        assert compiled.metrics["dispatch_count"] >= 2, (release, compiled.metrics["dispatch_count"])


def test_whispers_encoder_kernel_swaps_its_stems_and_its_attention_by_one_spec(
    cache: Path, tmp_path: Path
) -> None:
    """kernels/whisper_encoder: conv1d_k3's stems and, in a [[calls]] table, a block's whole
    self-attention (attention.c: the module `encoder.blocks.*.attn` and its four Linears), each
    declared by module path, in one object and one generated spec, on a small model of Whisper's
    encoder (tests/data/kernels/encoder_model.py, its attention set on the instance as
    whisper_tiny@decomposed's) on IREE 3.9.0 (the published pick's release): the spec calls each
    function, IREE keeps the GELUs and the residual add, outputs match torch."""
    kernel = tmp_path / "whisper_encoder"
    shutil.copytree(LIBRARY / "whisper_encoder", kernel)  # the links copied as files
    toml = (kernel / "kernel.toml").read_text()
    (kernel / "kernel.toml").write_text(toml.replace('models = ["whisper_tiny"]', ""))
    got = _matrix_with(kernel, '"3.9.0"', f"{DATA}/encoder_model.py:encoder", cache, tmp_path)
    cell = "encoder_model-encoder/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default+k:whisper_encoder"
    compiled = _generated(got, cell, "whisper_attention")
    assert compiled.metrics["custom_kernel"]["functions_found"] == ["conv1d_k3_torch", "whisper_attention"]
    spec = (cache / "store" / "compile" / compiled.key / "kernel-spec.mlir").read_text()
    assert [spec.count(f"func.call @{f}(") for f in ("conv1d_k3_torch", "whisper_attention")] == [2, 1]
    assert compiled.metrics["dispatch_count"] >= 3, compiled.metrics["dispatch_count"]
