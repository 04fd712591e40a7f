"""`src:<release>` runtimes (IREE's runtime built from source, issue #12 item 4) and HAL drivers:
parsing, the plan's runtime-build jobs, the stage's key and source checks, the CLI's one-line
errors, and the armv6 smoke's use of them. No cmake here: the integration tests build for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iree_matrix import cli, stages
from iree_matrix.core.errors import SpecError, StageFailure
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.model.store import Entry
from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.execution import workflow
from iree_matrix.iree import versions
from iree_matrix.matrix import plan, spec, spec_file
from iree_matrix.source_builds import cmake_runtime as rb
from iree_matrix.stages.base import Context, built_env
from iree_matrix.stages.run import device_flags
from iree_matrix.stages.runtime_build import RuntimeBuildStage
from iree_matrix.tasks import pi_zero_session

BASE = {"python": "3.11", "torch": "2.13.0", "turbine": "3.9.0", "compiler": "3.9.0", "models": ["tiny_cnn"]}
TARBALL = "/src/iree-v3.9.0-runtime-src.tar.xz"


def _spec(tmp_path: Path, **extra) -> spec.MatrixSpec:
    return spec_file.parse({**BASE, **extra}, tmp_path / "m.toml")


# --- parsing -------------------------------------------------------------------------------------


def test_source_runtime_values_parse_to_one_spelling():
    assert versions.parse_source_runtime("src:3.9.0") == ("3.9.0", ())
    assert versions.parse_source_runtime("src:3.9.0+static+Os") == ("3.9.0", ("static", "Os"))
    assert versions.source_runtime("3.9.0", ("Os", "static")) == "src:3.9.0+static+Os"


def test_a_matrix_names_pip_and_source_runtimes_side_by_side(tmp_path):
    matrix = _spec(tmp_path, runtime=["3.9.0", "src:3.9.0", "src:3.9.0+Os+static", "src:3.9+static+Os"])
    assert sorted({c.runtime for c in matrix.cells}) == ["3.9.0", "src:3.9.0", "src:3.9.0+static+Os"]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("src:3.9.x", '"3.9.x" is not a release'),
        ("src:3.9.0+fast", "unknown build option 'fast' (known: static, Os"),
        ("3.9.x", 'nor "src:<release>" (built from source)'),
    ],
)
def test_a_bad_runtime_value_is_one_line_naming_key_and_value(tmp_path, value, words):
    with pytest.raises(SpecError) as err:
        _spec(tmp_path, runtime=[value])
    message = str(err.value)
    assert "\n" not in message and f"runtime = {value!r}" in message and words in message


def test_iree_source_is_a_string_or_a_table_relative_to_the_matrix(tmp_path):
    one = _spec(tmp_path, runtime="src:3.9.0", iree_source="iree.tar.xz")
    assert one.iree_source("3.9.0") == str(tmp_path / "iree.tar.xz")
    table = _spec(tmp_path, runtime="src:3.9.0", iree_source={"3.9.0": "git+https://example.org/iree@v3.9.0"})
    assert table.iree_source("3.9.0") == "git+https://example.org/iree@v3.9.0"
    assert table.iree_source("3.13.0") == "git+https://github.com/iree-org/iree@v3.13.0"  # the default
    with pytest.raises(SpecError, match="keys are releases"):
        _spec(tmp_path, iree_source={"latest": "x"})


def test_devices_are_iree_cpu_drivers(tmp_path):
    assert _spec(tmp_path).benchmark.devices == ("local-task",)
    matrix = _spec(tmp_path, benchmark={"devices": ["local-task", "local-sync"]})
    assert matrix.benchmark.devices == ("local-task", "local-sync")
    with pytest.raises(SpecError, match=r"benchmark.devices = 'cuda': unknown HAL driver"):
        _spec(tmp_path, benchmark={"devices": ["cuda"]})


# --- the plan ------------------------------------------------------------------------------------


def test_a_source_runtime_is_a_runtime_build_job_that_its_install_waits_for(tmp_path):
    matrix = _spec(tmp_path, runtime=["3.9.0", "src:3.9.0"], iree_source=TARBALL)
    jobs = stages.plan(matrix).by_id()
    build = jobs["runtime-build:src:3.9.0/x86_64"]
    assert build.deps == () and build.labels["runtime_source"] == TARBALL
    assert build.labels["linkage"] == "dynamic"
    install = jobs["install:py3.11-iree-src3.9.0"]
    assert install.deps == (build.id,) and install.env.build == "src:3.9.0" and install.env.tools is None
    run = jobs["run:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default/rtsrc3.9.0"]
    assert run.labels["runtime"] == "src:3.9.0" and install.id in run.deps
    assert "run:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default" in jobs  # the pip one


def test_a_cross_build_waits_for_the_native_build_of_its_host_tools(tmp_path):
    matrix = _spec(tmp_path, runtime="src:3.9.0+static", arch="armv6")
    the_plan = stages.plan(matrix)
    jobs = the_plan.by_id()
    cross = jobs["runtime-build:src:3.9.0+static/armv6"]
    assert cross.deps == ("runtime-build:src:3.9.0/x86_64",) and cross.labels["linkage"] == "static"
    assert cross.labels["runtime_source"] == "git+https://github.com/iree-org/iree@v3.9.0"
    order = [j.id for j in the_plan.jobs]
    for job in the_plan.jobs:  # dependencies first, although "armv6" sorts before "x86_64"
        assert all(order.index(d) < order.index(job.id) for d in job.deps)
    # A board without a wheel runs on the source runtime: planned, not skipped.
    assert plan.runs_anywhere(jobs["install:py3.11-iree-src3.9.0+static-armv6"].env)


def test_each_device_is_a_run_of_its_own_and_only_local_sync_is_named(tmp_path):
    matrix = _spec(tmp_path, benchmark={"devices": ["local-task", "local-sync"]})
    runs = {j.id: j for j in stages.plan(matrix).jobs if j.stage == "run"}
    base = "run:tiny_cnn/py3.11-torch2.13.0-turbine3.9.0/iree3.9.0/x86_64/default"
    assert set(runs) == {base, base + "/local-sync"}
    assert "device" not in runs[base].labels and runs[base + "/local-sync"].labels["device"] == "local-sync"


def test_device_flags(tmp_path):
    class Ctx:
        spec = _spec(tmp_path, benchmark={"threads": 1})

    assert device_flags(Ctx(), "local-sync") == ["--device=local-sync"]  # type: ignore[arg-type]
    assert device_flags(Ctx()) == ["--device=local-task", "--task_topology_group_count=1"]  # type: ignore[arg-type]


def test_the_smoke_builds_the_dynamic_twin_of_a_static_board_runtime(tmp_path):
    matrix = _spec(tmp_path, runtime="src:3.9.0+static", arch="armv6")
    ids = [j.id for j in pi_zero_session.with_dynamic_twins(stages.plan(matrix), matrix).jobs]
    assert ids[:3] == [
        "runtime-build:src:3.9.0/x86_64",
        "runtime-build:src:3.9.0+static/armv6",
        "runtime-build:src:3.9.0/armv6",
    ]


def _tarball(tmp_path: Path, release: str) -> Path:
    """A stand-in for IREE's source tarball: iree/ with CMakeLists.txt and runtime/version.json."""
    import tarfile

    tree = tmp_path / "tree" / "iree"
    (tree / "runtime").mkdir(parents=True)
    (tree / "CMakeLists.txt").write_text("")
    (tree / "runtime" / "version.json").write_text(json.dumps({"package-version": f"{release}.dev"}))
    out = tmp_path / f"iree-v{release}.tar.xz"
    with tarfile.open(out, "w:xz") as archive:
        archive.add(tree, arcname="iree")
    return out


def test_the_smoke_puts_armv6_cells_without_a_runtime_on_a_static_source_build(tmp_path):
    source = str(_tarball(tmp_path, "3.9.0"))
    matrix = _spec(tmp_path, arch=["armv6", "x86_64"], compiler=["3.9.0", "3.13.0"], iree_source=source)
    cells = pi_zero_session.on_source_runtime(matrix, tmp_path / "cache").cells
    assert {(c.arch, c.runtime) for c in cells} == {
        ("armv6-arm1176jzf-s", "src:3.9.0+static"),
        ("x86_64", "3.9.0"),
        ("x86_64", "3.13.0"),
    }


def test_the_smoke_without_a_reachable_source_stops_in_one_line_naming_the_fix(tmp_path):
    """Offline (example.invalid never resolves), the default git source fails before any work, in one
    line with git's reason and both ways to name a source."""
    from iree_matrix.core.errors import UserError

    matrix = _spec(tmp_path, arch=["armv6"], iree_source="git+https://example.invalid/iree@v3.9.0")
    with pytest.raises(UserError) as err:
        pi_zero_session.on_source_runtime(matrix, tmp_path / "cache")
    message = str(err.value)
    assert "\n" not in message and message.startswith("no runtime source for 3.9.0: cannot clone")
    assert "fatal:" in message and "--iree-source [3.9.0=]PATH" in message and rb.SOURCE_ENV in message


def test_the_smokes_own_source_runtime_without_any_source_stops_in_one_line_too(tmp_path, monkeypatch):
    """matrix/armv6.toml names src:3.9.0+static: with no source given, IREE's repository must be
    reachable before any work (here it is not: example.invalid)."""
    from iree_matrix.core.errors import UserError

    monkeypatch.setattr(versions, "DEFAULT_IREE_GIT", "git+https://example.invalid/iree")
    matrix = _spec(tmp_path, arch=["armv6"], runtime=["src:3.9.0+static"])
    with pytest.raises(UserError) as err:
        pi_zero_session.on_source_runtime(matrix, tmp_path / "cache")
    assert str(err.value).startswith("no runtime source for 3.9.0: cannot clone git+https://example.invalid")


def test_the_source_can_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(rb.SOURCE_ENV, f"3.9.0={TARBALL} 3.11.0=git+https://example.org/iree@v3.11.0")
    assert workflow._iree_sources_given([]) == [
        f"3.9.0={TARBALL}",
        "3.11.0=git+https://example.org/iree@v3.11.0",
    ]
    assert workflow._iree_sources_given(["x.tar.xz"]) == ["x.tar.xz"]  # the option wins


# --- the stage -----------------------------------------------------------------------------------


IDENT = {"gcc": "gcc 12.2.0", "g++": "g++ 12.2.0", "cmake": "cmake 3.25.1", "ninja": "1.11.1"}


def _key(monkeypatch, tmp_path, runtime="src:3.9.0", arch="x86_64", source=None, deps=None) -> str:
    monkeypatch.setattr(rb, "toolchain_identity", lambda tc, *a, **k: dict(IDENT))
    monkeypatch.setattr(rb, "pypi_cmake", lambda cache, log=None: tmp_path / "cmake")
    tarball = tmp_path / "iree.tar.xz"
    if not tarball.exists():
        tarball.write_bytes(b"not really")
    matrix = _spec(tmp_path, runtime=runtime, arch=arch, iree_source=source or str(tarball))
    job = stages.plan(matrix).by_id()[f"runtime-build:{runtime}/{arch}"]
    ctx = Context(matrix, None, None, deps or {}, 60.0, tmp_path / "log")  # type: ignore[arg-type]
    return RuntimeBuildStage().key(job, ctx)


def _entry(key: str) -> dict:
    record = Record(
        job="runtime-build:src:3.9.0/x86_64",
        stage="runtime-build",
        cell="c",
        labels={},
        status=Status.OK,
        key=key,
    )
    return {"runtime-build:src:3.9.0/x86_64": Entry(record, Path("/nowhere"))}


def test_the_build_key_changes_with_variant_source_and_host_tools(monkeypatch, tmp_path):
    plain = _key(monkeypatch, tmp_path)
    assert plain == _key(monkeypatch, tmp_path)
    assert _key(monkeypatch, tmp_path, runtime="src:3.9.0+Os") != plain
    assert _key(monkeypatch, tmp_path, runtime="src:3.9.0+static") != plain
    assert _key(monkeypatch, tmp_path, source="git+https://example.org/iree@v3.9.0") != plain
    cross = _key(monkeypatch, tmp_path, runtime="src:3.9.0+static", arch="armv6", deps=_entry("a"))
    assert cross != _key(monkeypatch, tmp_path, runtime="src:3.9.0+static", arch="armv6", deps=_entry("b"))


def test_a_missing_source_is_a_one_line_runtime_source_failure(monkeypatch, tmp_path):
    with pytest.raises(StageFailure) as err:
        _key(monkeypatch, tmp_path, source=str(tmp_path / "nowhere.tar.xz"))
    assert err.value.error_class == "runtime-source" and not err.value.cacheable
    assert "no such directory or file; pass IREE's source tree" in str(err.value)


def test_a_source_of_another_release_says_what_to_pass(tmp_path):
    tree = tmp_path / "iree"
    (tree / "runtime").mkdir(parents=True)
    (tree / "runtime" / "version.json").write_text(json.dumps({"package-version": "3.13.0.dev"}))
    src = rb.Source(str(tree), tree, "dir:x")
    assert rb.tree_release(tree) == "3.13.0"
    rb.check_release(src, "3.13.0")
    with pytest.raises(StageFailure) as err:
        rb.check_release(src, "3.9.0")
    assert "is IREE 3.13.0's source, not 3.9.0's; pass --iree-source 3.9.0=" in str(err.value)


def test_a_built_runtime_is_its_installs_tools_directory():
    env = plan.EnvSpec("runtime", "3.11", (), "iree-src3.9.0", "x86_64", build="src:3.9.0")
    assert built_env(env, {"tools": "/store/runtime-build/k/tools"}).tools == "/store/runtime-build/k/tools"
    assert built_env(env, {}).tools is None
    wheel = plan.EnvSpec("runtime", "3.11", ("iree-base-runtime==3.9.0",), "iree-runtime3.9.0")
    assert built_env(wheel, {"tools": "/x"}) is wheel


# --- the command line ----------------------------------------------------------------------------


def test_iree_source_errors_are_one_line(tmp_path, capsys):
    matrix = tmp_path / "m.toml"
    matrix.write_text('python="3.11"\ntorch="2.13.0"\nturbine="3.9.0"\ncompiler="3.9.0"\nmodels="tiny_cnn"\n')
    argv = ["matrix", "--matrix", str(matrix), "--list", "--results-dir", str(tmp_path / "r")]
    assert cli.main([*argv, "--iree-source", str(tmp_path / "nowhere")]) == 2
    assert "no such directory or file; pass IREE's source tree" in capsys.readouterr().err
    (tmp_path / "iree.tar.xz").write_bytes(b"x")
    assert cli.main([*argv, "--iree-source", str(tmp_path / "iree.tar.xz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no runtime built from source; add one to its runtime axis" in err


def test_iree_source_names_one_release_or_every_one(tmp_path, capsys):
    matrix = tmp_path / "m.toml"
    matrix.write_text(
        'python="3.11"\ntorch="2.13.0"\nturbine="3.9.0"\ncompiler="3.9.0"\nmodels="tiny_cnn"\n'
        'runtime=["src:3.9.0"]\n'
    )
    (tmp_path / "iree.tar.xz").write_bytes(b"x")
    argv = ["matrix", "--matrix", str(matrix), "--list", "--results-dir", str(tmp_path / "r")]
    assert cli.main([*argv, "--iree-source", f"3.9.0={tmp_path / 'iree.tar.xz'}"]) == 0
    assert "runtime-build:src:3.9.0/x86_64" in capsys.readouterr().out


# --- where the build runs ------------------------------------------------------------------------


def test_host_venvs_build_with_the_hosts_toolchain_and_docker_in_its_toolchain_image(monkeypatch, tmp_path):
    from iree_matrix import images
    from iree_matrix.envs.docker import DockerBackend

    stage = RuntimeBuildStage()

    class Venv:
        name = "venv"

    host = Context(_spec(tmp_path), Venv(), None, {}, 60.0, tmp_path / "log")  # type: ignore[arg-type]
    assert stage._runner(host, [], []) is rb.host_runner

    asked = {}

    def suite(self, suite, arch, under, *, with_python=True, toolchain=False):
        asked.update(suite=suite, arch=arch, toolchain=toolchain)
        return images.BaseImage("debian:x", "tag", "sha256:" + "ab" * 32, "", arch, (2, 36), {})

    monkeypatch.setattr(images.Bases, "suite", suite)
    backend = DockerBackend(tmp_path / "images")
    env = backend.toolchain_environment(Bounds(60))
    assert asked == {"suite": "bookworm", "arch": "amd64", "toolchain": True}
    calls = []
    monkeypatch.setattr(type(env), "run", lambda self, request: calls.append(request))
    docker = Context(_spec(tmp_path), backend, None, {}, 60.0, tmp_path / "log")  # type: ignore[arg-type]
    runner = stage._runner(docker, [Path("/src")], [Path("/out")])
    runner(ProcessRequest(["cmake", "--version"], timeout=10, log=None, check=False))
    assert calls == [
        ProcessRequest(["cmake", "--version"], timeout=10, log=None, check=False, read_only=[Path("/src")],
                       writable=[Path("/out")]),
    ]  # fmt: skip


def test_the_toolchain_image_has_the_native_and_armel_compilers():
    from iree_matrix.images.debian import toolchain_packages

    for package in ("cmake", "ninja-build", "g++", "gcc-arm-linux-gnueabi", "g++-arm-linux-gnueabi"):
        assert package in toolchain_packages()
    assert "python3" not in toolchain_packages()
