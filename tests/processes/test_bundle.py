"""The process-heavy part of tests/unit/test_bundle.py (each test's marker says why); the rest there
runs in the fast tier. Here, the published records read whole for their load windows: seconds of CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_bundle import LABELS


@pytest.mark.heavy
def test_a_bundle_says_before_packing_which_pairs_the_published_results_saw_refused() -> None:
    """Modules of 3.13.0 beside a runtime built from 3.9.0's source: the published load windows say
    3.9.0 refuses them, so the bundle warns (naming the models and the query to choose by); a pair
    of one release, or one the windows say loads, says nothing."""
    from iree_matrix.execution.bundle import BundledRun
    from iree_matrix.tasks import bundling

    def cell(model: str, compiler: str, runtime: str) -> BundledRun:
        labels = {**LABELS, "model": model, "compiler": compiler, "runtime": runtime, "arch": "armv6"}
        return BundledRun(
            "run:x",
            labels,
            "compile:x",
            "k",
            "e",
            Path("m"),
            Path("e"),
            "local-task",
            runtime,
            "armv6",
            "armv6l",
        )

    published = bundling.shipped_records()
    said = bundling.refused_pairs(
        [cell("tiny_cnn", "3.13.0", "src:3.9.0"), cell("mobilenet_v2", "3.13.0", "src:3.9.0+static"),
         cell("tiny_cnn", "3.9.0", "src:3.9.0"), cell("tiny_cnn", "3.8.0", "3.9.0")],
        published,
    )  # fmt: skip
    assert len(said) == 1, said
    assert "2 cell(s) (mobilenet_v2, tiny_cnn) pair compiler 3.13.0 with runtime 3.9.0" in said[0]
    assert "runtime 3.9.0 refuses modules from compiler 3.13.0" in said[0]
    assert "iree-matrix query load --compiler C --runtime 3.9.0" in said[0]


@pytest.mark.heavy
def test_without_kernel_a_sitting_bundle_carries_the_kernel_the_published_answer_takes(
    tmp_path: Path,
) -> None:
    """results/answers: MobileNetV2's answer on the Zen 5 (3.13.0) takes depthwise3x3, so `bundle
    --advise mobilenet_v2` carries it unasked, by its directory in this checkout; a model whose answers
    take none, or another release, carries none. Reading the published answers takes about a second."""
    from iree_matrix.execution.workflow import PlanSettings
    from iree_matrix.kernel.tasks import bundle_kernels

    repo = Path(__file__).resolve().parents[2]
    plan = PlanSettings(matrix=tmp_path / "m.toml", results_dir=tmp_path, cache=tmp_path)
    taken, names = bundle_kernels.chosen(plan, "mobilenet_v2", "3.13.0")
    assert names == ("depthwise3x3",)
    assert [Path(k).resolve() for k in taken.kernels] == [repo / "kernels" / "depthwise3x3"]
    assert bundle_kernels.chosen(plan, "mobilenet_v2", "3.9.0") == (plan, ())
    assert bundle_kernels.chosen(plan, "tiny_cnn", "3.13.0") == (plan, ())
