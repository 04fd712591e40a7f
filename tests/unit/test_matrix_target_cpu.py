"""A matrix file's `target_cpu` checked when the matrix is planned (bad inputs, fifth round): a name
LLVM's x86-64 list lacks was planned, and every x86_64 cell of the profile compiled to LLVM's "64-bit
code requested on a subtarget that doesn't support it!", each a recorded failure."""

from __future__ import annotations

import pytest

from iree_matrix import cli

HEAD = 'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.13.0"\nmodels = "tiny_cnn"\n'


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))


def _list(tmp_path, body: str) -> list[str]:
    matrix = tmp_path / "m.toml"
    matrix.write_text(HEAD + body)
    return ["matrix", "--matrix", str(matrix), "--list"]


@pytest.mark.parametrize(
    "cpu, said",
    [
        ("nonsense", "not an x86-64 CPU that LLVM knows"),
        ("znver4 ", "did you mean znver4"),
        ("Znver4", "did you mean znver4"),
        (
            "cortex-a72",
            "a CPU of aarch64, and x86_64 cells take this profile; a board's CPU is named in arch",
        ),
    ],
)
@pytest.mark.parametrize("section", ["profile", "search.knobs"])
def test_a_cpu_llvm_does_not_know_is_refused_when_planned(tmp_path, capsys, cpu, said, section):
    uses = 'profiles = ["mine"]\n' if section == "profile" else ""
    argv = _list(tmp_path, f'{uses}[{section}.mine]\ntarget_cpu = "{cpu}"\n')
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert f"{section}.mine.target_cpu = {cpu!r}" in err and said in err, err


@pytest.mark.parametrize(
    "body",
    [
        'profiles = ["mine"]\n[profile.mine]\ntarget_cpu = "znver4"\n',
        'profiles = ["mine"]\n[profile.mine]\ntarget_cpu = "x86-64-v3"\n',
        'profiles = ["mine"]\n[profile.mine]\ntarget_cpu = ""\n',  # generic: no target CPU
        # a board's CPU decides where the target names one; armv6's CPUs are not listed here
        'arch = ["aarch64:cortex-a72"]\nprofiles = ["mine"]\n[profile.mine]\ntarget_cpu = "cortex-a72"\n',
        'arch = ["armv6"]\nprofiles = ["mine"]\n[profile.mine]\ntarget_cpu = "arm1176jzf-s"\n',
    ],
)
def test_cpus_that_compile_are_still_planned(tmp_path, capsys, body):
    assert cli.main(_list(tmp_path, body)) == 0, capsys.readouterr().err
