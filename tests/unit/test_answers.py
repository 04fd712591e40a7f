"""The derived answers (answers.py) from hand-made records: pure logic, fakes are fine here."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from iree_matrix.core.model import stats
from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import exporters, load_windows, release_choice, release_regressions, runs_view
from iree_matrix.report import render_compatibility

EXP = "py3.11-torch2.13.0-turbine3.9.0"


def _run(
    function: str,
    compiler: str,
    runtime: Optional[str] = None,
    status: Status = Status.OK,
    *,
    error_class: Optional[str] = None,
    median: float = 10.0,
    spread: float = 0.05,
    load: float = 0.0,
    exporter: str = EXP,
    message: str = "",
    host: Optional[dict[str, Any]] = None,
    cpu: Optional[float] = None,
    started: str = "2026-11-25T10:00:00+00:00",
) -> Record:
    runtime = runtime or compiler
    cell = f"{function}/{exporter}/iree{compiler}/x86_64/default" + (
        "" if runtime == compiler else f"/rt{runtime}"
    )
    metrics: dict[str, Any] = {}
    if status is Status.OK:
        half = median * spread / 2
        metrics = {
            "latency_ms": {"median": median, "min": median - half, "max": median + half, "n": 5},
            "other_load": load,
        }
        if cpu is not None:
            metrics["cpu_ms"] = {"median": cpu, "min": cpu, "max": cpu, "n": 5}
    labels = {
        "model": function,
        "source_model": function.split(".")[0],
        "exporter": exporter,
        "compiler": compiler,
        "runtime": runtime,
        "arch": "x86_64",
        "profile": "default",
    }
    return Record(
        f"run:{cell}", "run", cell, "k", status, labels, metrics, error_class=error_class, message=message,
        host=HostIdentity.of(IDENTIFIED if host is None else host), started=started,
    )  # fmt: skip


# A host as records name it since identities are recorded; LEGACY as the ones written before.
IDENTIFIED = {
    "cpu": "Intel(R) Xeon(R) Processor", "identity": "x86_64|GenuineIntel|6|167|1|fc7df03f53a7dec4|2",
    "family": "6", "model": "167", "stepping": "1", "cores": 2, "llvm_cpu": "rocketlake",
}  # fmt: skip
WHERE = "Intel(R) Xeon(R) Processor, family 6 model 167 stepping 1 (LLVM rocketlake), 2 cores"
LEGACY = {"cpu": "AMD EPYC", "cpu_features": ["avx2", "avx512f"], "machine": "x86_64", "cores": 2}


def _compile(
    function: str, compiler: str, size: int = 1000, status: Status = Status.OK, **versions
) -> Record:
    cell = f"{function}/{EXP}/iree{compiler}/x86_64/default"
    labels = {
        "model": function,
        "source_model": function.split(".")[0],
        "exporter": EXP,
        "compiler": compiler,
        "arch": "x86_64",
        "profile": "default",
    }
    metrics = {"module_bytes": size, "module_versions": versions} if status is Status.OK else {}
    return Record(
        f"compile:{cell}",
        "compile",
        cell,
        "k",
        status,
        labels,
        metrics,
        error_class=None if status is Status.OK else "compile-error",
    )


def _refused(function: str, compiler: str, runtime: str) -> Record:
    return _run(
        function,
        compiler,
        runtime,
        Status.FAIL,
        error_class="incompatible-module",
        message="INVALID_ARGUMENT; bytecode version mismatch; runtime supports 16.0, module has 15.0",
    )


def _runs(records) -> runs_view.Runs:
    return runs_view.Runs.of(records)


def test_noise_rule():
    quiet = runs_view.Timing(10.0, 9.5, 10.5, 0.02)
    assert not quiet.noisy
    assert runs_view.Timing(10.0, 9.5, 10.5, 0.3).noisy  # under load
    spread = runs_view.Timing(10.0, 8.0, 12.5, 0.0)  # 45 % spread
    assert spread.noisy and "spread 45%" in spread.why_noisy()
    assert not runs_view.Timing(10.0, None, None, None).noisy  # nothing says it is noisy


def test_windows_from_a_cross():
    records = [_compile("tiny", c) for c in ("3.8.0", "3.9.0", "3.10.0")]
    for rt in ("3.8.0", "3.9.0", "3.10.0"):
        for c in ("3.8.0", "3.9.0", "3.10.0"):
            compatible = {"3.8.0", "3.9.0"} >= {c, rt} or c == rt
            records.append(_run("tiny", c, rt) if compatible else _refused("tiny", c, rt))
    by_runtime = {w.runtime: w for w in load_windows.windows(_runs(records))}
    assert by_runtime["3.9.0"].loads == ("3.8.0", "3.9.0")
    assert by_runtime["3.9.0"].text() == "runtime 3.9.0 loads modules from compilers 3.8.0–3.9.0"
    assert by_runtime["3.10.0"].loads == ("3.10.0",) and by_runtime["3.10.0"].refuses == ("3.8.0", "3.9.0")
    assert all(not w.contradictions for w in by_runtime.values())


def test_a_refusal_inside_a_window_is_a_contradiction():
    records = [_run("tiny", "3.0.0", "3.2.0"), _refused("tiny", "3.1.0", "3.2.0"), _run("tiny", "3.2.0")]
    (window,) = load_windows.windows(_runs(records))
    assert window.loads == ("3.0.0", "3.2.0")
    assert window.contradictions and "compiler 3.1.0 is refused inside the window" in window.contradictions[0]


def test_functions_that_disagree_are_a_contradiction():
    records = [
        _run("a", "3.8.0", "3.9.0"),
        _refused("b", "3.8.0", "3.9.0"),
        _run("a", "3.9.0"),
        _run("b", "3.9.0"),
    ]
    (window,) = load_windows.windows(_runs(records))
    assert window.refuses == ("3.8.0",)
    assert any("some functions' modules load, others are refused" in c for c in window.contradictions)


def test_a_run_that_never_started_says_nothing_about_loading():
    records = [_run("tiny", "3.9.0"), _run("tiny", "3.8.0", "3.9.0", Status.NOT_RUN)]
    (window,) = load_windows.windows(_runs(records))
    assert window.loads == ("3.9.0",) and window.unknown == ("3.8.0",) and not window.refuses


def test_recommendation_newest_fastest_smallest():
    records = []
    for compiler, median, size in (("3.0.0", 5.0, 900), ("3.1.0", 9.0, 1000), ("3.2.0", 10.0, 1100)):
        records += [_compile("m", compiler, size), _run("m", compiler, median=median, cpu=median)]
    records += [_compile("m", "3.3.0"), _run("m", "3.3.0", status=Status.MISMATCH)]
    (rec,) = release_choice.recommendations(_runs(records))
    assert rec.newest_passing.compiler == "3.2.0"
    assert rec.fastest.compiler == "3.0.0" and round(rec.fastest_ratio, 1) == 2.0
    assert rec.fastest_basis == release_choice.FASTEST_SITTING
    assert rec.smallest.compiler == "3.0.0"
    assert [r.passes for r in rec.releases] == [True, True, True, False]


def test_no_fastest_within_noise():
    records = []
    for compiler, median in (("3.0.0", 9.0), ("3.1.0", 10.0)):
        records += [_compile("m", compiler), _run("m", compiler, median=median)]
    (rec,) = release_choice.recommendations(_runs(records))
    assert rec.newest_passing.compiler == "3.1.0" and rec.fastest is None


def test_a_model_passes_a_release_only_if_every_function_does():
    records = [
        _compile("w.enc", "3.0.0"),
        _run("w.enc", "3.0.0"),
        _compile("w.dec", "3.0.0"),
        _run("w.dec", "3.0.0", status=Status.FAIL, error_class="run-error"),
    ]
    (rec,) = release_choice.recommendations(_runs(records))
    assert rec.model == "w" and rec.newest_passing is None
    assert rec.releases[0].failed == ("run:w.dec/py3.11-torch2.13.0-turbine3.9.0/iree3.0.0/x86_64/default",)


def test_regressions():
    records = [
        _compile("m", "3.10.0", 1000),
        _run("m", "3.10.0", median=10.0),
        _compile("m", "3.11.0", 1200),
        _run("m", "3.11.0", median=20.0),  # slower and larger
        _compile("m", "3.12.0", 1200),
        _run("m", "3.12.0", median=40.0, load=1.5),  # noisy: not called
        _compile("m", "3.13.0", status=Status.FAIL),
        _run("m", "3.13.0", status=Status.NOT_RUN),
    ]
    found = {(r.older, r.newer, r.kind): r for r in release_regressions.regressions(_runs(records))}
    assert ("3.10.0", "3.11.0", "slower") in found and "2.00× slower" in found[
        ("3.10.0", "3.11.0", "slower")
    ].detail
    assert ("3.10.0", "3.11.0", "larger") in found
    assert ("3.11.0", "3.12.0", "slower") not in found
    fails = found[("3.12.0", "3.13.0", "fails")]
    assert "compile fail" in fails.detail and fails.evidence[1].startswith("run:m/")


def test_identical_exports():
    def export(exporter, sha):
        labels = {"model": "tiny", "exporter": exporter}
        return Record(
            f"export:tiny/{exporter}",
            "export",
            f"tiny/{exporter}",
            "k",
            Status.OK,
            labels,
            {"mlir_sha256": sha},
        )

    records = [
        export("py3.11-torch2.13.0-turbine3.10.0", "b"),
        export("py3.11-torch2.13.0-turbine3.9.0", "b"),
        export("py3.11-torch2.13.0-turbine3.0.0", "a"),
    ]
    groups = exporters.identical_exports(_runs(records))
    assert [(g.sha256, g.exporters) for g in groups] == [
        ("a", ("py3.11-torch2.13.0-turbine3.0.0",)),
        ("b", ("py3.11-torch2.13.0-turbine3.9.0", "py3.11-torch2.13.0-turbine3.10.0")),
    ]


def test_the_report_shows_the_answers_and_marks_noisy_figures():
    records = [
        _compile("tiny", "3.8.0", bytecode="15.0", hal="6"),
        _compile("tiny", "3.10.0", bytecode="16.0", hal="6"),
        _run("tiny", "3.8.0", median=2.0, load=1.4),
        _run("tiny", "3.10.0"),
        _refused("tiny", "3.8.0", "3.10.0"),
        _refused("tiny", "3.10.0", "3.8.0"),
    ]
    text = render_compatibility(records)
    assert "| 3.10.0    | bytecode 16.0, hal ≥6" in text
    assert "✅ ~2.00 ms" in text  # taken under load: marked
    assert "✅ 10.0 ms" in text
    assert "**Which IREE release should I use?**" in text and "Overall, the newest release" in text


def test_regressions_use_each_functions_own_exporter_and_skip_a_release_without_runtime():
    other = "py3.11-torch2.13.0-turbine3.9.0+transformers5.23.0"
    records = [
        _compile("a", "3.6.0"),  # a function of another exporter comes first
        _compile("m", "3.7.0"),
        _run("m", "3.7.0", median=3.0),
        _compile("m", "3.7.1"),
        _run("m", "3.7.1", status=Status.NOT_RUN),
        _compile("m", "3.8.0"),
        _run("m", "3.8.0", median=5.6),
    ]
    records[0] = Record(
        records[0].job.replace(EXP, other),
        "compile",
        "c",
        "k",
        Status.OK,
        {**records[0].labels, "exporter": other},
        {"module_bytes": 1},
    )
    records[4] = Record(
        records[4].job,
        "run",
        records[4].cell,
        "",
        Status.NOT_RUN,
        records[4].labels,
        blocked_by="install:py3.11-iree-runtime3.7.1",
    )
    found = release_regressions.regressions(_runs(records))
    assert [(r.function, r.older, r.newer, r.kind) for r in found] == [("m", "3.7.0", "3.8.0", "slower")]


def test_a_noisy_figure_is_a_regression_only_beyond_what_contention_explains():
    quiet, noisy_slow = (
        runs_view.Timing(40.0, 38.0, 42.0, 0.0),
        runs_view.Timing(500.0, 420.0, 560.0, 0.4),
    )
    assert release_regressions.slower_beyond_noise(quiet, noisy_slow)  # 420 > 2 x 42: no load does that
    noisy_bit_slower = runs_view.Timing(60.0, 50.0, 70.0, 0.4)
    assert not release_regressions.slower_beyond_noise(
        quiet, noisy_bit_slower
    )  # 1.5x under load: not a finding
    assert release_regressions.slower_beyond_noise(
        quiet, runs_view.Timing(60.0, 58.0, 62.0, 0.0)
    )  # quiet: 1.5x is
    records = [_compile("m", "3.10.0"), _run("m", "3.10.0", median=40.0)]
    records += [_compile("m", "3.11.0"), _run("m", "3.11.0", median=500.0, spread=0.3, load=0.4)]
    (found,) = [r for r in release_regressions.regressions(_runs(records)) if r.kind == "slower"]
    assert found.detail.startswith("12.50× slower (40.0 ms → 500 ms; noisy, but")


def test_a_figure_of_too_few_repetitions_decides_no_regression():
    """#51's rule for the search holds for the published regressions too: with fewer repetitions
    than an interval needs (stats.MIN_REPETITIONS) no verdict. The recipe search's one-call timings
    read "4.03x slower" where one paired sitting measured 1.5-2x."""
    older = runs_view.Timing(22.9, 22.9, 22.9, 0.0, n=1)
    newer = runs_view.Timing(92.4, 92.4, 92.4, 0.0, n=1)
    assert older.too_few and not release_regressions.slower_beyond_noise(older, newer)
    assert release_regressions.slower_pair(older, newer) is None
    enough = runs_view.Timing(92.4, 92.0, 93.0, 0.0, n=stats.MIN_REPETITIONS)
    assert release_regressions.slower_beyond_noise(
        dataclasses.replace(older, n=None), enough
    )  # n unknown: as before
    assert not release_regressions.slower_beyond_noise(
        dataclasses.replace(older, n=stats.MIN_REPETITIONS - 1), enough
    )


def test_a_compiler_without_a_runtime_release_is_answered_by_its_stand_in_run():
    """Issue 29: iree-base-runtime 3.7.1 does not exist; 3.7.1's modules ran on runtime 3.7.0 (the
    planner's stand-in). The release passes on that evidence, is never an install failure, and
    the per-model table says which runtime ran it."""
    records = [
        _compile("m", "3.7.0"),
        _run("m", "3.7.0", median=3.0),
        _compile("m", "3.7.1"),
        _run("m", "3.7.1", "3.7.0", median=3.1),
        _run("m", "3.7.1", "3.6.0", median=3.2),  # an older line's runtime in the cross: not the stand-in
        _compile("m", "3.8.0"),
        _run("m", "3.8.0", median=3.0),
    ]
    runs = _runs(records)
    assert runs.same("m", EXP, "3.7.1").job.endswith("/iree3.7.1/x86_64/default/rt3.7.0")
    assert runs.same("m", EXP, "3.8.0").labels["runtime"] == "3.8.0"
    (rec,) = release_choice.recommendations(runs)
    assert [r.compiler for r in rec.releases if r.passes] == ["3.7.0", "3.7.1", "3.8.0"]
    # A stand-in's figure is not its own release's: consecutive releases skip it (3.7.0 -> 3.8.0).
    slow = [*records, _compile("m", "3.9.0"), _run("m", "3.9.0", median=9.0)]
    assert [(r.older, r.newer) for r in release_regressions.regressions(_runs(slow))] == [("3.8.0", "3.9.0")]
    text = render_compatibility(records)
    assert "✅ 3.10 ms (rt 3.7.0)" in text
    assert "compiler 3.7.1 has no runtime release of its own" in text
    assert "⛔ install" not in text


def test_date_releases_come_before_2_9_0_in_every_table():
    """iree-compiler 20240410.859 is older than iree-base-compiler 2.9.0, whatever PEP 440 says."""
    found = runs_view.sorted_versions(["3.13.0", "20241104.1068", "2.9.0", "20230209.425", "3.9.0"])
    assert found == ["20230209.425", "20241104.1068", "2.9.0", "3.9.0", "3.13.0"]
    assert runs_view.version_key("py3.11") > runs_view.version_key("3.13.0")  # non-versions after


def _twice_as_fast(**older: Any) -> list[Record]:
    """3.0.0 at half 3.1.0's time, both wall and one thread's CPU; `older` changes 3.0.0's run."""
    return [
        _compile("m", "3.0.0"), _run("m", "3.0.0", median=5.0, cpu=5.0, **older),
        _compile("m", "3.1.0"), _run("m", "3.1.0", median=10.0, cpu=10.0),
    ]  # fmt: skip


def test_fastest_is_named_only_from_one_quiet_sitting_of_one_identified_cpu():
    """Issue #48: a loaded sitting, a record naming no family/model, or two sittings apart name no
    fastest release, and say that nothing decided it."""
    (rec,) = release_choice.recommendations(_runs(_twice_as_fast()))
    assert rec.fastest.compiler == "3.0.0" and rec.fastest_basis == release_choice.FASTEST_SITTING
    for older in ({"load": 1.5}, {"host": LEGACY}, {"started": "2026-11-24T10:00:00+00:00"}):
        (rec,) = release_choice.recommendations(_runs(_twice_as_fast(**older)))
        assert rec.fastest is None and rec.fastest_basis == "", older


def _compare(a: str, b: str, verdict: str, ratio: float, function: str = "m") -> dict[str, Any]:
    """A `compare-A-B.json` document as `iree-matrix compare` writes it."""
    return {
        "a": a, "b": b, "host": IDENTIFIED,
        "functions": [{"function": function, "a": a, "b": b, "a_ms": [10.0] * 8, "b_ms": [10.0 * ratio] * 8,
                       "ratio": ratio, "low": ratio * 0.98, "high": ratio * 1.02, "p_value": 0.008,
                       "rounds": 8, "verdict": verdict}],
    }  # fmt: skip


def test_paired_rounds_name_the_fastest_where_the_medians_cannot():
    from iree_matrix.findings import paired

    loaded = _twice_as_fast(load=1.5, host=LEGACY)
    (rec,) = release_choice.recommendations(
        _runs(paired.attach(loaded, [_compare("3.1.0", "3.0.0", "faster", 0.8)]))
    )
    assert rec.fastest.compiler == "3.0.0" and round(rec.fastest_ratio, 2) == 1.25
    assert rec.fastest_basis == f"{release_choice.FASTEST_PAIRED} on {WHERE}"
    # The paired test overrules quiet medians: no difference in rounds is no fastest release.
    quiet = paired.attach(_twice_as_fast(), [_compare("3.0.0", "3.1.0", "no difference", 1.01)])
    (rec,) = release_choice.recommendations(_runs(quiet))
    assert rec.fastest is None and rec.fastest_basis == f"{release_choice.FASTEST_PAIRED} on {WHERE}"


def test_a_regression_from_timings_needs_one_identified_cpu_or_paired_rounds():
    from iree_matrix.findings import paired

    def records(host: dict[str, Any]) -> list[Record]:
        return [
            _compile("m", "3.6.0"), _run("m", "3.6.0", median=0.4, host=host),
            _compile("m", "3.7.0"), _run("m", "3.7.0", median=1.5, host=host),
        ]  # fmt: skip

    assert [r.signal for r in release_regressions.regressions(_runs(records(IDENTIFIED)))] == ["timing"]
    assert (
        release_regressions.regressions(_runs(records(LEGACY))) == []
    )  # AMD EPYC, family/model not recorded
    slower = paired.attach(records(LEGACY), [_compare("3.6.0", "3.7.0", "slower", 1.2)])
    (found,) = release_regressions.regressions(_runs(slower))
    assert found.signal == "paired" and found.kind == "slower" and found.evidence[1].startswith("run:m/")
    assert found.detail.startswith(
        "1.20× slower (8 paired rounds of one thread's CPU time, round ratios 1.18–1.22, on Intel"
    )
    assert found.detail.endswith(
        "on Intel(R) Xeon(R) Processor, family 6 model 167 stepping 1 (LLVM rocketlake), 2 cores)"
    )
    same = paired.attach(records(IDENTIFIED), [_compare("3.6.0", "3.7.0", "no difference", 1.01)])
    assert release_regressions.regressions(_runs(same)) == []  # the rounds overrule the medians' 3.75x


def test_a_paired_fastest_follows_the_chain_of_verdicts():
    """3.7.0 beat the newest (3.8.0) and 3.6.0 beat 3.7.0 in paired rounds: 3.6.0 is the fastest,
    by the product of the two speed-ups (what runs/ of issue #48's regressions read)."""
    from iree_matrix.findings import paired

    records = [r for c in ("3.6.0", "3.7.0", "3.8.0") for r in (_compile("m", c), _run("m", c, load=1.5))]
    documents = [_compare("3.8.0", "3.7.0", "faster", 0.74), _compare("3.6.0", "3.7.0", "slower", 4.0)]
    (rec,) = release_choice.recommendations(_runs(paired.attach(records, documents)))
    assert rec.fastest.compiler == "3.6.0" and round(rec.fastest_ratio, 2) == round(4.0 / 0.74, 2)


def test_a_model_no_release_passes_names_its_recipes_that_do():
    """'no release passes `llama@transformers`' beside its `~eager+select-cache` row passing read as if
    nothing could run it: the overall line names the recipes that pass, and from which release."""
    records = [
        _compile("llm", "3.12.0", status=Status.FAIL),
        _compile("llm", "3.13.0", status=Status.FAIL),
        _compile("llm~eager", "3.12.0"),
        _run("llm~eager", "3.12.0"),
        _compile("llm~eager", "3.13.0"),
        _run("llm~eager", "3.13.0"),
        _compile("cnn", "3.13.0", status=Status.FAIL),
    ]
    text = render_compatibility(records)
    line = next(ln for ln in text.splitlines() if ln.startswith("Overall, the newest release"))
    assert "No release passes `cnn`; `llm` as exported (recipes that pass: `llm~eager` from 3.12.0)." in line
