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
    assert matrix.benchmark == spec.Benchmark(repetitions=5, seed=0)
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
    assert matrix.benchmark.repetitions == 3
    assert {c.arch for c in matrix.cells} == {"x86_64"}  # default axis value
    assert {c.profile for c in matrix.cells} == {"default"}


# --- expansion --------------------------------------------------------------------------------


def test_runtime_same_pairs_each_compiler_with_itself(tmp_path):
    matrix = _load(tmp_path, runtime='"same"')
    assert _pairs(matrix) == {("3.9.0", "3.9.0"), ("3.13.0", "3.13.0")}


def test_runtime_defaults_to_same(tmp_path):
    assert _pairs(_load(tmp_path)) == {("3.9.0", "3.9.0"), ("3.13.0", "3.13.0")}


def test_explicit_runtime_list_crosses_compiler_and_runtime(tmp_path):
    matrix = _load(tmp_path, runtime='["3.9.0", "3.13.0"]')
    assert _pairs(matrix) == {
        ("3.9.0", "3.9.0"),
        ("3.9.0", "3.13.0"),
        ("3.13.0", "3.9.0"),
        ("3.13.0", "3.13.0"),
    }


def test_runtime_list_may_mix_same_and_versions(tmp_path):
    matrix = _load(tmp_path, runtime='["same", "3.8.0"]')
    assert _pairs(matrix) == {
        ("3.9.0", "3.9.0"),
        ("3.13.0", "3.13.0"),
        ("3.9.0", "3.8.0"),
        ("3.13.0", "3.8.0"),
    }


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


def test_exclude_runtime_same_means_the_compilers_own(tmp_path):
    matrix = _load(tmp_path, runtime='["3.9.0", "3.13.0"]', extra='[[exclude]]\nruntime = "same"\n')
    assert _pairs(matrix) == {("3.9.0", "3.13.0"), ("3.13.0", "3.9.0")}


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


def test_include_without_runtime_uses_the_matrix_runtime(tmp_path):
    matrix = _load(tmp_path, extra='[[include]]\ncompiler = "3.8.0"\n')
    assert ("3.8.0", "3.8.0") in _pairs(matrix)


def test_include_can_use_a_model_outside_the_models_axis(tmp_path):
    matrix = _load(tmp_path, extra='[[include]]\nmodels = "mobilenet_v2"\ncompiler = "3.13.0"\n')
    assert {(c.model, c.compiler) for c in matrix.cells} == {
        ("tiny_cnn", "3.9.0"),
        ("tiny_cnn", "3.13.0"),
        ("mobilenet_v2", "3.13.0"),
    }


def test_excludes_apply_before_includes(tmp_path):
    # The exclude removes 3.9.0, the include puts one 3.9.0 cell back: includes are not excluded.
    extra = '[[include]]\ncompiler = "3.9.0"\n\n[[exclude]]\ncompiler = "3.9.0"\n'
    matrix = _load(tmp_path, extra=extra)
    assert _pairs(matrix) == {("3.9.0", "3.9.0"), ("3.13.0", "3.13.0")}


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


def test_bad_opt_level(tmp_path):
    message = _error(tmp_path, profiles='"p"', extra='[profile.p]\nopt_level = "O4"\n')
    assert "profile.p.opt_level" in message
    assert "'O4'" in message
    assert "O0, O1, O2, O3" in message


def test_profile_flags_must_start_with_dashes(tmp_path):
    message = _error(tmp_path, profiles='"p"', extra='[profile.p]\nflags = ["iree-opt-data-tiling"]\n')
    assert "profile.p.flags" in message
    assert "'iree-opt-data-tiling'" in message


def test_profile_flags_must_be_a_list(tmp_path):
    message = _error(tmp_path, profiles='"p"', extra='[profile.p]\nflags = "--x"\n')
    assert "profile.p.flags = '--x'" in message


def test_profile_target_cpu_must_be_a_string(tmp_path):
    message = _error(tmp_path, profiles='"p"', extra="[profile.p]\ntarget_cpu = 4\n")
    assert "profile.p.target_cpu = 4" in message


# --- validation errors: one line, file, key, value --------------------------------------------


def test_spec_error_is_a_user_error():
    assert issubclass(SpecError, UserError)
    assert SpecError.exit_code == 2


def test_unknown_top_level_key(tmp_path):
    message = _error(tmp_path, compilers='"3.9.0"')
    assert "unknown key 'compilers'" in message
    assert "known:" in message and "compiler" in message


def test_unknown_key_with_a_newline_still_gives_one_line(tmp_path):
    message = _error(tmp_path, extra='"a\\nb" = 1\n')
    assert "unknown key 'a\\nb'" in message


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('[[include]]\nmodel = "tiny_cnn"\n', "include[0].model"),
        ('[[exclude]]\ncompiler = "3.9.0"\n\n[[exclude]]\ncompilr = "3.9.0"\n', "exclude[1].compilr"),
        ('[profile.p]\ncpu = "host"\n', "profile.p.cpu"),
        ("[benchmark]\nreps = 3\n", "benchmark.reps"),
    ],
)
def test_unknown_key_in_a_table(tmp_path, extra, key):
    message = _error(tmp_path, extra=extra)
    assert f"unknown key '{key}'" in message


@pytest.mark.parametrize("axis", ["torch", "turbine", "compiler", "runtime"])
@pytest.mark.parametrize("bad", ["3.9.x", "latest"])
def test_malformed_version(tmp_path, axis, bad):
    message = _error(tmp_path, **{axis: f'"{bad}"'})
    assert f"{axis} = '{bad}'" in message
    assert "not a version" in message


def test_malformed_version_in_a_list_names_the_bad_item(tmp_path):
    message = _error(tmp_path, compiler='["3.9.0", "3.13.x"]')
    assert "compiler = '3.13.x'" in message


def test_malformed_version_in_an_include(tmp_path):
    message = _error(tmp_path, extra='[[include]]\ncompiler = "3.9.x"\n')
    assert "include[0].compiler = '3.9.x'" in message


def test_malformed_runtime_in_an_exclude(tmp_path):
    message = _error(tmp_path, extra='[[exclude]]\nruntime = "newest"\n')
    assert "exclude[0].runtime = 'newest'" in message


@pytest.mark.parametrize("bad", ["3", "py3.11", "3.11.7", "2.7", "3.11\\n"])
def test_bad_python(tmp_path, bad):
    message = _error(tmp_path, python=f'"{bad}"')
    assert message.split(": ", 1)[1].startswith("python = ")
    assert repr(bad.replace("\\n", "\n")) in message
    assert "Python minor version" in message


def test_unknown_model_lists_the_builtins(tmp_path):
    message = _error(tmp_path, models='["tiny_cnn", "resnet50"]')
    assert "models = 'resnet50'" in message
    assert "unknown model" in message
    for builtin in ("mobilenet_v2", "quartznet5x5", "tiny_cnn"):
        assert builtin in message


def test_unknown_model_in_an_exclude(tmp_path):
    message = _error(tmp_path, extra='[[exclude]]\nmodels = "resnet50"\n')
    assert "exclude[0].models = 'resnet50'" in message


def test_unknown_profile(tmp_path):
    message = _error(tmp_path, profiles='"fast"')
    assert "profiles = 'fast'" in message
    assert "unknown profile" in message
    assert "default, generic, O2" in message
    assert "[profile.NAME]" in message


def test_unknown_profile_in_an_include(tmp_path):
    message = _error(tmp_path, extra='[[include]]\nprofiles = "fast"\n')
    assert "include[0].profiles = 'fast'" in message


def test_unsupported_arch(tmp_path):
    message = _error(tmp_path, arch='"riscv64"')
    assert "arch = 'riscv64'" in message
    assert "unknown architecture" in message
    assert "x86_64, aarch64, armv6" in message


def test_board_cpu_is_required_for_aarch64_and_must_be_known(tmp_path):
    message = _error(tmp_path, arch='"aarch64"')
    assert "aarch64:cortex-a53 | aarch64:cortex-a72 | aarch64:cortex-a76" in message
    message = _error(tmp_path, arch='"aarch64:cortex-a99"')
    assert "arch = 'aarch64:cortex-a99'" in message


def test_target_spellings_are_one_cell_and_armv6_defaults_to_the_pi_zero_cpu(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text(
        'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.9.0"\n'
        'models = "tiny_cnn"\narch = ["aarch64:cortex-a72", "aarch64-cortex-a72", "armv6", "x86_64"]\n'
    )
    matrix = spec_file.load(path)
    assert sorted({c.arch for c in matrix.cells}) == ["aarch64-cortex-a72", "armv6-arm1176jzf-s", "x86_64"]


@pytest.mark.parametrize(("axis", "value"), [("compiler", "3.9"), ("python", "3.11"), ("torch", "2")])
def test_non_string_value(tmp_path, axis, value):
    message = _error(tmp_path, **{axis: value})
    assert f"{axis} = {value}:" in message
    assert "expected a string" in message


def test_non_string_value_in_a_list(tmp_path):
    message = _error(tmp_path, compiler='["3.9.0", 3.9]')
    assert "compiler = 3.9:" in message
    assert 'quote versions: "3.9.0"' in message


@pytest.mark.parametrize("axis", ["compiler", "models", "python", "runtime"])
def test_empty_list(tmp_path, axis):
    message = _error(tmp_path, **{axis: "[]"})
    assert f"{axis} = []" in message
    assert "non-empty list" in message


def test_empty_list_in_an_include(tmp_path):
    message = _error(tmp_path, extra="[[include]]\ncompiler = []\n")
    assert "include[0].compiler = []" in message


def test_empty_include_table(tmp_path):
    message = _error(tmp_path, extra="[[include]]\n")
    assert "include[0] is empty" in message


def test_include_must_be_an_array_of_tables(tmp_path):
    message = _error(tmp_path, extra='[include]\ncompiler = "3.9.0"\n')
    assert "include = {'compiler': '3.9.0'}" in message
    assert "[[include]]" in message


def test_exclude_removing_everything(tmp_path):
    message = _error(tmp_path, extra='[[exclude]]\nmodels = "tiny_cnn"\n')
    assert "exclude" in message
    assert "every cell" in message


@pytest.mark.parametrize("axis", ["python", "torch", "turbine", "compiler", "models"])
def test_missing_required_axis(tmp_path, axis):
    message = _error(tmp_path, **{axis: None})
    assert f"missing key '{axis}'" in message


def test_invalid_toml(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('python = "3.11\ncompiler = [\n', encoding="utf-8")
    with pytest.raises(SpecError) as info:
        spec_file.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: not valid TOML: ")


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    with pytest.raises(SpecError) as info:
        spec_file.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: no such matrix file")


def test_unreadable_path_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError) as info:
        spec_file.load(tmp_path)  # a directory
    assert str(info.value).startswith(f"{tmp_path}: a directory, not a regular file")


@pytest.mark.parametrize(
    ("value", "shown"),
    [("-5", "-5"), ("0", "0"), ("true", "True"), ('"60"', "'60'"), ("nan", "nan"), ("inf", "inf")],
)
def test_bad_timeout(tmp_path, value, shown):
    message = _error(tmp_path, extra=f"[timeouts]\ncompile = {value}\n")
    assert f"timeouts.compile = {shown}:" in message
    assert "positive" in message


def test_timeouts_must_be_a_table(tmp_path):
    message = _error(tmp_path, timeouts="5")
    assert "timeouts = 5:" in message


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
    assert _load(tmp_path).benchmark.dispatches == ()


def test_benchmark_dispatches_globs_parsed(tmp_path):
    extra = '[benchmark]\ndispatches = ["tiny_cnn/default", "tiny_*/O?"]\n'
    matrix = _load(tmp_path, extra=extra)
    assert matrix.benchmark.dispatches == ("tiny_cnn/default", "tiny_*/O?")


def test_benchmark_dispatches_may_be_one_string(tmp_path):
    matrix = _load(tmp_path, extra='[benchmark]\ndispatches = "tiny_cnn/*"\n')
    assert matrix.benchmark.dispatches == ("tiny_cnn/*",)


def test_benchmark_dispatches_glob_needs_model_and_profile(tmp_path):
    message = _error(tmp_path, extra='[benchmark]\ndispatches = ["tiny_cnn/default", "tiny_cnn"]\n')
    assert "benchmark.dispatches = 'tiny_cnn':" in message
    assert "<model>/<profile>" in message


@pytest.mark.parametrize("value", ["[]", "[3]", "3"])
def test_benchmark_dispatches_must_be_strings(tmp_path, value):
    message = _error(tmp_path, extra=f"[benchmark]\ndispatches = {value}\n")
    assert "benchmark.dispatches" in message


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
    assert benchmark.profiles_dispatches(unit, profile) is expected


def test_profiles_dispatches_without_globs_is_false():
    assert spec.Benchmark().profiles_dispatches("tiny_cnn", "default") is False


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


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ('[profile."fast\\nx"]\nflags = []\n', ["profile = 'fast\\nx'", "letters, digits"]),
        ('[profile."a b"]\nflags = []\n', ["profile = 'a b'", "letters, digits"]),
        ('[profile."a/b"]\nflags = []\n', ["profile = 'a/b'", "letters, digits"]),
    ],
)
def test_a_name_that_cannot_be_part_of_a_job_id_is_refused(tmp_path, extra, words):
    message = _error(tmp_path, extra)
    for word in words:
        assert word in message, message


def test_a_model_name_that_cannot_be_part_of_a_job_id_is_refused(tmp_path):
    model = tmp_path / "my net.py"
    model.write_text("def build():\n    pass\n")
    message = _error(tmp_path, models='"my net.py:build"')
    assert "models = 'my net.py:build'" in message and "letters, digits" in message


@pytest.mark.parametrize(
    ("extra", "key", "bound"),
    [
        ("[benchmark]\nthreads = 99999999999999999999\n", "benchmark.threads", "0 to 1024"),
        ("[benchmark]\nrepetitions = 100000000000\n", "benchmark.repetitions", "1 to 10000"),
        ("[benchmark]\nseed = 99999999999\n", "benchmark.seed", "0 to 4294967295"),
    ],
)
def test_benchmark_numbers_are_bounded_and_the_error_says_the_bound(tmp_path, extra, key, bound):
    message = _error(tmp_path, extra)
    assert key in message and bound in message, message


def test_redefining_a_built_in_profile_is_allowed_and_named(tmp_path):
    matrix = _load(tmp_path, '[profile.default]\ntarget_cpu = ""\n')
    assert matrix.redefined == ("default",)
    assert matrix.profiles["default"].target_cpu is None
    assert _load(tmp_path).redefined == ()
