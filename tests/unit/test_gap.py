"""Where an answer's gap to the best peer is (findings/gap.py): kinds compared, stored, read back,
worded, and rendered under the answer only when the answer trails beyond the threshold."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from iree_matrix.advise.advise_plan import Settings
from iree_matrix.bundle_runner import gap as runner_gap
from iree_matrix.core import pasted
from iree_matrix.findings import advice
from iree_matrix.findings import gap as gaps
from iree_matrix.iree import opkinds
from iree_matrix.report import answers as answers_md
from iree_matrix.tasks import advise as advise_task

PROFILES = Path(__file__).parents[1] / "data" / "profiles"


def _iree_profile():
    text = (PROFILES / "mobilenet_v2-iree3.13.0-dispatch.jsonl").read_text()
    return {"dispatches": runner_gap.parse_dispatch_groups(text, calls=30)}


def _ort(kinds_ms):
    """An ONNX Runtime op profile with one node per kind (1x1 conv = matmul, depthwise by weight)."""
    nodes = {
        "matmul": ("Conv", [16, 32, 1, 1]),
        "depthwise": ("Conv", [32, 1, 3, 3]),
        "conv": ("Conv", [32, 3, 3, 3]),
        "reduction": ("GlobalAveragePool", None),
    }
    ops = [{"op": nodes[k][0], "weight_shape": nodes[k][1], "ms_per_call": ms} for k, ms in kinds_ms.items()]
    return {"status": "ok", "op_profile": {"ops": ops}}


def test_measure_names_the_kinds_iree_spends_more_on_against_onnxruntime():
    iree = _iree_profile()
    ours = gaps.op_kind_times(iree, "iree")
    assert ours is not None
    # ONNX Runtime: depthwise at a third of IREE's time, matmul as fast as IREE's: the gap is depthwise.
    peer = _ort({"depthwise": ours["depthwise"] / 3, "matmul": ours["matmul"], "conv": ours.get("conv", 0)})
    found, why = gaps.measure(iree, {"onnxruntime": peer}, config="data-tiling", release="3.13.0", threads=2)
    assert why == "" and found is not None
    assert found.peer == "onnxruntime"
    assert found.leading()[0].kind == "depthwise"
    assert found.leading()[0].difference > 0
    assert sum(k.iree_ms for k in found.kinds) == sum(ours.values())  # every kind is in the table
    assert [d.ms for d in found.dispatches] == sorted((d.ms for d in found.dispatches), reverse=True)
    assert all(d.kind == opkinds.of_dispatch(d.name) for d in found.dispatches)
    text = gaps.summary(found)
    assert "depthwise" in text and "ONNX Runtime" in text and "2 thread(s)" in text
    assert gaps.Gap.of(found.to_json()) == found  # stored in the sitting, read back the same


def test_measure_says_why_when_no_profile():
    found, why = gaps.measure(
        {"unavailable": "unknown command line flag"}, {}, config="x", release="3.9.0", threads=1
    )
    assert found is None and "3.9.0" in why and "unknown command line flag" in why
    failed = {"onnxruntime": {"status": "failed"}}
    found, why = gaps.measure(_iree_profile(), failed, config="x", release="3.13.0", threads=1)
    assert found is None and "no peer profiled" in why


def test_a_received_gap_that_is_not_one_is_dropped():
    assert gaps.Gap.of({"peer": "onnxruntime"}) is None
    assert gaps.Gap.of({"peer": "x", "config": "c", "release": "r", "threads": "two", "kinds": []}) is None


def test_threshold():
    """Issue 92's bar: an answer over 1.2x the best peer's time names its gap (MobileNetV3-small's 1.40x)."""
    assert gaps.trails(1.73) and gaps.trails(1.4) and gaps.trails(1.21)
    assert not gaps.trails(1.2) and not gaps.trails(None) and not gaps.trails(0.6)


def _document(peer_ms: float, gap=None):
    def arm(name, kind, ms, **extra):
        rounds = [ms * (1 + 0.01 * i) for i in range(8)]
        return {"name": name, "kind": kind, "config": name, "release": "3.13.0", "ms": rounds,
                "matches": True, "flags": ["--iree-hal-target-backends=llvm-cpu"], **extra}  # fmt: skip

    entry = {
        "function": "main",
        "arms": [
            arm("default", advice.DEFAULT, 30.0),
            arm("data-tiling", advice.PICK, 10.0),
            arm("onnxruntime", advice.PEER, peer_ms),
        ],
    }
    if gap is not None:
        entry["gap"] = gap
    host = {"vendor": "AuthenticAMD", "family": "25", "model": "17"}
    return {"schema": advice.SCHEMA, "model": "m", "host": host, "llvm_cpu": "znver4",
            "started": "2026-11-26T10:00:00+00:00", "rounds": 8, "functions": [entry]}  # fmt: skip


def test_answers_md_names_the_gap_or_says_it_was_not_profiled(tmp_path):
    found, _ = gaps.measure(_iree_profile(), {"onnxruntime": _ort({"depthwise": 1.0, "matmul": 1.0})},
                            config="data-tiling", release="3.13.0", threads=2)  # fmt: skip
    assert found is not None
    source = tmp_path / "ident" / "advice-m.json"
    (tmp_path / "ident" / answers_md.REPRODUCERS).mkdir(parents=True)
    (tmp_path / "ident" / answers_md.REPRODUCERS / "m.md").write_text("# reproducer\n")
    derived = advice.derive(_document(5.0, found.to_json()), str(source))
    if not derived or derived[0].vs_peer is None:
        raise AssertionError(f"the test's sitting gives no answer against the peer: {derived}")
    a = derived[0]
    assert a.gap is not None and a.gap.scale is not None  # at the sitting's scale: 10 ms against 5 ms
    assert a.gap.scale[0] == a.ms and a.gap.difference > 0
    assert [k.kind for k in a.gap.leading()][:1] == ["matmul"]
    text = "\n".join(answers_md.render([a]))
    assert "Where the gap to ONNX Runtime is" in text and "| depthwise |" in text
    assert "(ident/reproducers/m.md)" in text
    assert "gap" in advice.as_json(a) and advice.as_json(a)["gap"]["peer"] == "onnxruntime"
    # Trailing without a profile: said, not silent.
    bare = advice.derive(_document(5.0), str(source))[0]
    assert "not profiled in this sitting" in "\n".join(answers_md.render([bare]))
    # Within the threshold: nothing to explain.
    close = advice.derive(_document(9.0, found.to_json()), str(source))[0]
    assert "Where the gap" not in "\n".join(answers_md.render([close]))
    # A gap profiled for another configuration is not this answer's.
    other = dict(found.to_json(), config="im2col")
    assert advice.derive(_document(5.0, other), str(source))[0].gap is None


def test_scaled_to_the_paired_medians_the_kinds_add_up_to_the_answers_gap():
    """Profiles taken at different loads: each side's shares, scaled to its paired median."""
    gap = gaps.Gap(
        "onnxruntime", "c", "3.13.0", 2,
        (gaps.Kind("matmul", 13.0, 28.0), gaps.Kind("depthwise", 8.0, 6.0), gaps.Kind("copy", 1.0, 0.0)),
        (gaps.Dispatch("main$async_dispatch_1_matmul_1x2x3_f32", "matmul", 2.2),),
    )  # fmt: skip
    assert gap.difference < 0  # as profiled, the loaded peer looks slower than IREE
    scaled = gap.scaled(13.5, 8.4)
    assert scaled.difference == pytest.approx(13.5 - 8.4)
    assert sum(k.iree_ms for k in scaled.kinds) == pytest.approx(13.5)
    assert scaled.kinds[0].kind == "depthwise"  # 8/22 of 13.5 against 6/34 of 8.4
    assert scaled.dispatches[0].ms == pytest.approx(2.2 * 13.5 / 22)
    assert "scaled to its one-thread median" in gaps.summary(scaled)
    assert gaps.Gap.of(scaled.to_json()) == scaled
    assert gap.scaled(None, 8.4) is gap


def test_a_slow_answer_leads_on_in_advises_answer_and_query_model_from_its_own_gap(tmp_path):
    """Issue #86 item 2: a run's summary said where a pass over 3x its best peer's time leads on, but
    the answer `advise` prints at its end and `query model` (which reads the same Advice) did not. Both
    now end on the same line, naming the op kinds from the sitting's own gap profile; not at 2x."""
    from iree_matrix.advise import advise_answer
    from iree_matrix.findings import query

    found, _ = gaps.measure(_iree_profile(), {"onnxruntime": _ort({"depthwise": 1.0, "matmul": 1.0})},
                            config="data-tiling", release="3.13.0", threads=2)  # fmt: skip
    assert found is not None
    slow = _document(2.5, found.to_json())  # the pick: 10 ms against ONNX Runtime's 2.5 ms
    a = advice.derive(slow)[0]
    assert a.gap is not None and a.vs_peer is not None and a.vs_peer.value > 3
    said, code = advise_answer.answer(slow, tmp_path / "advice-m.json", "m", "m", tmp_path / "results.jsonl")
    line = (
        f"  m: IREE takes {a.vs_peer.value:.2f}× ONNX Runtime's time; where the gap is: {gaps.summary(a.gap)}"
    )
    assert code == 0 and "\n".join(said).split("\n").count(line) == 1, said
    asked = query.Answer(
        "which IREE releases work for m?", "passes", ("m: passes on 1 of 1 compiler releases",)
    )
    answered = query.with_advice(asked, advice.Chosen(advice.derive(slow), True, ""), "m")
    assert line in answered.lines, answered.lines
    close = advice.derive(_document(5.0, found.to_json()))  # 2x: its gap is said, no next step
    assert not any(
        text.startswith("  m: IREE takes")
        for text in advice.lines(advice.Chosen(tuple(close), True, ""), "m")
    )


def test_the_answer_says_to_publish_into_the_folder_it_was_kept_in(tmp_path):
    """It said "copy it to results/answers/<identity>/" whatever folder the sitting was kept in (a
    user's own model, answered in their own --results-dir, pointed into the project's results/)."""
    folder = tmp_path / "my answers"
    from iree_matrix.advise import advise_answer

    said, code = advise_answer.answer(
        _document(5.0), folder / "advice-m.json", "m", "m", folder / "results.jsonl"
    )
    assert code == 0
    last = said[-1]
    assert f"copy it to {folder / 'answers'}/" in last and "results/answers" not in last
    assert f"then `iree-matrix report --results-dir '{folder}'`" in last
    # Its commands keep the run's settings (issue 86 item 3): `--fleet`'s line named the model alone
    here = pasted.Where(None, folder, Path("/c"))
    said, _ = advise_answer.answer(_document(5.0), folder / "advice-m.json", "m", "/u/m.py:f", folder, here)
    commands = [c for c in "\n".join(said).split("`") if c.startswith("iree-matrix advise")]
    assert commands and all(
        c.startswith(f"iree-matrix advise /u/m.py:f --results-dir '{folder}' --cache /c") for c in commands
    ), commands


def test_an_adaptive_pools_gather_among_the_slowest_dispatches_names_the_decompose_recipe(tmp_path):
    """MobileNetV3-small's squeeze-excitation pools: torch-mlir's adaptive pool is a reduction over an
    i1 window (a gather IREE does not vectorise); torch's decomposition makes it a mean. The answer
    names the recipe and the advise of the model exported by it, not for an export by a recipe."""
    pooled = gaps.Dispatch("main$async_dispatch_6_reduction_16x3136_i1xf32xf32", "reduction", 0.49)
    plain = gaps.Dispatch("main$async_dispatch_7_reduction_16x3136_f32", "reduction", 0.05)
    kinds = (gaps.Kind("reduction", 1.2, 0.07),)
    gap = gaps.Gap("onnxruntime", "data-tiling", "3.13.0", 2, kinds, (plain, pooled))
    assert gaps.recipes_for(gap) == [gaps.POOL_RECIPE]
    assert gaps.recipes_for(dataclasses.replace(gap, dispatches=(plain,))) == []
    # Before a kernel took the depthwise layers the pools were no slowest three: measured from every row
    # (MobileNetV2's own profile holds its final pool's gather, `reduction_1280x49_i1xf32xf32`).
    profile = _iree_profile()
    profile["dispatches"].append({"name": pooled.name, "ms_per_call": 0.001})
    found, _ = gaps.measure(
        profile, {"onnxruntime": _ort({"depthwise": 1.0})}, config="c", release="3.13.0", threads=2
    )
    assert found is not None and pooled.name not in {d.name for d in found.dispatches}
    assert found.gathers == ("main$async_dispatch_53_reduction_1280x49_i1xf32xf32", pooled.name)
    assert gaps.Gap.of(found.to_json()) == found
    # ... but that pool is a few % of MobileNetV2's gap (its recipe's sitting: 1.13x ONNX Runtime against
    # the own export's 1.12x): no recipe named, no sitting followed; where the pools hold it, one is.
    assert gaps.recipes_for(found) == []
    held = dataclasses.replace(found, kinds=(*found.kinds, gaps.Kind("reduction", found.difference, 0.0)))
    assert gaps.recipes_for(held) == [gaps.POOL_RECIPE]
    a = advice.derive(_document(5.0, dataclasses.replace(gap, config="data-tiling").to_json()))[0]
    said = "\n".join(advice.lines(advice.Chosen((a,), True, ""), "m", argument="m --results-dir R"))
    assert "next: `fx+decompose` exports each adaptive average pool as torch decomposes it" in said
    assert "`iree-matrix advise 'm~fx+decompose' --results-dir R` times it" in said
    # Where that export has an answer of the same identity (MobileNetV3-small's, 1.07x on Zen 4), the
    # line says it and the query that shows it, not a sitting to make it.
    routed = dataclasses.replace(a, model="m~fx+decompose")
    chosen = advice.answer([a, routed], "m", a.identity.host)
    assert chosen is not None and chosen.advice == (a,) and chosen.routed == (routed,)
    said = "\n".join(advice.lines(chosen, "m"))
    assert "torch-mlir's gather: its answer: IREE takes 2.00× ONNX Runtime's time" in said, said
    assert "(`iree-matrix query model 'm~fx+decompose'`)" in said and "'m~fx+decompose'` times it" not in said
    again = "\n".join(advice.lines(advice.Chosen((a,), True, ""), "m", argument="'m~fx+decompose'"))
    assert "next: `fx+decompose`" not in again and "where the gap is" in again
    assert "`iree-matrix advise 'm~fx+decompose'`" in "\n".join(answers_md.render([a]))
    # advise follows that route by itself, with the library; not with --library none or --no-gap, and
    # not again from the model the recipe exported.
    assert advise_task._routes(Settings(), "m", [a]) == ["fx+decompose"]
    assert advise_task._routes(Settings(library="none"), "m", [a]) == []
    assert advise_task._routes(Settings(no_gap=True), "m", [a]) == []
    assert advise_task._routes(Settings(), "m~fx+decompose", [a]) == []
    # a `~` of a user's path is no recipe (models.split_recipe, as every command line reads one)
    assert advise_task._routes(Settings(), "/srv/~me/nets.py:build", [a]) == ["fx+decompose"]
    assert advise_task._routes(Settings(), "/srv/~me/nets.py:build~fx", [a]) == []
    assert advise_task._routes(Settings(), "m", advice.derive(_document(5.0))) == []
