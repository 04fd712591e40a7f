"""A pick's proof from a run bundle: the neighbourhood advise's proof would time travels with the
bundle (tasks/bundling.py, execution/bundle.py), run.py times it against the pick in the
sitting's rounds and writes it in advise's form (bundle_runner/sitting.py), merge checks it
(advise/received_sittings.py) and the views say what it found, a faster neighbour included. The end-to-end
run is tests/integration/test_bundle.py."""

from __future__ import annotations

import copy
import types
from pathlib import Path
from typing import Any

import pytest

from iree_matrix.advise import received_sittings
from iree_matrix.bundle_runner import gpu as runner_gpu
from iree_matrix.bundle_runner import sitting as runner_sitting
from iree_matrix.core.model.configuration import NamedCpu
from iree_matrix.core.system import host
from iree_matrix.execution import bundle
from iree_matrix.findings import advice, neighbourhood, search
from iree_matrix.findings import bundles as bundles_answers
from iree_matrix.tasks import bundling
from tests.unit.test_advice import _sitting as _advice_sitting

RELEASE = "3.13.0"
PICK = "data-tiling+loop-unrolling"
CENTRE_MS = [10.0, 10.2, 9.9, 10.1, 10.0, 10.3]


def _sha(name: str) -> str:
    return format(abs(hash(name)) % (1 << 64), "064x")


# --------------------------------------------------------------------------- what travels


def test_the_bundle_carries_advises_neighbourhood_less_the_knobs_that_name_a_cpu() -> None:
    knobs = neighbourhood.accepted_knobs(RELEASE)
    assert "avx2" in knobs  # advise's proof (compiling for `host`) tries a named CPU...
    carried = list(bundling._say_proofs({"": bundling.Centre(PICK)}, RELEASE, 3)[""][1])
    # ...the bundle compiles for the target's named CPU, so that one knob is left out, nothing else.
    kept = [k for k in knobs if k != "avx2"]
    assert carried == [str(c) for c in neighbourhood.neighbours(search.parse(PICK), kept)]
    assert not any("avx2" in c.split("+") for c in carried)
    assert "data-tiling" in carried and f"{PICK}+loop-vectorization" in carried
    assert bundling._keeps_cpu(PICK) and not bundling._keeps_cpu("avx2+data-tiling")


def test_given_picks_are_checked_and_the_first_is_the_proofs_centre() -> None:
    release, picks, centres = bundling._published("tiny_cnn", RELEASE, [PICK, "im2col"])
    assert (release, picks) == (RELEASE, [PICK, "im2col"])
    assert centres == {bundling.ANY_FUNCTION: bundling.Centre(PICK)}
    with pytest.raises(bundling.UserError, match="'no-such-knob' is not a knob"):
        bundling._published("tiny_cnn", RELEASE, ["no-such-knob+im2col"])


def _cell(profile: str, function: str = "main") -> bundle.BundledRun:
    job = f"run:tiny_cnn/e/iree{RELEASE}/x86_64/{profile}/{function}"
    labels = {"model": "tiny_cnn", "function": function, "profile": profile, "runtime": RELEASE}
    return bundle.BundledRun(job, labels, "compile:" + job[4:], "k", "e" * 16, Path("m.vmfb"), Path("export"),
                       bundle.CPU_DEVICE, RELEASE, "x86_64", "x86_64")  # fmt: skip


def test_the_manifest_names_each_neighbours_cell_and_a_neighbour_that_did_not_compile_says_so() -> None:
    fleet = NamedCpu("znver4").name
    found = [_cell(fleet), _cell("generic"), _cell(f"{PICK}+{fleet}"), _cell(f"data-tiling+{fleet}")]
    plan = types.SimpleNamespace(jobs=[], by_id=dict)
    proofs = {"": (PICK, ("data-tiling", "loop-unrolling"))}
    (sitting,), files = bundle.sittings(plan, {}, None, found, "znver4", (PICK,), proofs)  # type: ignore[arg-type]
    # The neighbours are the proof's, never arms: an arm can become the answer.
    assert {a["config"] for a in sitting["arms"]} == {"default", "generic", PICK}
    proof = sitting["proof"]
    assert proof["centre"] == PICK and proof["max_steps"] == 1
    tiled, unrolled = proof["neighbours"]
    assert tiled == {"config": "data-tiling", "flags": [], "job": found[3].job}
    assert unrolled["config"] == "loop-unrolling" and "did not succeed" in unrolled["error"]
    assert "job" not in unrolled and files == {}
    # Without a proof (--no-proof), the sitting is as before.
    (plain,), _ = bundle.sittings(plan, {}, None, found, "znver4", (PICK,), {})  # type: ignore[arg-type]
    assert "proof" not in plain


# --------------------------------------------------------------------------- timed there


def _there() -> tuple[list[dict], list[dict], dict, dict]:
    """A sitting's arms as run.py has them and the proof's neighbours made from the manifest: one
    byte-identical to the pick, one whose cell did not match torch, one checked."""
    arms = [
        {"name": "default", "config": "default", "module_sha256": _sha("default"), "matches": True, "ms": []},
        {"name": PICK, "config": PICK, "module_sha256": _sha(PICK), "matches": True, "ms": [],
         "flags": ["--iree-opt-data-tiling"]},
    ]  # fmt: skip
    cells = {
        "run:same": {"module_sha256": _sha(PICK)},
        "run:bad": {"module_sha256": _sha("bad")},
        "run:fast": {"module_sha256": _sha("fast")},
    }
    checked = {
        "run:same": {"status": "ok"},
        "run:bad": {"status": "mismatch", "message": "max abs error 3.1 > atol 1e-4"},
        "run:fast": {"status": "ok"},
    }
    proof = {"centre": PICK, "max_steps": 1, "neighbours": [
        {"config": "data-tiling", "flags": ["--a"], "job": "run:same"},
        {"config": "loop-unrolling", "flags": ["--b"], "job": "run:bad"},
        {"config": f"{PICK}+loop-vectorization", "flags": ["--c"], "job": "run:fast"},
        {"config": f"{PICK}+im2col", "error": "its compile did not succeed here"},
    ]}  # fmt: skip
    return arms, runner_gpu.neighbours(proof, arms, cells, checked), proof, cells


def test_run_py_times_each_module_once_and_writes_the_proof_in_advises_form() -> None:
    arms, around, proof, _ = _there()
    same, bad, fast, lost = around
    assert same["same_as"] == PICK and not same["error"]  # byte-identical to the pick: not timed
    assert bad["matches"] is False and bad["error"].startswith("mismatch: max abs error")
    assert fast["matches"] is True and not fast["error"] and not fast["same_as"]
    assert lost["error"] == "its compile did not succeed here"
    # The rounds: the pick and the faster neighbour timed, as the sitting's loop appends them.
    arms[1]["ms"] = list(CENTRE_MS)
    fast["ms"] = [m * 0.8 for m in CENTRE_MS]
    for entry in [*arms, *around]:
        entry.pop("job", None)
    document = runner_gpu.proof(proof, arms, around)
    assert document["max_steps"] == 1 and document["source"] == neighbourhood.BUNDLE
    read = neighbourhood.Proof.of(document)
    (step,) = read.steps
    assert step.centre.config == PICK and step.centre.ms == tuple(CENTRE_MS)
    assert step.neighbours[0].same_as == PICK and step.neighbours[0].ms == tuple(CENTRE_MS)
    assert neighbourhood.against(step.centre, step.neighbours[0]).verdict == "same module"  # type: ignore[union-attr]
    # Its verdicts are taken here, from the rounds: the faster neighbour wins beyond noise.
    assert step.winner is not None and step.winner.config == f"{PICK}+loop-vectorization"
    assert read.result == f"{PICK}+loop-vectorization" and not read.certified


def _document(proof: dict[str, Any]) -> dict[str, Any]:
    here = {k: v for k, v in host.describe().items() if not k.startswith("llvm")}
    arms = [
        {"name": "default", "kind": "default", "config": "default", "release": RELEASE,
         "ms": [m * 1.5 for m in CENTRE_MS], "module_sha256": _sha("default"), "matches": True, "flags": []},
        {"name": PICK, "kind": "pick", "config": PICK, "release": RELEASE, "ms": list(CENTRE_MS),
         "module_sha256": _sha(PICK), "matches": True, "flags": ["--iree-opt-data-tiling"]},
    ]  # fmt: skip
    return {"schema": 2, "model": "tiny_cnn", "llvm_cpu": "znver4", "host": here, "rounds": 6,
            "started": "2026-11-26T10:00:00+00:00", "bundle_sha256": "d" * 64,
            "functions": [{"function": "main", "arms": arms, "proof": proof}]}  # fmt: skip


def _bundle_proof() -> dict[str, Any]:
    arms, around, proof, _ = _there()
    arms[1]["ms"] = list(CENTRE_MS)
    around[2]["ms"] = [m * 0.8 for m in CENTRE_MS]
    for entry in [*arms, *around]:
        entry.pop("job", None)
    return runner_gpu.proof(proof, arms, around)


COMPILED = {_sha("default"), _sha(PICK), _sha("bad"), _sha("fast")}


# --------------------------------------------------------------------------- checked at home


def test_merge_takes_a_bundles_proof_that_checks_out() -> None:
    assert received_sittings.problem(_document(_bundle_proof()), COMPILED) is None


def _neighbour(d: dict[str, Any], i: int = 2) -> dict[str, Any]:
    return d["functions"][0]["proof"]["steps"][0]["neighbours"][i]


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: _neighbour(d).update(ms=[float("inf")]), "finite positive"),
        (lambda d: _neighbour(d).update(ms=[0.0]), "finite positive"),
        (lambda d: _neighbour(d).update(module_sha256="e" * 64), "not one the sitting's own records"),
        (lambda d: _neighbour(d).update(config="\x1b[2Jx"), "not a configuration"),
        (lambda d: _neighbour(d, 0).update(same_as="a b"), "same_as"),
        (lambda d: _neighbour(d).update(flags="--x"), "flags"),
        (lambda d: d["functions"][0]["proof"].update(max_steps=True), "max_steps"),
        (lambda d: d["functions"][0]["proof"].update(start="../x"), "start"),
        (lambda d: d["functions"][0]["proof"]["steps"].append({"neighbours": []}), "over its max_steps 1"),
        (lambda d: d["functions"][0].update(proof=[]), "not a proof"),
    ],
)
def test_merge_refuses_a_proof_that_does_not_check_out(edit: Any, words: str) -> None:
    document = copy.deepcopy(_document(_bundle_proof()))
    edit(document)
    why = received_sittings.problem(document, COMPILED) or ""
    assert why.startswith("main: proof: ") and words in why, why


# --------------------------------------------------------------------------- said


def test_a_faster_neighbour_is_said_with_what_to_bundle_next_not_as_a_move() -> None:
    from iree_matrix.report import answers as rendered

    (a,) = advice.derive(_document(_bundle_proof()), "advice-tiny_cnn.json")
    assert a.config == PICK and a.proof is not None
    winner = f"{PICK}+loop-vectorization"
    said = neighbourhood.summary(a.proof, a.config)
    assert said.startswith(f"`{PICK}` is not a local optimum: `{winner}` (+ loop-vectorization) takes 0.80×")
    assert f"bundle again with it as the pick (`bundle --advise … --picks {winner}`)" in said
    assert neighbourhood.path_lines(a.proof) == []  # nothing moved there: no "became the pick"
    page = "\n".join(rendered.render([a]))
    assert f"| change to `{PICK}` |" in page and "became the pick" not in page
    assert f"| + loop-vectorization | `{winner}` | 0.80× |" in page and "FASTER (p = " in page
    assert "the same module (byte-identical: not timed)" in page
    assert "not timed: mismatch: max abs error" in page
    console = "\n".join(neighbourhood.console_lines(a.proof, answer=a.config))
    assert "is not a local optimum" in console
    assert advice.as_json(a)["proof"]["certified"] is False


def test_a_bundles_proof_with_no_faster_neighbour_is_a_local_optimum_in_one_step() -> None:
    proof = _bundle_proof()
    proof["steps"][0]["neighbours"][2]["ms"] = [m * 1.2 for m in CENTRE_MS]
    read = neighbourhood.Proof.of(proof)
    assert read.certified and read.stopped == neighbourhood.LOCAL_OPTIMUM
    said = neighbourhood.summary(read)
    # The byte-identical one counts as compared; the mismatch and the one not compiled do not.
    assert said.startswith(f"`{PICK}` is a local optimum: none of its 2 one-knob changes")
    assert "2 could not be timed" in said
    # A sitting there may choose another arm than the pick the bundle carried: the proof says whose it is.
    assert neighbourhood.summary(read, "default").startswith(f"of `{PICK}`, not of this answer (`default`)")


def test_advises_own_one_step_proof_still_names_its_step_bound() -> None:
    proof = _bundle_proof()
    del proof["source"]
    read = neighbourhood.Proof.of(proof)
    assert "the step bound (1 steps) stopped it" in neighbourhood.summary(read)
    assert neighbourhood.path_lines(read)[0].startswith("step 1: `+ loop-vectorization`")


def test_the_bundle_command_takes_picks_and_no_proof() -> None:
    import argparse

    from iree_matrix.commands import bundle as command

    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    args = parser.parse_args(["--advise", "tiny_cnn", "--cpu", "znver4", "--picks", "a+b,c", "--no-proof"])
    assert args.no_proof is True and args.picks == "a+b,c"


def test_a_sitting_without_onnx_runtime_says_so_and_query_says_how_to_add_it(monkeypatch, tmp_path) -> None:
    """Issue 69 item 6: with numpy only, run.py has no ONNX Runtime arm; the sitting records which peer
    it could not import, and the answer says the ratio to it is missing and how to add it."""
    monkeypatch.setattr(runner_sitting, "importable", lambda name: name == "torch")
    said: list[str] = []

    class Peer:
        def ask(self, order: dict) -> dict:
            return {"ok": True, "version": "2.13.0", "matches": True}

        def close(self) -> None:
            pass

    monkeypatch.setattr(runner_sitting, "Worker", lambda root, path: Peer())
    sitting = {"onnx": {"model": "peers/x/model.onnx"}, "torch": {"module": "models.tiny_cnn"}}
    arms: list = []
    missing = runner_sitting._peers(tmp_path, sitting, arms, {}, said.append)
    assert [a["name"] for a in arms] == ["eager"]
    how = "python3 -m pip install onnxruntime"
    assert missing == [
        {
            "name": "onnxruntime",
            "package": "onnxruntime",
            "why": "not importable by this Python",
            "install": how,
        }
    ]
    assert f"no onnxruntime arm (`{how}`)" in said[0]
    bad = {"name": "x; rm -rf /", "package": "y"}  # a received document's words are never shown
    words = bundles_answers.missing_peers({"function": "main", "arms": [], "peers_missing": [*missing, bad]})
    assert words == (
        "ONNX Runtime: not importable where the sitting ran, so no ratio to it "
        f"(`{how}` there beside numpy, then run.py again)",
    )
    document = _advice_sitting()
    document["functions"][0]["arms"] = [
        a for a in document["functions"][0]["arms"] if a["name"] != "onnxruntime"
    ]
    document["functions"][0]["peers_missing"] = missing
    (answer,) = advice.derive(document)
    shown = "\n".join(advice.lines(advice.Chosen((answer,), True, ""), "mobilenet_v2", fleet=False))
    assert f"    no ONNX Runtime: not importable where the sitting ran, so no ratio to it (`{how}`" in shown
