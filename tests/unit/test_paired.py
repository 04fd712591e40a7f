"""The paired speed test (stats.paired), the A/B rounds that feed it (abtest), the calibration's pure
parts, and the host identity that keeps figures of two CPUs apart (issue #36)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from iree_matrix.core.model import stats
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.system import host
from iree_matrix.execution import abtest
from iree_matrix.findings import calibration, search


def test_a_consistent_five_percent_slowdown_over_eight_rounds_is_slower() -> None:
    a = [10.0, 10.1, 9.9, 10.0, 10.2, 9.8, 10.0, 10.0]
    result = stats.paired(a, [x * 1.05 for x in a])
    assert result.verdict == stats.SLOWER
    assert result.ratio == pytest.approx(1.05)
    assert result.p_value == pytest.approx(2 / 256)


def test_a_consistent_speedup_is_faster_and_its_speedup_is_the_inverse() -> None:
    a = [10.0] * 8
    result = stats.paired(a, [8.0] * 8)
    assert result.verdict == stats.FASTER
    assert result.speedup == pytest.approx(1.25)


def test_rounds_that_disagree_in_sign_are_no_difference() -> None:
    a = [10.0] * 8
    b = [10.6, 9.5, 10.5, 9.4, 10.7, 9.6, 10.4, 9.5]
    assert stats.paired(a, b).verdict == stats.NO_DIFFERENCE


def test_a_significant_but_tiny_difference_is_no_difference() -> None:
    a = [10.0] * 8
    result = stats.paired(a, [10.1] * 8)  # 1 %: below MIN_EFFECT
    assert result.p_value < stats.ALPHA
    assert result.verdict == stats.NO_DIFFERENCE


def test_fewer_than_six_rounds_cannot_reach_a_verdict() -> None:
    result = stats.paired([10.0] * 5, [20.0] * 5)
    assert result.verdict == stats.TOO_FEW


def test_sign_flip_p_is_exact_for_equal_signs() -> None:
    assert stats.sign_flip_p([0.1] * 6) == pytest.approx(2 / 64)
    assert stats.sign_flip_p([]) == 1.0


def test_the_false_positive_rate_under_a_symmetric_null_is_at_most_alpha() -> None:
    """Simulated null pairs (both arms from one distribution, with a shared drift per round): the
    test's level holds — the property the published calibration checks on real modules."""
    rng = random.Random(1)
    verdicts = 0
    trials = 400
    for _ in range(trials):
        drift = [rng.uniform(0.8, 1.6) for _ in range(8)]  # the machine's load, shared by a round
        a = [d * rng.gauss(10, 0.3) for d in drift]
        b = [d * rng.gauss(10, 0.3) for d in drift]
        verdicts += stats.paired(a, b).verdict in (stats.FASTER, stats.SLOWER)
    assert verdicts / trials <= stats.ALPHA


def _arm(tmp_path: Path, name: str, content: bytes) -> abtest.Arm:
    module = tmp_path / f"{name}.vmfb"
    module.write_bytes(content)
    return abtest.Arm(name, ("iree-benchmark-module", f"--module={module}"), module)


def test_byte_identical_modules_are_the_same_module_and_not_timed(tmp_path: Path) -> None:
    a, b = _arm(tmp_path, "a", b"same"), _arm(tmp_path, "b", b"same")

    def timer(arm: abtest.Arm, repetitions: int) -> float:
        raise AssertionError("a byte-identical pair was timed")

    result = abtest.compare(a, b, timer=timer)
    assert result.result.verdict == stats.SAME_MODULE
    assert "same module" in result.result.describe()


def test_rounds_alternate_the_order_and_pair_the_times(tmp_path: Path) -> None:
    a, b = _arm(tmp_path, "a", b"one"), _arm(tmp_path, "b", b"two")
    order: list[str] = []

    def timer(arm: abtest.Arm, repetitions: int) -> float:
        order.append(arm.name)
        return 10.0 if arm.name == "a" else 12.0

    result = abtest.compare(a, b, rounds=6, repetitions=2, timer=timer)
    assert order == ["a", "b", "b", "a", "a", "b", "b", "a", "a", "b", "b", "a"]
    assert result.a_ms == (10.0,) * 6 and result.b_ms == (12.0,) * 6
    assert result.result.verdict == stats.SLOWER
    assert result.as_dict()["verdict"] == "slower"


def test_cpu_ms_per_call_reads_the_process_cpu_time_and_skips_aggregates() -> None:
    def rep(run_type: str, cpu: float, real: float, unit: str = "ms") -> dict:
        return {
            "name": "BM_main",
            "run_type": run_type,
            "cpu_time": cpu,
            "real_time": real,
            "time_unit": unit,
        }

    text = json.dumps({"benchmarks": [
        rep("iteration", 40.0, 60.0), rep("iteration", 41.0, 70.0), rep("iteration", 39000.0, 70.0, "us"),
        rep("aggregate", 1.0, 1.0),
    ]})  # fmt: skip
    assert abtest.cpu_ms_per_call(text) == pytest.approx(40.0)


def _run(
    job: str, model: str, sha: str, cpu: float, command: tuple[str, ...] = (), **host_: object
) -> Record:
    return Record(
        job=job, stage="run", cell=job.split(":", 1)[1], status=Status.OK, key="k",
        labels={"model": model, "compiler": "3.13.0", "runtime": "3.13.0", "profile": "default"},
        metrics={"module_sha256": sha, "cpu_ms": {"median": cpu, "min": cpu, "max": cpu, "n": 3},
                 "timing": "native"},
        command=command, host=HostIdentity.of(host_),
    )  # fmt: skip


def test_calibration_takes_one_run_per_module_fastest_first_and_cycles() -> None:
    runs = [_run("run:a/1", "a", "s1", 5.0), _run("run:a/2", "a", "s1", 5.0), _run("run:b/1", "b", "s2", 2.0),
            _run("run:c/1", "c", "s3", 900.0)]  # fmt: skip
    found = calibration.candidates(runs)
    assert [r.job for r in found] == ["run:b/1", "run:a/1"]  # c is too slow, a's copy is one module
    assert [r.job for r in calibration.null_plan(found, 5)] == ["run:b/1", "run:a/1"] * 2 + ["run:b/1"]


def test_controls_pair_two_builds_of_one_function() -> None:
    runs = [_run("run:a/1", "a", "s1", 5.0), _run("run:a/2", "a", "s2", 6.0), _run("run:b/1", "b", "s3", 2.0)]
    pairs = calibration.control_plan(calibration.candidates(runs), 10)
    assert [(x.job, y.job) for x, y in pairs] == [("run:a/1", "run:a/2")]


def test_the_calibration_summary_counts_verdicts_and_holds_only_at_fifty_pairs() -> None:
    nulls = [{"verdict": "no difference"}] * 49 + [{"verdict": "slower"}]
    s = calibration.summarize({"nulls": nulls, "controls": [{"verdict": "faster"}]})
    assert (s.nulls, s.null_verdicts, s.control_verdicts) == (50, 1, 1)
    assert s.false_positive_rate == pytest.approx(0.02) and s.holds
    assert not calibration.summarize({"nulls": nulls[:10], "controls": []}).holds
    text = calibration.render({"nulls": nulls, "controls": [], "host": {}, "settings": {"rounds": 8}})
    assert "1 of 50 null pairs got a verdict (2.0%; 95 % upper bound 9.1%)" in text and "**holds**" in text


def test_arm_of_refuses_a_run_whose_tools_are_not_here(tmp_path: Path) -> None:
    record = _run("run:a/1", "a", "s1", 5.0, command=(str(tmp_path / "iree-run-module"), "--module=/x.vmfb"))
    with pytest.raises(abtest.NotComparable, match="not on this host"):
        abtest.arm_of(record)


# --- host identity ---------------------------------------------------------------------------------

ZEN4 = {"machine": "x86_64", "cpu": "AMD EPYC", "vendor": "AuthenticAMD", "family": "25", "model": "17",
        "stepping": "1", "cpu_flags_sha256": "aa" * 32, "cores": 2,
        "cpu_features": ["avx", "avx2", "avx512_vnni", "avx512bw", "avx512f", "avx512vl", "fma",
                         "sse4_2"]}  # fmt: skip
ZEN5 = {**ZEN4, "family": "26", "model": "2", "cpu_flags_sha256": "bb" * 32}


def test_two_cpus_of_one_name_are_two_identities() -> None:
    zen4, zen5 = HostIdentity.of(ZEN4), HostIdentity.of(ZEN5)
    assert zen4.identity != zen5.identity
    assert "family 25 model 17" in zen4.label("znver4")
    assert "LLVM znver4" in zen4.label("znver4")


def test_a_record_from_before_identities_is_a_legacy_identity_of_its_own() -> None:
    legacy = {
        k: v
        for k, v in ZEN4.items()
        if k not in ("vendor", "family", "model", "stepping", "cpu_flags_sha256")
    }
    old = HostIdentity.of(legacy)
    assert old.legacy and old.identity.startswith("legacy:")
    assert old.identity not in (HostIdentity.of(ZEN4).identity, HostIdentity.of(ZEN5).identity)
    assert "family/model not recorded" in old.label()


def test_this_host_describes_its_identity_and_family() -> None:
    d = host.describe()
    assert d["identity"] == host.identity() == HostIdentity.of(d).identity
    assert HostIdentity.of({k: v for k, v in d.items() if k != "identity"}).identity == d["identity"]
    assert len(d["cpu_flags_sha256"]) == 64


def test_the_llvm_target_is_read_from_ireess_executable_target() -> None:
    ir = (
        '#executable_target = #hal.executable.target<"llvm-cpu", "embedded-elf-x86_64", '
        '{cpu = "znver4", cpu_features = "+avx,+avx2", data_layout = "e"}>'
    )
    assert host.parse_llvm_target(ir) == ("znver4", "+avx,+avx2")
    assert host.parse_llvm_target("module {}") is None


# --- the search's null knobs -------------------------------------------------------------------------


def _candidate(name: str, sha: str, median: float) -> search.Candidate:
    interval = stats.Interval(median, median * 0.99, median * 1.01, 0.94, 5)
    return search.Candidate("m", "3.13.0", name, Status.OK, interval, module_sha256=sha)


def test_a_knob_whose_module_is_defaults_reads_same_module_whatever_the_times() -> None:
    rows = search.effects([_candidate("default", "s", 10.0), _candidate("no-data-tiling", "s", 8.0)])
    effect = rows[("m", "3.13.0")][1]
    assert effect.verdict == "same module, no difference"
    assert effect.ratio == 1.0


def test_a_step_needs_the_paired_confirmation() -> None:
    incumbent, challenger = _candidate("default", "s1", 10.0), _candidate("im2col", "s2", 8.0)
    assert search.choose(incumbent, [challenger]) is challenger
    assert search.choose(incumbent, [challenger], lambda a, b: False) is None
    same = _candidate("no-data-tiling", "s1", 8.0)
    assert search.choose(incumbent, [same]) is None


# --- views keep identities apart -----------------------------------------------------------------


def _timed(stage: str, model: str, who: dict, **metrics: object) -> Record:
    labels = {"model": model, "compiler": "3.13.0", "runtime": "3.13.0", "profile": "default"}
    return Record(job=f"{stage}:{model}/{who['family']}", stage=stage, cell=model, status=Status.OK, key="k",
                  labels=labels, metrics={"timing": "native", **metrics},
                  host=HostIdentity.of(who))  # fmt: skip


def test_a_view_holds_one_identity_and_relates_another_only_by_ratios() -> None:
    from iree_matrix.findings import identities
    from iree_matrix.report.published import render_against_published

    mine = [
        _timed("run", "m", ZEN4, latency_ms={"median": 30.0}, cpu_ms={"median": 30.0}),
        _timed("export", "m", ZEN4, eager_ms={"median": 10.0}, eager_cpu_ms={"median": 10.0}),
    ]
    published = [
        _timed("run", "m", ZEN5, latency_ms={"median": 15.0}, cpu_ms={"median": 15.0}),
        _timed("export", "m", ZEN5, eager_ms={"median": 7.5}, eager_cpu_ms={"median": 7.5}),
    ]
    view = identities.split(mine + published, identities.of(mine[0]))
    assert {r.job for r in view.mine} == {r.job for r in mine}
    assert list(view.others) == [identities.of(published[0])]
    text = "\n".join(render_against_published(mine, published))
    assert "two CPU identities" in text and "**not** compared" in text
    # 30/10 and 15/7.5 in words that say which is faster, and their ratio
    assert "| IREE takes 3.00× eager's time " in text and "| IREE takes 2.00× eager's time " in text
    assert "| 1.50× " in text
    # no placeholder file (issue #48); and no second "best" beside the answer the machine section gives
    assert "YOUR.toml" not in text and "best" not in text
    same = "\n".join(render_against_published(mine, mine))
    assert "compare directly" in same
    # One signal (issue #52): a side with wall times only is not compared, whatever its wall ratio says.
    wall_only = [_timed("run", "m", ZEN4, latency_ms={"median": 30.0}),
                 _timed("export", "m", ZEN4, eager_ms={"median": 10.0})]  # fmt: skip
    assert render_against_published(wall_only, published) == []
    loaded_wall = [
        _timed("run", "m", ZEN4, latency_ms={"median": 6.0}, other_load=1.5, cpu_ms={"median": 20.0}),
        _timed("export", "m", ZEN4, eager_ms={"median": 400.0}, eager_cpu_ms={"median": 10.0}),
    ]
    there = [_timed("run", "m", ZEN5, latency_ms={"median": 15.0}, cpu_ms={"median": 8.0}),
             _timed("export", "m", ZEN5, eager_ms={"median": 7.5}, eager_cpu_ms={"median": 5.0})]  # fmt: skip
    text = "\n".join(render_against_published(loaded_wall, there))
    assert "| 1.25× " in text  # (20/10) / (8/5), the wall times (6 ms against 400 ms) nowhere
    assert "0.015" not in text and "400 ms" not in text and "IREE takes 2.00× eager's time" in text


def test_the_roofline_divides_only_figures_of_the_peaks_own_identity() -> None:
    from iree_matrix.findings import roofline

    peak = _timed("peak", "", ZEN4, gflops_1=116.0, gflops_all=232.0, threads=2)
    flops = Record(job="flops:m", stage="flops", cell="m", status=Status.OK, key="k", labels={"model": "m"},
                   metrics={"flops": 232_000_000, "bytes_min": 1000})  # fmt: skip
    fast_other_cpu = _timed("run", "m", ZEN5, latency_ms={"median": 0.5})  # 464 GFLOP/s: 200 % of a Zen 4
    own = _timed("run", "m", ZEN4, latency_ms={"median": 2.0})
    records = [peak, flops, fast_other_cpu, own]
    found = roofline.peak_of(records)
    assert found is not None
    rates = roofline.achieved(records, found, roofline.work_of(records))
    assert [a.median_ms for a in rates["m"]] == [2.0]
    assert all(a.fraction_of_peak <= 1.0 for a in rates["m"])


def test_compare_matches_two_releases_or_two_profiles_of_each_function() -> None:
    def run(model: str, compiler: str, profile: str = "default", runtime: str = "") -> Record:
        labels = {"model": model, "exporter": "e", "compiler": compiler, "runtime": runtime or compiler,
                  "profile": profile}  # fmt: skip
        job = f"run:{model}/{compiler}/{profile}/{runtime}"
        return Record(job=job, stage="run", cell=job[4:], status=Status.OK, key="k", labels=labels,
                      metrics={"timing": "native"})  # fmt: skip

    records = [run("m", "3.12.0"), run("m", "3.13.0"), run("m", "3.13.0", "im2col"), run("n", "3.13.0"),
               run("m", "3.12.0", runtime="3.13.0")]  # fmt: skip
    releases = calibration.matched(records, "3.12.0", "3.13.0")
    assert [(f, a.label.compiler, b.label.compiler) for f, a, b in releases] == [("m", "3.12.0", "3.13.0")]
    profiles = calibration.matched(records, "default", "im2col")
    assert [(f, b.label.profile) for f, a, b in profiles] == [("m on 3.13.0", "im2col")]


def test_the_cpu_table_ranks_one_threads_cpu_time_with_ratios_to_eagers() -> None:
    from iree_matrix.report.performance import render_cpu_performance

    run = _timed(
        "run", "m", ZEN4, latency_ms={"median": 90.0}, cpu_ms={"median": 30.0, "n": 5, "times": [30.0] * 5}
    )
    peers = Record(job="peer:m", stage="peer", cell="m", status=Status.OK, key="k", labels={"model": "m"},
                   metrics={"peers": {"eager": {"status": "ok", "latency_ms": {"median": 400.0},
                                                "cpu_ms": {"median": 10.0, "n": 5, "times": [10.0] * 5}}}},
                   host=HostIdentity.of(ZEN4))  # fmt: skip
    text = "\n".join(render_cpu_performance([run, peers]))
    assert "30.0 ms (30.0 ms–30.0 ms, 3.00×)" in text and "10.0 ms (10.0 ms–10.0 ms, 1.00×)" in text
    assert render_cpu_performance([_timed("run", "m", ZEN4, latency_ms={"median": 90.0}), peers]) == []


def test_the_false_positive_rates_upper_bound_is_clopper_pearsons() -> None:
    assert calibration.rate_upper_bound(0, 54) == pytest.approx(1 - 0.05 ** (1 / 54), rel=1e-6)
    assert 0.02 < calibration.rate_upper_bound(1, 50) < 0.1


def test_compare_functions_glob_names_the_model_and_a_glob_matching_none_is_one_line(
    tmp_path, capsys
) -> None:
    """`compare default im2col --functions mobilenet_v2` picks the row "mobilenet_v2 on 3.13.0" (it
    printed an empty table); a glob that matches nothing says which functions there are."""
    from iree_matrix import cli
    from iree_matrix.core.model.results import ResultsLog

    log = ResultsLog(tmp_path / "results.jsonl")
    for profile in ("default", "im2col"):
        labels = {"model": "mobilenet_v2", "exporter": "e", "compiler": "3.13.0", "runtime": "3.13.0",
                  "profile": profile}  # fmt: skip
        job = f"run:mobilenet_v2/e/iree3.13.0/x86_64/{profile}"
        log.append(Record(job=job, stage="run", cell=job[4:], status=Status.OK, key="k", labels=labels,
                          metrics={"timing": "native"}))  # fmt: skip
    argv = ["compare", "default", "im2col", "--results-dir", str(tmp_path), "--rounds", "6"]
    assert cli.main([*argv, "--functions", "mobilenet_v2"]) == 0
    out = capsys.readouterr().out
    assert "| mobilenet_v2 on 3.13.0 |" in out  # another identity's: not comparable
    # Issue #52: the rate was put after "the test's", which read "the test's no calibration …".
    assert "the test's no calibration" not in out
    assert "\nthe paired test's calibration: " in out and "\nwritten to " in out
    assert cli.main([*argv, "--functions", "yolox*"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--functions 'yolox*': matches none" in err[0] and "mobilenet_v2" in err[0]


def test_calibrate_replaces_a_finished_calibration_only_when_it_finishes(tmp_path) -> None:
    """#51: a new calibration overwrote a finished calibration.json after its first pair."""
    from iree_matrix.tasks import calibrate

    finished = {"nulls": [], "finished": "then"}
    calibrate.write(tmp_path, finished)
    before = (tmp_path / calibration.FILENAME).read_text()
    calibrate.write(tmp_path, {"nulls": [], "started": "now"}, partial=True)
    assert (tmp_path / calibration.FILENAME).read_text() == before
    assert (tmp_path / calibrate.PARTIAL).is_file()
    calibrate.write(tmp_path, {"nulls": [], "finished": "now"})
    assert (
        '"now"' in (tmp_path / calibration.FILENAME).read_text()
        and not (tmp_path / calibrate.PARTIAL).exists()
    )


def test_calibrate_into_a_directory_it_cannot_write_is_one_line(tmp_path, capsys) -> None:
    from iree_matrix import cli

    assert cli.main(["calibrate", "--results-dir", str(tmp_path), "--out", "/proc/x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("iree-matrix: error: --out /proc/x: cannot write there") and "Traceback" not in err


def test_arm_of_keeps_a_plugin_kernels_plugin_and_vouches_for_its_file(tmp_path: Path, monkeypatch):
    """A plugin kernel's module is refused at load without its plugin: the benchmark keeps the run's
    `--executable_plugin=embedded:PATH`, and PATH (not `embedded:PATH`) is checked like every read."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "iree-benchmark-module").write_text("")
    module, plugin = tmp_path / "m.vmfb", tmp_path / "k.so"
    module.write_text("m")
    plugin.write_text("p")
    flag = f"--executable_plugin=embedded:{plugin}"
    command = (
        str(tools / "iree-run-module"),
        f"--module={module}",
        flag,
        "--function=main",
        "--output=@/x.npy",
    )
    record = _run("run:a/1", "a", "s1", 5.0, command=command)
    checked: list[Path] = []
    monkeypatch.setattr(abtest, "vouched_against", lambda path, caches: checked.append(path))
    arm = abtest.arm_of(record, "k", [tmp_path])
    assert arm.argv == (str(tools / "iree-benchmark-module"), "--device=local-sync", f"--module={module}",
                        flag, "--function=main")  # fmt: skip
    assert plugin in checked and module in checked
