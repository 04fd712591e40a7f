"""The runtime build's plan (keys, sources, flags) and the float-ABI check before an armv6 run."""

from __future__ import annotations

import concurrent.futures
import tarfile
import time
from pathlib import Path

import pytest

from iree_matrix.core.errors import UserError
from iree_matrix.iree import targets
from iree_matrix.source_builds import cmake_runtime as rb
from iree_matrix.stages.run import float_abi_problem

IDENT = {
    "gcc": "gcc (Debian 12.2.0-14) 12.2.0",
    "g++": "g++ 12.2.0",
    "cmake": "cmake 3.25.1",
    "ninja": "1.11.1",
}


def _tree(root: Path) -> Path:
    (root / "iree" / "runtime").mkdir(parents=True)
    (root / "iree" / "CMakeLists.txt").write_text("project(IREE)\n")
    return root


def test_a_directory_source(tmp_path):
    src = rb.source(str(_tree(tmp_path / "checkout")), tmp_path / "cache")
    assert src.tree == (tmp_path / "checkout" / "iree").resolve() and src.digest.startswith("dir:")


def test_a_tarball_source_is_unpacked_once_by_digest(tmp_path):
    tree = _tree(tmp_path / "t")
    tarball = tmp_path / "iree.tar.xz"
    with tarfile.open(tarball, "w:xz") as archive:
        archive.add(tree / "iree", arcname="iree")
    first = rb.source(str(tarball), tmp_path / "cache")
    assert (first.tree / "CMakeLists.txt").is_file() and first.digest.startswith("tarball:")
    (first.tree / "marker").write_text("kept")
    again = rb.source(str(tarball), tmp_path / "cache")
    assert again.tree == first.tree and (again.tree / "marker").is_file()  # not unpacked twice


def test_sources_wanted_at_once_are_unpacked_once(tmp_path, monkeypatch):
    """Two builds wanting one tarball at once (a plugin kernel's header beside a runtime build):
    one unpacks while the other waits and then finds the tree (before, both unpacked and the
    second one's rename failed, "Directory not empty")."""
    tree = _tree(tmp_path / "t")
    tarball = tmp_path / "iree.tar.xz"
    with tarfile.open(tarball, "w:xz") as archive:
        archive.add(tree / "iree", arcname="iree")
    unpack, inside, calls = rb._unpack, [], []

    def slow_unpack(path: Path, into: Path) -> None:
        inside.append(1)
        calls.append(len(inside))  # how many were unpacking at once
        time.sleep(0.3)
        unpack(path, into)
        inside.pop()

    monkeypatch.setattr(rb, "_unpack", slow_unpack)
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        made = list(pool.map(lambda _: rb.source(str(tarball), tmp_path / "cache"), range(3)))
    assert calls == [1] and len({m.tree for m in made}) == 1
    assert (made[0].tree / "runtime").is_dir()


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("/nonexistent/iree", "no such directory or file"),
        ("git+https://github.com/iree-org/iree", "expected git+URL@TAG"),
    ],
)
def test_bad_sources_are_one_line_errors(tmp_path, spec, words):
    with pytest.raises(UserError) as caught:
        rb.source(spec, tmp_path)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_a_directory_without_iree_is_refused(tmp_path):
    with pytest.raises(UserError, match="no IREE tree there"):
        rb.source(str(tmp_path), tmp_path / "cache")


def test_keys_change_with_everything_that_decides_the_build():
    def key(source="tarball:abc", target="armv6", linkage="static", ident=IDENT):
        return rb.job_key(source, rb.toolchain(target), linkage, ident, (), "3.9.0", "host")

    base = key()
    assert base == key(ident=dict(IDENT))
    assert base != key(linkage="dynamic")
    assert base != key(target="x86_64")
    assert base != key(source="tarball:abd")
    assert base != key(ident={**IDENT, "gcc": "gcc 13"})


def test_the_armv6_toolchain_targets_the_arm1176_with_armels_calling_convention():
    tc = rb.toolchain("armv6")
    assert "-mcpu=arm1176jzf-s" in tc.cflags and "-march=armv6" not in tc.cflags  # `yield` needs v6K
    # The flags are part of every armv6 build's key: the same string, or every runtime is rebuilt.
    assert tc.cflags == "-mcpu=arm1176jzf-s -marm -mfpu=vfp -mfloat-abi=softfp -Wno-error=pointer-to-int-cast"
    assert "-mfloat-abi=softfp" in tc.cflags and tc.float_abi == targets.ARCHES["armv6"].float_abi == "soft"
    assert targets.ARCHES["armv6"].triple == "armv6-unknown-linux-gnueabi"
    assert targets.ARCHES["armv6"].debian == "armel" and targets.ARCHES["armv6"].platform.qemu == "qemu-arm"


def test_float_abi_mismatch_is_found_before_running():
    armv6 = targets.parse("armv6")
    assert float_abi_problem({"kernel": {"float_abi": "soft"}}, armv6) == ""
    assert float_abi_problem({"kernel": {"float_abi": None}}, armv6) == ""  # the ELF says nothing
    problem = float_abi_problem({"kernel": {"float_abi": "hard"}}, armv6)
    assert "hard-float calling convention" in problem and "armv6-unknown-linux-gnueabi" in problem
    assert float_abi_problem({"kernel": {"float_abi": "hard"}}, targets.parse("x86_64")) == ""


def test_releases_that_fetch_libbacktrace_build_without_it_and_older_keys_stay():
    """3.10.0 and 3.11.0 clone libbacktrace while configuring (offline: "could not find git");
    3.9.0 and older need nothing more, and keep their build keys."""
    from iree_matrix.source_builds import cmake_runtime as rb

    assert rb.release_cmake("3.11.0") == rb.release_cmake("3.10.0") == ("-DIREE_ENABLE_LIBBACKTRACE=OFF",)
    assert rb.release_cmake("3.9.0") == rb.release_cmake("3.3.0") == rb.release_cmake("3.9.0", "armv6") == ()
    assert rb.release_cmake("3.7.0", "armv6") == ("-DIREE_ENABLE_CPUINFO=OFF",)  # cpuinfo lacks "arm"
    # 3.11's dead 32-bit shift in alignment.h warns on ARM32, and -Werror would stop the cross build
    assert rb.release_cmake("3.11.0", "armv6") == (
        "-DIREE_ENABLE_LIBBACKTRACE=OFF",
        "-DIREE_ENABLE_WERROR_FLAG=OFF",
    )
    assert rb.release_cmake("3.10.0", "armv6") == ("-DIREE_ENABLE_LIBBACKTRACE=OFF",)
    # The keys stored runtimes were built under (computed before build_key folded into job_key).
    ident = {"cmake": "cmake version 3.31.10"}
    plain = rb.job_key("tarball:x", rb.toolchain("x86_64"), "dynamic", ident, (), "3.9.0", None)
    assert plain == "77a50d0555584b16a9c9824983fb98cb761040b4690d683330021f23836c6274"
    cross = rb.job_key("tarball:x", rb.toolchain("armv6"), "static", ident, ("static", "Os"), "3.11.0", "abc")
    assert cross == "e598d026631d4b5f3f5e28791769ac295849339f8f379834072c5e9b8315bcc6"


def test_a_build_that_needs_a_submodule_the_source_lacks_says_which_and_how_to_add_it(tmp_path):
    from iree_matrix.source_builds import cmake_runtime as rb

    (tmp_path / "third_party" / "printf").mkdir(parents=True)
    (tmp_path / "third_party" / "flatcc" / "src").mkdir(parents=True)
    words = "Cannot find source file:\n  /x/iree/third_party/printf/src/printf/printf.c\nNo SOURCES given"
    hint = rb.missing_submodules(tmp_path, words)
    assert "no third_party/printf" in hint and "submodule update --init third_party/printf" in hint
    assert rb.missing_submodules(tmp_path, "error: something else") == ""


def test_a_clone_of_a_release_fetches_the_submodules_its_runtime_configures():
    from iree_matrix.source_builds.cmake_runtime import runtime_submodules

    assert "third_party/printf" in runtime_submodules("3.11.0")
    assert "third_party/printf" not in runtime_submodules("3.10.0")
    assert {"third_party/googletest", "third_party/cpuinfo"} <= set(runtime_submodules("3.3.0"))
    assert "third_party/cpuinfo" in runtime_submodules("3.7.0")
    assert "third_party/cpuinfo" not in runtime_submodules("3.9.0")
    assert runtime_submodules("my-fix") == ("third_party/flatcc", "third_party/benchmark")
