"""advise's phases after its first sitting (advise/advise_proof.prove's sitting again of a moved
pick, advise/advise_sitting.explain's profiled runs) driven through the `Builds` they take from
tasks/advise, with building faked: what each asks to be built, and what it keeps in the document."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.advise import advise_plan, advise_proof, advise_sitting
from iree_matrix.advise.advise_sitting import Sitter
from iree_matrix.core.model.configuration import Config
from iree_matrix.core.model.results import Record
from iree_matrix.findings import advice
from iree_matrix.matrix.models import ModelRef
from tests.unit.test_advice import PICK, _sitting


class Asked:
    """advise_sitting.Builds that records what it was asked and answers `records` (None: interrupted)."""

    def __init__(self, records: Optional[dict[str, Record]]) -> None:
        self.records = records
        self.plans: list[advise_plan.SittingPlan] = []
        self.alone_asked: list[tuple[tuple[str, ...], bool]] = []
        self.kernels_asked: list[bool] = []

    def sitting(self, plan: advise_plan.SittingPlan) -> Optional[dict[str, Record]]:
        self.plans.append(plan)
        return self.records

    def alone(
        self, configs: Sequence[Config], profiled: bool = False, kernels: bool = False
    ) -> Optional[dict[str, Record]]:
        self.alone_asked.append((tuple(map(str, configs)), profiled))
        self.kernels_asked.append(kernels)
        return self.records


def _plan() -> advise_plan.SittingPlan:
    return advise_plan.SittingPlan("3.13.0", (advise_plan.Pick.named(PICK, "3.13.0", "--picks"),), ())


def test_a_pick_the_proof_moved_is_built_and_sat_again_and_its_arms_replace_the_first_sittings(
    monkeypatch, tmp_path: Path
):
    document = _sitting()
    sat = advice.derive(document)
    moved_to = "data-tiling+im2col"
    monkeypatch.setattr(advise_proof, "_proofs", lambda *a: {"main": moved_to})
    sat_again: list[dict[str, Any]] = []

    def run(sitter, planned, records, only=None, kernels=None):
        sat_again.append(
            {
                "arms": [a.name for a in planned],
                "only": only,
                "peers": list(sitter.peer_names),
                "ref": sitter.ref,
            }
        )
        return {
            "started": "2026-11-25T16:00:00+00:00",
            "finished": "2026-11-25T16:10:00+00:00",
            "load_average": {"start": 2.0, "end": 2.5},
            "functions": [{"function": "main", "arms": [{"name": moved_to, "ms": [1.0]}]}],
        }

    monkeypatch.setattr(advise_sitting, "run", run)
    builds = Asked({})
    settings = advise_plan.Settings()
    where = ModelRef("m", tmp_path / "m.py", "build")  # the sitting again calls the peers on it too
    sitter = Sitter(settings.sitting, "m", tmp_path, ["onnxruntime"], where)
    advise_proof.prove(settings, sitter, _plan(), document, sat, builds, {})
    (again,) = builds.plans  # the sitting's plan with the proven pick beside the others
    assert [p.name for p in again.picks] == [PICK, moved_to]
    assert again.picks[-1].source == advise_proof.SOURCE
    assert sat_again == [
        {
            "arms": ["default", "generic", PICK, moved_to],
            "only": {"main"},
            "peers": ["onnxruntime"],
            "ref": where,
        }
    ]
    (entry,) = document["functions"]
    assert entry["arms"] == [{"name": moved_to, "ms": [1.0]}]
    assert entry["sat_again"] == "with the proof's result, 2026-11-25T16:00:00+00:00"
    assert document["finished"] == "2026-11-25T16:10:00+00:00" and document["load_average"]["end"] == 2.5
    assert "interrupted" not in document

    interrupted = _sitting()  # the build of the sitting again interrupted: said, nothing sat
    sat_again.clear()
    advise_proof.prove(settings, sitter, _plan(), interrupted, sat, Asked(None), {})
    assert interrupted["interrupted"] is True and not sat_again

    skipped = _sitting()  # --no-proof: no proof, nothing built
    builds = Asked({})
    no_proof = advise_plan.Settings(no_proof=True)
    advise_proof.prove(no_proof, sitter, _plan(), skipped, sat, builds, {})
    assert not builds.plans and not builds.alone_asked and "proof" not in skipped["functions"][0]


def test_an_answer_trailing_the_best_peer_has_its_pick_built_profiled_and_its_gap_kept():
    document = _sitting()  # the pick takes 1.65x ONNX Runtime's time: more than gaps.GAP
    trailing = advice.trailing(advice.derive(document))
    assert [a.config for a in trailing] == [PICK]

    builds = Asked({})  # built, but no profiled run came back: the entry says why there is no gap
    advise_sitting.explain(advise_plan.Settings(), "m", document, trailing, builds)
    assert builds.alone_asked == [((PICK,), True)] and builds.kernels_asked == [False]
    (entry,) = document["functions"]
    assert "did not run" in entry["gap_error"] and "gap" not in entry

    untouched = _sitting()
    builds = Asked({})
    advise_sitting.explain(advise_plan.Settings(no_gap=True), "m", untouched, trailing, builds)
    assert not builds.alone_asked and untouched == _sitting()

    interrupted = copy.deepcopy(_sitting())
    advise_sitting.explain(advise_plan.Settings(), "m", interrupted, trailing, Asked(None))
    assert interrupted["interrupted"] is True and "gap_error" not in interrupted["functions"][0]


def test_an_answer_that_takes_a_kernel_and_trails_is_profiled_with_its_kernel_and_its_gap_read():
    """Issue 92: on a Zen 3 MobileNetV2's answer with depthwise3x3 took 1.74x ONNX Runtime's time and
    the sitting said nothing of where: an answer that took a kernel was never profiled."""
    from iree_matrix.findings import gap as gaps
    from tests.unit.test_advice import _arm

    document = _sitting()
    arms = document["functions"][0]["arms"]
    pick = next(a for a in arms if a["kind"] == advice.PICK)
    kernel_ms = [x * 0.95 for x in pick["ms"]]  # faster beyond noise, still 1.57x ONNX Runtime's time
    arms.append(_arm(f"{PICK}+k:dw", advice.KERNEL, kernel_ms, config=PICK, base=PICK, kernel="dw",
                     applied=True, module_sha256="k"))  # fmt: skip
    (answer,) = advice.derive(document)
    assert answer.kernel is not None and answer.kernel.kernel == "dw"
    assert advice.trailing([answer]) == [answer]

    builds = Asked({})
    advise_sitting.explain(advise_plan.Settings(), "m", document, [answer], builds)
    assert builds.alone_asked == [((PICK,), True)] and builds.kernels_asked == [True]

    # A gap profiled with the kernel answers it; one of the configuration alone does not.
    kinds = [
        {"kind": "depthwise", "iree_ms": 3.0, "peer_ms": 1.0},
        {"kind": "matmul", "iree_ms": 2.0, "peer_ms": 2.0},
    ]
    stored = {"peer": "onnxruntime", "release": "3.13.0", "threads": 1, "kinds": kinds, "dispatches": []}
    entry = document["functions"][0]
    entry["gap"] = {**stored, "config": f"{PICK}+k:dw"}
    (answer,) = advice.derive(document)
    assert answer.gap is not None and answer.gap.leading()[0].kind == "depthwise"
    entry["gap"] = {**stored, "config": PICK}
    (answer,) = advice.derive(document)
    assert answer.gap is None
    assert gaps.Gap.of({**stored, "config": PICK}) is not None  # it was a gap: refused as another build's


def test_a_default_that_fails_where_its_hint_names_a_profile_adds_that_profile_as_a_pick():
    """Issue 95: a model that passes only under a profile (its stack limit) got no answer from
    advise; the profile the failure's hint names is timed too, once, and nothing else adds it."""
    from iree_matrix.core.model.results import Status
    from iree_matrix.tasks import advise

    stack = "error: 'func.func' op exceeded stack allocation limit of 32 bytes for function. Got 64 bytes"
    labels = {"model": "net", "compiler": "3.13.0", "runtime": "3.13.0"}

    def compiled(profile: str, status: Status, message: str = "") -> Record:
        return Record(
            job=f"compile:net/{profile}", stage="compile", cell=f"net/{profile}", key="k", status=status,
            labels={**labels, "profile": profile}, message=message or None,
        )  # fmt: skip

    plan = _plan()
    routed = advise._routed(plan, [compiled("default", Status.FAIL, stack)])
    assert [p.name for p in routed.picks] == [PICK, "stack-1m"] and routed.picks[-1].config.names == (
        "stack-1m",
    )
    assert advise._routed(routed, [compiled("default", Status.FAIL, stack)]) is routed  # once
    assert advise._routed(plan, [compiled("default", Status.OK)]) is plan
    assert advise._routed(plan, [compiled("data-tiling", Status.FAIL, stack)]) is plan  # a pick's: its own
    assert advise._routed(plan, [compiled("default", Status.FAIL, "error: unknown op")]) is plan
