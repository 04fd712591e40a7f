"""Hostile models on host venvs, through the CLI's export stage with a real bubblewrap: what a drill's
model did to the host (SIGKILL of a host process, files created and deleted in the host's /dev, the
immutable flag set by ioctl on a host file it could read, a line in the kernel log) it can no longer
do, and its cell still says what the model did: a failure when it raised, a success when it returned
a model.

Each model tries every attack and says how each went; the test then looks at the host. Every victim
is the test's own: a `sleep` it started, files it made (in the host's /dev, in a directory under
/var/tmp the sandbox sees through its read-only root, and beside the model file, bound in read-only).
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import struct
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from iree_matrix.core.model.results import Status
from iree_matrix.core.system import bubblewrap
from tests.hostile_models import HOSTILE

from .conftest import TINY_BENCHMARK, iree_matrix, matrix_toml, module_cache, own_quiet_lock, records

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(bubblewrap.problem() is not None, reason=f"{bubblewrap.problem()}"),
]

EXPORT = "export:{}/py3.11-torch2.13.0-turbine3.9.0"
FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IMMUTABLE_FL = 0x80086601, 0x40086602, 0x10


def _flags(path: Path) -> int:
    fd = os.open(path, os.O_RDONLY)
    try:
        return struct.unpack("i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, struct.pack("i", 0)))[0]
    finally:
        os.close(fd)


def _clear_immutable(path: Path) -> None:
    """Should the sandbox have failed: the file made deletable again (as root)."""
    try:
        if _flags(path) & FS_IMMUTABLE_FL:
            fd = os.open(path, os.O_RDONLY)
            try:
                fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("i", 0))
            finally:
                os.close(fd)
    except OSError:
        pass


def _kernel_log() -> str:
    """The kernel log's records as the host sees them ("" where it cannot be read)."""
    try:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return ""
    chunks = []
    try:
        while True:
            try:
                chunks.append(os.read(fd, 8192))
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno != errno.EPIPE:  # a record overwritten while read: go on
                    raise
    finally:
        os.close(fd)
    return b"".join(chunks).decode(errors="replace")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):  # type: ignore[no-untyped-def]
    """One run of two hostile models (one raises, one returns a model), then what the host kept."""
    tmp_path, cache = module_cache(tmp_path_factory, "hostile")
    models = tmp_path / "models"
    models.mkdir()
    host_dir = Path(tempfile.mkdtemp(prefix="iree-matrix-hostile-", dir="/var/tmp"))
    victims, made, targets, tags = {}, [], [], {}
    try:
        refs = []
        for name, succeeds in (("hostile_fails", False), ("hostile_returns", True)):
            tag = f"iree-matrix-drill-{uuid.uuid4().hex[:12]}-{name}"  # unique across concurrent runs
            tags[name] = tag
            victims[name] = subprocess.Popen(["sleep", "600"])
            victim_in_dev = Path(f"/dev/{tag}-victim")
            victim_in_dev.write_text("the host's")
            secret = Path.home() / f".{tag}-secret"
            secret.write_text("a key in the user's home")
            made += [victim_in_dev, Path(f"/dev/{tag}-made"), secret]
            beside, host = models / f"{name}.target", host_dir / f"{name}.target"
            for target in (beside, host):
                target.write_text("the test's file\n")
                targets.append(target)
            source = HOSTILE.format(
                victim=victims[name].pid, tag=tag, setflags=FS_IOC_SETFLAGS, immutable_fl=FS_IMMUTABLE_FL,
                beside=str(beside), host=str(host), succeeds=succeeds, secret=str(secret),
            )  # fmt: skip
            (models / f"{name}.py").write_text(source)
            refs.append(f"{models / name}.py:build")
        matrix = tmp_path / "matrix.toml"
        tables = {"benchmark": {"repetitions": 1}, "timeouts": {"export": 300}}
        matrix.write_text(matrix_toml(models=refs, tables=tables))
        results = tmp_path / "results"
        argv = ("matrix", "--matrix", str(matrix), "--backend", "venv", "--select", "export:*")
        env = own_quiet_lock(tmp_path, sandboxed=True)
        done = iree_matrix(*argv, cache=cache, results=results, env=env, timeout=900)
        log = _kernel_log()
        seen = {
            "alive": {name: victim.poll() is None for name, victim in victims.items()},
            "dev_made": {name: Path(f"/dev/{tag}-made").exists() for name, tag in tags.items()},
            "dev_victim": {name: Path(f"/dev/{tag}-victim").is_file() for name, tag in tags.items()},
            "immutable": {str(t): bool(_flags(t) & FS_IMMUTABLE_FL) for t in targets},
            "kmsg": {name: tag in log for name, tag in tags.items()},
            "log_readable": bool(log),
        }
        for target in targets:  # still the test's to change
            with open(target, "a") as f:
                f.write("appended after the run\n")
        assert done.returncode == 0, done.stderr
        return {"got": records(results), "seen": seen, "cache": cache}
    finally:
        for victim in victims.values():
            victim.kill()
            victim.wait()
        for path in made:
            path.unlink(missing_ok=True)
        for target in targets:
            _clear_immutable(target)
        shutil.rmtree(host_dir, ignore_errors=True)


def _said(hostile, name: str) -> str:  # type: ignore[no-untyped-def]
    record = hostile["got"][EXPORT.format(name)]
    if record.status is Status.FAIL:
        return record.message
    logs = sorted(p for p in (hostile["cache"] / "logs").rglob("*.log") if name in str(p))
    return "\n".join(p.read_text(errors="replace") for p in logs)


def test_a_hostile_model_that_raises_is_recorded_as_its_failure(hostile) -> None:
    record = hostile["got"][EXPORT.format("hostile_fails")]
    assert record.status is Status.FAIL and "hostile: {" in record.message, record.message
    assert record.error_class != "no-sandbox"


def test_a_hostile_model_that_returns_a_model_is_recorded_as_exported(hostile) -> None:
    record = hostile["got"][EXPORT.format("hostile_returns")]
    assert record.status is Status.OK, record.message
    assert "hostile: {" in _said(hostile, "hostile_returns")


@pytest.mark.parametrize("name", ["hostile_fails", "hostile_returns"])
def test_it_cannot_kill_a_host_process_and_sees_only_its_own(hostile, name: str) -> None:
    assert hostile["seen"]["alive"][name], "the model killed the test's sleep"
    said = _said(hostile, name)
    assert "'kill': 'ESRCH'" in said, said  # no such pid in its own pid namespace
    pids = int(said.split("pids=")[1].split()[0])
    assert pids < 10, said  # the drill's model saw 136


@pytest.mark.parametrize("name", ["hostile_fails", "hostile_returns"])
def test_it_cannot_create_or_delete_in_the_hosts_dev(hostile, name: str) -> None:
    assert not hostile["seen"]["dev_made"][name] and hostile["seen"]["dev_victim"][name]
    said = _said(hostile, name)
    # Its own /dev (a tmpfs that vanishes with it) has no host file to delete; as uid 65534 (the tool
    # run as root) it may not even create one there, else the tmpfs took it.
    made = "'dev-make': 'EACCES'" if os.geteuid() == 0 else "'dev-make': 'done'"
    assert made in said and "'dev-remove': 'ENOENT'" in said, said


@pytest.mark.parametrize("name", ["hostile_fails", "hostile_returns"])
def test_it_cannot_make_a_host_file_immutable(hostile, name: str) -> None:
    assert not any(hostile["seen"]["immutable"].values()), hostile["seen"]["immutable"]
    said = _said(hostile, name)
    # Read-only binds refuse it (EROFS); a host file the model does not own, as uid 65534, even before
    # the mount's flag is read (EACCES: chattr needs its owner or CAP_LINUX_IMMUTABLE).
    host = "EACCES" if os.geteuid() == 0 else "EROFS"
    assert "'immutable-beside': 'EROFS'" in said and f"'immutable-host': '{host}'" in said, said


@pytest.mark.parametrize("name", ["hostile_fails", "hostile_returns"])
def test_it_cannot_write_the_kernel_log(hostile, name: str) -> None:
    said = _said(hostile, name)
    assert "'kmsg': 'absent'" in said, said  # no /dev/kmsg in its /dev
    if not hostile["seen"]["log_readable"]:
        pytest.skip("the host's kernel log cannot be read here")
    assert not hostile["seen"]["kmsg"][name]


PEERS_AND_FLOPS = matrix_toml(
    compiler="3.13.0",
    peers=["eager", "onnxruntime"],
    tables={"benchmark": {**TINY_BENCHMARK, "repetitions": 1, "roofline": ["tiny_cnn/default"]}},
)


def test_the_peer_and_flops_stages_run_their_model_in_the_sandbox(
    cache: Path, tmp_path: Path, monkeypatch
) -> None:
    """The other two stages that run model code: the same sandbox, and their answers as before."""
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(PEERS_AND_FLOPS)
    monkeypatch.setenv("IREE_MATRIX_QUIET_LOCK", str(tmp_path / "quiet.lock"))
    results = tmp_path / "results"
    done = iree_matrix(
        "matrix", "--matrix", str(matrix), "--backend", "venv", "--select", "peer:*", "--select", "flops:*",
        cache=cache, results=results, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    got = records(results)
    for stage in ("peer", "flops"):
        (record,) = [r for job, r in got.items() if job.startswith(f"{stage}:")]
        assert record.status is Status.OK, record.message
        (log,) = (cache / "logs").glob(f"{stage}--*/*.log")
        started = log.read_text().splitlines()[0]  # the command as started: as root, no user namespace
        assert "bwrap --unshare-" in started and ("setpriv --reuid=65534" in started) == (os.geteuid() == 0)


@pytest.mark.parametrize("name", ["hostile_fails", "hostile_returns"])
def test_it_cannot_read_the_users_home(hostile, name: str) -> None:
    said = _said(hostile, name)
    assert "'read-home': 'ENOENT'" in said, said  # its home is an empty tmpfs
