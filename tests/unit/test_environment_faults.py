"""Never blame IREE for our own fault (issue #41 items 1 and 4): a relative cache, a cache path IREE's
linker cannot take, a damaged compiler venv and a tool that cannot start are refused or recorded as
environment faults (never stored, the message saying what to fix), and a deeply nested or huge
matrix file is one line. The tools are real processes: scripts standing in for iree-compile in
venv-like directories."""

from __future__ import annotations

import io
import json
import sys
import types
from pathlib import Path
from typing import Optional

import pytest

from iree_matrix import cli, stages
from iree_matrix.core.errors import EnvironmentFault, SpecError, StageFailure
from iree_matrix.core.model.outcome import Outcome, from_exception
from iree_matrix.core.model.results import Record, ResultsLog, Status
from iree_matrix.core.model.store import Entry, Store
from iree_matrix.core.system import process_output, processes
from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.envs import cache_usage, venv
from iree_matrix.execution.execute import Executor
from iree_matrix.matrix import spec_file
from iree_matrix.matrix.plan import EnvSpec, Job, Plan
from iree_matrix.matrix.wheelhouse import Pins, WheelPlatform
from iree_matrix.stages.base import Stage
from tests.unit.builders import FakeBackend

SMOKE = Path(__file__).resolve().parents[2] / "matrix" / "smoke.toml"
ENV = EnvSpec("compiler", "3.11", ("iree-base-compiler==3.13.0",), "iree-compiler3.13.0")
PINS = Pins(ENV.requirements, WheelPlatform("3.11"), ())
# What iree-compile printed with libIREECompiler.so deleted from its venv (IREE 3.13.0).
IMPORT_ERROR = (
    "Traceback (most recent call last):\n"
    '  File "<frozen runpy>", line 189, in _run_module_as_main\n'
    "ImportError: libIREECompiler.so: cannot open shared object file: No such file or directory\n"
)
# And with its venv under a path with a space: the linker run through sh, unquoted.
LINK_FAILURE = (
    "sh: 1: /tmp/sp: not found\n"
    "Linking failed; escaped command line returned exit code 32512:\n\n"
    "LLD_VERSION=IREE /tmp/sp test/venv/lib/python3.11/site-packages/iree/compiler/_mlir_libs/iree-lld "
    "-flavor gnu -o /tmp/f_dispatch_0-008fb5.so\n"
    "t.mlir:2:8: error: failed to link executable and generate target dylib\n"
)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch, tmp_path):
    monkeypatch.setattr(venv, "_verified", {}, raising=False)  # each test checks its environments anew
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))
    yield
    processes.resume()


def _tool(path: Path, stderr: str = "", code: int = 0, writes: bool = False) -> Path:
    """A stand-in iree-compile: says `stderr` and exits `code`, or writes its `-o`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = f"import sys\nsys.stderr.write({stderr!r})\n"
    if writes:
        body += "open(sys.argv[sys.argv.index('-o') + 1], 'w').write('module')\n"
    path.write_text(f"#!{sys.executable}\n{body}sys.exit({code})\n")
    path.chmod(0o755)
    return path


def _venv(root: Path, stderr: str = "", code: int = 0, record: tuple[str, ...] = ()) -> Path:
    """A venv as the backend leaves one: `.complete`, bin/python, bin/iree-compile, and a RECORD of
    the files its package installed (`record`: those listed; each is made unless it starts with '-')."""
    path = Path(root).resolve() / f"{ENV.id}-{PINS.digest[:16]}"
    (path / "bin").mkdir(parents=True)
    (path / "bin" / "python").symlink_to(sys.executable)
    _tool(path / "bin" / "iree-compile", stderr, code, writes=code == 0)
    site = path / "lib" / "python3.11" / "site-packages"
    dist = site / "iree_base_compiler-3.13.0.dist-info"
    dist.mkdir(parents=True)
    listed = [name.lstrip("-") for name in record]
    (dist / "RECORD").write_text("".join(f"{name},sha256=x,1\n" for name in listed))
    for name in record:
        if not name.startswith("-"):
            (site / name).parent.mkdir(parents=True, exist_ok=True)
            (site / name).write_text("")
    description = {"id": ENV.id, "backend": "venv", "lock_digest": PINS.digest, "path": str(path)}
    (path / ".complete").write_text(json.dumps(description))
    return path


def _compile(env: venv.VenvEnvironment, out: Path) -> processes.Completed:
    """As the compile stage runs it: the MLIR's bare name, in the MLIR's directory, `-o` the store."""
    return env.run(ProcessRequest(
        [env.tool("iree-compile"), "model.mlir", "-o", str(out / "module.vmfb")],
        timeout=60, writable=[out], check=False, cwd=out,
    ))  # fmt: skip


class _CompileLike(Stage):
    """A stage that runs its environment's iree-compile and records a failure the way the compile
    stage does (`processes.failure(done, "compile-error")`)."""

    name = "compile"
    rank = 40

    def __init__(self, env: venv.VenvEnvironment) -> None:
        self.env = env
        self.executed = 0

    def key(self, job: Job, ctx: stages.Context) -> str:
        return "0" * 64

    def execute(self, job: Job, ctx: stages.Context, out: Path) -> Outcome:
        self.executed += 1
        done = _compile(self.env, out)
        if done.returncode != 0:
            raise processes.failure(done, "compile-error")
        return Outcome(Status.OK)


def _run(tmp_path: Path, stage: _CompileLike, monkeypatch) -> tuple[Record, Store]:
    """The executor, one compile job: its record, and the store it may have written."""
    monkeypatch.setattr(stages, "get", lambda name: stage)
    job = Job("compile", "m/e/3.13.0", (), {"model": "m"}, ENV)
    cache = tmp_path / "cache"
    log = ResultsLog(tmp_path / "results.jsonl")
    summary = Executor(
        types.SimpleNamespace(timeouts={}), Plan((job,)), cache=cache, results=log,
        backend=FakeBackend("venv"), out=io.StringIO(),
    ).run()  # fmt: skip
    return summary.records[job.id], Store(cache / "store")


def _assert_not_stored(record: Record, store: Store, *needles: str) -> None:
    assert record.status is Status.FAIL
    assert record.error_class == "environment-fault", record.message
    assert store.get("compile", "0" * 64) is None  # nothing to reuse: the next run tries again
    for needle in needles:
        assert needle in (record.message or ""), record.message


# --- 1. a relative cache --------------------------------------------------------------------------


def test_cache_paths_are_made_absolute_where_they_are_parsed(tmp_path, monkeypatch):
    """A relative --cache made iree-compile (run in the MLIR's directory) miss its relative `-o`, and
    that failure was stored as IREE 3.13.0's answer."""
    monkeypatch.chdir(tmp_path)
    args = cli._parser().parse_args(["matrix", "--cache", "c", "--results-dir", "r", "--store", "s"])
    assert (args.cache, args.results_dir, args.store) == (tmp_path / "c", tmp_path / "r", tmp_path / "s")
    for command in ("doctor", "show", "cache"):
        extra = ["JOB"] if command == "show" else []
        assert cli._parser().parse_args([command, *extra, "--cache", "c"]).cache == tmp_path / "c"
    monkeypatch.setenv("IREE_MATRIX_CACHE", "relative")
    assert cache_usage.default_cache() == tmp_path / "relative"
    assert Store(Path("c") / "store").root == tmp_path / "c" / "store"


def test_an_output_the_tool_cannot_write_is_an_environment_fault_never_stored(tmp_path, monkeypatch):
    """iree-compile's words for the relative `-o` (IREE 3.13.0), from a real process."""
    said = "error opening input file: cannot open output file 'c/store/staging/x/module.vmfb': No such file"
    path = _venv(tmp_path / "envs", said + " or directory\n", code=1)
    record, store = _run(tmp_path, _CompileLike(venv.VenvEnvironment(ENV.id, path, {})), monkeypatch)
    _assert_not_stored(record, store, "cannot open output file", "--cache DIR")


def test_a_relative_path_for_a_tool_run_elsewhere_is_refused_before_it_runs(tmp_path):
    path = _venv(tmp_path / "envs")
    env = venv.VenvEnvironment(ENV.id, path, {})
    with pytest.raises(ValueError, match="relative path"):
        _compile(env, Path("relative/staging"))
    assert from_exception(ValueError("x")).cacheable is False


# --- 2. a cache path IREE's tools cannot take -----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "said"), [("a b", "a space"), ("x$y", "'$'"), ("p(q", "'('"), ("q'r", '"\'"')]
)
def test_a_cache_iree_cannot_take_is_refused_before_anything_runs(tmp_path, capsys, name, said):
    cache = tmp_path / name
    argv = ["matrix", "--matrix", str(SMOKE), "--list", "--cache", str(cache), "--results-dir", str(tmp_path)]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert str(cache) in err and said in err and "--cache DIR without spaces" in err
    assert not cache.exists()


def test_the_environment_variable_and_tmpdir_are_checked_too(tmp_path, capsys, monkeypatch):
    argv = ["matrix", "--matrix", str(SMOKE), "--list", "--results-dir", str(tmp_path)]
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "my cache"))
    assert cli.main(argv) == 2
    assert "$IREE_MATRIX_CACHE" in capsys.readouterr().err
    monkeypatch.setenv("IREE_MATRIX_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp dir"))
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "TMPDIR" in err and "tmp dir" in err and len(err.splitlines()) == 1


def test_harmless_characters_pass():
    assert cache_usage.unsafe_characters("/home/u/.cache/iree-matrix_2:x,y=z~#!*") == ""


def test_a_link_failure_under_such_a_path_is_an_environment_fault(tmp_path, monkeypatch):
    """Reached only by a plan run another way than the CLI: still never stored as IREE's answer."""
    path = _venv(tmp_path / "sp test", LINK_FAILURE, code=1)
    record, store = _run(tmp_path, _CompileLike(venv.VenvEnvironment(ENV.id, path, {})), monkeypatch)
    _assert_not_stored(record, store, "a space", "--cache DIR")


# --- 3. a damaged compiler venv -------------------------------------------------------------------

LIBRARY = "iree/compiler/_mlir_libs/libIREECompiler.so"


def test_a_damaged_venv_is_not_opened_and_create_rebuilds_it(tmp_path, monkeypatch, capsys):
    """libIREECompiler.so deleted from a cached compiler venv: every compile was stored as a compile
    error and reused, --retry-failed failed again; only deleting the venv by hand helped."""
    path = _venv(tmp_path / "envs", record=("iree/compiler/__init__.py", "-" + LIBRARY))
    backend = venv.VenvBackend(tmp_path / "envs")
    assert backend.open(ENV, PINS.digest) is None  # so the install stage is not reused
    warning = capsys.readouterr().err
    assert f"{path / 'lib/python3.11/site-packages' / LIBRARY} is missing" in warning and "rebuilt" in warning
    built: list[Path] = []

    def build(self, env, where, pins, wheels, under):
        built.append(where)
        return venv.VenvEnvironment(env.id, where, {})

    monkeypatch.setattr(venv.VenvBackend, "_build", build)
    log = tmp_path / "install.log"
    backend.create(ENV, PINS, [], Bounds(60, log))
    assert built == [path]
    assert "damaged" in log.read_text() and "libIREECompiler.so" in log.read_text()


def test_a_whole_venv_is_opened_once_checked(tmp_path):
    _venv(tmp_path / "envs", record=("iree/compiler/__init__.py", LIBRARY))
    assert venv.VenvBackend(tmp_path / "envs").open(ENV, PINS.digest) is not None


def test_a_tool_that_cannot_import_its_own_package_fails_as_an_environment_fault(tmp_path, monkeypatch):
    path = _venv(tmp_path / "envs", IMPORT_ERROR, code=1)
    assert "libIREECompiler.so" in (venv.verify(path) or "")  # the probe `open` runs sees it too
    record, store = _run(tmp_path, _CompileLike(venv.VenvEnvironment(ENV.id, path, {})), monkeypatch)
    # A record's message loses this machine's paths (the job's log keeps them): the venv by its name.
    _assert_not_stored(record, store, "libIREECompiler.so", path.name, "iree-matrix cache prune envs")


def test_a_worker_scripts_import_error_stays_an_answer(tmp_path):
    """turbine failing to import a torch it does not support is an answer about them, not damage."""
    said = "Traceback (most recent call last):\nModuleNotFoundError: No module named 'torch._export.x'\n"
    fault = process_output.environment_fault(
        said, [str(tmp_path / "bin" / "python"), "export.py"], 1, str(tmp_path)
    )
    assert fault is None


def test_a_stored_failure_that_was_an_environment_fault_is_not_reused(tmp_path):
    """What an older version stored (the drill's cache) is redone, not shown as IREE's answer."""
    venv_path = "/c/envs/venv/py3.11-iree-compiler3.13.0-d925e5bd46bc3735"
    command = (f"{venv_path}/bin/iree-compile", "model.mlir", "-o", "c/store/staging/x/module.vmfb")
    words = {
        "ImportError: libIREECompiler.so: cannot open shared object file: No such file or directory": True,
        "Linking failed; escaped command line returned exit code 32512:": True,
        "error opening input file: cannot open output file 'c/store/x/module.vmfb': No such file": True,
        "model.mlir:3:1: error: failed to legalize operation 'torch.operator'": False,
    }
    for message, fault in words.items():
        record = Record(
            job="compile:m", stage="compile", cell="m", key="k", status=Status.FAIL, labels={},
            error_class="compile-error", message=message, env={"path": venv_path}, command=command,
        )  # fmt: skip
        assert Stage().reusable(None, None, Entry(record, tmp_path)) is not fault, message  # type: ignore[arg-type]


# --- a tool that cannot start ---------------------------------------------------------------------


def test_a_tool_exiting_127_is_an_environment_fault(tmp_path, monkeypatch):
    said = f"{tmp_path}/lib/foo: error while loading shared libraries: libz.so.1: cannot open shared object"
    path = _venv(tmp_path / "envs", said + " file\n", code=127)
    record, store = _run(tmp_path, _CompileLike(venv.VenvEnvironment(ENV.id, path, {})), monkeypatch)
    _assert_not_stored(record, store, "libz.so.1", "damaged")
    # Outside a venv (a container's tool) exit 127 is one too.
    tool = _tool(tmp_path / "elsewhere" / "tool", "tool: not found\n", code=127)
    with pytest.raises(EnvironmentFault) as raised:
        processes.run(ProcessRequest([str(tool)], error_class="compile-error"))
    assert raised.value.cacheable is False and "could not be started" in raised.value.message


def test_a_missing_tool_in_a_venv_is_an_environment_fault(tmp_path):
    path = _venv(tmp_path / "envs")
    (path / "bin" / "iree-compile").unlink()
    env = venv.VenvEnvironment(ENV.id, path, {})
    with pytest.raises(EnvironmentFault, match="iree-compile: No such file or directory"):
        _compile(env, tmp_path)


def test_a_tool_that_answers_is_still_a_stored_result(tmp_path, monkeypatch):
    said = "model.mlir:3:1: error: failed to legalize operation 'torch.operator'\n"
    path = _venv(tmp_path / "envs", said, code=1)
    stage = _CompileLike(venv.VenvEnvironment(ENV.id, path, {}))
    record, store = _run(tmp_path, stage, monkeypatch)
    assert record.error_class == "compile-error"
    entry: Optional[Entry] = store.get("compile", "0" * 64)
    assert entry is not None and entry.record.status is Status.FAIL
    ok = _venv(tmp_path / "ok", code=0)
    assert _compile(venv.VenvEnvironment(ENV.id, ok, {}), tmp_path).returncode == 0


def test_an_environment_fault_is_never_cacheable():
    assert from_exception(EnvironmentFault("x")).cacheable is False
    assert isinstance(EnvironmentFault("x"), StageFailure)


# --- 4. deeply nested or huge matrix files --------------------------------------------------------

GOOD = 'python = "3.11"\ntorch = "2.13.0"\nturbine = "3.9.0"\ncompiler = "3.9.0"\nmodels = "tiny_cnn"\n'


@pytest.mark.parametrize("depth", [5000, 40])
def test_a_deeply_nested_array_is_one_line_naming_the_file(tmp_path, capsys, depth):
    matrix = tmp_path / "deep.toml"
    matrix.write_text(GOOD + "arch = " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(SpecError, match="nested more than"):
        spec_file.load(matrix)
    assert cli.main(["matrix", "--matrix", str(matrix), "--list"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err and str(matrix) in err, err


def test_a_huge_matrix_file_is_one_line(tmp_path, monkeypatch):
    matrix = tmp_path / "huge.toml"
    matrix.write_text(GOOD + "#" * 2000 + "\n")
    monkeypatch.setattr(spec_file, "MAX_FILE_BYTES", 1024)
    with pytest.raises(SpecError, match="too large for a matrix file") as raised:
        spec_file.load(matrix)
    assert str(matrix) in str(raised.value) and "\n" not in str(raised.value)


def test_a_matrix_nested_as_deep_as_a_real_one_loads(tmp_path):
    matrix = tmp_path / "m.toml"
    matrix.write_text(GOOD + '[[include]]\nmodels = ["tiny_cnn"]\n[profile.p]\nflags = ["--x"]\n')
    assert spec_file.load(matrix).cells


def test_a_flags_own_output_file_is_the_flags_fault_not_the_stores(tmp_path):
    """#51: `--iree-flow-dump-dispatch-graph-output-file=model.mlir` refused by the sandbox was called
    "the store's path must be absolute". Only the `-o` file is the store's; any other is a flag's."""
    argv = [
        str(tmp_path / "bin" / "iree-compile"),
        "model.mlir",
        "--x-output-file=model.mlir",
        "-o",
        "/s/module.vmfb",
    ]
    knob = "error: cannot open output file 'model.mlir': Permission denied"
    assert process_output.flag_output(knob, argv) == ("model.mlir", "Permission denied")
    assert process_output.environment_fault(knob, argv, 1, str(tmp_path)) is None
    own = "error: cannot open output file '/s/module.vmfb': No such file or directory"
    assert process_output.flag_output(own, argv) is None
    assert process_output.environment_fault(own, argv, 1, str(tmp_path)) is not None
    done = processes.Completed(argv=tuple(argv), returncode=1, stdout="", stderr=knob + "\n", seconds=1.0)
    failure = processes.failure(done, "compile-error")
    assert (failure.error_class, failure.cacheable) == ("flag-output", False)
    assert "'model.mlir'" in failure.message and "--cache" not in failure.message


def test_a_venv_file_whose_bytes_changed_is_damage_though_every_file_is_there(tmp_path):
    """#51: a zero-byte turbine `aot/exporter.py` passed the presence check and its AttributeError
    was stored as turbine's. RECORD's hashes find it; once restored it matches again."""
    import base64
    import hashlib

    site = tmp_path / "lib" / "python3.11" / "site-packages"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg-1.0.dist-info").mkdir()
    module = site / "pkg" / "exporter.py"
    module.write_text("def export(): pass\n")
    digest = base64.urlsafe_b64encode(hashlib.sha256(module.read_bytes()).digest()).rstrip(b"=").decode()
    (site / "pkg-1.0.dist-info" / "RECORD").write_text(
        f"pkg/exporter.py,sha256={digest},19\npkg-1.0.dist-info/RECORD,,\n"
    )
    assert venv.content_damage(tmp_path) is None
    original = module.read_bytes()
    module.write_bytes(b"")
    assert venv.verify(tmp_path) is None  # present: the old check passed it
    said = venv.content_damage(tmp_path)
    assert said is not None and "pkg/exporter.py is not the file its package installed" in said
    module.write_bytes(original)
    assert venv.content_damage(tmp_path) is None


def test_a_stage_its_environment_failed_is_tried_once_more(tmp_path, monkeypatch):
    """#51: the environment is rebuilt when the stage asks for it again; the stage is retried once,
    and a second fault is the record (never stored)."""
    from tests.unit.test_execute import FakeStage, World, _plan
    from tests.unit.test_execute import _run as run_plan

    world = World()
    fakes = {
        name: FakeStage(name, name in ("export", "run"), world)
        for name in ("install", "export", "compile", "run")
    }
    monkeypatch.setattr(stages, "get", lambda name: fakes[name])
    faults = {"compile:m/e/3.9.0": 1, "compile:m/e/3.10.0": 2}

    def flaky(job):
        if faults.get(job.id, 0) > 0:
            faults[job.id] -= 1
            raise EnvironmentFault(f"the environment of {job.id} is damaged")
        return Outcome(Status.OK, {"n": 1})

    world.behaviour.update({job: flaky for job in faults})
    summary, _ = run_plan(tmp_path, plan=_plan())
    assert summary.records["compile:m/e/3.9.0"].status is Status.OK  # the second attempt's
    assert world.calls.count("compile:m/e/3.9.0") == 2
    twice = summary.records["compile:m/e/3.10.0"]
    assert (twice.status, twice.error_class) == (Status.FAIL, "environment-fault")
    assert world.calls.count("compile:m/e/3.10.0") == 2
    world.calls.clear()
    run_plan(tmp_path, plan=_plan())
    assert world.calls == ["compile:m/e/3.10.0", "run:m/e/3.10.0"]  # not stored: tried again, and works
