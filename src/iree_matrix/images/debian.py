"""Debian: the suites a base can be, the mirror to fetch them from, and debootstrap (with its qemu
second stage for a foreign architecture) into a rootfs trimmed to what an environment needs."""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import os
import platform
import re
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Optional

from iree_matrix.core.errors import StageFailure
from iree_matrix.core.system import binfmt, processes
from iree_matrix.core.system.containers import SETUP_HINT
from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.iree import targets
from iree_matrix.iree.targets import Platform

# Packages beyond minbase: python3 + venv (which brings ensurepip's pip wheel) is all an offline
# `pip install` of wheels needs. libstdc++6/libgcc-s1 are listed because manylinux wheels (IREE,
# torch) assume them; minbase has them today only as apt's dependencies.
BASE_PACKAGES = ("python3", "python3-venv", "libstdc++6", "libgcc-s1")
# A base for native tools only (e.g. an armel rootfs that runs cross-compiled C programs under
# qemu): no Python, so half the size and half the debootstrap time of a foreign arch.
BASE_PACKAGES_NO_PYTHON = ("libstdc++6", "libgcc-s1")


def toolchain_packages() -> tuple[str, ...]:
    """The runtime-build stage's image on the docker backend: IREE's runtime built with Debian's
    cmake and ninja and every target's toolchain (iree/targets.py: GCC natively, the armel cross
    compilers for the Pi Zero; binutils for `strip`)."""
    compilers = [p for tc in targets.toolchains().values() for p in tc.packages]
    return (*BASE_PACKAGES_NO_PYTHON, "cmake", "ninja-build", *dict.fromkeys(compilers))


@dataclasses.dataclass(frozen=True)
class Suite:
    name: str
    python: str  # python3's minor version in that suite
    glibc: tuple[int, int]


# Verified against each suite's archive (python3 and libc6 versions in the built rootfs;
# `ensure_base` re-checks them against the `.packages` list of every base it builds).
SUITES: dict[str, Suite] = {
    s.name: s
    for s in (
        Suite("bullseye", "3.9", (2, 31)),
        Suite("bookworm", "3.11", (2, 36)),
        Suite("trixie", "3.13", (2, 41)),
    )
}


def suite_for_python(python: str) -> Optional[str]:
    return next((suite.name for suite in SUITES.values() if suite.python == python), None)


_DEBIAN_SUITES = re.compile(
    r"^(buster|bullseye|bookworm|trixie|forky|duke|sid|(old)*stable|testing|unstable)$"
)


def debian_mirror(apt_dir: Path = Path("/etc/apt")) -> str:
    """The Debian archive this host's apt uses for a release suite (`IREE_MATRIX_DEBIAN_MIRROR` overrides)."""
    if override := os.environ.get("IREE_MATRIX_DEBIAN_MIRROR"):
        return override.rstrip("/")
    files = [apt_dir / "sources.list"]
    if (parts := apt_dir / "sources.list.d").is_dir():
        files += sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources"))
    for path in files:
        try:
            text = path.read_text()
        except OSError:
            continue
        for uri, suites in _apt_entries(text, deb822=path.suffix == ".sources"):
            if any(_DEBIAN_SUITES.match(s) for s in suites):
                return uri.rstrip("/")
    return "http://deb.debian.org/debian"


def _apt_entries(text: str, *, deb822: bool) -> Iterator[tuple[str, list[str]]]:
    if deb822:
        for stanza in re.split(r"\n\s*\n", text):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.split()
            if "deb" in fields.get("types", []) and fields.get("enabled", ["yes"]) != ["no"]:
                yield from ((uri, fields.get("suites", [])) for uri in fields.get("uris", []))
        return
    for line in text.splitlines():
        words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
        if len(words) >= 3 and words[0] == "deb":
            yield words[1], [words[2]]


def debootstrap(
    suite: str, arch: Platform, target: Path, mirror: str, include: Sequence[str], under: Bounds
) -> None:
    if shutil.which("debootstrap") is None:
        raise StageFailure("base-image", f"debootstrap is not installed; {SETUP_HINT}", cacheable=False)
    argv = ["debootstrap", "--variant=minbase", f"--include={','.join(include)}", "--arch", arch.debian]
    foreign = arch.machine != platform.machine()
    # A foreign rootfs: unpacked with --foreign, its second stage run in a chroot under qemu-user (the
    # binfmt handler); without the F flag, qemu is copied into the rootfs for it and removed after.
    qemu = shutil.which(f"{arch.qemu}-static") if foreign else None
    problem = binfmt.problem(str(arch.qemu)) if foreign else None
    entry = binfmt.entry(str(arch.qemu)) if foreign else None
    if foreign and (qemu is None or entry is None or not entry.enabled or (problem and entry.fix_binary)):
        raise StageFailure(
            "base-image",
            f"building a {arch.debian} base needs qemu-user-static and a registered binfmt handler "
            f"({problem or f'{arch.qemu}-static is not installed'}); {SETUP_HINT}",
            cacheable=False,
        )
    unpack = [*argv, *(["--foreign"] if foreign else []), suite, str(target), mirror]
    processes.run(under.request(unpack, error_class="debootstrap"))
    if qemu is None or entry is None:  # native: debootstrap did both stages
        return
    inside = None if entry.fix_binary else target / entry.interpreter.lstrip("/")
    made = []
    if inside is not None:
        made = [d for d in inside.parents if str(d).startswith(str(target) + "/") and not d.exists()]
        inside.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(qemu, inside)
    try:
        second = ["chroot", str(target), "/debootstrap/debootstrap", "--second-stage"]
        processes.run(under.request(second, error_class="debootstrap"))
    finally:
        if inside is not None:
            inside.unlink(missing_ok=True)
            for directory in made:  # innermost first
                with contextlib.suppress(OSError):
                    directory.rmdir()


def snapshot_epoch(rootfs: Path) -> int:
    """The archive's Release date: a time that belongs to the content, not to the build."""
    lists = rootfs / "var" / "lib" / "apt" / "lists"
    for release in sorted(lists.glob("*_InRelease")) + sorted(lists.glob("*_Release")):
        if match := re.search(r"^Date:\s*(.+)$", release.read_text(errors="replace"), re.MULTILINE):
            return int(email.utils.parsedate_to_datetime(match.group(1).strip()).timestamp())
    return 0


# Build leftovers that differ between two debootstraps of the same archive, or that Docker
# supplies itself at run time (/dev, hostname, resolv.conf).
_TRIM = ("dev", "tmp", "var/lib/apt/lists", "var/cache/apt", "var/log", "var/cache/ldconfig")
_TRIM_FILES = (
    "etc/hostname",
    "etc/resolv.conf",
    "etc/machine-id",
    "var/lib/dbus/machine-id",
    "var/cache/debconf/config.dat-old",
    "var/cache/debconf/templates.dat-old",
)


def trim_rootfs(rootfs: Path) -> None:
    for rel in _TRIM:
        path = rootfs / rel
        if path.is_dir() and not path.is_symlink():
            for child in path.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                elif not (rel == "var/log" and child.stat().st_size == 0):
                    child.unlink()
    for rel in _TRIM_FILES:
        (rootfs / rel).unlink(missing_ok=True)
    (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
    (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True, exist_ok=True)


def dpkg_list(rootfs: Path) -> str:
    # The host's dpkg-query reads the rootfs's database: works for foreign arches without qemu.
    shown = "${Package}\t${Version}\t${Architecture}\n"
    argv = ["dpkg-query", f"--admindir={rootfs / 'var' / 'lib' / 'dpkg'}", "-W", "-f", shown]
    done = processes.run(ProcessRequest(argv, timeout=120, error_class="base-image"))
    return "".join(sorted(done.stdout.splitlines(keepends=True)))


def check_suite(suite: Suite, packages: str, *, with_python: bool = True) -> None:
    versions = dict(line.split("\t")[:2] for line in packages.splitlines() if line.count("\t") >= 2)
    python = ".".join(versions.get("python3", "0.0").split(".")[:2])
    glibc = tuple(int(x) for x in re.split(r"[.-]", versions.get("libc6", "0.0"))[:2])
    if (with_python and python != suite.python) or glibc != suite.glibc:
        raise StageFailure(
            "base-image",
            f"{suite.name} now ships python3 {python} and glibc {glibc}; iree_matrix.images.SUITES says "
            f"{suite.python} / {suite.glibc}: update the table",
            cacheable=False,
        )
