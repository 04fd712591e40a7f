"""What was measured on a real GPU outside the project reaches `query model --target`: a CUDA chip no
release compiles (sm_90, sm_90a) answers with the chip to compile for instead and the H200 runs that
show it, and the Vulkan answer names 3.13.0's MobileNetV2 miscompute on real NVIDIA hardware beside
the published software-device cells. Read against the published results/gpu records; the table of
hand measurements is findings/gpu_measured.py, and docs/gpu.md shows its rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from iree_matrix.core import formats
from iree_matrix.findings import gpu, results_folder
from iree_matrix.findings import gpu_measured as measured
from tests.unit.builders import query

ROOT = Path(__file__).resolve().parents[2]
GPU = ROOT / "results" / "gpu"
HOPPER = (
    "compile for sm_80 or sm_89: runs on Hopper "
    "(measured on an NVIDIA H200, driver 580.159.04, 3.9.0 and 3.13.0)"
)


def chip_flag(run: measured.Run) -> str:
    """The compile flags that name the run's chip, as a user types them."""
    own = f"--iree-cuda-target={run.chip}" if run.target.startswith("cuda-") else ""
    own = own or f"--iree-hal-target-backends={run.target}"
    return " ".join((own, *run.flags))


def markdown_rows(rows: Sequence[measured.Run] = measured.RUNS) -> list[str]:
    """docs/gpu.md's H200 table, one row per run (only these tests write it out): model, release, chip
    flag, whether it matches torch (max abs err), IREE's time per call (iree-benchmark-module; the
    Python call), each GPU peer's (`peers`), and IREE's time over each of them, in the run's sitting."""
    lines = []
    for r in rows:
        said = (
            f"✅ yes ({measured.error(r.max_abs_err)})"
            if r.matches
            else f"❌ **no** ({measured.error(r.max_abs_err)})"
        )
        bench = formats.duration_ms(r.benchmark_ms) if r.benchmark_ms is not None else "—"
        timed = [measured.torch_ms(r).get(p) for p in measured.peers()]
        # A ratio from the Python call (no iree-benchmark-module figure) says so: for a small model
        # the call's own overhead is most of it.
        of = "" if r.benchmark_ms is not None else " (call)"
        torch = [formats.duration_ms(ms) if ms else "—" for ms in timed]
        over = [formats.ratio(r.iree_ms / ms) + of if ms else "—" for ms in timed]
        lines.append(
            f"| {r.model} | {r.release} | {r.sitting.name} | `{chip_flag(r)}` | {said} | {bench} | "
            f"{formats.duration_ms(r.call_ms)} | {' | '.join(torch + over)} |"
        )
    return lines


@pytest.fixture(scope="module")
def published():
    return results_folder.read(GPU / "results.jsonl")


@pytest.mark.parametrize("asked", ["cuda:sm_90", "cuda:sm_90a", "cuda-sm_90a"])
def test_no_release_compiles_hopper_so_the_answer_is_sm_80_or_sm_89(published, asked) -> None:
    """results/gpu holds no mobilenet_v2 cell for sm_90 (and no sm_90a cell at all): the answer
    comes from every compute capability 9.0 compile it holds (tiny_cnn, all 16 releases, the chip's
    own error) and the hand compiles, then the measured way round it, marked as measured outside."""
    answer = gpu.model(published, "mobilenet_v2", asked)
    label = asked.replace(":", "-")
    assert answer.answer == "fails" and answer.decided
    text = answer.text()
    assert text.startswith(f"mobilenet_v2 on {label}: no IREE release compiles for {label[5:]}")
    assert f"no mobilenet_v2 cell for {label}" in text
    assert "tiny_cnn for cuda-sm_90 with all 16 releases (2.9.0–3.13.0)" in text
    assert "missing GPU target in #hal.executable.target" in text
    assert f"by hand outside the project, {label} fails too" in text
    assert HOPPER in text and measured.PROVENANCE in text
    assert (
        "mobilenet_v2: sm_80 with 3.9.0 and 3.13.0, sm_89 --iree-opt-level=O3 with 3.13.0 match torch" in text
    )
    # The published cell it rests on: a failed compile for sm_90.
    assert answer.evidence and all(
        job.startswith("compile:tiny_cnn/") and job.endswith("/cuda-sm_90/default") for job in answer.evidence
    )
    assert answer.data is not None
    assert answer.data["compile_instead"]["chips"] == ["sm_80", "sm_89"]
    assert answer.data["compile_instead"]["measured"] == measured.PROVENANCE
    runs = [r for r in answer.data["compile_instead"]["runs"] if r["gpu"] == "NVIDIA H200"]
    assert {r["compiled_for"] for r in runs} == {"cuda-sm_80", "cuda-sm_89"} and all(
        r["matches"] for r in runs
    )


def test_the_hopper_wording_is_said_once_for_every_chip_and_model(published) -> None:
    """One function words it: sm_90 and sm_90a, a model with its own failing cells (tiny_cnn) and
    one the H200 never ran (quartznet5x5) all carry the same line."""
    for model, asked in [
        ("tiny_cnn", "cuda:sm_90"),
        ("quartznet5x5", "cuda:sm_90a"),
        ("yolox_nano", "cuda:sm_90"),
    ]:
        text = gpu.model(published, model, asked).text()
        assert text.count(HOPPER) == 1, model
    quartznet = gpu.model(published, "quartznet5x5", "cuda:sm_90").text()
    assert (
        "quartznet5x5 was not run there; the models that were: mobilenet_v2, yolox_nano, tiny_cnn"
        in quartznet
    )


def test_a_model_with_its_own_failing_cells_keeps_them_and_gains_the_way_round(published) -> None:
    answer = gpu.model(published, "tiny_cnn", "cuda:sm_90")
    assert answer.answer == "fails" and answer.data is not None
    assert len(answer.data["does_not_compile"]) == 16 and not answer.data["compiles"]
    assert answer.lines[0].startswith("tiny_cnn on cuda-sm_90: compiles with 0 of 16")  # the records' head
    assert (
        "tiny_cnn: sm_80 with 3.9.0 and 3.13.0, sm_89 with 3.13.0 match torch (max abs err 5.96e-8)"
        in answer.text()
    )
    assert "compile_instead" in answer.data


def test_a_chip_that_compiles_gets_no_way_round_but_its_run_on_the_h200(published) -> None:
    """sm_80 compiles with every release: no "compile for" line; its modules ran on Hopper as PTX."""
    answer = gpu.model(published, "mobilenet_v2", "cuda:sm_80")
    assert answer.answer == "compiles"  # the records' answer: no run here
    text = answer.text()
    assert "compile for" not in text and "compile_instead" not in (answer.data or {})
    assert (
        "on a real GPU: an NVIDIA H200 (Hopper, compute capability 9.0, driver 580.159.04) with CUDA" in text
    )
    assert "the sm_80 modules' PTX JIT-compiled by the driver" in text
    assert "3.9.0 and 3.13.0 match torch" in text and measured.PROVENANCE in text


def test_one_compiling_cell_of_the_chip_ends_the_inference(tmp_path: Path) -> None:
    """Were any sm_90 compile to succeed, nothing says that no release compiles it: a model without
    its own sm_90 cell is "not measured" again, and no way round is offered."""
    lines = [json.loads(ln) for ln in (GPU / "results.jsonl").read_text().splitlines()]
    compiled = [
        r for r in lines if r["job"].startswith("compile:tiny_cnn/") and "/iree3.13.0/cuda-sm_90/" in r["job"]
    ]
    fixed = {**compiled[-1], "finished": "2099-01-01T00:00:00+00:00", "status": "ok", "message": ""}
    (tmp_path / "results.jsonl").write_text("\n".join(json.dumps(r) for r in [*lines, fixed]) + "\n")
    records = results_folder.read(tmp_path / "results.jsonl")
    answer = gpu.model(records, "mobilenet_v2", "cuda:sm_90")
    assert answer.answer == "not measured" and "compile for" not in answer.text()


def test_a_chip_without_a_measured_way_round_is_unchanged(published) -> None:
    """sm_60 is in no results and no GPU of its compute capability ran anything: "not measured"."""
    answer = gpu.model(published, "mobilenet_v2", "cuda:sm_60")
    assert answer.answer == "not measured" and "H200" not in answer.text()
    assert measured.foreign_chip_runs("cuda-sm_60") == [] and measured.foreign_chip_runs("vulkan-spirv") == []


def test_the_vulkan_answer_names_the_miscompute_on_real_nvidia_hardware(published) -> None:
    """3.13.0's vulkan-spirv MobileNetV2 is wrong on the H200 with NVIDIA's driver (0.298), 3.9.0's
    right; the published cells' mismatches name their software devices, and the one the GPU repeats
    (3.13.0 on lavapipe) is said to be IREE's."""
    answer = gpu.model(published, "mobilenet_v2", "vulkan-spirv")
    assert answer.answer == "passes"  # the records' answer stands: 10 releases match on software devices
    text = answer.text()
    assert "run fails: 3.12.0, 3.13.0: mismatch on llvmpipe (LLVM 15.0.6, 256 bits)" in text
    assert "run fails: 3.11.0: mismatch on SwiftShader Device (Subzero)" in text
    assert "with NVIDIA's Vulkan driver" in text and "NVIDIA H200" in text
    assert "3.9.0 matches torch (max abs err 2.95e-6)" in text
    assert "3.13.0 miscomputes: max abs err 0.298 (atol 5e-05, rtol 0.0001)" in text
    assert "3.13.0's wrong outputs are IREE's, not the software device's: wrong on llvmpipe" in text
    assert measured.PROVENANCE in text
    assert answer.data is not None
    real = {r["release"]: r for r in answer.data["real_gpu"]}
    assert real["3.13.0"]["matches"] is False and real["3.9.0"]["matches"] is True
    assert real["3.13.0"]["api"] == "NVIDIA's Vulkan driver"


def test_tiny_cnn_on_vulkan_is_right_on_the_h200_too(published) -> None:
    text = gpu.model(published, "tiny_cnn", "vulkan-spirv").text()
    assert "3.9.0 and 3.13.0 match torch (max abs err 7.45e-8)" in text and "miscomputes" not in text


def test_ratios_compare_iree_and_torch_of_one_sitting_only() -> None:
    """The CPU answers' rule: torch eager moved from 2.64 to 4.79 ms between the two CUDA sittings,
    so each IREE figure is divided by its own sitting's torch figure, and Vulkan (no torch timed
    in its sitting) has none."""
    for run in measured.RUNS:
        torch = measured.torch_of(run)
        if torch is not None:
            assert torch.sitting == run.sitting and torch.model == run.model
    assert all(measured.torch_of(r) is None for r in measured.RUNS if r.sitting == measured.VULKAN)
    mobilenet = [r for r in measured.runs("mobilenet_v2", "cuda-sm_80") if r.benchmark_ms is not None]
    over_compiled = [r.iree_ms / measured.torch_of(r).ms["torch.compile"] for r in mobilenet]  # type: ignore[union-attr]
    assert len(over_compiled) == 2 and all(3.8 < x < 4.1 for x in over_compiled)  # "about 4x"


@pytest.mark.parametrize(
    ("label", "capability"),
    [
        ("cuda-sm_90", "9.0"),
        ("cuda-sm_90a", "9.0"),
        ("sm_89", "8.9"),
        ("cuda-sm_100", "10.0"),
        ("vulkan-spirv", None),
    ],
)
def test_compute_capability(label: str, capability) -> None:
    assert measured.compute_capability(label) == capability


def test_docs_show_the_tables_rows_as_measured_outside() -> None:
    """docs/gpu.md's H200 table is the package's table written out, and says who measured it."""
    doc = (ROOT / "docs" / "gpu.md").read_text()
    section = doc[doc.index("## On a real GPU") :]
    section = section[: section.index("\n## ")]
    assert "measured by hand outside the project, 2026-11-26, not yet re-made\nby a run bundle" in section
    for row in markdown_rows():
        assert row in section, row
    assert "iree-matrix bundle" in section and "iree-matrix merge" in section
    assert "/work/shared" not in doc and "contrib/" not in doc


def test_the_command_answers_sm_90_with_exit_0(capsys) -> None:
    code, out = query(capsys, "model", "mobilenet_v2", "--target", "cuda:sm_90", "--results-dir", str(GPU))
    assert code == 0 and out.startswith("mobilenet_v2 on cuda-sm_90: no IREE release compiles for sm_90")
    assert HOPPER in out
    code, out = query(
        capsys, "model", "mobilenet_v2", "--target", "cuda:sm_90a", "--results-dir", str(GPU), "--json"
    )
    said = json.loads(out)
    assert (
        code == 0
        and said["answer"] == "fails"
        and said["data"]["compile_instead"]["chips"] == ["sm_80", "sm_89"]
    )
