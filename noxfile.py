"""Entry points: `nox -s matrix`, `nox -s report`, `nox -s tests`, `nox -s lint`.

Options for the tool go after `--`, e.g. `nox -s matrix -- --matrix matrix/smoke.toml --list`; so
do its `-v`/`-q` (`nox -s matrix -- -q`: warnings and errors only on stderr; docs/running.md).
A bare `nox` runs the fast checks (lint and the unit tier); `nox -l` lists every session.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys

import nox

nox.options.sessions = ["lint", "unit"]  # minutes, not the whole suite's half hour
nox.options.reuse_existing_virtualenvs = True
# uv makes a session's venv in a second or two instead of 7-14 s (pip + virtualenv) when it is
# installed (.ci/run and images/setup-host.sh's README step install it); otherwise virtualenv.
nox.options.default_venv_backend = "uv|virtualenv"

PYTHON = "3.11"
# The only torch that installs as a CPU build on these machines (IREE-NOTES.md); the model unit
# tests import it directly. Matrix environments get their own torch from the matrix file.
TEST_TORCH = "torch==2.13.0"
# Some integration tests call turbine and iree-compile directly (armv6 kernels, link failures).
TEST_IREE = ("iree-turbine==3.9.0", "iree-base-compiler==3.9.0")


def _install(session: nox.Session, *args: str) -> None:
    """Install into the session's venv — unless it already holds exactly this: the same arguments
    and the same pyproject.toml (the project is installed editable, so the code is followed without
    reinstalling; only its dependencies and entry points live in pyproject.toml). A re-run of
    `nox -s matrix` spent 7-8 s of its 11 in `pip install -e .` for nothing. A new venv (`nox -r`
    not given, `.nox` removed) has no stamp and installs."""
    import hashlib
    from pathlib import Path

    wanted = hashlib.sha256(
        "\0".join([*args, Path(__file__).with_name("pyproject.toml").read_text(), sys.version]).encode()
    ).hexdigest()
    location = getattr(session.virtualenv, "location", None)
    stamp = Path(location) / ".iree-matrix-installed" if location else None
    if stamp is not None and stamp.is_file() and stamp.read_text().strip() == wanted:
        session.log(f"already installed: {' '.join(args)} (pyproject.toml unchanged)")
        return
    if session.venv_backend == "uv":
        session.env.update(_pip_settings_for_uv())
    session.install(*args)
    if stamp is not None and stamp.parent.is_dir():
        stamp.write_text(wanted + "\n")


def _pip_settings_for_uv() -> dict[str, str]:
    """uv does not read pip's configuration, and on machines like this one it matters: pip's
    find-links is where the CPU build of torch comes from (PyPI's is the CUDA build) and its cert
    is the TLS proxy's. Translate them (environment variables over config files, as pip does);
    a file:// location that does not exist is dropped, as pip drops it with a warning."""
    done = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True)
    found: dict[str, str] = {}
    for line in sorted(done.stdout.splitlines(), key=lambda ln: ln.startswith(":env:")):  # env last: wins
        key, _, value = line.partition("=")
        found[key.rsplit(".", 1)[-1]] = value.strip().strip("'\"")

    def existing(value: str) -> str:
        kept = [v for v in shlex.split(value) if not (v.startswith("file://") or v.startswith("/"))
                or os.path.exists(v.removeprefix("file://"))]  # fmt: skip
        return " ".join(kept)

    env = {}
    # uv reads UV_FIND_LINKS comma-separated, the index URLs space-separated (uv's docs, "Environment").
    for pip_key, uv_key in (("find-links", "UV_FIND_LINKS"), ("extra-index-url", "UV_EXTRA_INDEX_URL"),
                            ("index-url", "UV_INDEX_URL")):  # fmt: skip
        if found.get(pip_key) and existing(found[pip_key]):
            kept = existing(found[pip_key])
            env[uv_key] = kept.replace(" ", ",") if uv_key == "UV_FIND_LINKS" else kept
    if found.get("cert"):
        env["SSL_CERT_FILE"] = found["cert"]
    if "UV_EXTRA_INDEX_URL" in env:  # several indexes: uv takes a name's versions from the first
        env["UV_INDEX_STRATEGY"] = "unsafe-best-match"  # that has it, pip from all (uv's IndexStrategy)
    return env


def _tool(session: nox.Session, *args: str) -> None:
    """`iree-matrix ARGS` in the session's venv, with Ctrl-C and SIGTERM sent to nox passed on to it.

    nox's own `session.run` leaves a signal to nox: started in the background of a script, nox
    inherits SIGINT ignored and never passes it on, and SIGTERM ends nox while the tool goes on.
    Here the tool runs in its own process group (so a terminal's Ctrl-C reaches it once, from here)
    and every SIGINT/SIGTERM nox gets is sent to it; the tool stops within 2 s."""
    command = [os.path.join(session.bin, "iree-matrix"), *args]
    session.log(shlex.join(["iree-matrix", *args]))
    env = {**os.environ, **{k: v for k, v in session.env.items() if v is not None}}
    env["PATH"] = os.pathsep.join([*session.bin_paths, env.get("PATH", "")])
    env["VIRTUAL_ENV"] = session.virtualenv.location
    own_group = {"process_group": 0} if sys.version_info >= (3, 11) else {"preexec_fn": os.setpgrp}
    tool = subprocess.Popen(command, env=env, **own_group)

    def forward(signum: int, frame: object) -> None:
        tool.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = tool.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if code:
        session.error(f"iree-matrix exited with code {code}")


@nox.session(python=PYTHON)
def matrix(session: nox.Session) -> None:
    """Run a matrix (default: matrix/default.toml, minutes) into runs/<matrix>/.

    Records, COMPATIBILITY.md and the site go to runs/<matrix>/; the published results/ are only
    written by `nox -s publish`."""
    _install(session, "-e", ".[distributed]")  # --cluster / --scheduler
    _sandbox_ready(session)
    _tool(session, "matrix", *session.posargs)


def _sandbox_ready(session: nox.Session) -> None:
    """Model code runs in bubblewrap on the venv backend, which a fresh Debian lacks (a fresh
    machine's first `nox -s matrix` stopped at 20 s on it): as root, install that one package (seconds);
    as another user the tool's own error says what to run."""
    if os.geteuid() == 0 and not _which("bwrap") and _which("apt-get"):
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        session.run("apt-get", "update", "-qq", external=True, env=env)
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "bubblewrap"]
        session.run(*install, external=True, env=env)


@nox.session(python=PYTHON)
def report(session: nox.Session) -> None:
    """Render a results directory's report and site (default: results/)."""
    _install(session, "-e", ".")
    _tool(session, "report", *session.posargs)


@nox.session(python=PYTHON)
def publish(session: nox.Session) -> None:
    """Publish a run into results/: `-- runs/release-history --to results`."""
    _install(session, "-e", ".")
    _tool(session, "publish", *(session.posargs or ["runs/release-history", "--to", "results"]))


@nox.session(python=PYTHON)
def stage_times(session: nox.Session) -> None:
    """Regenerate the published stage times the progress estimate ships with, after a publish."""
    _install(session, "-e", ".")
    session.run("python", "bin/update_stage_times.py", "results")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Every test CI runs (.ci/run), each once: unit, then processes and integration on every core.

    About 50 minutes on 2 cores (lab/measurements.md has a CI run's tiers and slowest tests).

    Each tier's JUnit file, wall and CPU time go to runs/tests/ and the slowest tests are printed at
    the end (bin/test_durations.py), so a change of CI's time is measured, not guessed.
    `-- tests/unit tests/processes` runs the first two alone (any paths: one pytest, as given), and
    `nox -s unit` (a bare `nox`) the unit tier only."""
    _install(session, "-e", ".[test,distributed]", TEST_TORCH, *TEST_IREE)
    if session.posargs:
        if any("integration" in a for a in session.posargs) or not any(
            a.startswith(TIERS) for a in session.posargs
        ):
            _room_for_integration(session)
            _host_ready(session)
        session.run("pytest", *session.posargs)
        return
    _room_for_integration(session)
    _host_ready(session)
    out = os.path.join("runs", "tests")
    os.makedirs(out, exist_ok=True)
    failed = []
    for name, args in TIER_RUNS:
        ok = _timed_tier(session, name, out, ["pytest", *args, f"--junitxml={out}/junit-{name}.xml"])
        if not ok:
            failed.append(name)
            if name == "unit":  # a broken unit fails in seconds, not after the integration tier
                break
    session.run("python", "bin/test_durations.py", out, "--slowest", "30")
    if failed:
        session.error(f"failed tiers: {', '.join(failed)} (their JUnit files: {out}/)")


# The tiers without the integration tier's real environments: seconds to minutes, no IREE or Docker.
TIERS = ("tests/unit", "tests/processes")
# How many tests run at once in the processes and integration tiers (pytest-xdist): one per core,
# at least 2. The processes tier waits far more than it computes (858 s wall for 215 s of CPU in
# one measured run); the integration tier's tests that need the machine's Docker daemon, qemu or
# a bound on wall time share a group (tests/integration/conftest.py) and so never overlap.
WORKERS = os.environ.get("IREE_MATRIX_TEST_WORKERS") or str(max(2, os.cpu_count() or 1))
TIER_RUNS = (
    ("unit", ["tests/unit"]),  # hermetic and fast: one process, no workers to start
    ("processes", ["-n", WORKERS, "--dist", "loadgroup", "tests/processes"]),
    # The whole reference zoo (marker `zoo`) is `nox -s slow`'s: CI runs each kind of export instead.
    ("integration", ["-n", WORKERS, "--dist", "loadgroup", "-m", "not zoo", "tests/integration"]),
)


def _timed_tier(session: nox.Session, name: str, out: str, argv: list[str]) -> bool:
    """Run one tier; write its wall and CPU seconds (its processes' and every child's they waited
    for) to OUT/tier-NAME.json. False when it failed."""
    import json
    import resource
    import time

    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    try:
        session.run(*argv)
        ok = True
    except nox.command.CommandFailed:
        ok = False
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(os.path.join(out, f"tier-{name}.json"), "w") as f:
        json.dump({"tier": name, "wall_s": round(time.monotonic() - start, 1), "cpu_s": round(cpu, 1),
                   "passed": ok, "argv": argv, "load_at_end": os.getloadavg()[0]}, f)  # fmt: skip
    return ok


@nox.session(python=PYTHON)
def slow(session: nox.Session) -> None:
    """The tests CI leaves to a schedule (marker `zoo`): every reference model through IREE.

    Every reference model and function through turbine and IREE 3.9.0, about 11 minutes on 2 cores.
    The weekly workflow (.github/workflows/slow.yml) runs it; `nox -s tests` runs each kind of
    export on its smallest models instead."""
    _install(session, "-e", ".[test,distributed]", TEST_TORCH, *TEST_IREE)
    _room_for_integration(session)
    _host_ready(session)
    session.run("pytest", "-m", "zoo", *(session.posargs or ["tests/integration"]))


# What one integration run writes at most at once (venvs, stores, Docker images under the temp dir;
# about 4 GB seen), with a margin: below it the tier fails 40 minutes in on ENOSPC, so say it now.
INTEGRATION_FREE_GB = 8


def _room_for_integration(session: nox.Session) -> None:
    import shutil
    import tempfile

    for where in {tempfile.gettempdir(), os.path.expanduser("~")}:
        free = shutil.disk_usage(where).free / 1e9
        if free < INTEGRATION_FREE_GB:
            session.error(
                f"{where}: {free:.1f} GB free; the integration tier needs about {INTEGRATION_FREE_GB} GB "
                "(venvs, stores, images): free some space, or run "
                "`nox -s tests -- tests/unit tests/processes`"
            )


def _host_ready(session: nox.Session) -> None:
    """The integration tier runs real Docker, qemu, ARM toolchains, valgrind, a browser:
    images/setup-host.sh installs and starts what is missing (idempotent: seconds when everything
    is there; no init system starts dockerd on these machines). As root it runs here, so a fresh
    machine needs only `pip install nox` and `nox -s tests`; as another user, one line says what to
    run, and the tests that need it say what they lack."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "images", "setup-host.sh")
    if os.geteuid() == 0:
        session.run("bash", script, external=True)
        return
    docker = subprocess.run(["docker", "info"], capture_output=True, text=True) if _which("docker") else None
    if docker is None or docker.returncode != 0:
        session.warn(f"the integration tests need Docker, qemu and ARM toolchains: `sudo bash {script}` once")


def _which(name: str) -> bool:
    import shutil

    return shutil.which(name) is not None


@nox.session(python=PYTHON)
def unit(session: nox.Session) -> None:
    """The unit tier: no IREE, Docker or processes, at most 3 minutes on 2 cores.

    Its tests that start processes, sleep or wait on real time (`processes`) and those that take
    seconds of CPU (`heavy`) are a tier of their own, tests/processes, which `nox -s tests` runs."""
    _install(session, "-e", ".[test,distributed]", TEST_TORCH)
    session.run("pytest", *(session.posargs or ["tests/unit"]))


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check, ruff format --check, and mypy over src/ (pyproject.toml's [tool.mypy])."""
    _install(session, "-e", ".[lint]")
    session.run("ruff", "check", "src", "scripts", "bin", "benchmarks", "tests", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "scripts", "bin", "benchmarks", "tests", "noxfile.py")
    session.run("mypy")


@nox.session(python=PYTHON)
def doctor(session: nox.Session) -> None:
    """What this machine lacks for each backend, and the disk the cache uses."""
    _install(session, "-e", ".")
    _tool(session, "doctor", *session.posargs)


@nox.session(python=PYTHON)
def images(session: nox.Session) -> None:
    """A matrix's environment images: `-- list` (default), `-- build`, `-- prune [--all]`."""
    _install(session, "-e", ".")
    _tool(session, "images", *session.posargs)


@nox.session(python=PYTHON)
def armv6_smoke(session: nox.Session) -> None:
    """Pi Zero: armv6 hello world, IREE's runtime from source, matrix/armv6.toml under qemu.

    `-- --iree-source SRC` (or IREE_MATRIX_IREE_SOURCE=SRC: a tree, a tarball of one, or
    git+URL@TAG) builds from that source, `-- --armv6-runtime DIR` uses your own build."""
    _install(session, "-e", ".")
    _tool(session, "armv6-smoke", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """The performance matrix and the flag search, into runs/bench/PERFORMANCE.md.

    matrix/bench.toml (releases x peers, op kinds in context, MobileNetV2's dispatches), then the
    flag search (matrix/search.toml) into the same results, then the tables in
    runs/bench/PERFORMANCE.md (`nox -s publish -- runs/bench --to results/bench-<cpu>` publishes them:
    one set per CPU identity, e.g. results/bench-rocketlake).

    Host venvs, not images: peak memory is measured on the tool's own process, and torch.compile
    needs a C++ compiler, which the minimal Debian images do not have."""
    _install(session, "-e", ".")
    where = ["--results-dir", "runs/bench"]
    common = ["--backend", "venv", *where, *session.posargs]
    _tool(session, "matrix", "--matrix", "matrix/bench.toml", *common)
    _tool(session, "search", "--matrix", "matrix/search.toml", *common)
    _tool(session, "report", "--performance", *where)
