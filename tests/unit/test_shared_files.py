"""What the tool copies out of a user's folder is only what every other user could read there by that
very path (core/system/shared_files.py), one rule for every copier: a kernel's directory (loaded,
then copied into the store) and a received results folder's documents (merged, then published). A
drill (issue 94) had a hard link to a root-only 0600 file and a link into a 0700 folder both copied
into the store as 0644, where uid 65534 read them."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from iree_matrix.core.system import shared_files
from iree_matrix.kernel import kernels

NEGABS = Path(__file__).resolve().parents[1] / "data" / "kernels" / "negabs"
pytestmark = pytest.mark.shared_tmp  # tmp_path every user may enter, as a kernel's folder must be
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the folders above are walked when the tool is root")


def _file(where: Path, mode: int, text: str = "secret") -> Path:
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text(text)
    where.chmod(mode)
    return where


def _kernel(tmp_path: Path) -> Path:
    kernel = tmp_path / "negabs"
    shutil.copytree(NEGABS, kernel)
    return kernel


def test_a_file_every_user_may_read_in_folders_they_may_enter_is_taken(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    for folder in (tmp_path / "a", tmp_path / "a" / "b"):
        folder.chmod(0o755)
    assert shared_files.problem(_file(tmp_path / "a" / "b" / "f.h", 0o644), folders=True) is None


def test_a_hard_link_is_refused_even_to_a_readable_file(tmp_path: Path) -> None:
    original = _file(tmp_path / "elsewhere" / "f.h", 0o644)
    os.link(original, tmp_path / "linked.h")
    why = shared_files.problem(tmp_path / "linked.h", folders=True)
    assert why is not None and "linked.h: a hard link (2 names" in why and "copy the file" in why


def test_a_hard_link_to_a_private_file_is_refused_by_its_mode(tmp_path: Path) -> None:
    os.link(_file(tmp_path / "secret", 0o600), tmp_path / "evil.h")
    why = shared_files.problem(tmp_path / "evil.h", folders=True)
    assert why is not None and "(mode 600) is not readable by other users" in why and "\n" not in why


def test_a_file_or_a_link_under_a_private_folder_is_refused(tmp_path: Path) -> None:
    hidden = _file(tmp_path / "private" / "f.h", 0o644)
    (tmp_path / "private").chmod(0o700)
    (tmp_path / "evil.h").symlink_to(hidden)
    for path in (hidden, tmp_path / "evil.h"):
        why = shared_files.problem(path, folders=True)
        folder = tmp_path / "private"
        assert why is not None and f"the folder {folder} (mode 700) lets no other user pass" in why
    assert "evil.h (a link to" in str(shared_files.problem(tmp_path / "evil.h", folders=True))


def test_a_copy_is_never_wider_than_its_source(tmp_path: Path) -> None:
    with pytest.raises(shared_files.UnsharedFile, match=r"\(mode 640\) is not readable by other users"):
        shared_files.copy(_file(tmp_path / "group.h", 0o640), tmp_path / "copy-of-group.h")
    assert not (tmp_path / "copy-of-group.h").exists()  # never a 0644 copy of a 0640 file
    shared_files.copy(_file(tmp_path / "narrow.h", 0o604), tmp_path / "copy.h")
    assert stat.S_IMODE((tmp_path / "copy.h").stat().st_mode) == 0o604
    assert (tmp_path / "copy.h").read_text() == "secret"


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe", 0o644)
    with pytest.raises(shared_files.UnsharedFile, match="pipe: not a regular file"):
        shared_files.copy(tmp_path / "pipe", tmp_path / "copy")


def test_a_kernel_with_a_hard_link_is_refused_at_load_in_one_line(tmp_path: Path) -> None:
    kernel = _kernel(tmp_path)
    os.link(_file(tmp_path / "secret", 0o600), kernel / "evil.h")
    with pytest.raises(kernels.KernelError) as refused:
        kernels.load(kernel)
    assert str(refused.value).startswith(f"{kernel / 'evil.h'}") and "\n" not in str(refused.value)
    (kernel / "evil.h").unlink()
    os.link(kernel / "negabs.c", kernel / "again.h")  # readable, but a second name of a file
    with pytest.raises(kernels.KernelError, match="again.h: a hard link"):
        kernels.load(kernel)


@as_root
def test_a_kernel_linking_into_a_private_folder_is_refused_at_load(tmp_path: Path) -> None:
    kernel = _kernel(tmp_path)
    hidden = _file(tmp_path / "private" / "f.h", 0o644)
    (tmp_path / "private").chmod(0o700)
    (kernel / "evil.h").symlink_to(hidden)
    with pytest.raises(kernels.KernelError, match="lets no other user pass"):
        kernels.load(kernel)
    (kernel / "evil.h").unlink()
    assert kernels.load(kernel).name == "negabs"


def test_merge_leaves_out_a_received_manifest_that_is_a_hard_link(tmp_path: Path) -> None:
    from iree_matrix.findings import merge

    manifests = tmp_path / "shard" / "manifests"
    manifests.mkdir(parents=True)
    os.link(_file(tmp_path / "secret.json", 0o600, "{}"), manifests / "m.json")
    assert merge._received(manifests / "m.json") is None
    assert merge._received(_file(manifests / "fine.json", 0o644, "{}")) == b"{}"
