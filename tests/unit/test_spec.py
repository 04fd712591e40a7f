"""Unit tests for matrix files: loading, cell expansion and validation errors (pure logic)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

import pytest

from iree_matrix.core.errors import SpecError, UserError
from iree_matrix.matrix import spec, spec_file
from iree_matrix.matrix.spec import Cell

MATRIX_DIR = Path(__file__).resolve().parents[2] / "matrix"

# The axes every matrix must name, in a small valid form.
BASE = {
    "python": '"3.11"',
    "torch": '"2.13.0"',
    "turbine": '"3.9.0"',
    "compiler": '["3.9.0", "3.13.0"]',
    "models": '"tiny_cnn"',
}


def _text(extra: str = "", **axes: Optional[str]) -> str:
    """TOML text: BASE with `axes` overriding (None drops the key), then `extra` (tables)."""
    values = {**BASE, **axes}
    lines = [f"{key} = {value}" for key, value in values.items() if value is not None]
    return "\n".join(lines) + "\n" + extra


def _load(tmp_path: Path, extra: str = "", **axes: Optional[str]) -> spec.MatrixSpec:
    path = tmp_path / "m.toml"
    path.write_text(_text(extra, **axes), encoding="utf-8")
    return spec_file.load(path)


def _error(tmp_path: Path, extra: str = "", **axes: Optional[str]) -> str:
    """The SpecError message for a bad matrix; checks it is one line naming the file."""
    path = tmp_path / "m.toml"
    path.write_text(_text(extra, **axes), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        spec_file.load(path)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith(f"{path}: "), message
    return message


def _cell(**fields: str) -> Cell:
    defaults = dict(
        model="tiny_cnn",
        python="3.11",
        torch="2.13.0",
        turbine="3.9.0",
        compiler="3.9.0",
        runtime="3.9.0",
        arch="x86_64",
        profile="default",
    )
    return Cell(**{**defaults, **fields})


def _pairs(matrix: spec.MatrixSpec) -> set[tuple[str, str]]:
    return {(c.compiler, c.runtime) for c in matrix.cells}


# --- the shipped matrices ---------------------------------------------------------------------


def test_default_matrix_has_the_promised_cells():
    # Every reference model on the newest release and its window neighbour, each module on both
    # runtimes; tiny_cnn through 3.11.0 too (the window's edge: the refusals). Minutes, not an hour.
    matrix = spec_file.load(MATRIX_DIR / "default.toml")
    models = ("tiny_cnn", "mobilenet_v2", "mobilenet_v3_small", "yolox_nano", "quartznet5x5", "whisper_tiny",
              "llama_stories15m")  # fmt: skip
    window, edge = ("3.12.0", "3.13.0"), ("3.11.0", "3.12.0", "3.13.0")
    expected = {_cell(model=m, compiler=c, runtime=r) for m in models for c in window for r in window}
    expected |= {_cell(model="tiny_cnn", compiler=c, runtime=r) for c in edge for r in edge}
    assert set(matrix.cells) == expected
    assert list(matrix.cells) == sorted(matrix.cells)
    assert set(matrix.profiles) == {"default"}
    # issues #97 (the budget, the cross runtime checked only) and #95 (advise's and the published threads)
    expected = spec.Benchmark(repetitions=5, seed=0, time_budget=1.0, time_cross_runtime=False, threads=2)
    assert matrix.benchmark == expected
    assert matrix.timeouts == {}  # every stage its own (stages.timeout)
    assert "3.13.0" in matrix.description


def test_the_cross_is_every_compiler_on_every_runtime():
    from iree_matrix.matrix import releases
    from tests.unit.fake_index import COMPILERS, FakeIndex

    matrix = spec_file.load(MATRIX_DIR / "cross.toml", resolver=releases.Resolver(None, query=FakeIndex()))
    runtimes = [v for v in COMPILERS if v != "3.7.1"]  # the fake index has no runtime 3.7.1
    expected = {
        _cell(model=m, compiler=c, runtime=r)
        for m in ("tiny_cnn", "mobilenet_v2")
        for c in COMPILERS
        for r in runtimes
    }
    assert set(matrix.cells) == expected


def test_smoke_matrix_is_two_same_and_two_cross_cells():
    matrix = spec_file.load(MATRIX_DIR / "smoke.toml")
    assert {c.model for c in matrix.cells} == {"tiny_cnn"}
    assert _pairs(matrix) == {
        ("3.9.0", "3.9.0"),
        ("3.13.0", "3.13.0"),
        ("3.9.0", "3.13.0"),
        ("3.13.0", "3.9.0"),
    }
    assert len(matrix.cells) == 4
    assert (matrix.benchmark.repetitions, matrix.benchmark.threads) == (5, 2)  # the default's timing
    assert {c.arch for c in matrix.cells} == {"x86_64"}  # default axis value
    assert {c.profile for c in matrix.cells} == {"default"}


# --- expansion --------------------------------------------------------------------------------


# A matrix (its axes over BASE, its tables) -> the (compiler, runtime) pairs of its cells.
PAIRS = {
    "runtime-same": ({"runtime": '"same"'}, "", {("3.9.0", "3.9.0"), ("3.13.0", "3.13.0")}),
    "runtime-defaults-to-same": ({}, "", {("3.9.0", "3.9.0"), ("3.13.0", "3.13.0")}),
    "runtime-list-crosses": (
        {"runtime": '["3.9.0", "3.13.0"]'},
        "",
        {("3.9.0", "3.9.0"), ("3.9.0", "3.13.0"), ("3.13.0", "3.9.0"), ("3.13.0", "3.13.0")},
    ),
    "runtime-list-mixes-same-and-versions": (
        {"runtime": '["same", "3.8.0"]'},
        "",
        {("3.9.0", "3.9.0"), ("3.13.0", "3.13.0"), ("3.9.0", "3.8.0"), ("3.13.0", "3.8.0")},
    ),
    "exclude-runtime-same-is-the-compilers-own": (
        {"runtime": '["3.9.0", "3.13.0"]'},
        '[[exclude]]\nruntime = "same"\n',
        {("3.9.0", "3.13.0"), ("3.13.0", "3.9.0")},
    ),
    # the exclude removes 3.9.0, the include puts one 3.9.0 cell back: includes are not excluded
    "excludes-apply-before-includes": (
        {},
        '[[include]]\ncompiler = "3.9.0"\n\n[[exclude]]\ncompiler = "3.9.0"\n',
        {("3.9.0", "3.9.0"), ("3.13.0", "3.13.0")},
    ),
    "include-without-runtime-takes-the-matrixs": (
        {},
        '[[include]]\ncompiler = "3.8.0"\n',
        {("3.9.0", "3.9.0"), ("3.13.0", "3.13.0"), ("3.8.0", "3.8.0")},
    ),
}


@pytest.mark.parametrize("case", PAIRS)
def test_the_compiler_runtime_pairs(tmp_path, case):
    axes, extra, pairs = PAIRS[case]
    assert _pairs(_load(tmp_path, extra, **axes)) == pairs


def test_every_axis_multiplies(tmp_path):
    matrix = _load(
        tmp_path,
        python='["3.10", "3.11"]',
        torch='["2.12.0", "2.13.0"]',
        models='["tiny_cnn", "mobilenet_v2"]',
        profiles='["default", "generic"]',
    )
    assert len(matrix.cells) == 2 * 2 * 2 * 2 * 2
    assert set(matrix.profiles) == {"default", "generic"}


def test_exclude_removes_matching_cells(tmp_path):
    matrix = _load(tmp_path, models='["tiny_cnn", "mobilenet_v2"]', extra='[[exclude]]\ncompiler = "3.9.0"\n')
    assert {c.compiler for c in matrix.cells} == {"3.13.0"}
    assert len(matrix.cells) == 2


def test_exclude_needs_every_named_axis_to_match(tmp_path):
    extra = '[[exclude]]\ncompiler = "3.9.0"\nmodels = "mobilenet_v2"\n'
    matrix = _load(tmp_path, models='["tiny_cnn", "mobilenet_v2"]', extra=extra)
    assert {(c.model, c.compiler) for c in matrix.cells} == {
        ("tiny_cnn", "3.9.0"),
        ("tiny_cnn", "3.13.0"),
        ("mobilenet_v2", "3.13.0"),
    }


def test_exclude_list_matches_any_value(tmp_path):
    matrix = _load(
        tmp_path,
        compiler='["3.8.0", "3.9.0", "3.13.0"]',
        extra='[[exclude]]\ncompiler = ["3.8.0", "3.13.0"]\n',
    )
    assert {c.compiler for c in matrix.cells} == {"3.9.0"}


def test_include_adds_cells_with_unnamed_axes_from_the_matrix(tmp_path):
    extra = '[[include]]\ncompiler = "3.8.0"\nruntime = ["3.9.0", "3.13.0"]\n'
    matrix = _load(tmp_path, models='["tiny_cnn", "mobilenet_v2"]', extra=extra)
    added = {c for c in matrix.cells if c.compiler == "3.8.0"}
    assert {(c.model, c.runtime) for c in added} == {
        ("tiny_cnn", "3.9.0"),
        ("tiny_cnn", "3.13.0"),
        ("mobilenet_v2", "3.9.0"),
        ("mobilenet_v2", "3.13.0"),
    }
    assert all(c.python == "3.11" and c.torch == "2.13.0" and c.arch == "x86_64" for c in added)
    assert len(matrix.cells) == 4 + 4


def test_include_can_use_a_model_outside_the_models_axis(tmp_path):
    matrix = _load(tmp_path, extra='[[include]]\nmodels = "mobilenet_v2"\ncompiler = "3.13.0"\n')
    assert {(c.model, c.compiler) for c in matrix.cells} == {
        ("tiny_cnn", "3.9.0"),
        ("tiny_cnn", "3.13.0"),
        ("mobilenet_v2", "3.13.0"),
    }


def test_duplicate_cells_collapse(tmp_path):
    extra = '[[include]]\ncompiler = "3.9.0"\n\n[[include]]\ncompiler = ["3.9.0", "3.9.0"]\n'
    matrix = _load(
        tmp_path, compiler='["3.9.0", "3.13.0", "3.9.0"]', runtime='["same", "3.9.0"]', extra=extra
    )
    assert len(matrix.cells) == len(set(matrix.cells))
    assert _pairs(matrix) == {("3.9.0", "3.9.0"), ("3.13.0", "3.13.0"), ("3.13.0", "3.9.0")}
    assert len(matrix.cells) == 3


def test_defaults_for_timeouts_benchmark_and_description(tmp_path):
    matrix = _load(tmp_path)
    assert matrix.timeouts == {}
    assert matrix.benchmark == spec.Benchmark(repetitions=5, seed=0)
    assert matrix.description == ""
    assert matrix.path == tmp_path / "m.toml"


def test_timeouts_and_benchmark_parsed(tmp_path):
    extra = "[timeouts]\ncompile = 60\nrun = 1.5\n\n[benchmark]\nrepetitions = 2\nseed = 7\n"
    matrix = _load(tmp_path, extra=extra, description='"hello"')
    assert matrix.timeouts == {"compile": 60.0, "run": 1.5}
    assert isinstance(matrix.timeouts["compile"], float)
    assert matrix.benchmark == spec.Benchmark(repetitions=2, seed=7)
    assert matrix.description == "hello"


# --- user profiles ----------------------------------------------------------------------------


def test_user_profile_parsed(tmp_path):
    extra = (
        "[profile.tuned]\n"
        'target_cpu = "znver4"\n'
        'opt_level = "O3"\n'
        'flags = ["--iree-opt-data-tiling", "--iree-llvmcpu-enable-ukernels=all"]\n'
        'description = "zen 4"\n'
    )
    matrix = _load(tmp_path, profiles='["default", "tuned"]', extra=extra)
    tuned = matrix.profiles["tuned"]
    assert tuned.name == "tuned"
    assert tuned.target_cpu == "znver4"
    assert tuned.opt_level == "O3"
    assert tuned.flags == ("--iree-opt-data-tiling", "--iree-llvmcpu-enable-ukernels=all")
    assert tuned.description == "zen 4"
    assert {c.profile for c in matrix.cells} == {"default", "tuned"}


def test_user_profile_empty_target_cpu_means_generic(tmp_path):
    matrix = _load(tmp_path, profiles='"plain"', extra='[profile.plain]\ntarget_cpu = ""\n')
    plain = matrix.profiles["plain"]
    assert plain.target_cpu is None
    assert plain.opt_level is None
    assert plain.flags == ()


def test_user_profile_defaults_to_host_cpu(tmp_path):
    matrix = _load(tmp_path, profiles='"p"', extra='[profile.p]\ndescription = "x"\n')
    assert matrix.profiles["p"].target_cpu == "host"


def test_used_builtin_profiles_and_every_profile_the_file_defines_are_kept(tmp_path):
    # A defined profile the axis does not use stays available to `tune --profiles`.
    matrix = _load(tmp_path, extra='[profile.unused]\ntarget_cpu = ""\n')
    assert set(matrix.profiles) == {"default", "unused"}
    assert {c.profile for c in matrix.cells} == {"default"}
    assert {c.profile for c in spec.with_profiles(matrix, ["unused"]).cells} == {"unused"}


# --- validation errors: one line, file, key, value --------------------------------------------


def test_spec_error_is_a_user_error():
    assert issubclass(SpecError, UserError)
    assert SpecError.exit_code == 2


def _bad(extra: str, *words: str, **axes: str) -> tuple[str, tuple[str, ...], dict[str, str]]:
    return extra, words, axes


# A bad matrix (its tables, its axes over BASE) -> the words its one-line error holds: the key, the
# value and what is expected (`_error` checks it is one line naming the file).
BAD = {
    "opt-level": _bad(
        '[profile.p]\nopt_level = "O4"\n', "profile.p.opt_level", "'O4'", "O0, O1, O2, O3", profiles='"p"'
    ),
    "profile-flags-without-dashes": _bad(
        '[profile.p]\nflags = ["iree-opt-data-tiling"]\n',
        "profile.p.flags",
        "'iree-opt-data-tiling'",
        profiles='"p"',
    ),
    "profile-flags-not-a-list": _bad(
        '[profile.p]\nflags = "--x"\n', "profile.p.flags = '--x'", profiles='"p"'
    ),
    "profile-target-cpu-not-a-string": _bad(
        "[profile.p]\ntarget_cpu = 4\n", "profile.p.target_cpu = 4", profiles='"p"'
    ),
    "unknown-top-level-key": _bad("", "unknown key 'compilers'", "known:", "compiler", compilers='"3.9.0"'),
    "unknown-key-with-a-newline": _bad('"a\\nb" = 1\n', "unknown key 'a\\nb'"),
    "unknown-key-in-an-include": _bad('[[include]]\nmodel = "tiny_cnn"\n', "unknown key 'include[0].model'"),
    "unknown-key-in-the-second-exclude": _bad(
        '[[exclude]]\ncompiler = "3.9.0"\n\n[[exclude]]\ncompilr = "3.9.0"\n',
        "unknown key 'exclude[1].compilr'",
    ),
    "unknown-key-in-a-profile": _bad('[profile.p]\ncpu = "host"\n', "unknown key 'profile.p.cpu'"),
    "unknown-key-in-benchmark": _bad("[benchmark]\nreps = 3\n", "unknown key 'benchmark.reps'"),
    "malformed-version-in-a-list": _bad("", "compiler = '3.13.x'", compiler='["3.9.0", "3.13.x"]'),
    "malformed-version-in-an-include": _bad(
        '[[include]]\ncompiler = "3.9.x"\n', "include[0].compiler = '3.9.x'"
    ),
    "malformed-runtime-in-an-exclude": _bad(
        '[[exclude]]\nruntime = "newest"\n', "exclude[0].runtime = 'newest'"
    ),
    "unknown-model-lists-the-builtins": _bad(
        "",
        "models = 'resnet50'",
        "unknown model",
        "mobilenet_v2",
        "quartznet5x5",
        "tiny_cnn",
        models='["tiny_cnn", "resnet50"]',
    ),
    "unknown-model-in-an-exclude": _bad(
        '[[exclude]]\nmodels = "resnet50"\n', "exclude[0].models = 'resnet50'"
    ),
    "unknown-profile": _bad(
        "",
        "profiles = 'fast'",
        "unknown profile",
        "default, generic, O2",
        "[profile.NAME]",
        profiles='"fast"',
    ),
    "unknown-profile-in-an-include": _bad('[[include]]\nprofiles = "fast"\n', "include[0].profiles = 'fast'"),
    "unsupported-arch": _bad(
        "", "arch = 'riscv64'", "unknown architecture", "x86_64, aarch64, armv6", arch='"riscv64"'
    ),
    "aarch64-needs-a-board-cpu": _bad(
        "", "aarch64:cortex-a53 | aarch64:cortex-a72 | aarch64:cortex-a76", arch='"aarch64"'
    ),
    "aarch64-board-cpu-unknown": _bad("", "arch = 'aarch64:cortex-a99'", arch='"aarch64:cortex-a99"'),
    "compiler-not-a-string": _bad("", "compiler = 3.9:", "expected a string", compiler="3.9"),
    "python-not-a-string": _bad("", "python = 3.11:", "expected a string", python="3.11"),
    "torch-not-a-string": _bad("", "torch = 2:", "expected a string", torch="2"),
    "not-a-string-in-a-list": _bad(
        "", "compiler = 3.9:", 'quote versions: "3.9.0"', compiler='["3.9.0", 3.9]'
    ),
    "empty-list-in-an-include": _bad("[[include]]\ncompiler = []\n", "include[0].compiler = []"),
    "empty-include-table": _bad("[[include]]\n", "include[0] is empty"),
    "include-not-an-array-of-tables": _bad(
        '[include]\ncompiler = "3.9.0"\n', "include = {'compiler': '3.9.0'}", "[[include]]"
    ),
    "exclude-removes-every-cell": _bad('[[exclude]]\nmodels = "tiny_cnn"\n', "exclude", "every cell"),
    "timeouts-not-a-table": _bad("", "timeouts = 5:", timeouts="5"),
    "dispatches-glob-without-profile": _bad(
        '[benchmark]\ndispatches = ["tiny_cnn/default", "tiny_cnn"]\n',
        "benchmark.dispatches = 'tiny_cnn':",
        "<model>/<profile>",
    ),
    "dispatches-empty": _bad("[benchmark]\ndispatches = []\n", "benchmark.dispatches"),
    "dispatches-not-strings": _bad("[benchmark]\ndispatches = [3]\n", "benchmark.dispatches"),
    "dispatches-a-number": _bad("[benchmark]\ndispatches = 3\n", "benchmark.dispatches"),
    # issue 29: accepted at plan time, should not be
    "profile-name-with-a-newline": _bad(
        '[profile."fast\\nx"]\nflags = []\n', "profile = 'fast\\nx'", "letters, digits"
    ),
    "profile-name-with-a-space": _bad('[profile."a b"]\nflags = []\n', "profile = 'a b'", "letters, digits"),
    "profile-name-with-a-slash": _bad('[profile."a/b"]\nflags = []\n', "profile = 'a/b'", "letters, digits"),
    "threads-bounded": _bad(
        "[benchmark]\nthreads = 99999999999999999999\n", "benchmark.threads", "0 to 1024"
    ),
    "repetitions-bounded": _bad(
        "[benchmark]\nrepetitions = 100000000000\n", "benchmark.repetitions", "1 to 10000"
    ),
    "seed-bounded": _bad("[benchmark]\nseed = 99999999999\n", "benchmark.seed", "0 to 4294967295"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_matrix_is_one_line_naming_key_and_value(tmp_path, case):
    extra, words, axes = BAD[case]
    message = _error(tmp_path, extra, **axes)
    for word in words:
        assert word in message, message


@pytest.mark.parametrize("axis", ["torch", "turbine", "compiler", "runtime"])
@pytest.mark.parametrize("bad", ["3.9.x", "latest"])
def test_malformed_version(tmp_path, axis, bad):
    message = _error(tmp_path, **{axis: f'"{bad}"'})
    assert f"{axis} = '{bad}'" in message
    assert "not a version" in message


@pytest.mark.parametrize("bad", ["3", "py3.11", "3.11.7", "2.7", "3.11\\n"])
def test_bad_python(tmp_path, bad):
    message = _error(tmp_path, python=f'"{bad}"')
    assert message.split(": ", 1)[1].startswith("python = ")
    assert repr(bad.replace("\\n", "\n")) in message
    assert "Python minor version" in message


def test_target_spellings_are_one_cell_and_armv6_defaults_to_the_pi_zero_cpu(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(
        'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.9.0"\n'
        'models = "tiny_cnn"\narch = ["aarch64:cortex-a72", "aarch64-cortex-a72", "armv6", "x86_64"]\n'
    )
    matrix = spec_file.load(path)
    assert sorted({c.arch for c in matrix.cells}) == ["aarch64-cortex-a72", "armv6-arm1176jzf-s", "x86_64"]


@pytest.mark.parametrize("axis", ["compiler", "models", "python", "runtime"])
def test_empty_list(tmp_path, axis):
    message = _error(tmp_path, **{axis: "[]"})
    assert f"{axis} = []" in message
    assert "non-empty list" in message


@pytest.mark.parametrize("axis", ["python", "torch", "turbine", "compiler", "models"])
def test_missing_required_axis(tmp_path, axis):
    message = _error(tmp_path, **{axis: None})
    assert f"missing key '{axis}'" in message


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("broken.toml", 'python = "3.11\ncompiler = [\n', "not valid TOML: "),
        ("nope.toml", None, "no such matrix file"),
        ("", None, "a directory, not a regular file"),  # tmp_path itself
    ],
)
def test_a_matrix_file_that_cannot_be_read_is_one_line_naming_it(tmp_path, name, text, said):
    path = tmp_path / name
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        spec_file.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: {said}"), message


@pytest.mark.parametrize(
    ("value", "shown"),
    [("-5", "-5"), ("0", "0"), ("true", "True"), ('"60"', "'60'"), ("nan", "nan"), ("inf", "inf")],
)
def test_bad_timeout(tmp_path, value, shown):
    message = _error(tmp_path, extra=f"[timeouts]\ncompile = {value}\n")
    assert f"timeouts.compile = {shown}:" in message
    assert "positive" in message


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("repetitions = 0", "benchmark.repetitions = 0:"),
        ("repetitions = 2.5", "benchmark.repetitions = 2.5:"),
        ("repetitions = true", "benchmark.repetitions = True:"),
        ("seed = -1", "benchmark.seed = -1:"),
    ],
)
def test_bad_benchmark(tmp_path, body, shown):
    message = _error(tmp_path, extra=f"[benchmark]\n{body}\n")
    assert shown in message
    assert "expected an integer from" in message


# --- [benchmark] dispatches -------------------------------------------------------------------


def test_benchmark_dispatches_default_to_none(tmp_path):
    assert _load(tmp_path).benchmark.globs("dispatches") == ()


def test_benchmark_dispatches_globs_parsed(tmp_path):
    extra = '[benchmark]\ndispatches = ["tiny_cnn/default", "tiny_*/O?"]\n'
    matrix = _load(tmp_path, extra=extra)
    assert matrix.benchmark.globs("dispatches") == ("tiny_cnn/default", "tiny_*/O?")


def test_benchmark_dispatches_may_be_one_string(tmp_path):
    matrix = _load(tmp_path, extra='[benchmark]\ndispatches = "tiny_cnn/*"\n')
    assert matrix.benchmark.globs("dispatches") == ("tiny_cnn/*",)


@pytest.mark.parametrize(
    ("unit", "profile", "expected"),
    [
        ("mobilenet_v2", "default", True),
        ("mobilenet_v3_small", "default", True),
        ("mobilenet_v2", "O3", False),
        ("tiny_cnn", "generic", True),
        ("tiny_cnn.encoder", "generic", False),  # a function's unit is its own name
        ("tiny_cnn", "default", False),
    ],
)
def test_profiles_dispatches_matches_unit_slash_profile(unit, profile, expected):
    benchmark = spec.Benchmark(opt_in=(("dispatches", ("mobilenet_*/default", "tiny_cnn/generic")),))
    assert benchmark.opts_in("dispatches", unit, profile) is expected


def test_profiles_dispatches_without_globs_is_false():
    assert spec.Benchmark().opts_in("dispatches", "tiny_cnn", "default") is False


# --- with_profiles (iree-matrix tune) ---------------------------------------------------------


def test_with_profiles_replaces_the_profile_axis(tmp_path):
    matrix = _load(tmp_path)
    tuned = spec.with_profiles(matrix, ["default", "generic", "O3"])
    assert {c.profile for c in tuned.cells} == {"default", "generic", "O3"}
    assert set(tuned.profiles) == {"default", "generic", "O3"}
    assert tuned.profiles["O3"].opt_level == "O3"
    assert len(tuned.cells) == 3 * len(matrix.cells)
    assert {dataclasses.replace(c, profile="default") for c in tuned.cells} == set(matrix.cells)


def test_with_profiles_dedupes_cells_that_differed_only_by_profile(tmp_path):
    matrix = _load(tmp_path, profiles='["default", "generic", "O2"]')
    assert len(matrix.cells) == 2 * 3
    tuned = spec.with_profiles(matrix, ["O3", "ukernels"])
    assert len(tuned.cells) == len(set(tuned.cells)) == 2 * 2
    assert {c.profile for c in tuned.cells} == {"O3", "ukernels"}
    assert set(tuned.profiles) == {"O3", "ukernels"}


def test_with_profiles_keeps_the_matrixs_own_profiles(tmp_path):
    matrix = _load(tmp_path, profiles='"mine"', extra='[profile.mine]\nopt_level = "O1"\n')
    tuned = spec.with_profiles(matrix, ["mine", "default"])
    assert tuned.profiles["mine"].opt_level == "O1"
    assert {c.profile for c in tuned.cells} == {"mine", "default"}


def test_with_profiles_unknown_profile_is_named_with_the_known_ones(tmp_path):
    matrix = _load(tmp_path)
    with pytest.raises(SpecError) as info:
        spec.with_profiles(matrix, ["default", "turbo"])
    message = str(info.value)
    assert "unknown profile turbo " in message
    assert "known: " in message
    known = message.split("known: ", 1)[1].split(";", 1)[0]
    assert known == ", ".join(sorted(spec.BUILTIN_PROFILES))
    assert "no-data-tiling" in known
    assert str(matrix.path) in message


def test_with_profiles_needs_at_least_one(tmp_path):
    with pytest.raises(SpecError) as info:
        spec.with_profiles(_load(tmp_path), [])
    assert "(none given)" in str(info.value)


# --- issue 29: accepted at plan time, should not be ------------------------------------------


def test_a_model_name_that_cannot_be_part_of_a_job_id_is_refused(tmp_path):
    model = tmp_path / "my net.py"
    model.write_text("def build():\n    pass\n")
    message = _error(tmp_path, models='"my net.py:build"')
    assert "models = 'my net.py:build'" in message and "letters, digits" in message


def test_redefining_a_built_in_profile_is_allowed_and_named(tmp_path):
    matrix = _load(tmp_path, '[profile.default]\ntarget_cpu = ""\n')
    assert matrix.redefined == ("default",)
    assert matrix.profiles["default"].target_cpu is None
    assert _load(tmp_path).redefined == ()
