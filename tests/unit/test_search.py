"""The flag search's pure logic: intervals, verdicts against default, the second batch's plan, and
the report section (fake records, no compiler)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Optional

import pytest

from iree_matrix.core.errors import UserError
from iree_matrix.core.model import stats
from iree_matrix.core.model.configuration import Config, split_variant
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import search, search_descent
from iree_matrix.iree.flags import BUILTIN_PROFILES, SEARCH_KNOBS, Profile, combine, with_needs
from iree_matrix.matrix import spec, spec_file
from iree_matrix.report.sections.search import render_search

ROOT = Path(__file__).resolve().parents[2]


def _run(model: str, profile: str, times: Optional[list[float]], compiler: str = "3.13.0", **kw) -> Record:
    cell = f"{model}/iree{compiler}/x86_64/{profile}"
    labels = {"model": model, "compiler": compiler, "runtime": compiler, "profile": profile, "arch": "x86_64"}
    metrics = {}
    if times is not None:
        median = sorted(times)[len(times) // 2]
        metrics["latency_ms"] = {"median": median, "min": min(times), "max": max(times), "n": len(times),
                                 "times": times}  # fmt: skip
    return Record(f"run:{cell}", "run", cell, "k", kw.pop("status", Status.OK), labels, metrics, **kw)


def _compile_failure(model: str, profile: str, message: str, status: Status = Status.FAIL) -> list[Record]:
    cell = f"{model}/iree3.13.0/x86_64/{profile}"
    labels = {"model": model, "compiler": "3.13.0", "runtime": "3.13.0", "profile": profile}
    compiled = Record(f"compile:{cell}", "compile", cell, "k", status, labels, {}, message=message)
    ran = Record(f"run:{cell}", "run", cell, "", Status.NOT_RUN, labels, {}, blocked_by=compiled.job,
                 message="not run because ...")  # fmt: skip
    return [compiled, ran]


def test_median_interval_uses_order_statistics():
    five = stats.median_interval([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (five.median, five.low, five.high) == (3.0, 1.0, 5.0)
    assert five.coverage == pytest.approx(1 - 2 / 32)
    ten = stats.median_interval([float(i) for i in range(10)])
    assert (ten.low, ten.high) == (1.0, 8.0) and ten.coverage >= stats.LEVEL
    assert stats.median_interval([1.0, 2.0, 3.0]).coverage == 0.0  # too few for 90 %


def test_intervals_that_overlap_are_not_a_difference():
    a = stats.median_interval([10, 11, 12, 13, 14])
    b = stats.median_interval([13.5, 15, 16, 17, 18])
    c = stats.median_interval([15, 16, 17, 18, 19])
    assert not a.faster_than(b) and not b.slower_than(a)
    assert a.faster_than(c) and c.slower_than(a)
    few = stats.median_interval([1, 2])
    assert not few.faster_than(c)  # no claimed coverage, no verdict


def test_of_latency_without_kept_repetitions():
    interval = stats.of_latency({"median": 3.0, "min": 1.0, "max": 5.0, "n": 5})
    assert interval is not None and interval.coverage > 0.9
    assert stats.of_latency({"median": 3.0, "min": 1.0, "max": 5.0, "n": 10}).coverage == 0.0
    assert stats.of_latency("garbage") is None


def test_verdicts_against_default():
    records = [
        _run("mobilenet_v2", "default", [20, 21, 22, 23, 24]),
        _run("mobilenet_v2", "im2col", [14, 14.5, 15, 15.5, 16]),  # faster beyond noise
        _run("mobilenet_v2", "ukernels", [19, 21, 22, 24, 25]),  # overlaps
        _run("mobilenet_v2", "O2", [30, 31, 32, 33, 34]),  # slower
        _run("mobilenet_v2", "transposes", None, status=Status.MISMATCH),
        *_compile_failure(
            "mobilenet_v2",
            "channels-last",
            "note\n/c/store/export/k/model.mlir:7:1: error: unknown pass\nmore",
        ),
        *_compile_failure("mobilenet_v2", "aggressive-fusion", "needs a flag 3.13.0 lacks", Status.SKIP),
    ]
    table = search.effects(search.candidates(records))
    rows = {e.candidate.name: e for e in table[("mobilenet_v2", "3.13.0")]}
    assert rows["default"].verdict == "baseline"
    assert rows["im2col"].verdict == "faster" and rows["im2col"].ratio == pytest.approx(22 / 15)
    assert rows["ukernels"].verdict == "within noise"
    assert rows["O2"].verdict == "slower"
    assert rows["transposes"].verdict == "mismatch"
    assert rows["channels-last"].verdict == "fails"
    assert (
        rows["channels-last"].candidate.message == "model.mlir:7:1: error: unknown pass"
    )  # the compiler's words
    assert rows["aggressive-fusion"].verdict == "skipped"
    assert search.best(list(rows.values())).candidate.name == "im2col"


def test_best_is_default_when_nothing_beats_it_beyond_noise():
    records = [_run("m", "default", [20, 21, 22, 23, 24]), _run("m", "O2", [18, 19, 20, 22, 23])]
    rows = search.effects(search.candidates(records))[("m", "3.13.0")]
    assert search.best(rows).candidate.name == "default"


def test_export_variant_is_a_candidate_of_the_base_function():
    assert split_variant("whisper_tiny@decomposed.encoder") == ("whisper_tiny.encoder", "decomposed")
    assert split_variant("mobilenet_v2") == ("mobilenet_v2", "")
    records = [
        _run("whisper_tiny.encoder", "default", [3000, 3010, 3020, 3030, 3040]),
        _run("whisper_tiny@decomposed.encoder", "default", [700, 710, 720, 730, 740]),
        _run("whisper_tiny@decomposed.encoder", "O3-stack+im2col", [600, 610, 620, 630, 640]),
    ]
    rows = {
        e.candidate.name: e
        for e in search.effects(search.candidates(records))[("whisper_tiny.encoder", "3.13.0")]
    }
    assert rows["@decomposed"].verdict == "faster"
    assert rows["@decomposed+O3-stack+im2col"].candidate.knobs == ("@decomposed", "O3-stack", "im2col")


def test_combined_profiles():
    both = combine("channels-last+im2col", BUILTIN_PROFILES)
    assert both.flags == BUILTIN_PROFILES["channels-last"].flags + BUILTIN_PROFILES["im2col"].flags
    assert both.target_cpu == "host" and both.opt_level is None
    assert combine("O3-stack+ukernels", BUILTIN_PROFILES).opt_level == "O3"
    with pytest.raises(ValueError):
        combine("O2+O3-stack", BUILTIN_PROFILES)
    with pytest.raises(KeyError):
        combine("im2col+nope", BUILTIN_PROFILES)
    assert combine("im2col", BUILTIN_PROFILES) is BUILTIN_PROFILES["im2col"]  # a known one, as it is
    assert set(SEARCH_KNOBS) <= set(BUILTIN_PROFILES)
    # a named CPU replaces `host`, the other knob's flags on top; a generic CPU still combines with none
    avx2 = combine("avx2+im2col", BUILTIN_PROFILES)
    assert avx2.target_cpu == "x86-64-v3" and avx2.flags == BUILTIN_PROFILES["im2col"].flags
    with pytest.raises(ValueError):
        combine("generic+im2col", BUILTIN_PROFILES)


def test_named_target_cpus_are_one_dimension_like_opt_levels():
    from iree_matrix.findings.search import space

    dims = {d.name: d.options for d in space(("O2", "O3-stack", "avx2", "im2col"))}
    assert dims == {"opt level": ("O2", "O3-stack"), "target CPU": ("avx2",), "im2col": ("im2col",)}


def test_with_cells_adds_a_combination_to_one_cell():
    matrix = spec_file.load(ROOT / "matrix" / "search.toml")
    cell = matrix.cells[0]
    grown = spec.with_cells(matrix, [dataclasses.replace(cell, profile="im2col+ukernels")])
    assert len(grown.cells) == len(matrix.cells) + 1
    assert grown.profiles["im2col+ukernels"].flags[-1] == "--iree-llvmcpu-enable-ukernels=all"
    with pytest.raises(UserError, match="unknown profile nope"):
        spec.with_profiles(matrix, ["default", "nope+im2col"])


def test_with_cells_brings_the_model_of_an_export_variant_pick():
    """advise's pick `@decomposed+loop-unrolling` adds a cell of `whisper_tiny@decomposed` to a matrix
    of `whisper_tiny`: its model reference comes with it (its export once failed `KeyError`)."""
    matrix = spec_file.load(ROOT / "matrix" / "advise.toml", models=["whisper_tiny"])
    cell = matrix.cells[0]
    grown = spec.with_cells(matrix, [dataclasses.replace(cell, model="whisper_tiny@decomposed")])
    assert grown.models["whisper_tiny@decomposed"].file.is_file()
    assert grown.models["whisper_tiny"] == matrix.models["whisper_tiny"]
    with pytest.raises(UserError, match="'nope@decomposed'"):
        spec.with_cells(matrix, [dataclasses.replace(cell, model="nope@decomposed")])


def test_report_section():
    records = [
        _run("mobilenet_v2", "default", [20, 21, 22, 23, 24]),
        _run("mobilenet_v2", "im2col", [14, 14.5, 15, 15.5, 16]),
        *_compile_failure("mobilenet_v2", "channels-last", "error: unknown pass"),
    ]
    text = "\n".join(render_search(records))
    assert "| mobilenet_v2 | 3.13.0 | 22.0 ms (20.0 ms–24.0 ms) | im2col" in text
    assert "1.47×" in text and "fails: error: unknown pass" in text
    assert render_search([_run("m", "default", [1, 2, 3, 4, 5])]) == []  # nothing searched


def test_op_timings_globs(tmp_path):
    base = (ROOT / "matrix" / "bench.toml").read_text()
    matrix = spec_file.load(ROOT / "matrix" / "bench.toml")
    assert matrix.benchmark.opts_in("op_timings", "mobilenet_v2", "default")
    assert not matrix.benchmark.opts_in("op_timings", "mobilenet_v2", "im2col")  # only default is profiled
    # The search profiles nothing: default's run keeps the key every null knob's run shares.
    assert not spec_file.load(ROOT / "matrix" / "search.toml").benchmark.opts_in(
        "op_timings", "mobilenet_v2", "default"
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(base.replace('op_timings = ["*/default"]', 'op_timings = ["mobilenet_v2"]'))
    with pytest.raises(UserError, match=r"benchmark.op_timings.*<model>/<profile>"):
        spec_file.load(bad)


# -- the budgeted descent (issue #25) ----------------------------------------------------------------


def _cand(name: str, times: Optional[list[float]], status: Status = Status.OK) -> search.Candidate:
    interval = stats.median_interval(times) if times else None
    return search.Candidate("mobilenet_v2", "3.13.0", name, status, interval)


def test_space_keeps_opt_levels_exclusive_and_every_other_knob_free():
    dims = search.space(("O2", "O3-stack", "im2col", "ukernels"))
    assert [d.options for d in dims] == [("O2", "O3-stack"), ("im2col",), ("ukernels",)]
    assert set(SEARCH_KNOBS) <= set(BUILTIN_PROFILES)  # every knob is a profile the compile stage knows


def test_config_names_are_canonical_and_round_trip():
    config = search.parse("@decomposed+ukernels+O3-stack")
    assert config == Config.of({"O3-stack", "ukernels"}, "decomposed")
    assert str(config) == "@decomposed+O3-stack+ukernels" and config.profile == "O3-stack+ukernels"
    assert config.model("whisper_tiny") == "whisper_tiny@decomposed"
    assert search.parse("default") == Config() and str(Config()) == "default"
    assert search.parse("@decomposed") == Config("decomposed")


def test_neighbours_change_one_dimension():
    dims = search.space(("O2", "O3-stack", "im2col", "ukernels"))
    here = Config.of({"O2", "im2col"})
    names = sorted(str(c) for c in search.neighbours(here, dims, ("decomposed",)))
    assert names == sorted(
        ["@decomposed+O2+im2col",  # another variant
         "im2col", "O3-stack+im2col",  # opt level off, or the other one (never both)
         "O2",  # im2col off
         "O2+im2col+ukernels"]  # ukernels on
    )  # fmt: skip


def test_rank_batch_orders_by_the_prior_and_drops_dead_changes():
    rows = search.effects([
        _cand("default", [20, 21, 22, 23, 24]),
        _cand("im2col", [14, 14.5, 15, 15.5, 16]),  # faster alone: the first to combine
        _cand("ukernels", [19, 20, 21, 22, 23]),
        _cand("transposes", [25, 26, 27, 28, 29]),  # slower alone: tried last
        _cand("O2", None, Status.FAIL),  # failed alone: never combined
        _cand("aggressive-fusion", None, Status.SKIP),
    ])[("mobilenet_v2", "3.13.0")]  # fmt: skip
    prior = search.Prior.of(rows)
    assert prior.dead == {"O2", "aggressive-fusion"}
    dims = search.space(("O2", "im2col", "ukernels", "transposes", "aggressive-fusion"))
    start = Config.of({"ukernels"})
    tried = {r.candidate.name for r in rows}
    picked = search.rank_batch(start, tried, dims, (), prior)[0]
    assert [str(c) for c in picked] == ["im2col+ukernels", "transposes+ukernels"]  # "default" was tried
    assert prior.promise(Config.of({"im2col"}), Config()) == pytest.approx(15 / 22)


def test_choose_takes_the_fastest_that_beats_the_incumbent_beyond_noise():
    incumbent = _cand("im2col", [14, 14.5, 15, 15.5, 16])
    within = _cand("im2col+ukernels", [13, 13.5, 14, 14.5, 15])  # overlaps: not a move
    faster = _cand("channels-last+im2col", [12, 12.5, 13, 13.5, 13.9])
    fastest = _cand("im2col+transposes", [10, 10.5, 11, 11.5, 11.9])
    broken = _cand("im2col+O2", None, Status.MISMATCH)
    assert search.choose(incumbent, [within, broken]) is None  # a local optimum
    assert search.choose(incumbent, [within, faster, fastest, broken]) is fastest
    assert search.choose(_cand("default", None, Status.FAIL), [fastest]) is None


def test_descent_reaches_the_best_of_a_fake_space_within_budget():
    """The search strategy end to end on a made-up landscape: im2col and ukernels help, together
    more; transposes hurts; @decomposed helps a lot. Coordinate descent finds the combination."""

    def median(config: Config) -> float:
        t = 100.0 * (0.7 if "im2col" in config.names else 1.0) * (0.8 if "ukernels" in config.names else 1.0)
        t *= 1.3 if "transposes" in config.names else 1.0
        return t * (0.5 if config.variant == "decomposed" else 1.0)

    def measure(config: Config) -> search.Candidate:
        m = median(config)
        return _cand(str(config), [m * 0.98, m * 0.99, m, m * 1.01, m * 1.02])

    knobs = ("im2col", "ukernels", "transposes")
    dims = search.space(knobs)
    alone = [Config.of({k}) for k in knobs]
    first = [Config(), *alone, Config("decomposed")]
    rows = search.effects([measure(c) for c in first])[("mobilenet_v2", "3.13.0")]
    prior = search.Prior.of(rows)
    incumbent, tried, spent = search.parse(search.best(rows).candidate.name), {str(c) for c in first}, 0
    assert str(incumbent) == "@decomposed"
    steps = []
    for number in range(2, 10):
        picked = search.rank_batch(incumbent, tried, dims, ("decomposed",), prior)[0][: max(6 - spent, 0)]
        if not picked:
            break
        winner = search.choose(measure(incumbent), [measure(c) for c in picked])
        steps.append(search.Step(number, str(incumbent), tuple(map(str, picked)),
                                 winner.name if winner else None))  # fmt: skip
        tried |= {str(c) for c in picked}
        spent += len(picked)
        if winner is None:
            break
        incumbent = search.parse(winner.name)
    assert str(incumbent) == "@decomposed+im2col+ukernels"
    assert spent <= 6
    # im2col and ukernels each beat default alone: batch 2 tries them stacked and takes both at once
    assert search.path([search.Step(1, "default", (), "@decomposed"), *steps]).startswith(
        "default → @decomposed → @decomposed+im2col+ukernels"
    )


def test_each_function_starts_its_descent_from_batch_ones_best():
    from iree_matrix.tasks import flag_search as command

    records = [
        _run("whisper_tiny.encoder", "default", [3000, 3010, 3020, 3030, 3040]),
        _run("whisper_tiny@decomposed.encoder", "default", [700, 710, 720, 730, 740]),
        _run("whisper_tiny.encoder", "O2", None, status=Status.FAIL),
        _run("whisper_tiny.decoder_step", "default", [30, 31, 32, 33, 34]),
        _run("mobilenet_v2", "default", [20, 21, 22, 23, 24]),
        _run("mobilenet_v2", "ukernels", [19, 21, 22, 24, 25]),
    ]
    table = search.effects(search.candidates(records))
    descents = command._start(table, ["mobilenet_v2", "whisper_tiny.encoder"])
    # the decoder step does not descend: not among --functions
    assert set(descents) == {("mobilenet_v2", "3.13.0"), ("whisper_tiny.encoder", "3.13.0")}
    encoder = descents[("whisper_tiny.encoder", "3.13.0")]
    assert encoder.incumbent == Config("decomposed") and encoder.variants == ("decomposed",)
    assert encoder.prior.dead == {"O2"} and encoder.steps[0].winner == "@decomposed"
    mobilenet = descents[("mobilenet_v2", "3.13.0")]
    assert mobilenet.incumbent == Config() and mobilenet.steps[0].winner is None
    assert search.path(mobilenet.steps) == "default (stopped: none of 1 beat it)"


# -- the open knob space (issue #37) -----------------------------------------------------------------


def test_knobs_of_one_group_are_one_dimension():
    dims = {
        d.name: d.options
        for d in search.space(("no-data-tiling", "data-tiling", "dt-ukernels", "loop-unrolling"))
    }
    assert dims == {
        "data tiling": ("no-data-tiling", "data-tiling", "dt-ukernels"),
        "loop-unrolling": ("loop-unrolling",),
    }
    # a matrix file's own knob with a group joins it
    own = {
        "dt-late": Profile(
            "dt-late", flags=("--iree-dispatch-creation-data-tiling=true",), group="data tiling"
        )
    }
    dims = {d.name: d.options for d in search.space(("data-tiling", "dt-late"), {**BUILTIN_PROFILES, **own})}
    assert dims == {"data tiling": ("data-tiling", "dt-late")}


def test_a_knob_takes_what_it_needs_with_it():
    dt = BUILTIN_PROFILES["dt-ukernels"]
    assert dt.flags == (
        "--iree-llvmcpu-stack-allocation-limit=1048576", "--iree-opt-data-tiling=true",
        "--iree-llvmcpu-enable-ukernels=all",
    )  # fmt: skip
    mine = {"a": Profile("a", flags=("--x",), needs=("b",)), "b": Profile("b", flags=("--y",), needs=("a",))}
    with pytest.raises(ValueError, match="needs itself"):
        with_needs(mine)
    with pytest.raises(KeyError):
        with_needs({"a": Profile("a", needs=("nope",))})


def test_winners_alone_are_tried_stacked_and_what_is_left_out_is_said():
    rows = search.effects([
        _cand("default", [20, 21, 22, 23, 24]),
        _cand("im2col", [14, 14.5, 15, 15.5, 16]),
        _cand("loop-unrolling", [16, 16.5, 17, 17.5, 18]),
        _cand("data-tiling", [17, 17.5, 18, 18.5, 19]),
        _cand("dt-ukernels", [15, 15.5, 16, 16.5, 17]),  # the best of its group
        _cand("transposes", [21, 21.5, 22, 22.5, 23]),  # within noise: not stacked
        _cand("O2", None, Status.FAIL),
    ])[("mobilenet_v2", "3.13.0")]  # fmt: skip
    prior = search.Prior.of(rows)
    assert prior.faster == {"im2col", "loop-unrolling", "data-tiling", "dt-ukernels"}
    knobs = ("O2", "data-tiling", "dt-ukernels", "im2col", "loop-unrolling", "transposes")
    dims = search.space(knobs)
    start = Config.of({"im2col"})
    assert str(search.stacked(start, dims, prior)) == "dt-ukernels+im2col+loop-unrolling"
    ranked, dead = search.rank_batch(start, {r.candidate.name for r in rows}, dims, (), prior)
    assert str(ranked[0]) == "dt-ukernels+im2col+loop-unrolling"  # the most promising
    assert {str(c) for c in dead} == {"O2+im2col"}
    words = search.explain_pruned(ranked[:2], ranked, dead, prior)
    assert words.startswith("left out: 1 using a change that failed or was skipped alone (O2); ")
    assert f"{len(ranked) - 2} past the batch's width" in words


def test_a_null_knob_alone_is_known_as_such():
    base = dataclasses.replace(_cand("default", [20, 21, 22, 23, 24]), module_sha256="aa")
    null = dataclasses.replace(_cand("no-data-tiling", [19, 20, 21, 22, 23]), module_sha256="aa")
    prior = search.Prior.of(search.effects([base, null])[("mobilenet_v2", "3.13.0")])
    assert prior.null == {"no-data-tiling"} and not prior.faster


def _knob_matrix(tmp_path: Path, knobs: str, compilers: str = '"3.9.0", "3.13.0"') -> Path:
    path = tmp_path / "knobs.toml"
    path.write_text(
        f'python = ["3.11"]\ntorch = ["2.13.0"]\nturbine = ["3.9.0"]\ncompiler = [{compilers}]\n'
        f'models = ["tiny_cnn"]\n\n{knobs}\n'
    )
    return path


def test_a_matrix_file_adds_knobs_checked_against_each_release(tmp_path):
    matrix = spec_file.load(_knob_matrix(tmp_path, """
[search.knobs]
distribution-64 = ["--iree-llvmcpu-distribution-size=64"]

[search.knobs.dt-late]
flags = ["--iree-dispatch-creation-data-tiling=true"]
needs = ["data-tiling"]
group = "data tiling"
"""))  # fmt: skip
    assert matrix.search_knobs == ("distribution-64", "dt-late")
    assert matrix.profiles["dt-late"].flags[-2:] == (
        "--iree-opt-data-tiling=true",
        "--iree-dispatch-creation-data-tiling=true",
    )
    # a flag one of the matrix's releases lacks: refused when planned, naming the release and the fix
    with pytest.raises(
        UserError,
        match=r"search.knobs.late-im2col.flags = '--iree-global-opt-use-im2col-for-convs': "
        r"not an option of IREE 3.9.0's iree-compile .*releases = \">=3.11.0\"",
    ):
        spec_file.load(
            _knob_matrix(
                tmp_path, '[search.knobs]\nlate-im2col = ["--iree-global-opt-use-im2col-for-convs=true"]'
            )
        )
    # limited to the releases that have it, it plans
    late = '[search.knobs.late-im2col]\nflags = ["--iree-global-opt-use-im2col-for-convs=true"]\n'
    ok = spec_file.load(_knob_matrix(tmp_path, late + 'releases = ">=3.11"'))
    assert ok.profiles["late-im2col"].releases == ">=3.11"
    with pytest.raises(UserError, match=r"did you mean --iree-llvmcpu-loop-unrolling\?"):
        spec_file.load(
            _knob_matrix(tmp_path, '[search.knobs]\nunroll = ["--iree-llvmcpu-loop-unroling=true"]')
        )


@pytest.mark.parametrize(
    "body, message",
    [
        (
            '[search.knobs.a]\nflags = ["--iree-opt-data-tiling=true"]\nneeds = ["nope"]',
            r"a.needs = 'nope': unknown knob",
        ),
        (
            '[search.knobs.a]\nflags = ["--iree-opt-data-tiling=true"]\nreleases = "three"',
            r"a.releases = 'three': expected a version range",
        ),
        (
            '[search.knobs.a]\nflags = ["--x"]\nneeds = ["b"]\n'
            '[search.knobs.b]\nflags = ["--y"]\nneeds = ["a"]',
            r"needs itself",
        ),
        ("[search]\nknob = 1", r"search.knob"),
        ('[search.knobs]\n"a+b" = ["--iree-opt-data-tiling=true"]', r"no '\+'"),
        (
            '[search.knobs]\ndefault = ["--iree-opt-data-tiling=true"]\n[profile.default]\nflags = []',
            r"also a \[profile.NAME\]",
        ),
    ],
)
def test_bad_knobs_are_one_line_errors(tmp_path, body, message):
    with pytest.raises(UserError, match=message) as caught:
        spec_file.load(_knob_matrix(tmp_path, body))
    assert "\n" not in str(caught.value)


def _cpu_run(
    model: str, profile: str, cpu: list[float], wall: list[float], sha: str, compiler: str = "3.13.0"
):
    record = _run(model, profile, wall, compiler)
    stat = {
        "median": sorted(cpu)[len(cpu) // 2],
        "min": min(cpu),
        "max": max(cpu),
        "n": len(cpu),
        "times": cpu,
    }
    metrics = {**record.metrics, "cpu_ms": stat, "module_sha256": sha}
    return dataclasses.replace(record, metrics=metrics)


def test_search_table_counts_each_knob_per_release_and_sets_the_best_against_the_peer():
    """Issue #37 item 5: each knob's effect per release (a null knob counted as 'same module', not
    timed), the best's wall-time check at the matrix's threads, and its gap to the fastest peer on
    one thread's CPU time."""
    records = [
        _cpu_run("mobilenet_v2", "default", [20, 20.5, 21, 21.5, 22], [12, 12, 12, 12, 12], "a"),
        _cpu_run("mobilenet_v2", "im2col", [10, 10.2, 10.4, 10.6, 10.8], [7, 7, 7, 7, 7], "b"),
        _cpu_run("mobilenet_v2", "no-data-tiling", [20, 21, 22, 23, 24], [12, 12, 12, 12, 12], "a"),
        _cpu_run("mobilenet_v2", "default", [20, 20.5, 21, 21.5, 22], [12, 12, 12, 12, 12], "c", "3.9.0"),
        _cpu_run("mobilenet_v2", "no-data-tiling", [25, 25.5, 26, 26.5, 27], [15] * 5, "d", "3.9.0"),
        Record("peer:mobilenet_v2", "peer", "mobilenet_v2", "k", Status.OK, {"model": "mobilenet_v2"},
               {"peers": {"eager": {"status": "ok", "cpu_ms": {"median": 12.0}},
                          "onnxruntime": {"status": "ok", "cpu_ms": {"median": 2.6}},
                          "tflite": {"status": "fail", "cpu_ms": {"median": 1.0}}}}),
    ]  # fmt: skip
    text = re.sub(r" +", " ", "\n".join(render_search(records)))
    knobs = text[text.index("### Each knob alone") :]
    assert "| no-data-tiling | 1 slower, median 0.81× | 1 same module |" in knobs
    assert "| im2col | | 1 faster, median 2.02× |" in knobs
    best = next(line for line in text.splitlines() if line.startswith("| mobilenet_v2 | 3.13.0 |"))
    assert "| ✓ 1.71× |" in best  # wall 12 → 7 ms, intervals apart
    assert (
        "| onnxruntime 2.60 ms | 4.00× |" in best
    )  # 10.4 ms of CPU against ORT's 2.6, a failed TFLite ignored


def test_an_interrupted_search_resumes_from_its_last_batch(tmp_path):
    """Issue #37 item 4: the descents' state after a batch is kept beside the results and read back
    the same; a file the search cannot read means starting over, never a traceback."""
    from iree_matrix.tasks import flag_search as command

    prior = search.Prior({"im2col": 1.5}, frozenset(), frozenset({"im2col"}))
    d = search_descent.Walk(
        "mobilenet_v2", "3.13.0", (), prior, search.parse("im2col"), {"default", "im2col"}, []
    )
    d.steps.append(search.Step(2, "im2col", ("im2col+ukernels",), None))
    d.spent, d.done, d.pruned = 1, "budget spent", ["batch 2: nothing left out"]
    states = command._states({("mobilenet_v2", "3.13.0"): d})
    sittings = (("mobilenet_v2", "3.13.0", ("im2col", "im2col+ukernels")),)
    search_descent.write_progress(tmp_path, search_descent.Progress({"budget": 12}, 2, states, sittings))
    back = search_descent.read_progress(tmp_path)
    assert back is not None and back.batch == 2 and back.sittings == sittings
    fresh = search_descent.Walk("mobilenet_v2", "3.13.0", (), prior, Config(), {"default"}, [])
    command._restore({("mobilenet_v2", "3.13.0"): fresh}, back)
    assert (fresh.incumbent, fresh.tried, fresh.steps, fresh.spent, fresh.done, fresh.pruned) == (
        d.incumbent,
        d.tried,
        d.steps,
        d.spent,
        d.done,
        d.pruned,
    )
    # A batch without a winner no longer ends a descent: one stopped that way goes on when resumed.
    reopened = dict(states[0], done="local optimum")
    command._restore({("mobilenet_v2", "3.13.0"): fresh}, dataclasses.replace(back, descents=(reopened,)))
    assert fresh.done == ""
    (tmp_path / search_descent.PROGRESS).write_text("{not json")
    assert search_descent.read_progress(tmp_path) is None
    search_descent.clear_progress(tmp_path)
    assert (
        search_descent.read_progress(tmp_path) is None and not (tmp_path / search_descent.PROGRESS).exists()
    )


def test_a_batch_is_budgeted_by_what_a_measured_run_cost_not_by_the_batch_before():
    """--max-minutes: batch 1 measured every knob (here 4 runs in 120 s), a descent batch measures a
    few candidates; stored runs reused cost nothing, and a sitting that measured none keeps the
    estimate it had."""
    from iree_matrix.execution.summary import Summary
    from iree_matrix.tasks import flag_search as command

    def rec(job: str) -> Record:
        return Record(job, job.partition(":")[0], "m", "k", Status.OK, {}, {})

    jobs = ["compile:m/a", "run:m/a", "run:m/b", "run:m/c", "run:m/d", "run:m/e"]
    summary = Summary(records={j: rec(j) for j in jobs}, reused={"run:m/e"})
    assert command._per_run_seconds(120.0, summary) == 30.0
    stored = Summary(records={"run:m/e": rec("run:m/e")}, reused={"run:m/e"})
    assert command._per_run_seconds(5.0, stored, default=30.0) == 30.0
    assert command._per_run_seconds(5.0, stored) == 0.0


def test_batch_one_is_measured_again_unless_reused_or_named():
    """A finished search cleared its progress; `--reuse-batch-1` descends further from its stored
    batch 1 instead of re-timing every knob (65 minutes for the Whisper models here)."""
    from iree_matrix.tasks import flag_search as command

    assert command._batch_one_retime([], reuse=False) == ["run:*"]
    assert command._batch_one_retime([], reuse=True) == []
    assert command._batch_one_retime(["run:*default"], reuse=True) == ["run:*default"]


def test_merge_carries_each_search_s_descents(tmp_path):
    """`iree-matrix merge` publishes a search's walk with its records: search.json travels too."""
    first, second, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    for d in (first, second, out):
        d.mkdir()
    a = search_descent.Descent("mobilenet_v2", "3.13.0", "default → im2col", "im2col", 2, "local optimum")
    b = search_descent.Descent(
        "yolox_nano", "3.13.0", "default → channels-last", "channels-last", 4, "budget spent"
    )
    search_descent.write_descents(first, [a], {"budget": 4})
    search_descent.write_descents(second, [b], {"budget": 12})
    assert search_descent.merge_descents([first, second / "results.jsonl", tmp_path / "none"], out) == 2
    assert search_descent.read_descents(out) == [a, b]


def test_a_knob_that_pairs_with_the_incumbents_is_ranked_as_its_partner_and_null_knobs_come_last():
    """Issue #37: SLP alone was slower (0.91x) on MobileNetV2 3.13.0 and unrolling 1.30x faster; beside
    unrolling, SLP is as promising as unrolling (the by-hand win), and a knob whose module alone was
    default's (same module) is tried after every knob with a measured effect."""
    base = _cand("default", [40, 41, 42, 43, 44])
    rows = search.effects([
        base,
        _cand("loop-unrolling", [31, 31.5, 32, 32.5, 33]),
        _cand("slp-vectorization", [44, 45, 46, 47, 48]),
        _cand("O2", [41, 42, 42.5, 43, 44]),
        dataclasses.replace(_cand("transposes", [40, 41, 42, 43, 44]), module_sha256="x"),
    ])[("mobilenet_v2", "3.13.0")]  # fmt: skip
    same = "same module, no difference"
    rows = [dataclasses.replace(e, verdict=same) if e.candidate.name == "transposes" else e for e in rows]
    prior = search.Prior.of(rows)
    assert prior.null == {"transposes"}
    dims = search.space(("loop-unrolling", "slp-vectorization", "O2", "transposes"))
    ranked, _ = search.rank_batch(
        search.parse("loop-unrolling"), {"default", "loop-unrolling"}, dims, (), prior
    )
    names = [str(c) for c in ranked]
    assert names[0] == "loop-unrolling+slp-vectorization"
    assert names[-1] == "loop-unrolling+transposes"
    alone, _ = search.rank_batch(Config(), {"default"}, dims, (), prior)
    assert [str(c) for c in alone].index("slp-vectorization") > [str(c) for c in alone].index("O2")


def test_a_matrix_file_knob_names_its_pairs_and_an_unknown_pair_is_refused(tmp_path):
    knob = '[search.knobs.slp]\nflags = ["--iree-llvmcpu-slp-vectorization=true"]\n'
    good = spec_file.load(_knob_matrix(tmp_path, knob + 'pairs = ["loop-unrolling"]'))
    assert good.profiles["slp"].pairs == ("loop-unrolling",)
    with pytest.raises(UserError, match=r"search.knobs.slp.pairs = 'unrolling': no such knob"):
        spec_file.load(_knob_matrix(tmp_path, knob + 'pairs = ["unrolling"]'))


def test_the_polish_step_tries_each_knob_neutral_alone_beside_the_result():
    rows = search.effects([
        _cand("default", [20, 21, 22, 23, 24]),
        _cand("im2col", [14, 14.5, 15, 15.5, 16]),  # faster alone: in the result already
        _cand("vector-256", [19.5, 20.5, 21.5, 22.5, 23.5]),  # neutral alone: tried beside the result
        _cand("slp-vectorization", [20, 21, 22, 23, 24.5]),  # neutral too
        _cand("transposes", [25, 26, 27, 28, 29]),  # slower alone: not polished in
        _cand("O2", None, Status.FAIL),  # failed alone: never
    ])[("mobilenet_v2", "3.13.0")]  # fmt: skip
    prior = search.Prior.of(rows)
    dims = search.space(("O2", "im2col", "vector-256", "slp-vectorization", "transposes"))
    result = Config.of({"im2col"})
    tried = {r.candidate.name for r in rows} | {"im2col+slp-vectorization"}  # a batch tried SLP already
    assert [str(c) for c in search.polish(result, tried, dims, prior)] == ["im2col+vector-256"]
    assert search.polish(result, tried | {"im2col+vector-256"}, dims, prior) == []


def test_three_repetitions_give_no_verdict_not_within_noise():
    """#51: with 3 repetitions the search called a build 22x slower "within noise": no 90 % interval
    of a median exists for n = 3 (order statistics need 5)."""
    assert stats.MIN_REPETITIONS == 5
    records = [_run("m", "default", [10, 11, 12]), _run("m", "O2", [220, 230, 240])]
    rows = {e.candidate.name: e for e in search.effects(search.candidates(records))[("m", "3.13.0")]}
    assert rows["O2"].verdict == stats.TOO_FEW_REPETITIONS
    five = [_run("m", "default", [10, 11, 12, 13, 14]), _run("m", "O2", [220, 230, 240, 250, 260])]
    rows = {e.candidate.name: e for e in search.effects(search.candidates(five))[("m", "3.13.0")]}
    assert rows["O2"].verdict == "slower"


def test_the_search_raises_too_few_repetitions_saying_so_once(capsys):
    from iree_matrix.matrix import spec
    from iree_matrix.tasks import flag_search as command

    @dataclasses.dataclass(frozen=True)
    class Matrix:  # only [benchmark] is read
        benchmark: spec.Benchmark

    said: list[str] = []
    raised = command._enough_repetitions(Matrix(spec.Benchmark(repetitions=3)), said)  # type: ignore[arg-type]
    command._enough_repetitions(raised, said)
    command._enough_repetitions(Matrix(spec.Benchmark(repetitions=3)), said)  # type: ignore[arg-type]
    assert raised.benchmark.repetitions == 5
    err = capsys.readouterr().err.splitlines()  # a warning: on stderr
    assert err == [f"warning: {said[0]}"] and "repetitions = 3" in err[0] and "raised to 5" in err[0]


def test_batch_ones_step_needs_the_paired_confirmation_too():
    """#51: batch 1 was unpaired: it made O2 the incumbent ("faster 1.03x") where the paired
    `compare` said "no difference". Its step now passes the same paired confirmation."""
    from iree_matrix.tasks import flag_search as command

    records = [_run("m", "default", [20, 21, 22, 23, 24]), _run("m", "O2", [10, 11, 12, 13, 14])]
    table = search.effects(search.candidates(records))
    asked = []

    def refuse(incumbent, challenger):
        asked.append((incumbent.name, challenger.name))
        return False

    descent = command._start(table, ["m"], None, refuse)[("m", "3.13.0")]
    assert asked == [("default", "O2")]
    assert descent.incumbent == Config() and descent.steps[0].winner is None
    assert command._start(table, ["m"])[("m", "3.13.0")].steps[0].winner == "O2"
