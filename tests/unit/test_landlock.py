"""A venv command writes only where a container could (issue #41): real processes under Landlock.
Skipped where the kernel has no Landlock (the command then runs unrestricted, as documented)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.core.system import landlock, processes
from iree_matrix.core.system.process_request import ProcessRequest

pytestmark = pytest.mark.skipif(not landlock.abi(), reason="this kernel has no Landlock")


def test_a_command_cannot_delete_or_write_outside_its_directories(tmp_path: Path) -> None:
    job, out, elsewhere = tmp_path / "job", tmp_path / "out", tmp_path / "precious"
    for d in (job, out, elsewhere):
        d.mkdir()
    victim = elsewhere / "precious.txt"
    victim.write_text("keep me")
    script = (
        f"rm -f {victim}; echo no > {elsewhere}/new.txt; mkdir {elsewhere}/d; "
        f"echo yes > {out}/result.txt; echo here > relative.txt"
    )
    done = processes.run(
        ProcessRequest(["sh", "-c", script], cwd=job, check=False, writes_beneath=[str(job), str(out)])
    )
    assert victim.read_text() == "keep me"
    assert not (elsewhere / "new.txt").exists() and not (elsewhere / "d").exists()
    assert "Permission denied" in done.output
    assert (out / "result.txt").read_text() == "yes\n" and (job / "relative.txt").is_file()


def test_without_the_argument_nothing_is_restricted(tmp_path: Path) -> None:
    victim = tmp_path / "v.txt"
    victim.write_text("x")
    assert (
        processes.run(ProcessRequest(["rm", str(victim)], check=False)).returncode == 0
        and not victim.exists()
    )


SHM_DRILL = (
    "import os, sys\n"
    "open('/dev/shm/{mine}', 'wb').write(b'x' * (1 << 20))\n"  # what a model's shared memory does
    "try:\n    os.remove('/dev/shm/{theirs}')\nexcept OSError as e:\n    print('refused', type(e).__name__)\n"
    "print('seen', sorted(os.listdir('/dev/shm')))\n"
    "open('/dev/null', 'w').write('still writable')\n"
)


def test_a_venv_command_has_a_dev_shm_of_its_own(tmp_path: Path) -> None:
    """#51: on the venv backend a model wrote 64 MB into the host's /dev/shm and deleted another
    program's file there. Its /dev/shm is its own now (a tmpfs that goes with it)."""
    import os
    import sys
    import uuid

    mine, theirs = f"iree-matrix-test-{uuid.uuid4().hex}", f"iree-matrix-other-{uuid.uuid4().hex}"
    other = Path("/dev/shm") / theirs
    other.write_text("another program's")
    try:
        code = SHM_DRILL.format(mine=mine, theirs=theirs)
        request = ProcessRequest([sys.executable, "-c", code], cwd=tmp_path, check=False,
                                 writes_beneath=[str(tmp_path), "/dev"], private_shm=True)  # fmt: skip
        done = processes.run(request)
        assert other.read_text() == "another program's", done.output
        assert not (Path("/dev/shm") / mine).exists(), done.output
        # Its own /dev/shm held its file (a private tmpfs) or it could write none (Landlock).
        assert done.returncode == 0 and f"seen ['{mine}']" in done.stdout or "PermissionError" in done.output
        assert os.path.exists("/dev/shm")
    finally:
        other.unlink(missing_ok=True)
        (Path("/dev/shm") / mine).unlink(missing_ok=True)


def test_a_device_file_can_be_allowed_alone(tmp_path: Path) -> None:
    """Without a /dev/shm of its own a command may write /dev/null (a file rule), not /dev/shm."""
    script = "echo x > /dev/null && echo ok; echo y > /dev/shm/iree-matrix-no; true"
    done = processes.run(
        ProcessRequest(["sh", "-c", script], check=False, writes_beneath=[str(tmp_path), *landlock.DEVICES])
    )
    assert "ok" in done.stdout and not Path("/dev/shm/iree-matrix-no").exists(), done.output


def test_without_a_namespace_a_command_may_not_write_dev_shm(tmp_path: Path, monkeypatch) -> None:
    """Where no mount namespace can be made (`shm_namespace.private_shm` refused), the host's /dev/shm is
    not writable to the command; /dev/null still is."""
    import sys

    from iree_matrix.core.system import shm_namespace

    monkeypatch.setattr(shm_namespace, "private_shm", lambda size: False)
    code = "open('/dev/null', 'w').write('x'); open('/dev/shm/iree-matrix-no', 'w')"
    done = processes.run(
        ProcessRequest(
            [sys.executable, "-c", code],
            check=False,
            writes_beneath=[str(tmp_path), "/dev"],
            private_shm=True,
        )
    )
    assert (
        done.returncode == 1 and "PermissionError" in done.output and "/dev/shm/iree-matrix-no" in done.output
    )
    assert not Path("/dev/shm/iree-matrix-no").exists()
