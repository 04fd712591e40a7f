"""The answer per (function, CPU identity): derived from a sitting's rounds, worded so a ratio
cannot be read backwards, and chosen for another CPU only as "nearest", saying so."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from iree_matrix.advise import advise_answer, advise_plan, advise_sitting, paired_rounds
from iree_matrix.core.model import stats
from iree_matrix.core.model.configuration import Config
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import advice
from tests.unit import builders

ROCKETLAKE = {
    "machine": "x86_64",
    "cpu": "Intel(R) Xeon(R) Processor",
    "vendor": "GenuineIntel",
    "family": "6",
    "model": "167",
    "stepping": "1",
    "cpu_flags_sha256": "fc7df03f53a7dec4" + "0" * 48,
    "cores": 2,
}
ZEN5 = {
    **ROCKETLAKE,
    "cpu": "AMD EPYC",
    "vendor": "AuthenticAMD",
    "family": "26",
    "model": "2",
    "cpu_flags_sha256": "ab" * 32,
}
PICK = "channels-last+data-tiling+im2col"


def _arm(name, kind, ms, **extra):
    return {
        "name": name,
        "kind": kind,
        "config": name,
        "release": "3.13.0",
        "ms": ms,
        "matches": True,
        **extra,
    }


def _sitting(about=ROCKETLAKE, pick_ms=None, default_ms=None, same=False, fleet=()):
    default_ms = default_ms or [40.0, 41.0, 39.5, 40.5, 40.2, 39.8, 40.1, 40.9]
    pick_ms = pick_ms or [x / 3.5 for x in default_ms]
    arms = [
        _arm(
            "default", advice.DEFAULT, default_ms, flags=["--iree-llvmcpu-target-cpu=host"], module_sha256="a"
        ),
        _arm("generic", advice.NAIVE, [x * 4 for x in default_ms], module_sha256="g"),
        _arm(
            PICK,
            advice.PICK,
            pick_ms,
            flags=["--iree-llvmcpu-target-cpu=host", "--x=$(touch X)"],
            module_sha256="a" if same else "p",
        ),
        {
            "name": "onnxruntime",
            "kind": advice.PEER,
            "config": "onnxruntime",
            "ms": [x / 1.65 for x in pick_ms],
        },
        {"name": "eager", "kind": advice.PEER, "config": "eager", "ms": [x * 0.9 for x in default_ms]},
        *fleet,
    ]
    return {
        "schema": advice.SCHEMA,
        "model": "mobilenet_v2",
        "host": about,
        "llvm_cpu": "rocketlake",
        "started": "2026-11-25T15:30:00+00:00",
        "rounds": 8,
        "load_average": {"start": 1.2, "end": 3.4},
        "functions": [{"function": "main", "arms": arms}],
    }


def test_the_pick_is_the_answer_when_the_sitting_calls_it_faster():
    (a,) = advice.derive(_sitting())
    assert (a.release, a.config) == ("3.13.0", PICK)
    assert a.over_default is not None and 1 / a.over_default.value == pytest.approx(3.5)
    assert a.over_naive is not None and 1 / a.over_naive.value == pytest.approx(14.0)
    assert a.vs_peer is not None and a.vs_peer.value == pytest.approx(1.65)
    assert a.best_peer == "ONNX Runtime"
    assert a.identity.llvm_cpu == "rocketlake" and a.identity.host.family == "6"


def test_default_stays_the_answer_when_no_pick_beats_it_beyond_noise():
    noisy = [40.0, 41.0, 39.5, 40.5, 40.2, 39.8, 40.1, 40.9]
    pick = [x * f for x, f in zip(noisy, (1.01, 0.99, 1.0, 1.01, 0.99, 1.0, 1.01, 0.99))]
    (a,) = advice.derive(_sitting(pick_ms=pick))
    assert a.config == "default"
    assert a.over_default is not None and a.over_default.paired.verdict == stats.SAME_MODULE


def test_a_byte_identical_pick_is_the_same_module_not_a_speedup():
    (a,) = advice.derive(_sitting(same=True))
    assert a.config == "default"


def test_a_pick_that_mismatches_torch_is_never_the_answer():
    doc = _sitting()
    doc["functions"][0]["arms"][2]["matches"] = False
    (a,) = advice.derive(doc)
    assert a.config == "default"


def test_ratios_are_worded_so_they_cannot_be_read_backwards():
    slower = advice.Ratio(stats.paired([10.0] * 8, [16.5] * 8))
    faster = advice.Ratio(stats.paired([10.0] * 8, [5.0] * 8))
    assert advice.times_text(slower, "ONNX Runtime").startswith("IREE takes 1.65× ONNX Runtime's time")
    assert "ONNX Runtime is 1.65× faster" in advice.times_text(slower, "ONNX Runtime")
    assert advice.times_text(faster, "torch eager").startswith("IREE is 2.00× faster than torch eager")


def test_query_lines_name_release_flags_peer_and_identity_in_ten_lines():
    chosen = advice.nearest(advice.derive(_sitting()), HostIdentity.of(ROCKETLAKE))
    assert chosen is not None and chosen.here
    text = advice.lines(chosen, "mobilenet_v2")
    assert len(text) <= 10
    joined = "\n".join(text)
    assert "IREE 3.13.0" in joined and "--iree-llvmcpu-target-cpu=host" in joined
    assert "ONNX Runtime" in joined and "family 6 model 167" in joined and "rocketlake" in joined
    assert "'--x=$(touch X)'" in joined  # a flag from a file is quoted: safe to paste


def test_another_cpu_gets_the_nearest_identity_marked_with_the_command_to_measure_it():
    published = advice.derive(_sitting()) + advice.derive(_sitting(about=ZEN5))
    other_intel = {**ROCKETLAKE, "model": "143", "cpu_flags_sha256": "cd" * 32}
    chosen = advice.nearest(published, HostIdentity.of(other_intel))
    assert chosen is not None and not chosen.here
    assert chosen.how_near == "the same vendor and family"
    assert chosen.advice[0].identity.host.vendor == "GenuineIntel"
    joined = "\n".join(advice.lines(chosen, "mobilenet_v2"))
    assert "NEAREST" in joined and "iree-matrix advise mobilenet_v2" in joined
    zen = advice.nearest(published, HostIdentity.of(ZEN5))
    assert zen is not None and zen.here and zen.advice[0].identity.host.family == "26"


def test_a_models_answer_is_the_nearest_identity_that_answered_that_model():
    """Zen 5 answered only MobileNetV2, rocketlake also QuartzNet: on a Zen 5, `query model
    quartznet5x5` and a run's report give rocketlake's QuartzNet answer, marked NEAREST — the nearer
    identity's answer of another model does not hide it."""
    quartznet = {**_sitting(), "model": "quartznet5x5"}
    published = advice.derive(_sitting()) + advice.derive(quartznet) + advice.derive(_sitting(about=ZEN5))
    mine = advice.answer(published, "mobilenet_v2", HostIdentity.of(ZEN5))
    assert mine is not None and mine.here and mine.advice[0].identity.host.vendor == "AuthenticAMD"
    theirs = advice.answer(published, "quartznet5x5", HostIdentity.of(ZEN5))
    assert theirs is not None and not theirs.here and theirs.how_near == "another vendor"
    assert [a.model for a in theirs.advice] == ["quartznet5x5"]
    zen5 = advice.nearest(published, HostIdentity.of(ZEN5))
    assert zen5 is not None and zen5.advice[0].model == "mobilenet_v2"  # the whole set: Zen 5's
    assert advice.answer(published, "yolox_nano", HostIdentity.of(ZEN5)) is None


def test_the_command_to_measure_it_says_what_it_costs_hours_when_it_is_hours():
    """`query model whisper_tiny` promised advise in "(minutes)"; the encoder's sitting takes about an
    hour. The promise is the published sitting's own span, in the unit it needs."""
    other_intel = HostIdentity.of({**ROCKETLAKE, "model": "143", "cpu_flags_sha256": "cd" * 32})
    for finished, said in (
        ("2026-11-25T15:32:27+00:00", "its sitting took about 2 min on Intel family 6 model 167"),
        ("2026-11-25T16:19:55+00:00", "its sitting took about 50 min on Intel family 6 model 167"),
        ("2026-11-25T17:00:00+00:00", "its sitting took about 1.5 h on Intel family 6 model 167"),
    ):
        chosen = advice.nearest(advice.derive({**_sitting(), "finished": finished}), other_intel)
        assert chosen is not None and not chosen.here
        first = advice.lines(chosen, "mobilenet_v2")[0]
        assert f"measures them here ({said}" in first and "the builds before it more)" in first
        assert "minutes" not in first
    unstamped = advice.nearest(advice.derive(_sitting()), other_intel)  # no "finished": no promise
    assert unstamped is not None and advice.lines(unstamped, "mobilenet_v2")[0].endswith("measures them here")


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(36, "about 36 s"), (149, "about 2 min"), (2995, "about 50 min"), (3300, "about 1 h"),
     (5400, "about 1.5 h"), (36000, "about 10 h")],
)  # fmt: skip
def test_a_duration_a_person_plans_for_is_said_in_its_unit(seconds: float, said: str) -> None:
    from iree_matrix.core import formats

    assert formats.about(seconds) == said


def test_fleet_arms_of_the_answer_are_reported_against_the_host_build():
    fleet = [
        _arm(
            f"{PICK}+cpu-x86-64-v3",
            advice.FLEET,
            [x / 3.5 * 1.2 for x in [40.0] * 8],
            cpu="x86-64-v3",
            base=PICK,
            flags=["--iree-llvmcpu-target-cpu=x86-64-v3"],
            module_sha256="f3",
        ),
        _arm("cpu-x86-64-v3", advice.FLEET, [40.0] * 8, cpu="x86-64-v3", base="default", module_sha256="d3"),
    ]
    (a,) = advice.derive(_sitting(fleet=fleet))
    assert [f.cpu for f in a.fleet] == ["x86-64-v3"]
    assert a.fleet[0].against_host is not None and a.fleet[0].against_host.value == pytest.approx(
        1.2, rel=0.05
    )
    assert "not on a x86-64-v3" in advice.fleet_text(a.fleet[0])


def test_published_reads_identity_folders_and_skips_what_is_not_a_sitting(tmp_path: Path):
    folder = tmp_path / "intel-6-167-rocketlake"
    folder.mkdir()
    (folder / "advice-mobilenet_v2.json").write_text(json.dumps(_sitting()))
    (folder / "advice-broken.json").write_text("{not json")
    (folder / "advice-old.json").write_text(json.dumps({"schema": 0}))
    found = advice.published(tmp_path)
    assert [a.model for a in found] == ["mobilenet_v2"]
    assert found[0].identity.slug == "genuineintel-6-167-rocketlake"


class _Fake:
    def __init__(self, name, log):
        self.name, self.log = name, log

    def time(self, repetitions):
        self.log.append(self.name)
        return 1.0


def test_a_sitting_rotates_the_order_so_no_arm_always_comes_first():
    log: list[str] = []
    arms = [_Fake(n, log) for n in "ABC"]
    rounds = paired_rounds.sit(arms, 6, 1)
    assert rounds.names == ("A", "B", "C") and all(len(ms) == 6 for ms in rounds.ms)
    firsts = {log[i * 3] for i in range(6)}
    assert firsts == {"A", "B", "C"}


def test_the_peer_worker_times_the_calls_it_is_asked_for():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    try:
        peer_arm = pytest.importorskip("peer_arm")
    finally:
        sys.path.pop(0)
    calls: list[int] = []
    said: list[dict] = []
    peer_arm.serve(lambda: calls.append(1), io.StringIO("3\n\n2\n"), said.append)
    assert len(calls) == 5 and [len(s["cpu_ms"]) for s in said] == [3, 2]


def test_a_users_model_tries_the_picks_most_reference_functions_took():
    searched = [
        advise_plan.SearchPick(u, "3.13.0", c, 1.0, "search")
        for u, c in (
            ("mobilenet_v2", "a+b"),
            ("yolox_nano", "a+b"),
            ("quartznet5x5", "c"),
            ("tiny", "d"),
            ("x", "e"),
            # the most common, but a reference model's export variant: a user's model has no such file
            *((unit, "@decomposed+a") for unit in ("whisper_tiny.encoder", "y", "z")),
        )
    ]
    args = advise_plan.Settings(release=None, picks=None, fleet=("x86-64-v3",))
    plan = advise_plan.choose(args, "my_net", [], searched)
    assert plan.release == "3.13.0" and plan.picks[0].name == "a+b" and len(plan.picks) == 3
    assert "@decomposed+a" not in [p.name for p in plan.picks]
    assert plan.picks[0].config == Config.of({"a", "b"})
    assert plan.fleet == ("x86-64-v3",)


def test_a_fleet_cpu_that_is_not_a_name_is_one_line():
    from iree_matrix.core.errors import UserError

    args = advise_plan.Settings(release="3.13.0", picks=None, fleet=("x86-64-v3; rm -rf /",))
    with pytest.raises(UserError, match="not an LLVM CPU name"):
        advise_plan.choose(args, "mobilenet_v2", [], [])


def test_readme_table_is_the_render_of_the_published_answers():
    from iree_matrix.report import answers as rendered

    root = Path(__file__).resolve().parents[2]
    text = (root / "README.md").read_text(encoding="utf-8")
    assert rendered.README_BEGIN in text, "README lost its answers block"
    assert rendered.with_readme_block(text, root / "results" / advice.DIRNAME) == text, (
        "README's answers table is not the render of results/answers: run `iree-matrix report`"
    )


def test_published_answers_render_as_published():
    from iree_matrix.report import answers as rendered

    root = Path(__file__).resolve().parents[2] / "results" / advice.DIRNAME
    from iree_matrix.findings import gpu_advice

    found = advice.published(root)
    if not found:
        pytest.skip("no published answers")
    page = (root / rendered.FILENAME).read_text(encoding="utf-8")
    assert page == "\n".join(rendered.render(found, gpu_advice.published(root))).rstrip() + "\n"
    for a in found:  # every published answer names its identity and its sitting
        assert a.identity.host.family and a.identity.host.model and a.identity.llvm_cpu
        assert a.flags and a.release and "paired rounds" in a.sitting


class _Interrupting(_Fake):
    def __init__(self, name, log, after):
        super().__init__(name, log)
        self.after = after

    def time(self, repetitions):
        if len(self.log) >= self.after:
            raise KeyboardInterrupt
        return super().time(repetitions)


def test_ctrl_c_keeps_the_whole_rounds_every_arm_finished():
    log: list[str] = []
    arms = [_Interrupting(n, log, after=7) for n in "ABC"]  # 2 whole rounds, then 1 arm of the third
    rounds = paired_rounds.sit(arms, 8, 1)
    assert rounds.interrupted and all(len(ms) == 2 for ms in rounds.ms)


def test_too_few_rounds_say_so_instead_of_a_speedup():
    few = advice.Ratio(stats.paired([10.0] * 3, [5.0] * 3))
    assert "too few rounds for a verdict" in advice.speedup_text(few, "default")
    assert "too few for a verdict" in advice.times_text(few, "ONNX Runtime")


def test_the_other_releases_pick_is_timed_in_the_sitting_and_said_when_it_wins():
    base = [40.0, 41.0, 39.5, 40.5, 40.2, 39.8, 40.1, 40.9]
    slower = _arm(
        "im2col on 3.9.0", advice.RIVAL, [x / 3.5 * 1.3 for x in base], release="3.9.0", config="im2col"
    )
    (a,) = advice.derive(_sitting(fleet=[slower]))
    assert [(r.release, r.config) for r in a.rivals] == [("3.9.0", "im2col")]
    assert advice.rival_text(a.rivals[0], a.release).endswith("takes 1.30× its time (rounds 1.3–1.3)")
    faster = _arm(
        "im2col on 3.9.0", advice.RIVAL, [x / 3.5 * 0.8 for x in base], release="3.9.0", config="im2col"
    )
    (b,) = advice.derive(_sitting(fleet=[faster]))
    text = advice.rival_text(b.rivals[0], b.release)
    assert "FASTER in this sitting" in text and "--release 3.9.0" in text
    assert any(
        "other release" in line for line in advice.lines(advice.Chosen((b,), True, ""), "mobilenet_v2")
    )


def test_an_environment_fault_is_not_the_models_failure():
    import dataclasses as dc

    from iree_matrix.core.errors import EnvironmentFault
    from iree_matrix.core.model.results import Status
    from iree_matrix.findings import release_choice
    from tests.unit.test_answers import _compile

    record = _compile("tiny", "3.9.0")
    broken = dc.replace(record, status=Status.FAIL, error_class=EnvironmentFault.CLASS)
    assert not release_choice.failed(broken)
    assert release_choice.failed(dc.replace(record, status=Status.FAIL, error_class="compile-error"))


def test_a_release_that_is_no_version_is_one_line():
    from iree_matrix.core.errors import UserError

    args = advise_plan.Settings(release="banana", picks=None, fleet=())
    with pytest.raises(UserError, match="--release 'banana': not an IREE release"):
        advise_plan.choose(args, "mobilenet_v2", [], [])


def test_the_sitting_states_its_time_and_shows_an_eta(caplog):
    """Issue #52: advise whisper_tiny's encoder sitting ran ~50 min with "[2/64] encoder: generic" and
    nothing of its length. Each step's line now carries the elapsed time and what is left: the steps to
    come at their arms' expected seconds, scaled by how the finished ones ran."""
    import logging

    from iree_matrix.execution import abtest

    def module(median):
        return paired_rounds.ModuleArm("m", abtest.Arm("m", (), Path("m")), median)

    assert module(93_000.0).step_seconds(3) == 279.0  # 3 calls of 93 s: 281 s measured
    assert module(5.0).step_seconds(3) == 2.0  # Google Benchmark's min time, 4 x 0.5 s
    assert module(None).step_seconds(3) == paired_rounds.UNKNOWN_STEP_SECONDS  # its run stage timed nothing
    peer = Record(
        "peer:m", "peer", "m", "k", Status.OK, {}, {"peers": {"onnxruntime": {"cpu_ms": {"median": 300.0}}}}
    )
    onnx = paired_rounds.PeerArm(
        "onnxruntime", [], Path("w"), advise_sitting.peer_call_ms(peer, "onnxruntime")
    )
    assert onnx.step_seconds(3) == pytest.approx(0.9)
    eager = paired_rounds.PeerArm("eager", [], Path("w"), advise_sitting.peer_call_ms(peer, "eager"))
    assert eager.step_seconds(3) == paired_rounds.UNKNOWN_STEP_SECONDS

    now = [0.0]
    say = paired_rounds.progress_of("encoder", {"default": 10.0, "generic": 30.0}, clock=lambda: now[0])
    with caplog.at_level(logging.INFO):
        say(0, 4, "default")  # two rounds of two arms: 80 s expected
        now[0] = 20.0  # the first round took half its 40 s
        say(2, 4, "default")
    lines = [r.getMessage() for r in caplog.records if "encoder" in r.getMessage()]
    assert lines == [
        "  [1/4 0:00:00 ETA 0:01:20] encoder: default",
        "  [3/4 0:00:20 ETA 0:00:20] encoder: default",
    ]


def test_a_sitting_times_each_module_once_in_paired_rounds_and_says_why_an_arm_was_not(monkeypatch, tmp_path):
    """advise's sitting (advise/advise_sitting.py) with the timing faked: each function's arms are
    default, the naive build, the picks and the peers; a pick whose module is default's is the same
    program (timed once, its times default's), and a peer whose stage did not run says so."""
    run = builders.sitting_run
    records = [run("default", "d"), run("generic", "g"), run("im2col", "d"), run("channels-last", "c")]
    sat = builders.fake_sittings(monkeypatch, tmp_path)
    picks = tuple(advise_plan.Pick.named(c, "3.13.0", "--picks") for c in ("im2col", "channels-last"))
    planned = advise_plan.arms(advise_plan.SittingPlan("3.13.0", picks, ()), {}, "m")
    sitter = advise_sitting.Sitter(paired_rounds.Request(6, 1), "m", tmp_path, ["onnxruntime"])
    document = advise_sitting.run(sitter, planned, records)
    assert (document["model"], document["rounds"], document["release"]) == ("m", 6, "3.13.0")
    assert sat == [("default", "generic", "channels-last")]  # im2col is default's module: not timed again
    (function,) = document["functions"]
    arms = {a["name"]: a for a in function["arms"]}
    assert list(arms) == ["default", "generic", "im2col", "channels-last", "onnxruntime"]
    assert (
        arms["im2col"]["same_as"] == "default" and arms["im2col"]["ms"] == arms["default"]["ms"] == [10.0] * 6
    )
    assert arms["channels-last"]["ms"] == [12.0] * 6 and arms["channels-last"]["kind"] == advice.PICK
    assert "--iree-llvmcpu-target-cpu=host" in arms["default"]["flags"]
    assert arms["onnxruntime"] == {"name": "onnxruntime", "kind": advice.PEER, "config": "onnxruntime",
                                   "error": "the peer stage did not run"}  # fmt: skip
    assert "interrupted" not in document and document["finished"] >= document["started"]


def _cut(document, rounds):
    """The sitting as Ctrl-C after `rounds` whole rounds leaves it."""
    for entry in document["functions"]:
        for arm in entry["arms"]:
            arm["ms"] = arm["ms"][:rounds]
    return {**document, "interrupted": True}


def test_an_interrupted_sitting_says_the_rounds_it_timed_not_those_asked():
    """Ctrl-C in round 3 of 8 headlined "8 paired rounds" for the 2 it had."""
    (a,) = advice.derive(_cut(_sitting(), 2))
    assert "2 of 8 paired rounds (interrupted)" in a.sitting
    (whole,) = advice.derive(_sitting())
    assert "8 paired rounds of one thread's CPU time" in whole.sitting and "of 8" not in whole.sitting


def test_no_answer_from_a_sitting_interrupted_in_round_1_says_so(tmp_path):
    """It said "`default` did not run and match torch" (it had) and exited 1."""
    cut = _cut(_sitting(), 0)
    assert advice.derive(cut) == []
    said = advise_answer.no_answer(cut, "mobilenet_v2", tmp_path / "partial.json", tmp_path / "results.jsonl")
    assert said.startswith("advise mobilenet_v2: interrupted before a whole round was timed, so no answer;")
    assert str(tmp_path / "partial.json") in said and "did not run" not in said
    failed = _sitting()
    failed["functions"][0]["arms"][0].update(error="mismatch: outputs differ", matches=False, ms=[])
    assert "`default` did not run and match torch" in advise_answer.no_answer(failed, "m", tmp_path, tmp_path)
    assert "`default` did not run" in advise_answer.no_answer(
        {**failed, "interrupted": True}, "m", tmp_path, tmp_path
    )


def test_an_unknown_model_is_refused_before_any_pick_is_listed(tmp_path, capsys):
    from iree_matrix import cli

    argv = [
        "advise",
        "no_such_model",
        "--results-dir",
        str(tmp_path / "r"),
        "--cache",
        str(tmp_path / "c"),
        "--list",
    ]
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "Traceback" not in err
    assert "'no_such_model': not a built-in model (" in err and "mobilenet_v2" in err
    assert "path/to/file.py:factory" in err and "pick" not in err


class _Worker:
    """A peer arm's worker that answers its first request (ready) and then times for a minute."""

    SOURCE = (
        "import sys, time\nprint('{\"ready\": true}', flush=True)\nsys.stdin.readline()\ntime.sleep(60)\n"
    )


def test_each_function_answers_from_the_newest_sitting_that_timed_it(tmp_path: Path):
    """`advise MODEL --select '*decoder*'` sits one function: its sitting answers for that function
    and leaves the model's other function to the older sitting that timed it; a newer sitting of the
    same function replaces the older one's answer."""
    both = _sitting()
    both["functions"] = [{**both["functions"][0], "function": f} for f in ("encoder", "decoder")]
    decoder = {**_sitting(default_ms=[x * 2 for x in range(20, 28)]), "started": "2026-11-26T10:00:00+00:00"}
    decoder["functions"] = [{**decoder["functions"][0], "function": "decoder"}]
    (tmp_path / "advice-m.1.json").write_text(json.dumps(both))
    (tmp_path / "advice-m.2.json").write_text(json.dumps(decoder))
    found = {a.function: a for a in advice.sittings(sorted(tmp_path.glob("advice-*.json")))}
    assert set(found) == {"encoder", "decoder"}
    assert found["encoder"].source.endswith("advice-m.1.json")
    assert found["decoder"].source.endswith("advice-m.2.json") and found["decoder"].sitting.startswith(
        "2026-11-26"
    )


def test_a_pick_of_an_export_variant_is_a_configuration_name_merge_takes():
    """Whisper's encoder pick is `@decomposed+loop-unrolling` (an export variant first): its proof's
    start and its neighbours' names pass merge's check; a name that is not one still does not."""
    from iree_matrix.advise import received_sittings

    assert received_sittings._NAME.fullmatch("@decomposed+data-tiling+loop-unrolling")
    assert not received_sittings._NAME.fullmatch("$(touch X)") and not received_sittings._NAME.fullmatch(
        "+loop-unrolling"
    )


def test_every_renderer_words_a_no_difference_as_one():
    """Issue #69: README's table called the Whisper decoder step "1.03x faster" than ONNX Runtime
    where the report and `query` said "no difference (0.97x)": the tables take their words from
    `advice.times_text`/`speedup_text` (`short`), as the report and `query` do."""
    from iree_matrix.report import answers as rendered

    pick = [40.0, 41.0, 39.5, 40.5, 40.2, 39.8, 40.1, 40.9]
    doc = _sitting(pick_ms=pick, default_ms=[x * 1.2 for x in pick])
    for arm in doc["functions"][0]["arms"]:  # ONNX Runtime within noise of the pick: 0.97x its time
        if arm["name"] == "onnxruntime":
            arm["ms"] = [x * (1.03 if i % 2 else 1.02) + (1.5 if i % 3 else -1.5) for i, x in enumerate(pick)]
    (a,) = advice.derive(doc)
    assert a.vs_peer is not None and a.vs_peer.paired.verdict == stats.NO_DIFFERENCE
    row = rendered.rows([a])[0]
    assert row[-1] == advice.times_text(a.vs_peer, "ONNX Runtime", short=True)
    assert row[-1].startswith("as fast as ONNX Runtime (no difference: 0.9")
    long = advice.times_text(a.vs_peer, "ONNX Runtime")
    assert long.startswith(row[-1].rstrip(")")) and "faster than ONNX Runtime" not in row[-1]
    query = "\n".join(advice.lines(advice.nearest([a], HostIdentity.of(ROCKETLAKE)), "mobilenet_v2"))
    assert long in query
    slower = advice.Ratio(stats.paired([10.0] * 8, [16.5] * 8))
    assert advice.times_text(slower, "eager", short=True) == "IREE takes 1.65× eager's time"
    # slower beyond noise is said so, never "0.61× faster" (a user's model whose naive build won)
    assert advice.speedup_text(slower, "", short=True) == "1.65× slower"
    naive = "the naive build (generic CPU)"
    assert advice.speedup_text(slower, naive) == "the naive build (generic CPU) is 1.65× faster"
    same = advice.Ratio(stats.paired([10.0] * 8, [10.0] * 8))
    assert advice.speedup_text(same, "`default`", short=True).startswith("no difference (1.00×)")


def test_a_runs_report_opens_with_the_answers_and_their_flags_before_the_legend():
    """Issue #69: the flags sat under a 984-character legend, off an 80x24 first screen; an export
    variant's pick (`@decomposed`) says how to make the MLIR its flags compile."""
    from iree_matrix.report import what_to_take

    decomposed = {**_sitting(), "model": "whisper_tiny"}
    decomposed["functions"] = [{**decomposed["functions"][0], "function": "encoder"}]
    for arm in decomposed["functions"][0]["arms"]:
        if arm["kind"] == advice.PICK:
            arm["name"] = arm["config"] = "@decomposed+data-tiling"
    plain = advice.derive(_sitting())
    (variant,) = advice.derive(decomposed)
    assert variant.config == "@decomposed+data-tiling"
    chosen = [
        advice.nearest(plain, HostIdentity.of(ROCKETLAKE)),
        advice.nearest([variant], HostIdentity.of(ZEN5)),
    ]
    lines = what_to_take.first_screen(
        [c for c in chosen if c], ["mobilenet_v2", "whisper_tiny"], "iree-matrix"
    )
    text = "\n".join(lines)
    assert "# mobilenet_v2: IREE 3.13.0 " + PICK + ", 3.50× faster than `default` (" in text
    assert "# whisper_tiny.encoder: IREE 3.13.0 @decomposed+data-tiling" in text and "(NEAREST: " in text
    assert "--module models.whisper_tiny__decomposed" in text and "--function encoder" in text
    assert "not `whisper_tiny`'s own export" in text
    assert text.count("iree-compile model.mlir ") == 2 and "'--x=$(touch X)'" in text
    assert "--module models.mobilenet_v2 " in text and "not `mobilenet_v2`" not in text
    # The variant's export command is the export worker's, as the export stage runs it.
    command = next(line for line in lines if "whisper_tiny__decomposed" in line)
    worker = command.split(": ", 2)[2].split(" (torch")[0]
    assert worker.startswith("python3 scripts/export_model.py --module models.whisper_tiny__decomposed")
    assert (
        Path(__file__).resolve().parents[2] / "scripts" / "models" / "whisper_tiny__decomposed.py"
    ).is_file()
    noisy = [40.0, 41.0, 39.5, 40.5, 40.2, 39.8, 40.1, 40.9]
    pick = [x * f for x, f in zip(noisy, (1.01, 0.99, 1.0, 1.01, 0.99, 1.0, 1.01, 0.99))]
    default = advice.derive(_sitting(pick_ms=pick))
    assert default[0].config == "default"
    kept = what_to_take.first_screen(
        [advice.nearest(default, HostIdentity.of(ROCKETLAKE))], ["mobilenet_v2"], "t"
    )
    assert "# mobilenet_v2: IREE 3.13.0 default, no pick faster beyond noise (" in "\n".join(kept)
    import dataclasses

    users = dataclasses.replace(default[0], model="my_net")  # a user's model: named, its file elsewhere
    said = what_to_take.export_text(users)
    assert "iree-matrix show 'compile:my_net*' --results-dir RUN --commands" in said


def test_a_peer_worker_that_prints_before_it_answers_is_read_and_one_that_never_answers_says_why(tmp_path):
    """A library printing on the worker's stdout before its JSON line (torch.onnx's converter says
    why a model has no ONNX form there) was read as the answer: "Expecting value: line 1 column 1
    (char 0)" where the sitting's answer said why ONNX Runtime was not timed."""
    import json as _json
    import sys

    ready = _json.dumps({"ready": True})
    chatty = ["-c", f"print('Exporting the operator aten::x to ONNX'); print({ready!r}, flush=True); input()"]
    with paired_rounds.PeerArm("onnxruntime", [sys.executable, *chatty], tmp_path) as arm:
        assert arm.about == {"ready": True}
    silent = ["-c", "print('UnsupportedOperatorError: aten::cumprod to ONNX opset 20 is not supported')"]
    with pytest.raises(paired_rounds.PeerFailed) as failed:
        with paired_rounds.PeerArm("onnxruntime", [sys.executable, *silent], tmp_path):
            pass
    assert "aten::cumprod to ONNX opset 20 is not supported" in str(failed.value)
    assert "Expecting value" not in str(failed.value)


def test_a_sitting_whose_times_mix_zones_is_read_without_its_length():
    """A sitting edited by hand, `started` without a zone and `finished` with one: `merge` and every
    view stopped on "can't subtract offset-naive and offset-aware datetimes"."""
    mixed = {**_sitting(), "started": "2026-11-25T15:30:00", "finished": "2026-11-25T15:40:00+00:00"}
    (a,) = advice.derive(mixed)
    assert (a.release, a.config) == ("3.13.0", PICK)
    assert advice._sitting_seconds(mixed) is None
    assert advice._sitting_seconds({**mixed, "started": "2026-11-25T15:30:00+00:00"}) == 600.0


def test_query_says_no_empty_release_summary():
    """A model only a bundle's runs measured has no release summary: `query model` printed
    "releases: ; `--releases` lists them"."""
    from iree_matrix.findings import query

    chosen = advice.Chosen(tuple(advice.derive(_sitting())), here=True, how_near="")
    bare = query.Answer("model mobilenet_v2", "passes", ("mobilenet_v2:",))
    said = query.with_advice(bare, chosen, "mobilenet_v2").lines
    assert not any(line.strip().startswith("releases:") for line in said), said
    summed = query.Answer("model mobilenet_v2", "passes", ("mobilenet_v2: passes on 3.13.0 (1 cell)",))
    assert (
        "  releases: passes on 3.13.0; `--releases` lists them"
        in query.with_advice(summed, chosen, "mobilenet_v2").lines
    )


def test_the_fleet_suggestion_names_an_x86_cpu_only_for_an_x86_answer():
    """`--fleet x86-64-v3` was suggested under every answer, an aarch64 one too."""
    x86 = advice.Chosen(tuple(advice.derive(_sitting())), here=True, how_near="")
    assert any("--fleet x86-64-v3` gives the flags" in line for line in advice.lines(x86, "mobilenet_v2"))
    graviton = {**ROCKETLAKE, "machine": "aarch64", "vendor": "0x41", "family": "8", "model": "0xd4f"}
    arm = advice.Chosen(tuple(advice.derive(_sitting(about=graviton))), here=True, how_near="")
    said = advice.lines(arm, "mobilenet_v2")
    assert any("--fleet CPU` gives the flags" in line for line in said), said
    assert not any("x86-64-v3" in line for line in said)


def test_where_default_failed_the_hints_profile_is_the_baseline_and_the_fastest_pick_wins():
    """Issue 95: a model that passes only under its stack limit's profile gets an answer: the pick
    advise added for the hint (`advice.HINTED`) stands where `default` would, with no speed-up over a
    `default` that did not compile; a pick faster than it still wins, and no usable baseline, none."""
    document = _sitting()
    arms = document["functions"][0]["arms"]
    arms[0] = {**arms[0], "ms": [], "error": "compile: exceeded stack allocation limit"}
    arms.append(
        _arm("stack-1m", advice.PICK, [40.0, 41.0, 39.5, 40.5, 40.2, 39.8, 40.1, 40.9], source=advice.HINTED)
    )
    (found,) = advice.derive(document)
    assert found.config == PICK and found.over_default is None
    assert "default: not measured" in "\n".join(advice.lines(advice.Chosen((found,), True, ""), "m"))
    arms[2] = {**arms[2], "ms": [80.0] * 8}  # the published pick slower: the hint's profile is the answer
    assert advice.derive(document)[0].config == "stack-1m"
    arms[-1] = {**arms[-1], "source": "--picks"}  # a pick of the user's does not stand for default
    assert advice.derive(document) == []
