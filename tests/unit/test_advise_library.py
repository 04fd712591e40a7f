"""The kernel library `advise` tries unasked (advise/advise_library.py): which of kernels/ it tries for
which answer, from the op kinds that hold the answer's gap (issue 92 item 5)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

import pytest

from iree_matrix.advise import advise_library
from iree_matrix.advise.paired_rounds import module_step_seconds
from iree_matrix.core import shipped
from iree_matrix.findings import gap as gaps
from iree_matrix.kernel import kernels as kernel_files

KERNELS = Path(__file__).parents[2] / "kernels"


@dataclasses.dataclass(frozen=True)
class _Answer:  # the fields `wanted` reads of findings/advice.Advice
    function: str
    gap: Optional[gaps.Gap]
    gap_error: str = ""


def _gap(*kinds: tuple[str, float, float]) -> gaps.Gap:
    found = tuple(
        sorted((gaps.Kind(k, ours, theirs) for k, ours, theirs in kinds), key=lambda k: -k.difference)
    )
    return gaps.Gap("onnxruntime", "pick", "3.13.0", 1, found, ())


def test_the_shipped_library_is_the_kernels_that_say_what_they_compute() -> None:
    shelf = advise_library.library(shipped.kernels_dir())
    assert shelf["depthwise3x3"].op_kinds == ("depthwise",) and shelf["conv1d_k3"].op_kinds == ("conv",)
    assert "depthwise3x3_plugin" not in shelf  # a plugin needs a source-built runtime: only when asked
    # declared by torch op, for every model: what the tool can try on a model it has never seen
    anywhere = {n: k.op_kinds for n, k in shelf.items() if not k.models}
    assert anywhere == {
        "softmax": ("softmax",),
        "gelu_tanh": ("elementwise",),
        "depthwise3x3_nchw": ("depthwise",),
        "layer_norm": ("norm",),
        "global_avg_pool": ("reduction",),
    }
    assert all(shelf[n].declared[0].op for n in anywhere)


def test_a_model_never_seen_is_given_the_kernels_of_the_kinds_that_lead_its_gap() -> None:
    """Issue 92 item 5: the library's kernels declared by op reach any model: a gap led by softmax
    tries the softmax, one led by depthwise convolutions the depthwise kernel declared by op (not
    depthwise3x3 or inverted_residual, which are MobileNets' and YOLOX's), one led by
    elementwise ops the tanh-GELU."""
    shelf = advise_library.library(KERNELS)
    attention = _Answer("main", _gap(("softmax", 6.0, 1.0), ("matmul", 2.0, 2.5)))
    assert advise_library.wanted([attention], shelf, (), "my_model") == {"softmax": ["main"]}
    norms = _Answer("main", _gap(("norm", 4.0, 1.0), ("matmul", 2.0, 2.5)))  # a transformer's LayerNorms
    assert advise_library.wanted([norms], shelf, (), "my_model") == {"layer_norm": ["main"]}
    convs = _Answer("main", _gap(("depthwise", 9.0, 2.0), ("softmax", 2.0, 1.0)))
    assert advise_library.wanted([convs], shelf, (), "my_model") == {
        "softmax": ["main"],
        "depthwise3x3_nchw": ["main"],
    }
    gelu = _Answer("encoder", _gap(("elementwise", 3.0, 1.0)))
    assert advise_library.wanted([gelu], shelf, (), "my_model") == {"gelu_tanh": ["encoder"]}
    pools = _Answer("main", _gap(("reduction", 3.0, 0.3)))  # torch-mlir's gathering adaptive pools
    assert advise_library.wanted([pools], shelf, (), "my_model") == {"global_avg_pool": ["main"]}
    # MobileNetV3-small's gap (Zen 5): its depthwise layers' kernels, the pools', and the two in one
    both = _Answer("main", _gap(("reduction", 0.59, 0.06), ("depthwise", 0.3, 0.2)))
    assert set(advise_library.wanted([both], shelf, (), "mobilenet_v3_small")) == {
        "depthwise3x3", "depthwise3x3_nchw", "global_avg_pool", "depthwise_pool"
    }  # fmt: skip


def test_a_kernel_is_tried_where_its_kind_leads_the_gap_and_it_is_meant_for_the_model() -> None:
    shelf = advise_library.library(KERNELS)
    depthwise = _Answer("main", _gap(("depthwise", 9.0, 2.0), ("matmul", 3.0, 3.0)))
    assert advise_library.wanted([depthwise], shelf, (), "mobilenet_v2") == {
        "depthwise3x3": ["main"],
        "depthwise3x3_nchw": ["main"],
        "inverted_residual": ["main"],
    }
    # the one given with --kernel is the sitting's already; another model's kernel is not tried
    assert advise_library.wanted(
        [depthwise], shelf, ("depthwise3x3_nchw", "inverted_residual"), "mobilenet_v2"
    ) == {"depthwise3x3": ["main"]}
    # a kernel of two kinds is tried where either leads: the 1x1 convolutions' matmul alone
    matmul = _Answer("main", _gap(("matmul", 9.0, 3.0)))
    assert advise_library.wanted([matmul], shelf, (), "mobilenet_v2") == {"inverted_residual": ["main"]}
    assert advise_library.wanted([depthwise], shelf, (), "quartznet5x5") == {"depthwise3x3_nchw": ["main"]}
    # a kind IREE spends less on than the peer does not hold the gap; no profile, nothing to try
    faster = _Answer("main", _gap(("depthwise", 1.0, 2.0), ("copy", 9.0, 3.0)))
    assert advise_library.wanted([faster, _Answer("main", None)], shelf, (), "mobilenet_v2") == {}
    encoder = _Answer("encoder", _gap(("conv", 50.0, 10.0)))
    both = {"conv1d_k3": ["encoder"], "whisper_encoder": ["encoder"]}  # the stems, and with the softmax
    assert advise_library.wanted([encoder], shelf, (), "whisper_tiny") == both
    attention = _Answer("encoder", _gap(("softmax", 60.0, 10.0)))  # the softmax: it and the library's own
    assert advise_library.wanted([attention], shelf, (), "whisper_tiny") == {
        "softmax": ["encoder"],
        "whisper_encoder": ["encoder"],
    }
    said = advise_library.said({"conv1d_k3": ["encoder"]}, shelf, [encoder, attention, faster])
    assert said.startswith(
        "the kernel library: trying conv1d_k3 (conv; for encoder) against the op kinds that hold the gap "
        "(encoder: conv, softmax; main: copy), each"
    )


@pytest.mark.shared_tmp  # a kernel's files are taken only from where every user may read them
def test_a_library_kernel_that_does_not_load_is_left_out_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shutil.copytree(KERNELS / "conv1d_k3", tmp_path / "good")
    shutil.copytree(KERNELS / "conv1d_k3", tmp_path / "bad")
    toml = tmp_path / "bad" / kernel_files.KERNEL_FILE
    toml.write_text(
        toml.read_text().replace('name = "conv1d_k3"', 'name = "bad"').replace('["conv"]', '["convs"]')
    )
    assert list(advise_library.library(tmp_path)) == ["conv1d_k3"]
    (line,) = [r.getMessage() for r in caplog.records]
    assert "op_kinds = 'convs': expected one of conv, depthwise" in line and line.endswith("(left out)")


def test_the_proofs_cost_is_said_from_this_machines_load_and_the_models_compile_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 92 item 7: a cold Zen 3's advise was told "15-20 neighbours built" and its proof took 33 of
    its 64 minutes; the cost line now counts the neighbours and their compiles at this machine's load."""
    from iree_matrix.advise import advise_plan
    from iree_matrix.advise.paired_rounds import Request
    from iree_matrix.execution import eta, stage_times
    from iree_matrix.findings import advice

    published = advice.published(shipped.results_dir() / advice.DIRNAME)
    plan = advise_plan.choose(advise_plan.Settings(), "mobilenet_v2", published, ())
    said = {}
    unknown = SimpleNamespace(identity="x86_64|NoVendor|0|0|0|0|2")  # no published speed: the basis's
    monkeypatch.setattr(advise_plan, "here", lambda: unknown)
    for load in (1.0, 4.0):
        monkeypatch.setattr(eta, "load_factor", lambda load=load: load)
        said[load], _ = advise_plan.proof_cost(plan, "mobilenet_v2", Request(8, 3), 2, 21.4)
    assert said[1.0].startswith("19 one-knob neighbours compiled (~")
    seconds = [float(s.split("~")[1].split(" s each")[0]) for s in said.values()]
    assert seconds[1] == pytest.approx(seconds[0] * 4**eta.COUPLING, rel=0.05)
    two, _ = advise_plan.proof_cost(plan, "mobilenet_v2", Request(8, 3), 2, 21.4, functions=2)
    assert two.startswith("38 one-knob neighbours")
    # and by this CPU's published speed (issue 97's stage_times `speed`): a Zen 3's compiles took 2-3x
    zen3 = "x86_64|AuthenticAMD|25|1|1|1ddebed04610ae65|2"
    monkeypatch.setattr(advise_plan, "here", lambda: SimpleNamespace(identity=zen3))
    slow, slow_seconds = advise_plan.proof_cost(plan, "mobilenet_v2", Request(8, 3), 2, 21.4)
    speed = stage_times.published().speed_of(zen3)
    assert speed > 1.5 and float(slow.split("~")[1].split(" s each")[0]) == pytest.approx(
        seconds[1] * speed, rel=0.05
    )
    each = float(slow.split("~")[1].split(" s each")[0])
    step = 20 * 8 * module_step_seconds(21.4, 3)  # the pick and its 19 neighbours, 8 rounds
    assert slow_seconds == pytest.approx(19 * each / 2 + step, rel=0.05)


def test_advise_says_its_whole_cost_before_it_builds() -> None:
    """Issue 92 item 7: the cost line gave parts (jobs to build, rounds, neighbours) and no total; a
    cold MobileNetV2 advise took 19 min. One figure now, with its parts, and what it does not know."""
    from iree_matrix.advise import advise_plan

    proof = ("19 one-knob neighbours compiled", 400.0)
    said = advise_plan.cost_text(advise_plan.Settings(), 18, 7, 150.0, 200.0, proof, 300.0)
    assert said.startswith(
        "cost: in all about 18 min here: the builds 0:02:30 (18 jobs); the sitting 0:03:20 (8 "
    )
    assert "; the proof 0:06:40 a step (19 one-knob neighbours compiled; at most 3 step(s)" in said
    assert "; the kernel library 0:05:00, where the gap asks for it; cheaper: " in said
    quick = advise_plan.Settings(no_proof=True)
    unknown = advise_plan.cost_text(quick, 3, 7, 30.0, None, proof, 0.0)  # a model no sitting costs yet
    assert unknown.startswith(
        "cost: in all about 30 s here: the builds 0:00:30 (3 jobs); the sitting (8 rounds"
    )
    assert "proof" not in unknown.replace("--no-proof", "") and "library" not in unknown


def test_the_sittings_cost_takes_each_arm_at_the_nearest_answers_time_over_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The naive build is most of a slow model's sitting (the Whisper encoder's: 90 s a call): each arm
    is costed at the nearest answer's time over its ratio, not at the answer's time."""
    from iree_matrix.advise import advise_plan, paired_rounds
    from iree_matrix.advise.paired_rounds import Request
    from iree_matrix.findings import advice

    monkeypatch.setattr(paired_rounds, "module_step_seconds", lambda ms, repetitions: ms * repetitions)
    ratio = lambda value: SimpleNamespace(value=value)  # noqa: E731 - the answer's time over the arm's
    rival = advice.Rival("3.9.0", "data-tiling", ratio(3.0))  # that arm's time over the answer's
    found = SimpleNamespace(
        ms=10.0,
        over_default=ratio(0.5),
        over_naive=ratio(0.1),
        vs_eager=ratio(0.5),
        vs_peer=ratio(2.0),
        rivals=(rival,),
    )
    planned = [
        SimpleNamespace(kind=advice.DEFAULT, name="default"),
        SimpleNamespace(kind=advice.NAIVE, name="generic"),
        SimpleNamespace(kind=advice.PICK, name="im2col"),
        SimpleNamespace(kind=advice.RIVAL, name="data-tiling on 3.9.0"),
    ]
    # default 20, naive 100, the pick 10, the rival 30, eager 20, ONNX Runtime 5 ms; 3 calls, 8 rounds
    seconds = advise_plan.sitting_seconds([found], planned, 2, Request(8, 3))
    assert seconds == pytest.approx((20 + 100 + 10 + 30 + 20 + 5) * 3 * 8)


def test_the_librarys_cost_counts_a_compile_and_a_step_per_kernel_arm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from iree_matrix.advise import advise_plan
    from iree_matrix.advise.paired_rounds import Request
    from iree_matrix.findings import advice

    published = advice.published(shipped.results_dir() / advice.DIRNAME)
    plan = advise_plan.choose(advise_plan.Settings(), "mobilenet_v2", published, ())
    monkeypatch.setattr(advise_plan, "compile_seconds", lambda model: 30.0)
    arms = 4 * (len(plan.picks) + 1)  # four kernels, each into default and every pick
    step = module_step_seconds(8.0, 3)
    expected = arms * 30.0 / 2 + (arms + len(plan.picks) + 1) * step * 8
    assert advise_plan.library_seconds(4, plan, "mobilenet_v2", 2, Request(8, 3), 8.0) == pytest.approx(
        expected
    )
    assert advise_plan.library_seconds(0, plan, "mobilenet_v2", 2, Request(8, 3), 8.0) == 0.0  # none meant


def test_a_kernels_dispatches_count_as_what_it_computes_in_the_gap() -> None:
    """On a Zen 3 the answer with depthwise3x3 profiled its kernel's dispatches (`s1_bn`, named by
    the spec's exports) as "other" against ONNX Runtime's depthwise nodes: IREE's own dispatches are
    named `…_dispatch_N_…`; any other is the kernel's, of the kernel's op kind."""
    mine, iree_own = "s1_bn", "main$async_dispatch_3_matmul_49x960x160_f32"
    profile = {"dispatches": [{"name": mine, "ms_per_call": 2.0}, {"name": iree_own, "ms_per_call": 1.0}]}
    assert gaps.op_kind_times(profile, "iree", "depthwise") == {"depthwise": 2.0, "matmul": 1.0}
    assert gaps.op_kind_times(profile, "iree") == {"kernel": 2.0, "matmul": 1.0}
    # Data tiling's operand packing is IREE's too (Rocket Lake YOLOX-nano, no kernel: 0.6 ms of
    # `_encoding_30_encode_64x2704xf32_to_64x2704xf32` and the like was called a kernel's)
    packing = {"dispatches": [{"name": "_encoding_30_encode_64x2704xf32_to_64x2704xf32", "ms_per_call": 0.5}]}
    assert gaps.op_kind_times(packing, "iree") == {"copy": 0.5}
    ops = [
        {"op": "Conv", "ms_per_call": 1.0, "weight_shape": [32, 1, 3, 3]},
        {"op": "MatMul", "ms_per_call": 1.0},
    ]
    ort = {"status": "ok", "op_profile": {"ops": ops}}
    asked = {"config": "p+k:dw", "release": "3.13.0", "threads": 1, "custom": "depthwise"}
    found, why = gaps.measure(profile, {"onnxruntime": ort}, **asked)
    assert found is not None, why
    assert {k.kind: k.iree_ms for k in found.kinds}["depthwise"] == 2.0
    assert found.dispatches[0].kind == "depthwise" and found.leading()[0].kind == "depthwise"


def test_where_the_gap_could_not_be_profiled_the_kernels_made_for_the_model_are_tried() -> None:
    """Zen 4, 2026-11-30: Whisper's encoder answer is on 3.9.0, whose runtime has no in-context
    profiler, so it had no gap and the library tried nothing (1.90x ONNX Runtime's time, where
    conv1d_k3 had given 1.56x): the kernels that name the model are tried; none for every model."""
    shelf = advise_library.library(KERNELS)
    why = "IREE 3.9.0's runtime gave no in-context profile"
    encoder = _Answer("encoder", None, why)
    assert advise_library.wanted([encoder], shelf, (), "whisper_tiny") == {
        "conv1d_k3": ["encoder"],
        "whisper_encoder": ["encoder"],
    }
    assert advise_library.wanted([encoder], shelf, (), "my_model") == {}  # nothing names it
    assert advise_library.wanted([_Answer("encoder", None)], shelf, (), "whisper_tiny") == {}  # not trailing


def test_a_kernel_declared_by_an_op_the_model_lacks_is_not_tried_and_said_so() -> None:
    """Rocket Lake MobileNetV3-small: elementwise ops (its hardswishes) held the gap, so the library
    compiled the tanh-GELU once per pick to learn that the model has none (four `kernel-not-generated`
    failures in the run's summary). Its export's model.mlir says so before any build."""
    from iree_matrix.iree import torch_ops

    shelf = advise_library.library(KERNELS)
    text = (Path(__file__).parents[1] / "data" / "kernels" / "softmax_gelu_model.mlir").read_text()
    with_both = torch_ops.model_lines(text)  # a softmax over the last axis and a tanh-GELU
    without_gelu = torch_ops.model_lines(text.replace('"tanh"', '"none"'))
    gelu = _Answer("main", _gap(("elementwise", 3.0, 1.0), ("softmax", 2.0, 1.0)))
    asked = advise_library.wanted([gelu], shelf, (), "my_model")
    assert asked == {"gelu_tanh": ["main"], "softmax": ["main"]}
    assert advise_library.for_ops(asked, shelf, with_both) == (asked, "")
    assert advise_library.for_ops(asked, shelf, without_gelu) == (
        {"softmax": ["main"]},
        "the kernel library: not trying gelu_tanh (no op aten.gelu approximate=tanh in its model.mlir)",
    )
    assert advise_library.lacking(shelf["gelu_tanh"], without_gelu) == "op aten.gelu approximate=tanh"
    # a kernel declared by module may apply to any model.mlir, and an unread one leaves every kernel in
    assert advise_library.lacking(shelf["depthwise3x3"], without_gelu) == ""
    assert advise_library.for_ops(asked, shelf, {}) == (asked, "")
