"""Integration fixtures: real environments, shared between test runs on this machine.

The wheelhouse and the built environments are kept in a persistent cache (the user's
`~/.cache/iree-matrix`, or `$IREE_MATRIX_CACHE`), because downloading IREE for every test run
proves nothing new. The store (exports, modules, results) is fresh for every test that takes
`cache`, so every stage after install really executes; a test whose subject is not an empty store
takes `warm_cache` instead, whose store starts with what the smoke chain made once per test run
(tiny_cnn's export, 15 s of an exclusive stage, and its default modules from IREE 3.9.0 and 3.13.0),
and `source_runtime_store` gives the source-built runtime to the tests that need one.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional, Union

import pytest

from iree_matrix.core.model.results import Record, ResultsLog
from iree_matrix.core.system import bubblewrap
from iree_matrix.core.system.locks import file_lock
from iree_matrix.envs.cache_usage import default_cache
from tests.hostile_models import write_models

REPO = Path(__file__).resolve().parents[2]
SMOKE = REPO / "matrix" / "smoke.toml"


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return shared_cache(tmp_path / "cache")


@pytest.fixture(scope="session")
def smoke_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding matrix/smoke.toml's export and compiles, made once per test run: the first
    pytest-xdist worker to ask makes it under a lock, the others wait for it and reuse it."""
    return _made_once(tmp_path_factory, "smoke-store", ["matrix", "--matrix", str(SMOKE), "--backend",
                                                         "venv", "--select", "compile:*"])  # fmt: skip


@pytest.fixture
def warm_cache(tmp_path: Path, smoke_store: Path) -> Path:
    """`cache`, its store a copy of `smoke_store`: tiny_cnn's export (turbine 3.9.0, torch 2.13.0) and
    its default modules are reused from it, every other stage runs. A copy, not a link: a test may
    damage or prune its own store."""
    return seeded_cache(tmp_path / "cache", smoke_store)


@pytest.fixture(scope="session")
def source_runtime_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding IREE 3.9.0's runtime built from source for this host (runtime-build
    src:3.9.0/x86_64: minutes of cmake), built once per test run for the tests that run a
    source-built runtime (the armv6 smoke builds its host tools with it)."""
    matrix = tmp_path_factory.mktemp("source-runtime") / "m.toml"
    matrix.write_text(matrix_toml(runtime="src:3.9.0"))
    argv = ["matrix", "--matrix", str(matrix), "--backend", "venv", "--iree-source", iree_source(),
            "--select", "runtime-build:*"]  # fmt: skip
    return _made_once(tmp_path_factory, "source-runtime-store", argv)


def iree_source() -> str:
    """IREE's source for the runtime build: offline machines (and CI) have a tarball beside the
    checkout (../shared/iree-src); IREE_MATRIX_IREE_SOURCE overrides."""
    if os.environ.get("IREE_MATRIX_IREE_SOURCE"):
        return os.environ["IREE_MATRIX_IREE_SOURCE"]
    for pattern in (REPO.parent / "shared" / "iree-src" / "*.tar.xz", Path("/work/shared/iree-src/*.tar.xz")):
        found = sorted(glob.glob(str(pattern)))
        if found:
            return found[-1]
    pytest.skip("no IREE source tarball (set IREE_MATRIX_IREE_SOURCE to a tree, tarball or git+URL@TAG)")


def seeded_cache(fresh: Path, *stores: Path) -> Path:
    """`shared_cache(fresh)` whose store starts as a copy of these stores' entries."""
    cache = shared_cache(fresh)
    for store in stores:
        shutil.copytree(store, cache / "store", symlinks=True, dirs_exist_ok=True)
    return cache


def _made_once(tmp_path_factory: pytest.TempPathFactory, name: str, argv: list[str]) -> Path:
    """The store of one `iree-matrix` command run once per test run (all workers: the run's base
    temp, above each worker's own), kept when it exited 0; a failure fails each test that asked."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    made, complete = root / name, root / f"{name}.complete"
    with file_lock(root / f"{name}.lock"):
        if not complete.is_file():
            work = root / f"{name}-work"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            cache = shared_cache(work / "cache")
            done = iree_matrix(*argv, cache=cache, results=work / "results")
            assert done.returncode == 0, f"{name}: {done.stderr[-3000:]}"
            shutil.rmtree(made, ignore_errors=True)
            shutil.copytree(cache / "store", made, symlinks=True)
            complete.write_text(" ".join(argv) + "\n")
    return made


def module_cache(tmp_path_factory: pytest.TempPathFactory, name: str) -> tuple[Path, Path]:
    """A fresh folder `name` for a module-scoped fixture (a drill run once for its module's tests) and
    a `shared_cache` in it: the folder and the cache."""
    folder = tmp_path_factory.mktemp(name)
    return folder, shared_cache(folder / "cache")


def shared_cache(fresh: Path) -> Path:
    """A cache at `fresh` whose wheelhouse, environments and images are the persistent cache's."""
    persistent = default_cache()
    fresh.mkdir()
    for shared in ("wheelhouse", "envs", "images"):
        (persistent / shared).mkdir(parents=True, exist_ok=True)
        (fresh / shared).symlink_to(persistent / shared)
    return fresh


def tool_argv(*args: str, cache: Path, results: Path) -> list[str]:
    """`iree-matrix ARGS...` on this cache and results directory, as this test run starts the tool
    (its own Python's module), for a test that starts it itself (to signal it, say)."""
    return [sys.executable, "-m", "iree_matrix", *args, "--cache", str(cache), "--results-dir", str(results)]


def iree_matrix(
    *args: str,
    cache: Path,
    results: Path,
    timeout: float = 1800,
    run_label: str = "",
    env: Optional[dict[str, str]] = None,
    cwd: Optional[Path] = None,
) -> subprocess.CompletedProcess:
    """`iree-matrix ARGS...` run to its end (in `env`, this process's unless given, from `cwd`), its
    output printed: pytest shows it for a test that fails."""
    if run_label:
        env = {**(os.environ if env is None else env), "IREE_MATRIX_RUN_LABEL": run_label}
    argv = tool_argv(*args, cache=cache, results=results)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    print(done.stdout)
    print(done.stderr, file=sys.stderr)
    return done


def own_quiet_lock(tmp_path: Path, *, sandboxed: bool = False) -> dict[str, str]:
    """This process's environment with a quiet lock of the test's own (`tmp_path/quiet.lock`): the
    run's timed stages wait for no other run's timing, nor hold one up. `sandboxed`: without
    IREE_MATRIX_UNSANDBOXED too, so model code runs in the sandbox whatever the shell set."""
    env = {**os.environ, "IREE_MATRIX_QUIET_LOCK": str(tmp_path / "quiet.lock")}
    if sandboxed:
        env.pop(bubblewrap.UNSANDBOXED_ENV, None)
    return env


def skip_module_without(problem: Optional[str]) -> None:
    """Skips the calling test module where what it needs is missing (`problem` says what), except
    under CI, whose machine images/setup-host.sh provides it: there its tests run, and fail."""
    if problem and os.environ.get("CI") != "true":
        pytest.skip(f"{problem}; bash images/setup-host.sh", allow_module_level=True)


def records(results: Path) -> dict[str, Record]:
    return ResultsLog(results / "results.jsonl").latest()


def raw_lines(results: Path) -> list[dict]:
    return [json.loads(line) for line in (results / "results.jsonl").read_text().splitlines()]


def env_without(*names: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in names}


def module_digests(latest: dict[str, Record], caches: list[Path]) -> dict[str, str]:
    """compile job -> sha256 of its module.vmfb, read from the SHA256SUMS of whichever cache's
    store holds the record's key."""
    found = {}
    for job, record in latest.items():
        if record.stage != "compile" or not record.key:
            continue
        for cache in caches:
            sums = cache / "store" / "compile" / record.key / "SHA256SUMS"
            if sums.is_file():
                lines = dict(reversed(line.split("  ", 1)) for line in sums.read_text().splitlines())
                found[job] = lines.get("module.vmfb", "")
                break
    return found


# The exporter environment matrix_toml writes unless told otherwise, as a job names it.
EXPORTER = "py3.11-torch2.13.0-turbine3.9.0"


def export_job(model: str) -> str:
    """The export job of `model` on matrix_toml's exporter."""
    return f"export:{model}/{EXPORTER}"


TomlValue = Union[str, int, bool, list[str]]
# The timed stages of a tiny_cnn test: matrix/smoke.toml's (the default's) timing, so its tiny_cnn
# export, stored once a run (`smoke_store`), is the one these tests' matrices ask for, by key.
TINY_BENCHMARK: dict[str, TomlValue] = {"repetitions": 5, "threads": 2}


def matrix_toml(
    *,
    compiler: TomlValue = "3.9.0",
    models: TomlValue = "tiny_cnn",
    tables: Optional[dict[str, dict[str, TomlValue]]] = None,
    **keys: TomlValue,
) -> str:
    """A matrix file's text for one test: the exporter every tier uses (Python 3.11, torch 2.13.0,
    turbine 3.9.0) unless a key names another, the compiler and models asked, any other top-level
    keys, then each table (`benchmark`, `timeouts`, `profile.NAME`, ...) in the order given. One
    builder, so a key renamed in matrix files is renamed here once."""
    top = {"python": "3.11", "torch": "2.13.0", "turbine": "3.9.0", "compiler": compiler, **keys}
    top["models"] = models
    lines = [f"{key} = {_toml(value)}" for key, value in top.items()]
    for name, table in (tables or {}).items():
        lines += ["", f"[{name}]", *(f"{key} = {_toml(value)}" for key, value in table.items())]
    return "\n".join(lines) + "\n"


def drill_matrix(folder: Path, sources: dict[str, str], export: int, **tables: dict[str, TomlValue]) -> Path:
    """A sandbox drill's matrix file (`folder/matrix.toml`): these model sources (`write_models`, under
    `folder/models`) on IREE 3.9.0, one repetition, the export's limit `export` seconds, then `tables`."""
    refs = write_models(folder / "models", sources)
    matrix = folder / "matrix.toml"
    limits = {"benchmark": {"repetitions": 1}, "timeouts": {"export": export}, **tables}
    matrix.write_text(matrix_toml(models=refs, tables=limits))
    return matrix


def _toml(value: TomlValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(json.dumps(item) for item in value) + "]"
    return json.dumps(value)


def run_matrix_text(
    text: str, cache: Path, matrix: Path, *argv: str, backend: str = "venv", command: str = "matrix"
) -> tuple[subprocess.CompletedProcess, Path, dict[str, Record]]:
    """A matrix given as TOML text, written to the file `matrix` and run by `command` (on host venvs
    unless `backend` says otherwise; `argv` after the matrix) until it exits 0: the finished tool, its
    results directory (`results` beside the matrix file) and latest records."""
    matrix.write_text(text)
    results = matrix.parent / "results"
    done = iree_matrix(
        command, "--matrix", str(matrix), "--backend", backend, *argv, cache=cache, results=results
    )
    assert done.returncode == 0, done.stderr
    return done, results, records(results)


# pytest-xdist (`nox -s tests` runs this tier on every core with `--dist loadgroup`): the tests that
# need the machine's Docker daemon to themselves (an orphan sweep removes what another test's run
# left) share one group, so one worker runs them one after another; so do the emulated ARM runs,
# the heaviest CPU users, that neither starve the other's qemu nor wait on the daemon's group. The
# tests of a module with a module-scoped fixture (one armv6 smoke run, one hostile drill) share the
# module's group: split over two workers, each would make the fixture (two armv6 builds at once).
DOCKER_MODULES = {"test_sandbox_docker", "test_sandbox_docker_models"}  # docker without the marker
QEMU_MODULES = {"test_arm", "test_armv6_smoke", "test_cortex_m"}  # qemu-user / qemu-system-arm


def xdist_group(item: pytest.Item) -> str | None:
    """One test's own group: docker, qemu, its module's (a module-scoped fixture), or none."""
    module = _module(item)
    if item.get_closest_marker("docker") or module in DOCKER_MODULES:
        return "docker"
    if item.get_closest_marker("qemu") or module in QEMU_MODULES:
        return "qemu"
    fixtures = getattr(item, "_fixtureinfo", None)
    defs = fixtures.name2fixturedefs.values() if fixtures is not None else ()
    if any(d[-1].scope == "module" for d in defs if d):
        return module
    return None


def _module(item: pytest.Item) -> str:
    return item.module.__name__.rsplit(".", 1)[-1] if getattr(item, "module", None) else ""


# First: xdist's own hook (its worker's) reads the groups to name each test `NODEID@GROUP`. A module
# goes whole to its strongest group (docker, then qemu): test_arm's docker tests and its qemu tests
# share one module-scoped build.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {"docker": 0, "qemu": 1}
    chosen: dict[str, str] = {}
    for item in items:
        group = xdist_group(item)
        if group is not None:
            held = chosen.get(_module(item))
            if held is None or rank.get(group, 2) < rank.get(held, 2):
                chosen[_module(item)] = group
    for item in items:
        group = chosen.get(_module(item))
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
