"""doctor's verdicts and advice (pure logic over Check values; the probes are exercised in CI)."""

from __future__ import annotations

from pathlib import Path

from iree_matrix import doctor
from iree_matrix.doctor import Check


def test_missing_daemon_prints_the_fix_and_fails_only_the_docker_backend() -> None:
    checks = [
        Check("disk", True, "70 GB free"),
        Check("docker daemon", False, "not running", "bash images/setup-host.sh starts dockerd", "docker"),
        Check("python3.11", True, "/usr/bin/python3.11", needed_for="venv"),
    ]
    text = doctor.render(checks)
    assert "NO  docker daemon" in text
    assert "fix: bash images/setup-host.sh starts dockerd" in text
    assert "backend auto -> venv" in text
    assert doctor.exit_code(checks, "docker") == 1
    assert doctor.exit_code(checks, "venv") == 0


def test_a_python_the_host_lacks_is_reported_with_the_docker_alternative() -> None:
    (check,) = doctor.check_pythons(["3.2"])
    assert not check.ok and check.needed_for == "venv"
    assert "--backend docker" in check.fix


def test_disk_check_names_the_directory(tmp_path: Path) -> None:
    check = doctor.check_disk(tmp_path / "cache")
    assert str(tmp_path / "cache") in check.detail and "GB free" in check.detail
