"""`iree-matrix query model NAME --target vulkan-spirv|cuda|rocm` answers from the GPU records with
evidence (issue #42 item 2): compiled per release, run where a device was, "not run" with the
runtime's reason otherwise; an unknown target is one line naming the known ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from iree_matrix.core.errors import UserError
from iree_matrix.findings import gpu, results_folder
from tests.unit.builders import query

GPU = Path(__file__).resolve().parents[2] / "results" / "gpu"


@pytest.fixture(scope="module")
def published():
    return results_folder.read(GPU / "results.jsonl")


def test_vulkan_passes_on_a_software_device_with_every_release(published) -> None:
    """Lavapipe for 3.12.0/3.13.0, SwiftShader for the runtimes that hide lavapipe; 3.7.1's module on
    3.7.0's runtime, its line's stand-in (it has no runtime of its own)."""
    answer = gpu.model(published, "tiny_cnn", "vulkan-spirv")
    assert answer.answer == "passes" and answer.decided
    assert answer.data is not None
    assert len(answer.data["passing"]) == 16 and {"2.9.0", "3.7.1", "3.11.0"} <= set(answer.data["passing"])
    assert len(answer.data["compiles"]) == 16 and not answer.data["does_not_compile"]
    assert answer.data["not_run"] == []
    text = answer.text()
    assert "newest passing: 3.13.0" in text and "llvmpipe" in text
    assert "not run: not run" not in text
    assert any(
        job.startswith("run:tiny_cnn/") and "/iree3.13.0/vulkan-spirv/" in job for job in answer.evidence
    )


def test_a_real_models_vulkan_answer_says_which_releases_compute_it_right(published) -> None:
    """QuartzNet's vulkan-spirv module matches torch through 3.3.0 and is wrong from 3.4.0 on (the
    padded vec4 store, docs/gpu.md): the same error on SwiftShader and on lavapipe."""
    answer = gpu.model(published, "quartznet5x5", "vulkan-spirv")
    assert answer.data is not None
    assert answer.data["passing"] == ["2.9.0", "3.0.0", "3.1.0", "3.2.0", "3.3.0"]
    assert "newest passing: 3.3.0" in answer.text() and "SwiftShader" in answer.text()
    assert "3.4.0, 3.5.0" in answer.text() and "max abs err 4.98" in answer.text()


@pytest.mark.parametrize(
    "asked, label, kind", [("cuda", "cuda-sm_80", "CUDA"), ("rocm:gfx942", "rocm-gfx942", "HIP")]
)
def test_cuda_and_rocm_compile_and_say_why_they_did_not_run(published, asked, label, kind) -> None:
    answer = gpu.model(published, "tiny_cnn", asked)
    assert answer.answer == "compiles" and answer.decided  # a compile is an answer without a device
    assert answer.data is not None and answer.data["target"] == label
    assert len(answer.data["compiles"]) == 16 and answer.data["passing"] == []
    assert f"no {kind} device here" in answer.text()
    assert any(job.startswith("compile:") and label in job for job in answer.evidence)


def test_a_known_target_not_in_the_results_is_not_measured(published) -> None:
    answer = gpu.model(published, "tiny_cnn", "cuda:sm_60")
    assert answer.answer == "not measured" and not answer.decided
    assert "cuda-sm_80" in answer.text()


def test_an_unknown_model_is_not_measured(published) -> None:
    answer = gpu.model(published, "resnet", "vulkan-spirv")
    assert answer.answer == "not measured" and "tiny_cnn" in answer.text()


@pytest.mark.parametrize("asked", ["metal", "cuda:sm_1", "x86_64"])
def test_an_unknown_target_is_one_line_naming_the_known(published, asked) -> None:
    with pytest.raises(UserError) as err:
        gpu.model(published, "tiny_cnn", asked)
    said = str(err.value)
    assert "\n" not in said and f"--target {asked}" in said
    assert "vulkan-spirv" in said or "sm_80" in said


def test_a_compile_failure_names_its_first_error(tmp_path: Path, published) -> None:
    lines = [json.loads(ln) for ln in (GPU / "results.jsonl").read_text().splitlines()]
    # The newest record of the job (the log holds it more than once after merges), made a failure.
    jobs = [r for r in lines if r["job"].startswith("compile:tiny_cnn/")]  # the log holds other models
    broken = [r for r in jobs if "/iree3.0.0/vulkan-spirv/" in r["job"]][-1]
    broken = {**broken, "finished": "2099-01-01T00:00:00+00:00"}
    broken.update(
        status="fail", error_class="compile-error", message="error: failed to legalize operation 'x.y'"
    )
    broken["metrics"] = {"first_error": "failed to legalize operation 'x.y'", "failing_op": "x.y"}
    (tmp_path / "results.jsonl").write_text("\n".join(json.dumps(r) for r in lines + [broken]) + "\n")
    answer = gpu.model(results_folder.read(tmp_path / "results.jsonl"), "tiny_cnn", "vulkan-spirv")
    assert answer.data is not None and answer.data["does_not_compile"] == ["3.0.0"]
    assert "does not compile: 3.0.0: fail: failed to legalize operation 'x.y'" in answer.text()


def test_the_command_takes_target_and_arch_names_a_gpu_too(capsys) -> None:
    code, out = query(capsys, "model", "tiny_cnn", "--target", "vulkan-spirv", "--results-dir", str(GPU))
    assert code == 0 and out.startswith("tiny_cnn on vulkan-spirv: compiles with 16 of 16")
    code, same = query(capsys, "model", "tiny_cnn", "--arch", "vulkan-spirv", "--results-dir", str(GPU))
    assert same == out
    code, out = query(capsys, "model", "tiny_cnn", "--target", "cuda", "--results-dir", str(GPU), "--json")
    assert code == 0 and json.loads(out)["answer"] == "compiles"
    with pytest.raises(UserError, match="not both"):
        query(capsys, "model", "tiny_cnn", "--target", "cuda", "--arch", "x86_64", "--results-dir", str(GPU))


def test_the_vulkan_runtime_cross_says_which_runtime_runs_which_module(published) -> None:
    """results/gpu holds matrix/gpu-cross.toml: every compiler's vulkan-spirv tiny_cnn module on every
    runtime, run on lavapipe (3.12.0, 3.13.0) or SwiftShader (the runtimes that hide lavapipe). Its
    windows are the runtimes' own, in their words; the Vulkan ones differ from the CPU's at 3.8.0
    (3.8.0's Vulkan executable is refused by runtime 3.9.0, which expects `VKE1`)."""
    answer = gpu.model(published, "tiny_cnn", "vulkan-spirv")
    assert answer.data is not None
    cross = answer.data["cross"]
    ran = {tuple(pair) for pair in cross["loads"]}
    windows = [
        ["2.9.0", "3.0.0", "3.1.0", "3.2.0", "3.3.0"],
        ["3.4.0", "3.5.0", "3.6.0", "3.7.0", "3.8.0"],
        ["3.9.0"], ["3.10.0"], ["3.11.0"], ["3.12.0", "3.13.0"],
    ]  # fmt: skip
    for window in windows:
        for runtime in window:
            assert (runtime, runtime) in ran and (window[0], runtime) in ran
    assert ("3.7.1", "3.4.0") in ran and ("3.8.0", "3.9.0") not in ran
    refused = {(a, b): why for a, b, why in cross["refuses"]}
    assert "module has 15.0" in refused[("3.9.0", "3.13.0")]
    assert "[Ch]" in refused[("3.13.0", "3.2.0")]
    assert "VKE1" in refused[("3.8.0", "3.9.0")]
    assert not cross["not_run"] and not cross["fails"]
    assert len(ran) + len(refused) == 240
    text = answer.text()
    assert "runtime 3.13.0 loads the modules of 3.12.0, 3.13.0" in text
    assert "runtime 3.8.0 loads the modules of 3.4.0, 3.5.0, 3.6.0, 3.7.0, 3.7.1, 3.8.0" in text
    across = [re.search(r"/iree([\d.]+)/vulkan-spirv/default/rt([\d.]+)$", job) for job in answer.evidence]
    assert any(m and m.group(1) != m.group(2) for m in across)  # a module another runtime ran


def test_the_report_and_the_answer_classify_the_cross_in_one_vocabulary(published) -> None:
    """Issue 49: the site's GPU cross and `query model --target` read one classifier
    (`gpu.cross_state`): each pair the answer says loads or refuses is that state on the page."""
    from iree_matrix.report import gpu as report_gpu

    cross = gpu.model(published, "tiny_cnn", "vulkan-spirv").data["cross"]  # type: ignore[index]
    on_page = {
        (h.row, h.col): h.state
        for h in report_gpu.cross_cells(published)
        if h.target == "vulkan-spirv · tiny_cnn"
    }
    said = {(a, b): state for state in (gpu.LOADS, gpu.REFUSES) for a, b, *_ in cross[state]}
    assert len(said) == len(on_page) == 240 and said == on_page
    assert {gpu.LOADS, gpu.REFUSES} == set(on_page.values())


def test_no_cross_is_told_where_each_module_ran_on_one_runtime(published) -> None:
    answer = gpu.model(published, "tiny_cnn", "cuda:sm_80")
    assert answer.data is not None and "cross" not in answer.data
    assert "runtime cross" not in answer.text()


def test_a_bare_backend_is_its_default_chip_among_several(published) -> None:
    """results/gpu holds cuda-sm_75, cuda-sm_80 and cuda-sm_90 (matrix/gpu-chips.toml): `cuda` is sm_80."""
    label, present = gpu.gpu_target(published, "cuda")
    assert label == "cuda-sm_80" and {"cuda-sm_75", "cuda-sm_90"} <= set(present)


def test_sm_90_fails_to_compile_with_the_compilers_first_error(published) -> None:
    answer = gpu.model(published, "tiny_cnn", "cuda:sm_90")
    assert answer.answer == "fails" and answer.data is not None
    assert len(answer.data["does_not_compile"]) == 16 and not answer.data["compiles"]
    assert "missing GPU target in #hal.executable.target" in answer.text()


def test_a_model_of_several_functions_counts_each_function_on_its_own(published) -> None:
    """whisper_tiny is two functions: "14 of 16 releases" each, never "28 of 32" for the model, and
    the model's answer is its weakest function's."""
    answer = gpu.model(published, "whisper_tiny", "rocm")
    assert answer.data is not None and set(answer.data["functions"]) == {
        "whisper_tiny.encoder",
        "whisper_tiny.decoder_step",
    }
    heads = [line for line in answer.lines if not line.startswith(" ")]
    assert len(heads) == 2 and all("of 16 compiler releases" in h for h in heads)
    assert "of 32" not in answer.text() and "189 MiB–189 MiB" not in answer.text()
    vulkan = gpu.model(published, "whisper_tiny", "vulkan-spirv")
    assert vulkan.answer == "fails"  # neither function compiles for Vulkan on any release
