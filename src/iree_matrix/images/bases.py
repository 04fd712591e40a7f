"""Base images: a Debian rootfs from debootstrap, packed and loaded (or an image the user names),
kept in the cache so the same tarball always gives the same image."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core import console
from iree_matrix.core.atomic_files import read_json, write_json
from iree_matrix.core.console import Say
from iree_matrix.core.errors import StageFailure, UserError
from iree_matrix.core.hashing import file_sha256
from iree_matrix.core.system import containers
from iree_matrix.core.system.locks import file_lock
from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.core.system.processes import note
from iree_matrix.images import debian
from iree_matrix.images.common import BASE_REPO
from iree_matrix.images.oci_archive import image_config, pack, save_archive
from iree_matrix.iree.targets import PLATFORMS, host_platform

logger = console.logger(__name__)


@dataclasses.dataclass(frozen=True)
class BaseImage:
    ref: str  # "debian:bookworm-amd64", or the user's image name
    tag: str  # what to start containers from
    image_id: str
    python: str  # "3.11"
    arch: str  # Debian name
    glibc: tuple[int, int]
    meta: Mapping[str, Any]  # suite, mirror, rootfs sha256, snapshot date, ... (for the manifest)


class Bases:
    """Base images: debootstrapped Debian suites kept as tarballs, or images the user names."""

    def __init__(self, root: Path, *, mirror: Optional[str] = None, say: Optional[Say] = None) -> None:
        self.root = Path(root)
        self.rootfs = self.root / "rootfs"
        self._mirror = mirror
        # Where a base's build is said: a run's progress lines (`DockerBackend.say`), else the log.
        self._say = say or logger.info

    def suite(
        self, suite: str, arch: str, under: Bounds, *, with_python: bool = True, toolchain: bool = False
    ) -> BaseImage:
        """The base for (suite, arch): loaded from the cached tarball, or debootstrapped first (a foreign
        `arch` under qemu-user). `with_python=False`: no python3 (native tools only); `toolchain=True`:
        the image runtime builds run in (`debian.toolchain_packages`)."""
        if suite not in debian.SUITES or arch not in PLATFORMS:
            raise UserError(
                f"unknown suite/arch {suite}/{arch}: suites {sorted(debian.SUITES)}, "
                f"arches {sorted(PLATFORMS)}"
            )
        # The name's suffix, and the tag's.
        flavour = "-toolchain" if toolchain else "" if with_python else "-nopython"
        stem = self.rootfs / f"{suite}-{arch}{flavour}"
        with file_lock(stem.with_suffix(".lock")):
            meta = read_json(stem.with_suffix(".json"))
            if meta is None or not stem.with_suffix(".tar").is_file():
                # Minutes of silence otherwise: said once (under the lock) as the build starts, and when
                # it is done.
                slow = "~1 min quiet" if arch == host_platform() else "3-8 min under qemu"
                kind = "toolchain image (cmake, ninja, GCC, armel cross GCC)" if toolchain else "base image"
                slow = "~3 min quiet" if toolchain else slow
                what = f"the Debian {suite} {arch} {kind}"
                self._say(
                    f"building {what}: once per cache, {slow}, from Debian's archive (log: {under.log})"
                )
                began = time.monotonic()
                meta = self._debootstrap(suite, arch, stem, under, flavour)
                self._say(f"built {what} in {time.monotonic() - began:.0f} s")
            return self._load(meta, stem.with_suffix(".tar"), flavour, under.log)

    def named(self, name: str) -> BaseImage:
        """A user-named image the daemon already has, as it is (its `python3` is the one used)."""
        if (image := containers.image(name)) is None:
            raise UserError(
                f"base image {name!r} is not in the local Docker daemon and no registry is used: "
                f"`docker load` / `docker import` it first"
            )
        probe = self._probe(image.id)
        arch = next((a.debian for a in PLATFORMS.values() if a.machine == probe["machine"]), probe["machine"])
        meta = {"ref": name, "image_id": image.id, "probe": probe}
        return BaseImage(name, name, image.id, probe["python"], arch, tuple(probe["glibc"]), meta)

    def _probe(self, image_id: str) -> dict[str, Any]:
        """Python version, machine and glibc of an image, asked once and remembered on disk."""
        path = self.root / "probes" / f"{image_id.replace(':', '-')}.json"
        known: Optional[dict[str, Any]] = read_json(path)
        if known is not None:
            return known
        code = (
            "import json, platform, sys; lib, ver = platform.libc_ver(); "
            "print(json.dumps({'python': '%d.%d' % sys.version_info[:2], 'machine': platform.machine(), "
            "'glibc': [int(x) for x in ver.split('.')[:2]] if ver else [0, 0]}))"
        )
        argv = ["python3", "-c", code]
        out = containers.run(image_id, ProcessRequest(argv, timeout=120, check=False), what="probe")
        try:
            probe: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise StageFailure(
                "python-missing", f"image {image_id[:19]} has no working `python3`: {out.output}"
            ) from None
        write_json(path, probe)
        return probe

    def _debootstrap(self, suite: str, arch: str, stem: Path, under: Bounds, flavour: str) -> dict[str, Any]:
        mirror = self._mirror or debian.debian_mirror()
        with_python, toolchain = not flavour, flavour == "-toolchain"
        base = debian.BASE_PACKAGES if with_python else debian.BASE_PACKAGES_NO_PYTHON
        include = debian.toolchain_packages() if toolchain else base
        work = stem.with_name(stem.name + ".rootfs")
        shutil.rmtree(work, ignore_errors=True)
        start = time.monotonic()
        try:
            debian.debootstrap(suite, PLATFORMS[arch], work, mirror, include, under)
            seconds = time.monotonic() - start
            epoch = debian.snapshot_epoch(work)
            debian.trim_rootfs(work)
            packages = debian.dpkg_list(work)
            debian.check_suite(debian.SUITES[suite], packages, with_python=with_python)
            tarball = stem.with_suffix(".tar")
            pack(work, tarball.with_suffix(".tar.part"), epoch, under)
        except StageFailure as exc:
            # A mirror or disk hiccup: the same request may well succeed next time.
            raise StageFailure(exc.error_class, exc.message, cacheable=False) from None
        finally:
            shutil.rmtree(work, ignore_errors=True)
        os.replace(tarball.with_suffix(".tar.part"), tarball)
        sha = file_sha256(tarball)
        stem.with_suffix(".packages").write_text(packages)
        stem.with_suffix(".sha256").write_text(f"{sha}  {tarball.name}\n")
        meta = {
            "ref": f"debian:{stem.name}",
            "suite": suite,
            "arch": arch,
            "mirror": mirror,
            "include": list(include),
            "snapshot_epoch": epoch,
            "rootfs_sha256": sha,
            "rootfs_bytes": tarball.stat().st_size,
            "debootstrap_seconds": round(seconds, 1),
            # Absent (not True) for the Python bases: their metadata and image ids stay as they were.
            **({} if with_python else {"with_python": False}),
            **({"toolchain": True} if toolchain else {}),
        }
        write_json(stem.with_suffix(".json"), meta)  # written last: marks the base complete
        return meta

    def _load(self, meta: Mapping[str, Any], tarball: Path, flavour: str, log: Optional[Path]) -> BaseImage:
        suite, arch = debian.SUITES[meta["suite"]], PLATFORMS[meta["arch"]]
        config = image_config(meta, arch)
        image_id = "sha256:" + hashlib.sha256(config).hexdigest()
        tag = f"{BASE_REPO}:{suite.name}-{arch.debian}{flavour}-{meta['rootfs_sha256'][:12]}"
        python = "" if flavour else suite.python
        base = BaseImage(meta["ref"], tag, image_id, python, arch.debian, suite.glibc, dict(meta))
        if (existing := containers.image(tag)) is not None and existing.id == image_id:
            return base
        note(log, f"[images] loading {tarball} as {tag}")
        if file_sha256(tarball) != meta["rootfs_sha256"]:
            raise StageFailure(
                "base-image",
                f"{tarball}: sha256 differs from {tarball.name}.sha256; delete it to rebuild",
                cacheable=False,
            )
        try:
            archive = save_archive(config, tarball, tag)
            containers.load_image(archive, what=f"docker load of {tarball}", log=log)
        except StageFailure as exc:
            if exc.error_class != "docker":
                raise  # the daemon lost, not the archive refused
            raise StageFailure("base-image", exc.message, cacheable=False) from None
        if (loaded := getattr(containers.image(tag), "id", None)) != image_id:
            raise StageFailure(
                "base-image", f"{tag} loaded as {loaded}, expected {image_id}", cacheable=False
            )
        return base
