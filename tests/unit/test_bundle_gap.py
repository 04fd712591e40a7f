"""Where a bundle's answer trails ONNX Runtime: run.py profiles both there (scripts/runner_gap.py,
which repeats the run and peer stages' parsers: each checked here against its original on the same
input), merge checks the raw profiles (advise/received_sittings.py) and reads them into the answer's gap
with advise's code (findings/gap.py `measure`). End to end: tests/integration/test_bundle.py."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from iree_matrix.advise import received_sittings
from iree_matrix.bundle_runner import gap as runner_gap
from iree_matrix.core.system import host
from iree_matrix.findings import advice
from iree_matrix.findings import gap as gaps
from iree_matrix.report import answers as answers_md
from tests.scripts_path import scripts_importable

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ROOT / "tests" / "data" / "profiles"
scripts_importable()

import peer_frameworks.onnxruntime as onnx_peer  # noqa: E402  (scripts/ is on sys.path now)

RELEASE = "3.13.0"


# --------------------------------------------------------------------------- the parsers


def test_the_dispatch_parser_reads_iree_profiles_rows_per_call_slowest_first() -> None:
    """One source with the run stage (stages/op_timings.py calls these very functions)."""
    text = (PROFILES / "mobilenet_v2-iree3.13.0-dispatch.jsonl").read_text()
    rows = runner_gap.parse_dispatch_groups(text, 30)
    assert rows and all(r["per_call"] > 0 and r["ms_per_call"] >= 0 for r in rows)
    assert [r["ms_per_call"] for r in rows] == sorted((r["ms_per_call"] for r in rows), reverse=True)
    assert runner_gap.parse_dispatch_groups(text, 60)[0]["ms_per_call"] == rows[0]["ms_per_call"] / 2


def test_the_onnx_parser_agrees_with_the_peer_stages() -> None:
    """The one copy left: the peer's module runs where iree-matrix is not importable."""
    events = json.loads((PROFILES / "tiny_cnn-onnxruntime-profile.json").read_text())
    ours = runner_gap.onnx_ops(events, 7)
    assert ours["ops"] and ours == onnx_peer.ops(events, 7)


def test_the_profiled_calls_fill_about_two_seconds_within_bounds_and_the_threshold_advises() -> None:
    low, high = runner_gap.CALLS
    assert [runner_gap.calls_for(m) for m in (0.01, 100.0, 3000.0)] == [high, 20, low]
    assert runner_gap.GAP == gaps.GAP


# --------------------------------------------------------------------------- there


def _arm(name: str, kind: str, ms: float, **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": kind, "config": name, "release": RELEASE, "job": f"job-{name}",
            "ms": [ms * (1 + 0.01 * i) for i in range(6)], "matches": True, **extra}  # fmt: skip


def test_the_arms_that_can_be_the_answer_and_trail_are_profiled() -> None:
    arms = [
        _arm("default", "default", 30.0),
        _arm("generic", "naive", 60.0),  # never the answer
        _arm("dt", "pick", 14.0),  # within 1.5x
        _arm("broken", "pick", 40.0, error="mismatch"),
        _arm("onnxruntime", "peer", 10.0, job="peer:onnxruntime"),
    ]
    assert [a["name"] for a in runner_gap.trailing(arms, 1.5)] == ["default"]
    assert [a["name"] for a in runner_gap.trailing(arms, 0)] == ["default", "dt"]
    arms[-1]["error"] = "not importable"
    assert runner_gap.trailing(arms, 0) == []  # no ONNX Runtime that ran: nothing to compare


def test_a_runtime_without_the_profiler_is_recorded_in_its_words(tmp_path: Path) -> None:
    tool = tmp_path / "iree-benchmark-module"
    refusal = "ERROR: Unknown command line flag 'device_profiling_mode'"
    tool.write_text(f'#!/bin/sh\necho "{refusal}" >&2\nexit 1\n')
    tool.chmod(0o755)
    profiler = tmp_path / "iree-profile"
    found = runner_gap.profile_iree([str(tool)], profiler, 5.0, {}, 30.0)
    assert "no iree-profile: no in-context profiler" in found["unavailable"]  # 3.9.0's wheel: not run
    profiler.write_text("#!/bin/sh\nexit 0\n")
    profiler.chmod(0o755)
    found = runner_gap.profile_iree([str(tool)], profiler, 5.0, {}, 30.0)
    assert found == {"unavailable": f"iree-benchmark-module: {refusal}"}


# --------------------------------------------------------------------------- home


def _iree_profile() -> dict[str, Any]:
    text = (PROFILES / "mobilenet_v2-iree3.13.0-dispatch.jsonl").read_text()
    dispatches = runner_gap.parse_dispatch_groups(text, 30)
    return {"source": "iree-profile host-execution", "calls": 30, "dispatches": dispatches,
            "sum_ms": sum(d["ms_per_call"] for d in dispatches)}  # fmt: skip


def _profiles(iree: Any = None) -> dict[str, Any]:
    events = json.loads((PROFILES / "tiny_cnn-onnxruntime-profile.json").read_text())
    ort = {"source": "onnxruntime profiling (Node kernel_time)", "calls": 7, **runner_gap.onnx_ops(events, 7)}
    return {"over": 1.5, "threads": 1,
            "iree": [{"config": "default", "release": RELEASE, "op_profile": iree or _iree_profile()}],
            "peers": {"onnxruntime": {"status": "ok", "op_profile": ort}}}  # fmt: skip


def _document(profiles: dict[str, Any]) -> dict[str, Any]:
    here = {k: v for k, v in host.describe().items() if not k.startswith("llvm")}
    arms = [_arm("default", "default", 30.0), _arm("onnxruntime", "peer", 10.0)]
    for a in arms:
        a.pop("job")
    return {"schema": advice.SCHEMA, "model": "tiny_cnn", "llvm_cpu": "znver4", "host": here, "rounds": 6,
            "started": "2026-11-26T10:00:00+00:00", "bundle_sha256": "d" * 64,
            "functions": [{"function": "main", "arms": arms, "op_profiles": profiles}]}  # fmt: skip


def test_merge_reads_the_profiles_into_the_gap_as_advise_does() -> None:
    document = _document(_profiles())
    assert received_sittings.problem(document, set()) is None
    explained = received_sittings.explain(document)
    entry = explained["functions"][0]
    profiles = document["functions"][0]["op_profiles"]
    found, _ = gaps.measure(profiles["iree"][0]["op_profile"], profiles["peers"], config="default",
                            release=RELEASE, threads=1, run_job="run bundle")  # fmt: skip
    assert found is not None and entry["gap"] == found.to_json()  # advise's own computation
    assert "gap" not in document["functions"][0]  # the received document is not edited
    (a,) = advice.derive(explained)
    assert a.gap is not None and a.gap.peer == "onnxruntime" and a.gap.scale is not None
    text = "\n".join(answers_md.render([a]))
    assert "Where the gap to ONNX Runtime is" in text and "on 1 thread(s)" in text


def test_a_runtime_that_could_not_profile_is_said_honestly() -> None:
    words = "iree-benchmark-module: ERROR: Unknown command line flag 'device_profiling_mode'"
    document = _document(_profiles({"unavailable": words}))
    assert received_sittings.problem(document, set()) is None
    (a,) = advice.derive(received_sittings.explain(document))
    assert a.gap is None and words in a.gap_error and RELEASE in a.gap_error
    said = f"not profiled: IREE {RELEASE}'s runtime gave no in-context profile: {words}"
    assert said in "\n".join(answers_md.render([a]))
    assert advice.as_json(a)["gap_error"] == a.gap_error


def test_a_sitting_without_profiles_is_published_as_it_came() -> None:
    document = _document(_profiles())
    del document["functions"][0]["op_profiles"]
    assert received_sittings.explain(document) is document


def _ops(d: dict[str, Any]) -> list[dict[str, Any]]:
    return d["functions"][0]["op_profiles"]["peers"]["onnxruntime"]["op_profile"]["ops"]


def _iree(d: dict[str, Any]) -> dict[str, Any]:
    return d["functions"][0]["op_profiles"]["iree"][0]


def _dispatches(d: dict[str, Any]) -> list[dict[str, Any]]:
    return d["functions"][0]["op_profiles"]["iree"][0]["op_profile"]["dispatches"]


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: _dispatches(d)[0].update(ms_per_call=float("nan")), "not finite non-negative"),
        (lambda d: _dispatches(d)[0].update(ms_per_call=-1.0), "not finite non-negative"),
        (lambda d: _dispatches(d)[0].update(per_call=True), "not finite non-negative"),
        (lambda d: _dispatches(d)[0].update(name="\x1b[2Jmain"), "is not a name"),
        (lambda d: _dispatches(d)[0].update(name="x" * 301), "is not a name"),
        (lambda d: _dispatches(d).extend([_dispatches(d)[0]] * 20001), "at most 20000"),
        (lambda d: _ops(d)[0].update(weight_shape=["3"]), "weight shape"),
        (lambda d: _ops(d)[0].update(op="Conv; rm"), "is not a name"),
        (lambda d: d["functions"][0]["op_profiles"]["peers"].update(eager={}), "ONNX Runtime's"),
        (lambda d: d["functions"][0]["op_profiles"]["iree"][0].update(config="../x"), "configuration"),
        (lambda d: d["functions"][0]["op_profiles"]["iree"].extend([{}] * 20), "more than 20"),
        (lambda d: d["functions"][0]["op_profiles"].update(threads=0), "threads"),
        (lambda d: _iree(d).update(op_profile={"unavailable": 3}), "words"),
        (lambda d: d["functions"][0].update(op_profiles=[]), "not profiles"),
    ],
)
def test_merge_refuses_profiles_that_do_not_check_out(edit: Any, words: str) -> None:
    document = copy.deepcopy(_document(_profiles()))
    edit(document)
    why = received_sittings.problem(document, set()) or ""
    assert "op_profiles" in why and words in why, why
