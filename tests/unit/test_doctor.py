"""doctor's verdicts and advice (pure logic over Check values; the probes are exercised in CI)."""

from __future__ import annotations

from pathlib import Path

from iree_matrix.envs import doctor
from iree_matrix.envs.doctor import Check


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
    assert doctor.exit_code(checks, "mixed") == 1  # mixed runs images too: it needs the daemon


def test_a_python_the_host_lacks_is_reported_with_the_docker_alternative() -> None:
    (check,) = doctor.check_pythons(["3.2"])
    assert not check.ok and check.needed_for == "venv"
    assert "--backend docker" in check.fix


def test_disk_check_names_the_directory(tmp_path: Path) -> None:
    check = doctor.check_disk(tmp_path / "cache")
    assert str(tmp_path / "cache") in check.detail and "GiB free" in check.detail


def _binfmt(root: Path, name: str, text: str) -> None:
    root.mkdir(exist_ok=True)
    (root / "register").touch()
    (root / name).write_text(text)


def test_binfmt_needs_both_arm_handlers_enabled_with_the_f_flag(tmp_path: Path) -> None:
    interpreter = tmp_path / "arm-binfmt-P"
    interpreter.touch()
    root = tmp_path / "binfmt_misc"
    # The text of /proc/sys/fs/binfmt_misc/qemu-arm after images/setup-host.sh (Debian 12).
    good = (
        f"enabled\ninterpreter {interpreter}\nflags: POF\noffset 0\n"
        "magic 7f454c4601010100000000000000000002002800\nmask ffffffffffffff00fffffffffffffffffeffffff\n"
    )
    _binfmt(root, "qemu-arm", good)
    check = doctor.check_binfmt(root)
    assert not check.ok and check.needed_for == "qemu"
    assert "qemu-aarch64 is not registered" in check.detail and check.fix == "bash images/setup-host.sh"

    _binfmt(root, "qemu-aarch64", good)
    check = doctor.check_binfmt(root)
    assert check.ok and "qemu-arm (flags POF)" in check.detail

    _binfmt(root, "qemu-aarch64", good.replace("flags: POF", "flags: OC"))
    assert "qemu-aarch64 lacks the F flag (flags: OC)" in doctor.check_binfmt(root).detail
    _binfmt(root, "qemu-aarch64", good.replace("enabled", "disabled", 1))
    assert "qemu-aarch64 is registered but disabled" in doctor.check_binfmt(root).detail
    _binfmt(root, "qemu-aarch64", good.replace(str(interpreter), "/nonexistent/qemu"))
    assert "/nonexistent/qemu does not exist" in doctor.check_binfmt(root).detail


def test_binfmt_not_mounted_says_so(tmp_path: Path) -> None:
    check = doctor.check_binfmt(tmp_path / "empty")
    assert not check.ok and "is not mounted" in check.detail


def test_a_missing_binfmt_handler_fails_no_backend() -> None:
    checks = [Check("binfmt", False, "qemu-arm is not registered", "bash images/setup-host.sh", "qemu")]
    assert doctor.exit_code(checks, "docker") == 0 and doctor.exit_code(checks, "venv") == 0
    assert "backend auto -> venv for this host" in doctor.render(
        checks
    ) and "docker for aarch64" in doctor.render(checks)


def test_a_missing_build_tool_for_source_runtimes_is_named_with_its_fix(monkeypatch):
    from iree_matrix.envs import doctor

    found = lambda tool: None if tool in ("cmake", "ninja") else f"/usr/bin/{tool}"  # noqa: E731
    monkeypatch.setattr(doctor.shutil, "which", found)
    check = doctor.check_native_toolchain()
    assert not check.ok and check.needed_for == "src"
    assert check.detail.startswith("missing cmake, ninja (needed by src:<release> runtimes")
    assert "apt-get install cmake ninja-build" in check.fix


def test_bubblewrap_missing_fails_the_venv_backend_with_its_fix(monkeypatch):
    from iree_matrix.core.system import bubblewrap

    monkeypatch.setattr(bubblewrap, "problem", lambda: "bubblewrap (bwrap) is not installed")
    check = doctor.check_sandbox()
    assert not check.ok and check.needed_for == "venv" and "--unsandboxed" in check.detail
    assert "apt-get install bubblewrap" in check.fix
    assert doctor.exit_code([check], "venv") == 1 and doctor.exit_code([check], "docker") == 0
    monkeypatch.setattr(bubblewrap, "problem", lambda: None)
    monkeypatch.setattr(bubblewrap, "executable", lambda: "/usr/bin/bwrap")
    assert doctor.check_sandbox().ok
