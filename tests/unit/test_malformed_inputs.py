"""Malformed inputs from the reliability drill (#14): each is a one-line error, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix import cli

GOOD = 'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.9.0"\n'


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))


def _model(tmp_path: Path, body: str | bytes) -> Path:
    file = tmp_path / "mymodel.py"
    file.write_bytes(body if isinstance(body, bytes) else body.encode())
    return file


def _expect_one_line(capsys, argv: list[str], *needles: str) -> None:
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("iree-matrix: error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_matrix_file_not_utf8(tmp_path, capsys):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(GOOD.encode() + b'models = "tiny_cnn"\n# caf\xe9\n')
    _expect_one_line(capsys, ["matrix", "--matrix", str(bad), "--list"], str(bad), "UTF-8")


def test_a_matrix_file_that_starts_with_a_byte_order_mark_reads_as_without_it(tmp_path, capsys):
    """Issue 68 item 7: a UTF-8 BOM (what Windows' Notepad writes first) was "not valid TOML: Invalid
    statement (at line 1, column 1)" of a file that looks right."""
    from iree_matrix.matrix import spec_file

    plain, bommed = tmp_path / "plain.toml", tmp_path / "bom.toml"
    plain.write_text(GOOD + 'models = "tiny_cnn"\n')
    bommed.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert spec_file.read(bommed) == spec_file.read(plain)
    assert cli.main(["matrix", "--matrix", str(bommed), "--list"]) == 0
    capsys.readouterr()


def test_model_file_not_utf8(tmp_path, capsys):
    model = _model(tmp_path, b"# caf\xe9\ndef build():\n    pass\n")
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + 'models = "tiny_cnn"\n')
    argv = ["matrix", "--matrix", str(matrix), "--list", "--model", f"{model}:build"]
    _expect_one_line(capsys, argv, str(model), "UTF-8")


@pytest.mark.parametrize(
    "statics, key",
    [
        ('FUNCTIONS = "abc"\n', "FUNCTIONS"),
        ('REQUIREMENTS = "transformers==5.23.0"\n', "REQUIREMENTS"),
        ("FUNCTIONS = ()\n", "FUNCTIONS"),
        ("REQUIREMENTS = (1, 2)\n", "REQUIREMENTS"),
    ],
)
def test_model_statics_wrong_type(tmp_path, capsys, statics, key):
    model = _model(tmp_path, statics + "def build():\n    pass\n")
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + 'models = "tiny_cnn"\n')
    argv = ["matrix", "--matrix", str(matrix), "--list", "--model", f"{model}:build"]
    _expect_one_line(capsys, argv, str(model), key)


@pytest.mark.parametrize("option", ["--cache", "--results-dir"])
def test_directory_option_naming_a_file(tmp_path, capsys, option):
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + 'models = "tiny_cnn"\n')
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    _expect_one_line(capsys, ["matrix", "--matrix", str(matrix), option, str(a_file)], option, str(a_file))


@pytest.mark.parametrize("value", ["42", "true", "[1, 2]"])
def test_description_must_be_a_string(tmp_path, capsys, value):
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + 'models = "tiny_cnn"\n' + f"description = {value}\n")
    _expect_one_line(capsys, ["matrix", "--matrix", str(matrix), "--list"], str(matrix), "description")


M = 'models = "tiny_cnn"\n'
MATRIX_CASES = {
    "empty-file": "",
    "python-int": 'python = 3\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.9.0"\n' + M,
    "torch-float": 'python = "3.11"\ntorch = 2.13\nturbine = "3.9.0"\ncompiler = "3.9.0"\n' + M,
    "compiler-empty-list": 'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = []\n' + M,
    "compiler-list-of-int": 'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = [3]\n' + M,
    "models-int": GOOD + "models = 1\n",
    "models-unknown": GOOD + 'models = "no_such_model"\n',
    "models-missing-file": GOOD + 'models = "missing.py:build"\n',
    "models-bad-factory": GOOD + 'models = "x.py:1abc"\n',
    "models-table": GOOD + "[models]\na = 1\n",
    "exclude-not-a-list": GOOD + M + 'exclude = "x"\n',
    "include-not-a-list": GOOD + M + 'include = "x"\n',
    "timeouts-string": GOOD + M + 'timeouts = "fast"\n',
    "timeouts-negative": GOOD + M + "[timeouts]\ncompile = -1\n",
    "timeouts-unknown-stage": GOOD + M + "[timeouts]\nnothing = 5\n",
    "benchmark-string": GOOD + M + 'benchmark = "yes"\n',
    "profile-flags-string": GOOD + M + '[profile.fast]\nflags = "--x"\n',
    "profile-unknown-key": GOOD + M + "[profile.fast]\nspeed = 1\n",
    "profile-description-int": GOOD + M + "[profile.fast]\ndescription = 3\n",
    "images-string": GOOD + M + 'images = "x"\n',
    "peers-string": GOOD + M + 'peers = "x"\n',
    "unknown-top-key": GOOD + M + "colour = 1\n",
    "description-table": GOOD + M + "[description]\na = 1\n",
    "not-toml": "python = [\n",
    "binary-garbage": b"\x00\x01\xff\xfe",
    "arch-unknown": GOOD + M + 'arch = ["sparc"]\n',
    "arch-int": GOOD + M + "arch = 5\n",
    "profiles-unknown": GOOD + M + 'profiles = ["nope"]\n',
    "runtime-bad-word": GOOD + M + 'runtime = "sometimes"\n',
    "compiler-bad-selector": GOOD.replace('"3.9.0"\n', '">=abc"\n') + M,
    "python-not-a-version": GOOD.replace('"3.11"', '"eleven"') + M,
    "python-list-mixed": GOOD.replace('python = "3.11"', 'python = ["3.11", 3]') + M,
    "torch-empty-string": GOOD.replace('torch = "2.13.0"', 'torch = ""') + M,
    "turbine-missing": GOOD.replace('turbine = "3.9.0"\n', "") + M,
    "models-empty-list": GOOD + "models = []\n",
    "exclude-unknown-key": GOOD + M + '[[exclude]]\ncolour = "x"\n',
    "exclude-int-value": GOOD + M + "[[exclude]]\ncompiler = 3\n",
    "include-unknown-key": GOOD + M + '[[include]]\nshape = "x"\n',
    "benchmark-repetitions-zero": GOOD + M + "[benchmark]\nrepetitions = 0\n",
    "benchmark-repetitions-string": GOOD + M + '[benchmark]\nrepetitions = "3"\n',
    "benchmark-threads-negative": GOOD + M + "[benchmark]\nthreads = -1\n",
    "benchmark-unknown-key": GOOD + M + "[benchmark]\nspeed = 1\n",
    "benchmark-dispatches-string": GOOD + M + '[benchmark]\ndispatches = "x"\n',
    "peers-unknown": GOOD + M + 'peers = ["nope"]\n',
    "weights-int": GOOD + M + "[weights]\ntiny_cnn = 3\n",
    "weights-missing-file": GOOD + M + '[weights]\ntiny_cnn = "nope.pt"\n',
    "weights-unknown-model": GOOD + M + '[weights]\nnosuch = "x.pt"\n',
    "images-int-value": GOOD + M + '[images]\n"3.11" = 3\n',
    "timeouts-bool": GOOD + M + "[timeouts]\ncompile = true\n",
    "profile-opt-level-unknown": GOOD + M + '[profile.fast]\nopt_level = "O9"\n',
    "profile-target-cpu-int": GOOD + M + "[profile.fast]\ntarget_cpu = 3\n",
    "models-module-bad-dots": GOOD + 'models = "a..b:build"\n',
    "models-module-not-found": GOOD + 'models = "no_such_pkg_xyz.nets:build"\n',
}


@pytest.mark.parametrize("name", sorted(MATRIX_CASES))
def test_malformed_matrix_file(tmp_path, capsys, name):
    body = MATRIX_CASES[name]
    matrix = tmp_path / "m.toml"
    matrix.write_bytes(body if isinstance(body, bytes) else body.encode())
    _expect_one_line(capsys, ["matrix", "--matrix", str(matrix), "--list"], str(matrix))


MODEL_CASES = {
    "syntax-error": ("def build(:\n", "not valid Python"),
    "functions-of-ints": ("FUNCTIONS = (1, 2)\n", "FUNCTIONS"),
    "functions-not-literal": ("FUNCTIONS = tuple(x for x in 'ab')\n", "FUNCTIONS"),
    "functions-bad-name": ('FUNCTIONS = ("not a name",)\n', "FUNCTIONS"),
    "requirements-dict": ('REQUIREMENTS = {"a": 1}\n', "REQUIREMENTS"),
    "requirements-none": ("REQUIREMENTS = None\n", "REQUIREMENTS"),
}


@pytest.mark.parametrize("name", sorted(MODEL_CASES))
def test_malformed_model_file(tmp_path, capsys, name):
    body, needle = MODEL_CASES[name]
    model = _model(tmp_path, body + "def build():\n    pass\n")
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + 'models = "tiny_cnn"\n')
    argv = ["matrix", "--matrix", str(matrix), "--list", "--model", f"{model}:build"]
    _expect_one_line(capsys, argv, needle)


@pytest.mark.parametrize(
    "extra, needle",
    [
        (["--jobs", "0"], "--jobs"),
        (["--select", "nothing*"], "nothing*"),
        (["--model", "no/such/file.py:build"], "no such file"),
        (["--model", "x.py:class"], "class"),
        (["--model", "no_such_package_xyz.mod:build"], "no_such_package_xyz"),
        (["--model", "no_such_builtin"], "unknown model"),
        (["--model", "tiny_cnn:build:x"], "not a dotted Python name"),
        (["--shard", "0/4"], "--shard"),
        (["--shard", "5/4"], "--shard"),
        (["--shard", "a/b"], "--shard"),
        (["--shard", "1"], "--shard"),
        (["--retime", "nothing*"], "nothing*"),
        (["--retime", "compile:*"], "no timed job"),
        # argparse's own refusals: one line too, not usage + error
        (["--jobs", "x"], "--jobs"),
        (["--backend", "podman"], "podman"),
        (["--no-such-option"], "--no-such-option"),
        # scale-out options that `--list` used to accept and ignore
        (["--cluster", "local:0"], "local:N"),
        (["--cluster", "remote:2"], "local:N"),
        (["--store", "/tmp/shared-store"], "--store is for --scheduler/--cluster"),
    ],
)
def test_malformed_command_line(tmp_path, capsys, extra, needle):
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + 'models = "tiny_cnn"\n')
    _expect_one_line(capsys, ["matrix", "--matrix", str(matrix), "--list", *extra], needle)


def test_an_exclude_that_matches_nothing_is_an_error(tmp_path, capsys):
    """#14 defect 9: an [[include]] that adds nothing is an error; an [[exclude]] that removes
    nothing is as surely a typo."""
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + 'models = "tiny_cnn"\n[[exclude]]\ncompiler = "3.8.0"\n')
    _expect_one_line(capsys, ["matrix", "--matrix", str(matrix), "--list"], str(matrix), "exclude")


def test_a_factory_the_model_file_does_not_define(tmp_path, capsys):
    model = _model(tmp_path, "def build():\n    pass\n")
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + 'models = "tiny_cnn"\n')
    argv = ["matrix", "--matrix", str(matrix), "--list", "--model", f"{model}:make_net"]
    _expect_one_line(capsys, argv, str(model), "defines no 'make_net'")


@pytest.mark.parametrize("init", ["raise SystemExit('imported!')\n", "open(MARKER, 'w').write('ran')\n"])
def test_a_module_missing_from_a_package_is_one_line_without_running_the_package(tmp_path, capsys, init):
    """#14 defect 8: find_spec imported the package (its __init__ raised, or ran) before saying the
    module was missing."""
    marker = tmp_path / "ran"
    (tmp_path / "userpkg").mkdir()
    (tmp_path / "userpkg" / "__init__.py").write_text(f"MARKER = {str(marker)!r}\n" + init)
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + 'models = "userpkg.absent:build"\n')
    _expect_one_line(capsys, ["matrix", "--matrix", str(matrix), "--list"], "userpkg/absent.py", str(matrix))
    assert not marker.exists()


@pytest.mark.parametrize("kind, said", [("device", "a character device"), ("fifo", "a FIFO")])
def test_weights_that_are_a_device_or_a_fifo_are_said_as_what_they_are(tmp_path, capsys, kind, said):
    """Issue 68 item 7: a device or FIFO as `weights` was called "no such file"."""
    import os

    if kind == "fifo":
        os.mkfifo(tmp_path / "w.pt")
        weights = str(tmp_path / "w.pt")
    else:
        weights = "/dev/null"
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + 'models = "tiny_cnn"\n' + f'[weights]\ntiny_cnn = "{weights}"\n')
    _expect_one_line(capsys, ["matrix", "--matrix", str(matrix), "--list"], said, "torch state dict")
