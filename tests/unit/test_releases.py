"""Release selectors: resolution against a (fake) index, reproducibility through releases.json,
one-line errors for what the index does not have."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iree_matrix.core.errors import SpecError, UserError
from iree_matrix.iree import versions
from iree_matrix.matrix import releases, spec, spec_file
from tests.unit.fake_index import COMPILERS, INDEX, FakeIndex


def _load(tmp_path: Path, text: str, index=None, refresh=False) -> tuple[spec.MatrixSpec, releases.Resolver]:
    path = tmp_path / "m.toml"
    base = 'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\nmodels = "tiny_cnn"\n'
    path.write_text(base + text, encoding="utf-8")
    resolver = releases.Resolver(tmp_path / "releases.json", query=index or FakeIndex(), refresh=refresh)
    return spec_file.load(path, resolver=resolver), resolver


def _compilers(matrix: spec.MatrixSpec) -> list[str]:
    return list(dict.fromkeys(c.compiler for c in matrix.cells))


def test_all_is_every_final_release_oldest_first(tmp_path):
    matrix, _ = _load(tmp_path, 'compiler = "all"\n')
    assert sorted(_compilers(matrix), key=releases.Version) == COMPILERS
    assert "3.14.0rc20261101" not in _compilers(matrix)


def test_a_specifier_selects_a_range(tmp_path):
    matrix, _ = _load(tmp_path, 'compiler = ">=3.7,<3.10"\n')
    assert sorted(_compilers(matrix), key=releases.Version) == ["3.7.0", "3.7.1", "3.8.0", "3.9.0"]


def test_runtime_all_is_the_full_cross(tmp_path):
    matrix, _ = _load(tmp_path, 'compiler = ["3.8.0", "3.9.0"]\nruntime = "all"\n')
    assert len(matrix.cells) == 2 * 8
    assert {c.runtime for c in matrix.cells} == set(INDEX["iree-base-runtime"])


def test_selectors_in_include_rules(tmp_path):
    text = 'compiler = "3.9.0"\n[[include]]\nturbine = ">=3.0"\n'
    matrix, _ = _load(tmp_path, text)
    assert {c.turbine for c in matrix.cells} == {"3.0.0", "3.8.0", "3.9.0"}


def test_torch_local_builds_are_not_releases(tmp_path):
    matrix, _ = _load(tmp_path, 'compiler = "3.9.0"\n[[include]]\ntorch = "all"\n')
    assert {c.torch for c in matrix.cells} == {"2.5.1", "2.13.0", "2.15.0"}


def test_the_resolution_is_kept_and_reused(tmp_path):
    index = FakeIndex()
    _, resolver = _load(tmp_path, 'compiler = "all"\n', index=index)
    resolver.save()
    stored = json.loads((tmp_path / "releases.json").read_text())
    assert stored["packages"]["iree-base-compiler"]["versions"] == COMPILERS
    # A new release appears on the index: the stored answer still plans the same releases...
    newer = FakeIndex({**INDEX, "iree-base-compiler": COMPILERS + ["3.14.0"]})
    matrix, _ = _load(tmp_path, 'compiler = "all"\n', index=newer)
    assert "3.14.0" not in _compilers(matrix) and "iree-base-compiler" not in newer.asked
    # ...until the user asks the index again.
    matrix, _ = _load(tmp_path, 'compiler = "all"\n', index=newer, refresh=True)
    assert "3.14.0" in _compilers(matrix)


def test_aliases_of_one_release_are_one_environment(tmp_path):
    matrix, _ = _load(tmp_path, 'compiler = ["3.9.0", "3.9"]\n')
    assert _compilers(matrix) == ["3.9.0"]


def test_aliases_are_one_even_offline(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\nmodels = "tiny_cnn"\n'
                    'compiler = ["3.9.0", "3.9"]\n')  # fmt: skip
    assert {c.compiler for c in spec_file.load(path).cells} == {"3.9.0"}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            'compiler = "3.99.0"\n',
            ["compiler = '3.99.0'", "no release 3.99.0", "nearest: 3.9.0, 3.10.0, 3.13.0"],
        ),
        ('compiler = ">=9"\n', ["compiler = '>=9'", "matches no release", "9 releases, 2.9.0 … 3.13.0"]),
        ('compiler = "al"\n', ["compiler = 'al'", "nor a selector"]),
        ('compiler = "3.9.0"\nruntime = "every"\n', ["runtime = 'every'", "nor a selector", "same"]),
        ('compiler = "3.9.0"\nruntime = "3.99"\n', ["runtime = '3.99'", "iree-base-runtime has no release"]),
    ],
)
def test_bad_selectors_are_one_line_errors(tmp_path, text, words):
    with pytest.raises(SpecError) as caught:
        _load(tmp_path, text)
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path / "m.toml") in message
    for word in words:
        assert word in message


def test_a_selector_without_an_index_is_an_error(tmp_path):
    def unreachable(package, python):
        raise releases.ReleaseError("cannot list the releases of iree-base-compiler: connection refused")

    with pytest.raises(SpecError, match="connection refused"):
        _load(tmp_path, 'compiler = "all"\n', index=unreachable)


def test_a_plain_version_offline_is_taken_as_written(tmp_path):
    def unreachable(package, python):
        raise releases.ReleaseError("offline")

    matrix, _ = _load(tmp_path, 'compiler = "3.9.0"\n', index=unreachable)
    assert _compilers(matrix) == ["3.9.0"]


def test_a_corrupt_releases_file_is_a_one_line_error(tmp_path):
    (tmp_path / "releases.json").write_text("{not json")
    with pytest.raises(UserError, match="releases.json: unreadable release list.*--refresh-releases"):
        _load(tmp_path, 'compiler = "all"\n')


def test_a_release_with_a_wheel_for_only_some_pythons_is_still_a_release(tmp_path):
    def per_python(package, python):
        versions = ["2.5.1", "2.13.0"] if python == "3.11" or package != "torch" else ["2.5.1"]
        return releases.Releases(package, tuple(versions), "now")

    path = tmp_path / "m.toml"
    path.write_text('python = ["3.9", "3.11"]\ntorch = "2.13.0"\nturbine = "2.13.0"\nmodels = "tiny_cnn"\n'
                    'compiler = "2.13.0"\n')  # fmt: skip
    matrix = spec_file.load(path, resolver=releases.Resolver(None, query=per_python))
    assert {(c.python, c.torch) for c in matrix.cells} == {("3.9", "2.13.0"), ("3.11", "2.13.0")}


def test_a_compiler_without_a_runtime_release_runs_on_the_newest_runtime_of_its_line(tmp_path):
    """iree-base-compiler 3.7.1 exists, iree-base-runtime 3.7.1 does not: `runtime = "same"` runs
    its modules on runtime 3.7.0 (issue 29), never an install failure of the compiler's release."""
    matrix, resolver = _load(tmp_path, 'compiler = ["3.7.0", "3.7.1", "3.8.0"]\n')
    assert {(c.compiler, c.runtime) for c in matrix.cells} == {
        ("3.7.0", "3.7.0"), ("3.7.1", "3.7.0"), ("3.8.0", "3.8.0")
    }  # fmt: skip
    said = "\n".join(resolver.describe())
    assert "compiler 3.7.1: iree-base-runtime has no release 3.7.1" in said and "runtime 3.7.0" in said


def test_a_stand_in_runtime_is_one_cell_with_the_cross(tmp_path):
    matrix, _ = _load(tmp_path, 'compiler = "3.7.1"\nruntime = ["same", "3.7.0", "3.8.0"]\n')
    assert sorted(c.runtime for c in matrix.cells) == ["3.7.0", "3.8.0"]


def test_an_exclude_of_same_means_the_stand_in(tmp_path):
    text = 'compiler = ["3.7.1", "3.8.0"]\nruntime = ["same", "3.8.0"]\n[[exclude]]\nruntime = "same"\n'
    matrix, _ = _load(tmp_path, text)
    assert {(c.compiler, c.runtime) for c in matrix.cells} == {("3.7.1", "3.8.0")}


def test_a_date_version_is_checked_against_its_own_package(tmp_path):
    index = FakeIndex({**INDEX, "iree-compiler": ["20240410.865", "20241104.1068"]})
    matrix, _ = _load(tmp_path, 'compiler = "20240410.865"\n', index=index)
    assert _compilers(matrix) == ["20240410.865"]
    with pytest.raises(SpecError) as caught:
        _load(tmp_path, 'compiler = "20991231.1"\n', index=index)
    message = str(caught.value)
    assert "compiler = '20991231.1'" in message and "iree-compiler has no release 20991231.1" in message


def test_a_turbine_below_2_3_is_checked_against_shark_turbine(tmp_path):
    index = FakeIndex({**INDEX, "shark-turbine": ["0.9.3", "0.9.6", "2.4.1"]})
    path = tmp_path / "m.toml"
    path.write_text(
        'python = "3.11"\ntorch = "2.13.0"\nturbine = ["0.9.3", "2.3.0"]\n'
        'compiler = "3.9.0"\nmodels = "tiny_cnn"\n',
        encoding="utf-8",
    )
    matrix = spec_file.load(path, resolver=releases.Resolver(None, query=index))
    assert sorted({c.turbine for c in matrix.cells}) == ["0.9.3", "2.3.0"]
    path.write_text(path.read_text().replace('"0.9.3"', '"0.9.1"'), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        spec_file.load(path, resolver=releases.Resolver(None, query=index))
    assert "shark-turbine has no release 0.9.1" in str(caught.value)


def test_a_python_without_the_release_names_the_python_not_the_compiler(tmp_path):
    """Issue 29: python = ["3.99"] said `iree-base-compiler has no release 3.9.0`."""

    def per_python(package, python):
        versions = INDEX[package] if python == "3.11" else [v for v in INDEX[package] if v >= "3.10"]
        return releases.Releases(package, releases.final_releases(versions), "now")

    path = tmp_path / "m.toml"
    path.write_text('python = "3.99"\ntorch = "2.13.0"\nturbine = "3.9.0"\nmodels = "tiny_cnn"\n'
                    'compiler = "3.9.0"\n')  # fmt: skip
    resolver = releases.Resolver(None, query=per_python, host_python="3.11")
    with pytest.raises(SpecError) as caught:
        spec_file.load(path, resolver=resolver)
    message = str(caught.value)
    assert "python = '3.99'" in message and "no wheel for Python 3.99" in message, message
    assert "has one for Python 3.11" in message


# --- "history": the date-versioned releases before 2.9.0, then "all" (issue #38) ------------------


def _in_order(found) -> list[str]:
    return sorted(found, key=versions.release_order)


_DATED = {
    **INDEX,
    "iree-compiler": ["20230209.425", "20231004.665", "20240410.859", "20241104.1068"],
    "iree-runtime": ["20230209.425", "20231004.665", "20240410.859", "20241104.1068"],
}


def test_history_is_the_date_releases_then_all(tmp_path):
    matrix, _ = _load(tmp_path, 'compiler = "history"\n', index=FakeIndex(_DATED))
    assert _in_order(_compilers(matrix)) == _DATED["iree-compiler"] + COMPILERS


def test_history_runtimes_make_the_whole_cross(tmp_path):
    matrix, _ = _load(tmp_path, 'compiler = "history"\nruntime = "history"\n', index=FakeIndex(_DATED))
    runtimes = _DATED["iree-runtime"] + INDEX["iree-base-runtime"]
    assert len(matrix.cells) == (4 + len(COMPILERS)) * len(runtimes)
    assert _in_order({c.runtime for c in matrix.cells}) == runtimes


def test_a_date_specifier_selects_among_the_date_releases(tmp_path):
    matrix, _ = _load(tmp_path, 'compiler = "<=20231004.665"\n', index=FakeIndex(_DATED))
    assert _in_order(_compilers(matrix)) == ["20230209.425", "20231004.665"]
    # a specifier of plain releases still means iree-base-compiler, whatever PEP 440's order
    matrix, _ = _load(tmp_path, 'compiler = ">=3.9"\n', index=FakeIndex(_DATED))
    assert _in_order(_compilers(matrix)) == ["3.9.0", "3.10.0", "3.13.0"]


def test_history_selects_in_rules_too(tmp_path):
    text = (
        'compiler = "history"\nruntime = "history"\n'
        '[[exclude]]\ncompiler = "<=20231004.665"\n'
        '[[include]]\ncompiler = "<=20231004.665"\nruntime = "same"\n'
    )
    matrix, _ = _load(tmp_path, text, index=FakeIndex(_DATED))
    old = {(c.compiler, c.runtime) for c in matrix.cells if c.compiler in ("20230209.425", "20231004.665")}
    assert old == {("20230209.425", "20230209.425"), ("20231004.665", "20231004.665")}


@pytest.mark.parametrize(
    "text, words",
    [
        ('compiler = "3.9.0"\n[[include]]\nturbine = "history"\n', ['turbine = "history"', "only compiler"]),
        ('compiler = "<=20000101.1"\n', ["matches no release of iree-compiler", "4 releases, 20230209.425"]),
    ],
)
def test_history_mistakes_are_one_line_errors(tmp_path, text, words):
    with pytest.raises(SpecError) as caught:
        _load(tmp_path, text, index=FakeIndex(_DATED))
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path / "m.toml") in message, message
    for word in words:
        assert word in message, message


def test_names_date_versions():
    assert releases.names_date_versions("<=20231004.665")
    assert releases.names_date_versions(">=20230209.425,<20240101")
    assert not releases.names_date_versions(">=3.0")
    assert not releases.names_date_versions(">=20230209.425,<3.0")
    assert not releases.names_date_versions("history")
