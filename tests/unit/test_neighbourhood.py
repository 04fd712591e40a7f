"""A pick's proof (findings/neighbourhood.py): which configurations are one knob away, the local
search over a fake sitting (no compiler, no timing), the document's form of a proof (old documents
still read), and its words in ANSWERS.md and on advise's console."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from iree_matrix.advise.advise_sitting import Sitter
from iree_matrix.core.model import stats
from iree_matrix.core.model.configuration import Config
from iree_matrix.findings import advice, neighbourhood, search
from tests.unit import builders

QUARTZ_PICK = "data-tiling+loop-unrolling+slp-vectorization"
# Round-to-round drift of the machine, the same for every arm of a round (what pairing cancels), and
# each arm's own few per cent.
DRIFT = (1.00, 1.04, 0.97, 1.02, 0.99, 1.05, 0.98, 1.01)
JITTER = (1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 1.01, 0.99)


def _landscape(config: Config) -> float:
    """QuartzNet as measured by hand: data tiling and unrolling pay, SLP a little on top, and the
    loop vectorizer, neutral alone, takes 0.55x the time beside data tiling and unrolling."""
    knobs = config.knob_set
    ms = 84.0
    ms *= 0.46 if "data-tiling" in knobs else 1.0
    ms *= 0.8 if "loop-unrolling" in knobs else 1.0
    ms *= 0.95 if "slp-vectorization" in knobs else 1.0
    if "loop-vectorization" in knobs:
        ms *= 0.55 if {"data-tiling", "loop-unrolling"} <= knobs else 1.0
    ms *= 1.15 if "transposes" in knobs else 1.0
    ms *= 9.0 if "avx2" in knobs else 1.0
    return ms


def _sitter(landscape, log: list[tuple[str, int]]) -> neighbourhood.Sit:
    def sit(centre: Config, around: Sequence[Config]) -> neighbourhood.Step:
        log.append((str(centre), len(around)))

        def timed(config: Config, arm: int) -> neighbourhood.Timed:
            ms = tuple(
                landscape(config) * DRIFT[r] * JITTER[(r + arm) % len(JITTER)] for r in range(len(DRIFT))
            )
            return neighbourhood.Timed(str(config), ms, module_sha256=str(config), matches=True)

        return neighbourhood.Step.judged(timed(centre, 0), [timed(c, i + 1) for i, c in enumerate(around)])

    return sit


KNOBS = ("data-tiling", "dt-ukernels", "loop-unrolling", "slp-vectorization", "loop-vectorization",
         "transposes", "avx2")  # fmt: skip


def test_the_neighbourhood_is_every_one_knob_change():
    pick = Config.of({"data-tiling", "loop-unrolling", "stripped"}, "decomposed")
    found = {neighbourhood.change(pick, c): c for c in neighbourhood.neighbours(pick, KNOBS)}
    assert set(found) == {
        "+ slp-vectorization", "+ loop-vectorization", "+ transposes", "+ avx2",  # each knob added
        "− data-tiling", "− loop-unrolling",  # each dropped
        "− stripped",  # a knob the release does not list can still be dropped
        "data-tiling → dt-ukernels",  # a swap within its group
    }  # fmt: skip
    assert all(c.variant == "decomposed" for c in found.values())  # the export is the pick's


def test_a_neighbour_whose_knobs_do_not_combine_is_no_configuration():
    """`generic` (no target CPU) combines with no knob: its proof built "O2+generic" and stopped the
    whole `advise` ("profiles O2, generic set different opt levels or target CPUs"; issue #69's
    point-cloud kNN, whose answer is the naive build). Its neighbourhood is the host's CPU; an O3
    pick's has no "O2+O3"."""
    knobs = neighbourhood.accepted_knobs("3.13.0")
    assert [str(c) for c in neighbourhood.neighbours(search.parse("generic"), knobs)] == ["default"]
    o3 = [str(c) for c in neighbourhood.neighbours(search.parse("O3+data-tiling"), knobs)]
    assert "O2+O3+data-tiling" not in o3 and "data-tiling" in o3 and "O3" in o3
    assert "O3+data-tiling+loop-unrolling" in o3


def test_the_knobs_a_release_accepts_are_its_compilers():
    assert "im2col" in neighbourhood.accepted_knobs("3.13.0")
    assert "im2col" not in neighbourhood.accepted_knobs("3.9.0")  # 3.9.0's iree-compile lacks it


def test_a_neutral_alone_knob_that_wins_beside_the_pick_becomes_it_and_is_proved_in_turn():
    """QuartzNet (issue: 1.8x missed): the loop vectorizer, neutral alone, on top of the pick."""
    log: list[tuple[str, int]] = []
    start = search.parse(QUARTZ_PICK)
    proof = neighbourhood.local_search(
        start, lambda c: neighbourhood.neighbours(c, KNOBS), _sitter(_landscape, log)
    )
    assert proof.result == "data-tiling+loop-unrolling+loop-vectorization+slp-vectorization"
    assert proof.certified and proof.stopped == neighbourhood.LOCAL_OPTIMUM
    assert [centre for centre, _ in log] == [QUARTZ_PICK, proof.result]
    first = proof.steps[0]
    assert first.winner is not None and first.winner.config == proof.result
    verdict = neighbourhood.against(first.centre, first.winner)
    assert verdict is not None and verdict.verdict == stats.FASTER and verdict.ratio < 0.6
    # The pick it left is among the new centre's neighbours, timed again in that sitting: slower.
    back = next(n for n in proof.steps[1].neighbours if n.config == QUARTZ_PICK)
    assert neighbourhood.against(proof.steps[1].centre, back).verdict == stats.SLOWER
    assert "1 step" not in neighbourhood.summary(proof) and "local optimum" in neighbourhood.summary(proof)
    # An answer that adds a kernel the neighbours were timed without says so (a knob may pay only
    # with it: dt-ukernels on a Zen 3 with depthwise3x3, lab/measurements.md); without one, nothing.
    with_kernel = neighbourhood.summary(proof, proof.result, kernel="depthwise3x3")
    assert (
        "local optimum" in with_kernel
        and "each without the kernel `depthwise3x3` the answer adds" in with_kernel
    )
    assert "kernel" not in neighbourhood.summary(proof, proof.result)


def test_the_step_bound_stops_the_search_and_says_so():
    def ladder(config: Config) -> float:  # every knob added helps: a long way up
        return 100.0 * 0.8 ** len(config.knob_set - {"avx2", "transposes"})

    log: list[tuple[str, int]] = []
    proof = neighbourhood.local_search(
        Config(), lambda c: neighbourhood.neighbours(c, KNOBS), _sitter(ladder, log), max_steps=2
    )
    assert len(log) == 2 and not proof.certified
    assert "step bound (2 steps)" in proof.stopped and "not timed" in proof.stopped


def test_noise_alone_moves_nothing_and_a_pick_that_is_a_local_optimum_is_certified():
    flat = lambda config: 30.0  # noqa: E731 - every neighbour within the arms' own few per cent
    proof = neighbourhood.local_search(
        search.parse(QUARTZ_PICK), lambda c: neighbourhood.neighbours(c, KNOBS), _sitter(flat, [])
    )
    assert proof.certified and proof.result == QUARTZ_PICK and len(proof.steps) == 1


def test_an_interrupted_step_is_no_verdict():
    def sit(centre, around):
        return neighbourhood.Step.judged(neighbourhood.Timed(str(centre)), (), interrupted=True)

    proof = neighbourhood.local_search(Config(), lambda c: [], sit)
    assert proof.interrupted and not proof.certified and "interrupted" in proof.stopped


def _document(schema: int, proof: neighbourhood.Proof | None = None, pick_ms: float = 28.0) -> dict:
    def arm(name, kind, ms, **extra):
        rounds = [ms * d for d in DRIFT]
        return {"name": name, "kind": kind, "config": name, "release": "3.9.0", "ms": rounds,
                "matches": True, "module_sha256": name, "flags": ["--f"], **extra}  # fmt: skip

    arms = [
        arm("default", advice.DEFAULT, 84.0),
        arm("generic", advice.NAIVE, 600.0),
        arm(QUARTZ_PICK, advice.PICK, 28.0),
    ]
    if proof is not None and proof.result != QUARTZ_PICK:
        arms.append(arm(proof.result, advice.PICK, pick_ms, source="the proof's local search"))
    entry: dict = {"function": "main", "arms": arms}
    if proof is not None:
        entry["proof"] = proof.as_dict()
    return {
        "schema": schema, "model": "quartznet5x5", "llvm_cpu": "rocketlake", "rounds": 8,
        "started": "2026-11-26T10:00:00+00:00", "load_average": {"start": 1.0, "end": 1.2},
        "host": {"vendor": "GenuineIntel", "family": "6", "model": "167", "stepping": "1",
                 "cpu_flags_sha256": "fc" * 32, "cores": 2, "machine": "x86_64", "cpu": "Intel"},
        "functions": [entry],
    }  # fmt: skip


def _proof() -> neighbourhood.Proof:
    return neighbourhood.local_search(
        search.parse(QUARTZ_PICK), lambda c: neighbourhood.neighbours(c, KNOBS), _sitter(_landscape, [])
    )


def test_the_proof_travels_in_the_sitting_document_and_an_old_document_still_reads(tmp_path: Path):
    proof = _proof()
    back = neighbourhood.Proof.of(json.loads(json.dumps(proof.as_dict())))
    assert back == proof
    folder = tmp_path / "genuineintel-6-167-rocketlake"
    folder.mkdir()
    (folder / "advice-old.json").write_text(json.dumps({**_document(1), "model": "old"}))
    (folder / "advice-quartznet5x5.json").write_text(json.dumps(_document(advice.SCHEMA, proof, 29.0)))
    found = {a.model: a for a in advice.published(tmp_path)}
    assert found["old"].proof is None and found["old"].config == QUARTZ_PICK
    a = found["quartznet5x5"]
    assert a.proof == proof
    # The proven pick is the answer: its neighbourhood's paired verdicts decide between picks, even
    # where another pick's median of the (re-)sitting came out lower.
    assert a.config == proof.result
    assert advice.as_json(a)["proof"]["certified"] is True


def _proved_then_skipped(tmp_path: Path, proof: neighbourhood.Proof) -> tuple[Path, dict]:
    """An identity's folder holding a sitting that proved `proof` (advice-q.1.json), and a later
    sitting's document, not yet written, that skipped its proof and timed the proved pick faster."""
    folder = tmp_path / "genuineintel-6-167-rocketlake"
    folder.mkdir()
    (folder / "advice-q.1.json").write_text(json.dumps(_document(advice.SCHEMA, proof, 29.0)))
    later = {**_document(advice.SCHEMA), "started": "2026-11-28T10:00:00+00:00", "proof_skipped": True}
    faster = {"name": proof.result, "config": proof.result, "ms": [26.0 * d for d in DRIFT]}
    later["functions"][0]["arms"].append({**later["functions"][0]["arms"][2], **faster})
    return folder, later


def test_a_sitting_without_its_proof_carries_the_earlier_proof_of_the_same_pick(tmp_path: Path):
    """A kernel sitting (`advise --kernel --no-proof`) re-times a proved pick: its answer keeps the
    newest earlier proof of that very pick on that identity, naming the sitting that timed it; a
    proof of another configuration is not carried."""
    proof = _proof()
    assert proof.certified
    folder, later = _proved_then_skipped(tmp_path, proof)
    (folder / "advice-q.2.json").write_text(json.dumps(later))
    (a,) = advice.published(tmp_path)
    assert a.source.endswith("advice-q.2.json") and a.config == proof.result
    assert a.proof == proof and a.proof_from == "advice-q.1.json"
    assert advice.as_json(a)["proof"]["from_sitting"] == "advice-q.1.json"  # compat.json says so too
    assert any("timed in an earlier sitting of this pick: advice-q.1.json" in line for line in advice.lines(
        advice.Chosen((a,), True, ""), "quartznet5x5"))  # fmt: skip
    later["functions"][0]["arms"] = later["functions"][0]["arms"][:3]  # the pick is QUARTZ_PICK: not proved
    (folder / "advice-q.2.json").write_text(json.dumps(later))
    (a,) = advice.published(tmp_path)
    assert a.config == QUARTZ_PICK and a.proof is None and a.proof_from == ""


@pytest.mark.parametrize(
    "field, value", [("release", "2.9.0"), ("module_sha256", "another model's build"), ("kernel", "k")]
)
def test_a_proof_is_carried_only_to_the_same_release_model_and_kernel(tmp_path: Path, field: str, value: str):
    """A `--no-proof` answer for IREE 3.9.0 carried a 2.9.0 sitting's proof of the same pick (issue 94):
    identity, release, model (its default build's module), pick and kernel must all be the same, or
    the answer is not proved."""
    proof = _proof()
    folder, later = _proved_then_skipped(tmp_path, proof)
    arms = later["functions"][0]["arms"]
    if field == "kernel":  # the pick with a kernel swapped in, faster: the answer takes the kernel
        kernel = {"name": "k", "kind": advice.KERNEL, "kernel": "k", "base": proof.result, "applied": True,
                  "module_sha256": "k", "ms": [20.0 * d for d in DRIFT]}  # fmt: skip
        arms.append({**arms[-1], **kernel})
    for arm in arms if field != "kernel" else ():
        if field == "release" or arm["name"] == "default":
            arm[field] = value
    (folder / "advice-q.2.json").write_text(json.dumps(later))
    (a,) = advice.published(tmp_path)
    assert a.config == proof.result and a.proof is None and a.proof_from == ""
    assert (a.kernel is not None) == (field == "kernel")
    from iree_matrix.report import answers as rendered

    assert rendered._proof_mark(a) == " (not proved)"


def test_the_neighbourhood_is_a_table_under_its_answer_and_on_advises_console():
    from iree_matrix.report import answers as rendered

    proof = _proof()
    (a,) = advice.derive(_document(advice.SCHEMA, proof), "advice-quartznet5x5.json")
    page = "\n".join(rendered.render([a]))
    assert f"| change to `{proof.result}` | configuration | time over its | rounds | verdict |" in page
    assert "| − loop-vectorization | `data-tiling+loop-unrolling+slp-vectorization` |" in page
    assert "`+ loop-vectorization` on `data-tiling+loop-unrolling+slp-vectorization` was faster" in page
    assert "is a local optimum: none of its 7 one-knob changes was faster" in page
    said = "\n".join(advice.lines(advice.Chosen((a,), True, ""), "quartznet5x5"))
    assert "proof: `" in said and "local optimum" in said
    console = neighbourhood.console_lines(proof)
    assert console[0].startswith("    proof: ") and any("− loop-vectorization" in line for line in console)
    # Fastest first: the first row of a certified neighbourhood is no faster than the centre.
    first = neighbourhood.rows(proof.steps[-1])[0]
    assert "FASTER" not in first[4]


def test_a_quick_sitting_skips_the_proof_and_the_proof_bound_is_an_option():
    from iree_matrix.commands import advise

    parser = argparse.ArgumentParser()
    advise.add_arguments(parser)
    args = parser.parse_args(["mobilenet_v2"])
    assert args.no_proof is False and args.proof_steps == neighbourhood.MAX_STEPS
    args = parser.parse_args(["mobilenet_v2", "--no-proof", "--proof-steps", "1"])
    assert args.no_proof is True and args.proof_steps == 1


def test_a_proof_step_times_each_module_once_and_says_why_a_neighbour_was_not(monkeypatch, tmp_path):
    """advise's side of a step (advise/advise_proof.py) with the timing faked: a neighbour whose
    module is the centre's is the same program, untimed; a skipped compile is said in its words."""
    from iree_matrix.advise import advise_proof, paired_rounds
    from iree_matrix.core.model.results import Record, Status

    run = builders.sitting_run

    skipped = Record("compile:m/im2col", "compile", "m/im2col", "k", Status.SKIP, {}, {},
                     message="profile 'im2col' uses a flag IREE 3.13.0 lacks")  # fmt: skip

    class Stored:  # advise_sitting.Builds: everything is built already
        def sitting(self, plan):
            return {}

        def alone(self, configs, profiled=False):
            return {}

    built = advise_proof.Built(Stored(), {r.job: r for r in (
        run("data-tiling", "x"), run("default", "x"), run("data-tiling+loop-unrolling", "y"),
        run("data-tiling+im2col", "", Status.NOT_RUN, blocked_by=skipped.job), skipped,
    )})  # fmt: skip
    sat = builders.fake_sittings(monkeypatch, tmp_path)
    names = ["data-tiling", "default", "data-tiling+loop-unrolling", "data-tiling+im2col"]
    configs = [search.parse(n) for n in names]
    step = advise_proof._sit(
        Sitter(paired_rounds.Request(8, 3), "m", tmp_path), "main", "3.13.0", configs, built
    )
    assert sat == [("data-tiling", "data-tiling+loop-unrolling")]
    by = {n.config: n for n in step.neighbours}
    assert by["default"].same_as == "data-tiling"
    assert neighbourhood.against(step.centre, by["default"]).verdict == stats.SAME_MODULE
    assert by["data-tiling+loop-unrolling"].ms == (11.0,) * 8
    assert "IREE 3.13.0 lacks" in by["data-tiling+im2col"].error and not by["data-tiling+im2col"].ms
    assert step.centre.flags and "--iree-opt-data-tiling=true" in step.centre.flags


def test_an_unproved_pick_says_so_and_readme_shows_the_identity_with_proved_picks_first(tmp_path: Path):
    """A sitting made before picks were proved is published as it is, but never reads as proved: its
    row says "(not proved)", its section how to time its neighbourhood, and README's table shows the
    identity whose picks are proved even where another answers more functions."""
    from iree_matrix.report import answers as rendered

    proof = _proof()
    assert proof.certified
    proved = tmp_path / "authenticamd-25-17-znver4"
    older = tmp_path / "genuineintel-6-167-rocketlake"
    for folder in (proved, older):
        folder.mkdir()
    zen4 = {"vendor": "AuthenticAMD", "family": "25", "model": "17", "stepping": "1",
            "cpu_flags_sha256": "ab" * 32, "cores": 2, "machine": "x86_64", "cpu": "AMD EPYC"}  # fmt: skip
    (proved / "advice-quartznet5x5.json").write_text(
        json.dumps({**_document(advice.SCHEMA, proof), "host": zen4, "llvm_cpu": "znver4"})
    )
    (older / "advice-quartznet5x5.json").write_text(json.dumps(_document(1)))
    (older / "advice-other.json").write_text(json.dumps({**_document(1), "model": "other"}))
    found = advice.published(tmp_path)
    page = "\n".join(rendered.render(found))
    unproved = [line for line in page.splitlines() if line.startswith("| quartznet5x5 | Intel")]
    assert len(unproved) == 1 and unproved[0].count("(not proved)") == 1
    assert "(not proved)" not in next(
        line for line in page.splitlines() if line.startswith("| quartznet5x5 | AMD")
    )
    assert (
        "Neighbourhood: not timed in this sitting (it predates the pick's proof): `iree-matrix advise "
        "quartznet5x5` on that CPU times it, or without the tool there `iree-matrix bundle --advise "
        "quartznet5x5 --cpu rocketlake --to DIR`" in page
    )
    block = "\n".join(rendered.readme_block(tmp_path))
    assert "| function, on AMD family 25 model 17 `znver4`" in block and "| quartznet5x5 | IREE " in block
    assert "| other |" not in block and all(len(line) <= 200 for line in block.splitlines())
    assert (
        "Also answered, each in its own sitting ([every row](results/answers/ANSWERS.md)): Intel family 6 "
        "model 167 `rocketlake` (2 functions, 2 not proved)." in block
    )
    said = "\n".join(
        advice.lines(advice.Chosen((next(a for a in found if a.model == "other"),), True, ""), "other")
    )
    assert "proof: not timed in this sitting" in said


def test_a_sitting_run_with_no_proof_says_so_not_that_it_predates_the_proof():
    """Issue 69's newcomer ran `advise FILE:build --no-proof` and read "not timed in this sitting (it
    predates the pick's proof)": a sitting made today, unproved by the option, says so."""
    document = {**_document(advice.SCHEMA), "proof_skipped": True}
    (found,) = advice.derive(document)
    assert found.proof_skipped
    said = "\n".join(advice.lines(advice.Chosen((found,), True, ""), found.model))
    assert "proof: not timed in this sitting (skipped by --no-proof)" in said and "predates" not in said
    (older,) = advice.derive(_document(advice.SCHEMA))
    assert not older.proof_skipped
    assert "predates the pick's proof" in neighbourhood.untimed(older.model, "", older.proof_skipped)


def test_a_bundle_sitting_made_with_no_proof_says_so_and_names_the_bundles_cpu(monkeypatch, tmp_path):
    """`bundle --advise M --cpu znver4 --no-proof`, sat on a Zen 5 and merged home: the answer says
    the proof was skipped (not that the sitting predates proofs) and its command bundles for the
    bundle's CPU (znver4), not the one the machine there is (znver5)."""
    from iree_matrix.bundle_runner import sitting as runner

    kept: list[dict] = []
    monkeypatch.setattr(runner, "_checked", lambda out, digest: {})
    monkeypatch.setattr(runner, "_gpu_sittings", lambda *a: None)
    monkeypatch.setattr(runner, "sit", lambda *a: {"function": "main", "arms": []})
    monkeypatch.setattr(runner, "_keep", lambda out, model, started, document: kept.append(document))
    manifest = {"sittings": [{"model": "quartznet5x5", "function": "main", "release": "3.9.0", "arms": [],
                              "cpu": "znver4", "proof_skipped": True}]}  # fmt: skip
    runner.sittings(tmp_path, manifest, "d", {"llvm_cpu": "znver5"}, tmp_path, 6)
    (made,) = kept
    assert made["proof_skipped"] is True and made["bundle_cpu"] == "znver4" and made["llvm_cpu"] == "znver5"
    document = {
        **_document(advice.SCHEMA),
        **{k: made[k] for k in ("proof_skipped", "bundle_cpu", "llvm_cpu")},
    }
    (found,) = advice.derive(document)
    said = "\n".join(advice.lines(advice.Chosen((found,), True, ""), found.model))
    assert "proof: not timed in this sitting (skipped by --no-proof)" in said and "predates" not in said
    assert "--cpu znver4 --to DIR" in said and "--cpu znver5" not in said
    # A sitting bundled with its proof names no skip; an advise sitting here names its own CPU.
    manifest["sittings"][0].pop("proof_skipped")
    runner.sittings(tmp_path, manifest, "d", {"llvm_cpu": "znver5"}, tmp_path, 6)
    assert "proof_skipped" not in kept[-1]
    (here,) = advice.derive({**_document(advice.SCHEMA), "llvm_cpu": "znver5"})
    assert here.proof_cpu == "znver5"


def test_a_bundle_cpu_from_elsewhere_must_be_a_name():
    from iree_matrix.advise import received_sittings

    zen = {"vendor": "AuthenticAMD", "family": "25", "model": "17", "stepping": "1",
           "cpu_flags_sha256": "ab" * 32, "cores": 2, "machine": "x86_64", "cpu": "AMD EPYC"}  # fmt: skip
    from iree_matrix.core.model.host_identity import HostIdentity

    document = {**_document(advice.SCHEMA), "host": {**zen, "identity": HostIdentity.of(zen).identity}}
    assert received_sittings.problem({**document, "bundle_cpu": "znver4"}, set()) is None
    assert received_sittings.problem({**document, "bundle_cpu": "x; rm -rf ~"}, set()) == (
        "LLVM CPU name 'x; rm -rf ~' is not a name"
    )
