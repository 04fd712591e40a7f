"""Docker images without a registry: Debian bases from debootstrap, environment images from a lock.

No container registry is assumed reachable, so every image is made here:

- A *base* is a Debian `minbase` rootfs made by `debootstrap`, packed into a tarball kept in the
  cache (`<root>/rootfs/<suite>-<arch>.tar`, with `.sha256`, `.packages` and `.json` beside it) and
  loaded into the daemon. The tarball is packed reproducibly and loaded as a hand-made
  `docker save` archive whose config carries no wall-clock time, so the same tarball always gives
  the same image id: a base can be re-created bit for bit later without debootstrap.
  (`docker import` would stamp the import time into the config and change the id every time.)
- A user may instead name an image the daemon already has (`base_image="python:3.12-slim"`).
- An *environment image* is a base plus a venv at /opt/env holding exactly a lock's wheels,
  installed offline from the host wheelhouse (mounted read-only; the container has no network),
  then committed with its manifest (Debian and Python packages, base id, Python version) as a label
  and as `<root>/manifests/<tag>.json`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import email.utils
import hashlib
import json
import os
import platform
import re
import shutil
import sys
import tarfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix import _proc, binfmt, daemon
from iree_matrix._hashing import digest, file_sha256
from iree_matrix._locks import file_lock
from iree_matrix.errors import StageFailure, UserError
from iree_matrix.targets import PLATFORMS, Platform, host_platform
from iree_matrix.wheelhouse import Lock

BASE_REPO = "iree-matrix-base"
ENV_REPO = "iree-matrix-env"
ENV_ROOT = "/opt/env"
LABEL = "iree-matrix"  # on every image and container this module makes: `--filter label=iree-matrix=1`
RECIPE = 1  # bump when the environment build changes, so old images are not reused for new recipes

# Packages beyond minbase: python3 + venv (which brings ensurepip's pip wheel) is all an offline
# `pip install` of wheels needs. libstdc++6/libgcc-s1 are listed because manylinux wheels (IREE,
# torch) assume them; minbase has them today only as apt's dependencies.
BASE_PACKAGES = ("python3", "python3-venv", "libstdc++6", "libgcc-s1")
# A base for native tools only (e.g. an armel rootfs that runs cross-compiled C programs under
# qemu): no Python, so half the size and half the debootstrap time of a foreign arch.
BASE_PACKAGES_NO_PYTHON = ("libstdc++6", "libgcc-s1")


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
    for suite in SUITES.values():
        if suite.python == python:
            return suite.name
    return None


# --- the Debian mirror --------------------------------------------------------------------------

_DEBIAN_SUITES = re.compile(
    r"^(buster|bullseye|bookworm|trixie|forky|duke|sid|(old)*stable|testing|unstable)$"
)


def debian_mirror(apt_dir: Path = Path("/etc/apt")) -> str:
    """The Debian archive this host's apt uses (debootstrap must reach it the same way).

    `IREE_MATRIX_DEBIAN_MIRROR` overrides. Only entries for a release suite (not -security,
    -updates) count, from `sources.list`, `*.list` and deb822 `*.sources` files.
    """
    override = os.environ.get("IREE_MATRIX_DEBIAN_MIRROR")
    if override:
        return override.rstrip("/")
    files = [apt_dir / "sources.list"]
    parts = apt_dir / "sources.list.d"
    if parts.is_dir():
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
                for uri in fields.get("uris", []):
                    yield uri, fields.get("suites", [])
        return
    for line in text.splitlines():
        words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
        if len(words) >= 3 and words[0] == "deb":
            yield words[1], [words[2]]


# --- base images --------------------------------------------------------------------------------


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

    def __init__(self, root: Path, client: Any, *, mirror: Optional[str] = None) -> None:
        self.root = Path(root)
        self.rootfs = self.root / "rootfs"
        self._client = client
        self._mirror = mirror

    def suite(
        self,
        suite: str,
        arch: str,
        *,
        timeout: Optional[float],
        log: Optional[Path],
        with_python: bool = True,
    ) -> BaseImage:
        """The base for (suite, arch): loaded from the cached tarball, or debootstrapped first.

        A foreign `arch` (arm64, armel, armhf on an x86_64 host) is debootstrapped and later run
        under qemu-user: it needs the binfmt handlers images/setup-host.sh registers.
        `with_python=False` makes a base without python3 (for running native tools only); its
        `BaseImage.python` is "".
        """
        if suite not in SUITES or arch not in PLATFORMS:
            raise UserError(
                f"unknown suite/arch {suite}/{arch}: suites {sorted(SUITES)}, arches {sorted(PLATFORMS)}"
            )
        name = f"{suite}-{arch}" if with_python else f"{suite}-{arch}-nopython"
        stem = self.rootfs / name
        with file_lock(stem.with_suffix(".lock")), docker_errors(f"base {name}"):
            meta = _read_json(stem.with_suffix(".json"))
            if meta is None or not stem.with_suffix(".tar").is_file():
                # Minutes of silence otherwise (debootstrap from Debian's archive; under qemu for a
                # foreign architecture): say what is happening, once.
                slow = "~1 min" if arch == host_platform() else "3-8 min under qemu"
                print(
                    f"building the Debian {suite} {arch} base image (once, {slow}; log: {log})",
                    file=sys.stderr,
                )
                meta = self._debootstrap(suite, arch, stem, timeout=timeout, log=log, with_python=with_python)
            return self._load(meta, stem.with_suffix(".tar"), log=log)

    def named(self, name: str) -> BaseImage:
        """A user-named image the daemon already has, as it is (its `python3` is the one used)."""
        import docker

        with docker_errors(f"base image {name}"):
            try:
                image = self._client.images.get(name)
            except docker.errors.ImageNotFound:
                raise UserError(
                    f"base image {name!r} is not in the local Docker daemon and no registry is used: "
                    f"`docker load` / `docker import` it first"
                ) from None
            probe = self._probe(image.id)
        arch = next((a.debian for a in PLATFORMS.values() if a.machine == probe["machine"]), probe["machine"])
        meta = {"ref": name, "image_id": image.id, "probe": probe}
        return BaseImage(name, name, image.id, probe["python"], arch, tuple(probe["glibc"]), meta)

    def _probe(self, image_id: str) -> dict[str, Any]:
        """Python version, machine and glibc of an image, asked once and remembered on disk."""
        path = self.root / "probes" / f"{image_id.replace(':', '-')}.json"
        known = _read_json(path)
        if known is not None:
            return known
        code = (
            "import json, platform, sys; lib, ver = platform.libc_ver(); "
            "print(json.dumps({'python': '%d.%d' % sys.version_info[:2], 'machine': platform.machine(), "
            "'glibc': [int(x) for x in ver.split('.')[:2]] if ver else [0, 0]}))"
        )
        out = _run_container(
            self._client, image_id, ["python3", "-c", code], timeout=120, log=None, what="probe"
        )
        try:
            probe = json.loads(out["stdout"].strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise StageFailure(
                "python-missing", f"image {image_id[:19]} has no working `python3`: {out['output']}"
            ) from None
        _write_json(path, probe)
        return probe

    def _debootstrap(
        self, suite: str, arch: str, stem: Path, *, timeout: Optional[float], log: Optional[Path],
        with_python: bool = True,
    ) -> dict[str, Any]:  # fmt: skip
        mirror = self._mirror or debian_mirror()
        include = BASE_PACKAGES if with_python else BASE_PACKAGES_NO_PYTHON
        work = stem.with_name(stem.name + ".rootfs")
        shutil.rmtree(work, ignore_errors=True)
        start = time.monotonic()
        try:
            _debootstrap(suite, PLATFORMS[arch], work, mirror, include, timeout=timeout, log=log)
            seconds = time.monotonic() - start
            epoch = _snapshot_epoch(work)
            _trim_rootfs(work)
            packages = _dpkg_list(work, log=log)
            _check_suite(SUITES[suite], packages, with_python=with_python)
            tarball = stem.with_suffix(".tar")
            _pack(work, tarball.with_suffix(".tar.part"), epoch, timeout=timeout, log=log)
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
        }
        if not with_python:
            # Absent (not True) for the Python bases: their metadata and image ids stay as they were.
            meta["with_python"] = False
        _write_json(stem.with_suffix(".json"), meta)  # written last: marks the base complete
        return meta

    def _load(self, meta: Mapping[str, Any], tarball: Path, *, log: Optional[Path]) -> BaseImage:
        import docker

        suite, arch = SUITES[meta["suite"]], PLATFORMS[meta["arch"]]
        config = _image_config(meta, arch)
        image_id = "sha256:" + hashlib.sha256(config).hexdigest()
        variant = "" if meta.get("with_python", True) else "-nopython"
        tag = f"{BASE_REPO}:{suite.name}-{arch.debian}{variant}-{meta['rootfs_sha256'][:12]}"
        python = suite.python if meta.get("with_python", True) else ""
        base = BaseImage(meta["ref"], tag, image_id, python, arch.debian, suite.glibc, dict(meta))
        try:
            if self._client.images.get(tag).id == image_id:
                return base
        except docker.errors.ImageNotFound:
            pass
        note(log, f"[images] loading {tarball} as {tag}")
        if file_sha256(tarball) != meta["rootfs_sha256"]:
            raise StageFailure(
                "base-image", f"{tarball}: sha256 differs from {tarball.name}.sha256; delete it to rebuild",
                cacheable=False,
            )  # fmt: skip
        try:
            self._client.images.load(_save_archive(config, tarball, tag))
        except docker.errors.DockerException as exc:
            raise StageFailure(
                "base-image", f"docker load of {tarball} failed: {exc}", cacheable=False
            ) from None
        loaded = self._client.images.get(tag).id
        if loaded != image_id:
            raise StageFailure(
                "base-image", f"{tag} loaded as {loaded}, expected {image_id}", cacheable=False
            )
        return base


def _debootstrap(
    suite: str, arch: Platform, target: Path, mirror: str, include: Sequence[str] = BASE_PACKAGES, *,
    timeout: Optional[float], log: Optional[Path],
) -> None:  # fmt: skip
    if shutil.which("debootstrap") is None:
        raise StageFailure(
            "base-image", f"debootstrap is not installed; {daemon.SETUP_HINT}", cacheable=False
        )
    argv = ["debootstrap", "--variant=minbase", f"--include={','.join(include)}", "--arch", arch.debian]
    foreign = arch.machine != platform.machine()
    if not foreign:
        _proc.run([*argv, suite, str(target), mirror], timeout=timeout, log=log, error_class="debootstrap")
        return
    # A foreign rootfs: unpack with --foreign, then run the second stage (dpkg's maintainer
    # scripts) in a chroot, where the kernel hands every ARM binary to qemu-user through the
    # binfmt handler. With the F flag (images/setup-host.sh registers it so) the kernel opened
    # qemu at registration and the chroot needs no copy; without F, qemu is copied to the
    # handler's interpreter path inside the rootfs for the second stage and removed afterwards.

    qemu = shutil.which(f"{arch.qemu}-static")
    problem = binfmt.problem(str(arch.qemu))
    entry = binfmt.entry(str(arch.qemu))
    if qemu is None or entry is None or not entry.enabled or (problem and entry.fix_binary):
        raise StageFailure(
            "base-image",
            f"building a {arch.debian} base needs qemu-user-static and a registered binfmt handler "
            f"({problem or f'{arch.qemu}-static is not installed'}); {daemon.SETUP_HINT}",
            cacheable=False,
        )
    _proc.run(
        [*argv, "--foreign", suite, str(target), mirror], timeout=timeout, log=log, error_class="debootstrap"
    )
    inside = None if entry.fix_binary else target / entry.interpreter.lstrip("/")
    made = []
    if inside is not None:
        made = [d for d in inside.parents if str(d).startswith(str(target) + "/") and not d.exists()]
        inside.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(qemu, inside)
    try:
        _proc.run(
            ["chroot", str(target), "/debootstrap/debootstrap", "--second-stage"],
            timeout=timeout, log=log, error_class="debootstrap",
        )  # fmt: skip
    finally:
        if inside is not None:
            inside.unlink(missing_ok=True)
            for directory in made:  # innermost first
                with contextlib.suppress(OSError):
                    directory.rmdir()


def _snapshot_epoch(rootfs: Path) -> int:
    """The archive's Release date: a time that belongs to the content, not to the build."""
    lists = rootfs / "var" / "lib" / "apt" / "lists"
    for release in sorted(lists.glob("*_InRelease")) + sorted(lists.glob("*_Release")):
        match = re.search(r"^Date:\s*(.+)$", release.read_text(errors="replace"), re.MULTILINE)
        if match:
            return int(email.utils.parsedate_to_datetime(match.group(1).strip()).timestamp())
    return 0


# Build leftovers that differ between two debootstraps of the same archive, or that Docker
# supplies itself at run time (/dev, hostname, resolv.conf).
_TRIM = ("dev", "tmp", "var/lib/apt/lists", "var/cache/apt", "var/log", "var/cache/ldconfig")
_TRIM_FILES = (
    "etc/hostname", "etc/resolv.conf", "etc/machine-id", "var/lib/dbus/machine-id",
    "var/cache/debconf/config.dat-old", "var/cache/debconf/templates.dat-old",
)  # fmt: skip


def _trim_rootfs(rootfs: Path) -> None:
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


def _dpkg_list(rootfs: Path, *, log: Optional[Path]) -> str:
    # The host's dpkg-query reads the rootfs's database: works for foreign arches without qemu.
    done = _proc.run(
        ["dpkg-query", f"--admindir={rootfs / 'var' / 'lib' / 'dpkg'}", "-W",
         "-f", "${Package}\t${Version}\t${Architecture}\n"],
        timeout=120, log=None, error_class="base-image",
    )  # fmt: skip
    return "".join(sorted(done.stdout.splitlines(keepends=True)))


def _check_suite(suite: Suite, packages: str, *, with_python: bool = True) -> None:
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


def _pack(rootfs: Path, out: Path, epoch: int, *, timeout: Optional[float], log: Optional[Path]) -> None:
    # Reproducible: names sorted, numeric owners, no atime/ctime (GNU format stores neither), and
    # mtimes newer than the archive's date (files made during the install) clamped to it. Older
    # mtimes stay, so Python's stdlib .pyc files (keyed on their sources' mtimes) remain valid.
    _proc.run(
        ["tar", "--create", "--file", str(out), "--directory", str(rootfs), "--format=gnu",
         "--sort=name", "--numeric-owner", f"--mtime=@{epoch}", "--clamp-mtime", "."],
        timeout=timeout, log=log, error_class="base-image",
    )  # fmt: skip


def _image_config(meta: Mapping[str, Any], arch: Platform) -> bytes:
    """The image config for a base: a function of the tarball and its recipe only, never of now."""
    created = datetime.datetime.fromtimestamp(meta["snapshot_epoch"], datetime.timezone.utc)
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    config: dict[str, Any] = {
        "architecture": arch.oci,
        "os": "linux",
        "created": stamp,
        "config": {
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"],
            "Cmd": ["/bin/bash"],
            "Labels": {
                LABEL: "1",
                f"{LABEL}.base-ref": meta["ref"],
                f"{LABEL}.rootfs-sha256": meta["rootfs_sha256"],
                f"{LABEL}.mirror": meta["mirror"],
            },
        },
        "history": [
            {
                "created": stamp,
                "created_by": f"debootstrap --variant=minbase --include={','.join(meta['include'])} "
                f"--arch {arch.debian} {meta['suite']} {meta['mirror']}",
            }
        ],
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{meta['rootfs_sha256']}"]},
    }
    if arch.variant:
        config["variant"] = arch.variant
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()


def _save_archive(config: bytes, layer: Path, tag: str) -> Iterator[bytes]:
    """A `docker save` archive (config + one layer) streamed, never written: the layer is big."""
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": ["layer.tar"]}]).encode()

    def member(name: str, size: int) -> bytes:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o644, 0
        return info.tobuf(format=tarfile.USTAR_FORMAT)

    for name, blob in ((config_name, config), ("manifest.json", manifest)):
        yield member(name, len(blob)) + blob + b"\0" * (-len(blob) % 512)
    size = layer.stat().st_size
    yield member("layer.tar", size)
    with open(layer, "rb") as f:
        yield from iter(lambda: f.read(1 << 20), b"")
    yield b"\0" * (-size % 512) + b"\0" * 1024


# --- environment images -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EnvImage:
    tag: str
    image_id: str
    manifest: Mapping[str, Any]
    manifest_path: Path


def env_tag(base: BaseImage, lock: Lock, *, precompile: bool = True) -> str:
    recipe = {"base": base.image_id, "lock": lock.digest, "recipe": RECIPE, "precompile": precompile}
    return f"{ENV_REPO}:{digest(recipe)[:16]}"


class EnvImages:
    """Environment images. `precompile` writes the venv's .pyc files into the image (see the build
    script for why); it is part of the tag, so both kinds can coexist."""

    def __init__(self, root: Path, client: Any, *, precompile: bool = True) -> None:
        self.root = Path(root)
        self.precompile = precompile
        self.manifests = self.root / "manifests"
        self._client = client

    def get(self, tag: str) -> Optional[EnvImage]:
        import docker

        with docker_errors(f"image {tag}"):
            try:
                image = self._client.images.get(tag)
            except docker.errors.ImageNotFound:
                return None
            return self._from_image(tag, image)

    def find(self, base_ref: str, lock_digest: str) -> Optional[EnvImage]:
        """The newest environment image built from `base_ref` for this lock (labels are the index)."""
        filters = {"label": [f"{k}={v}" for k, v in self._identity(base_ref, lock_digest).items()]}
        with docker_errors("listing environment images"):
            images = self._client.images.list(filters=filters)
        for image in sorted(images, key=lambda i: i.attrs.get("Created", ""), reverse=True):
            tags = [t for t in image.tags if t.startswith(ENV_REPO + ":")]
            if tags:
                return self._from_image(tags[0], image)
        return None

    def ensure(
        self,
        base: BaseImage,
        lock: Lock,
        wheels: Sequence[Path],
        *,
        timeout: Optional[float],
        log: Optional[Path],
    ) -> EnvImage:
        """The environment image for (base, lock): reused when its tag exists, else built."""
        tag = env_tag(base, lock, precompile=self.precompile)
        with (
            file_lock(self.root / "locks" / f"{tag.partition(':')[2]}.lock"),
            docker_errors(f"building {tag}"),
        ):
            existing = self.get(tag)
            if existing is not None:
                note(log, f"[images] reusing {tag} ({existing.image_id[:19]})")
                return existing
            return self._build(tag, base, lock, wheels, timeout=timeout, log=log)

    def _build(
        self, tag: str, base: BaseImage, lock: Lock, wheels: Sequence[Path], *,
        timeout: Optional[float], log: Optional[Path],
    ) -> EnvImage:  # fmt: skip
        wheels = [Path(w).resolve() for w in wheels]
        volumes = {str(d): {"bind": str(d), "mode": "ro"} for d in sorted({w.parent for w in wheels})}
        argv = ["/bin/sh", "-c", _BUILD_SCRIPT, "build", str(int(self.precompile)), *map(str, wheels)]
        note(log, f"[images] building {tag} from {base.tag} with {len(wheels)} wheels (network none)")
        container = self._client.containers.create(
            # No labels or environment beyond the marker: `docker commit` copies the build
            # container's config into the image.
            base.tag, argv, network_mode="none", volumes=volumes, labels={LABEL: "1"},
        )  # fmt: skip
        try:
            out = _wait(container, timeout=timeout, log=log, what="environment build")
            if out["status"] != 0:
                raise StageFailure("pip-install", _proc.excerpt(out["output"]))
            probe = json.loads(out["stdout"].strip().splitlines()[-1])
            manifest = _manifest(tag, base, lock, probe, precompiled=self.precompile)
            _check_installed(lock, probe["installed"])
            labels = {
                LABEL: "1",
                **self._identity(base.ref, lock.digest),
                f"{LABEL}.manifest": json.dumps(manifest, sort_keys=True, separators=(",", ":")),
            }
            changes = [
                f"ENV PATH={ENV_ROOT}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                f"ENV VIRTUAL_ENV={ENV_ROOT}",
                "WORKDIR /tmp",
                f'CMD ["{ENV_ROOT}/bin/python"]',
            ]
            repo, _, name = tag.partition(":")
            container.commit(repository=repo, tag=name, changes=changes, conf={"Labels": labels})
        finally:
            container.remove(force=True)
        built = self.get(tag)
        if built is None:
            raise StageFailure("base-image", f"{tag} vanished right after docker commit", cacheable=False)
        note(log, f"[images] committed {tag} = {built.image_id}")
        return built

    def _identity(self, base_ref: str, lock_digest: str) -> dict[str, str]:
        """The labels `find` selects by: everything the tag is made of except the base's id."""
        return {
            f"{LABEL}.base-ref": base_ref,
            f"{LABEL}.lock-digest": lock_digest,
            f"{LABEL}.recipe": str(RECIPE),
            f"{LABEL}.precompile": str(int(self.precompile)),
        }

    def _from_image(self, tag: str, image: Any) -> EnvImage:
        labels = image.attrs.get("Config", {}).get("Labels") or {}
        manifest = {**json.loads(labels.get(f"{LABEL}.manifest", "{}")), "tag": tag, "image_id": image.id}
        path = self.manifests / f"{tag.replace(':', '-')}.json"
        if _read_json(path) != manifest:
            _write_json(path, manifest)
        return EnvImage(tag, image.id, manifest, path)


# Runs inside the build container as root, offline. pip's progress goes to stderr; the last line
# on stdout is the probe the manifest is made of. $1 says whether to precompile: pip runs with
# --no-compile (fast), and compileall then writes the .pyc files once, because stages run as a
# non-root user who cannot write them into /opt/env, so every fresh container would otherwise
# recompile every module it imports (measured for torch 2.13: +35 s build and +165 MB once, vs
# ~1-2 s more per `import torch` in every container). Files that do not compile are left alone.
# /root is opened (0755) because host paths under /root (the default cache) are mounted at the
# same paths and the non-root user must be able to reach them.
_BUILD_SCRIPT = f"""set -eu
precompile=$1; shift
export PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1
python3 -m venv {ENV_ROOT}
{ENV_ROOT}/bin/python -m pip install --no-index --no-deps --no-compile --no-cache-dir \\
    --disable-pip-version-check "$@" >&2
if [ "$precompile" = 1 ]; then {ENV_ROOT}/bin/python -m compileall -q -j 0 {ENV_ROOT}/lib >&2 || true; fi
chmod 0755 /root
{ENV_ROOT}/bin/python - <<'EOF'
import json, platform, subprocess
from importlib import metadata
debian = subprocess.run(
    ["dpkg-query", "-W", "-f", "${{Package}}\\t${{Version}}\\t${{Architecture}}\\n"],
    check=True, stdout=subprocess.PIPE, universal_newlines=True,
).stdout.split("\\n")
print(json.dumps({{
    "python": platform.python_version(),
    "machine": platform.machine(),
    "glibc": platform.libc_ver()[1],
    "installed": {{d.metadata["Name"]: d.version for d in metadata.distributions()}},
    "debian": sorted(line.split("\\t") for line in debian if line),
}}))
EOF
"""


def _manifest(
    tag: str, base: BaseImage, lock: Lock, probe: Mapping[str, Any], *, precompiled: bool
) -> dict[str, Any]:
    locked = {_norm(p.name) for p in lock.packages}
    return {
        "schema": 1,
        "tag": tag,
        "recipe": RECIPE,
        "precompiled": precompiled,
        "base": {"ref": base.ref, "tag": base.tag, "image_id": base.image_id, **_base_facts(base)},
        "python": probe["python"],
        "machine": probe["machine"],
        "glibc": probe["glibc"],
        "lock_digest": lock.digest,
        "target": dataclasses.asdict(lock.target),
        "python_packages": [
            {"name": p.name, "version": p.version, "sha256": p.sha256, "filename": p.filename}
            for p in sorted(lock.packages, key=lambda p: p.name.lower())
        ],
        # What `python -m venv` put there besides the lock (pip, maybe setuptools).
        "venv_seed": {n: v for n, v in sorted(probe["installed"].items()) if _norm(n) not in locked},
        "debian_packages": [{"name": n, "version": v, "arch": a} for n, v, a in probe["debian"]],
    }


def _base_facts(base: BaseImage) -> dict[str, Any]:
    keys = ("suite", "arch", "mirror", "snapshot_epoch", "rootfs_sha256")
    return {k: base.meta[k] for k in keys if k in base.meta}


def _check_installed(lock: Lock, installed: Mapping[str, str]) -> None:
    have = {_norm(n): v for n, v in installed.items()}
    wrong = [f"{p.name} {p.version} (found {have.get(_norm(p.name))})" for p in lock.packages
             if have.get(_norm(p.name)) != p.version]  # fmt: skip
    if wrong:
        raise StageFailure("pip-install", "the venv does not hold the lock: " + ", ".join(wrong))


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# --- containers driven through the SDK (builds and probes) --------------------------------------


def _run_container(
    client: Any, image: str, argv: Sequence[str], *, timeout: float, log: Optional[Path], what: str
) -> dict[str, Any]:
    container = client.containers.create(image, list(argv), network_mode="none", labels={LABEL: "1"})
    try:
        return _wait(container, timeout=timeout, log=log, what=what)
    finally:
        container.remove(force=True)


def _wait(container: Any, *, timeout: Optional[float], log: Optional[Path], what: str) -> dict[str, Any]:
    """Start, wait (killing it at the timeout), and collect stdout and stderr separately."""
    import requests

    start = time.monotonic()
    container.start()
    try:
        status = container.wait(timeout=timeout)["StatusCode"]
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
        container.kill()
        output = container.logs(stdout=True, stderr=True).decode(errors="replace")
        note(log, output + f"\n[{what} timed out after {timeout:.0f} s]")
        raise _proc.Timeout([what], timeout or 0.0, output) from None
    stdout = container.logs(stdout=True, stderr=False).decode(errors="replace")
    stderr = container.logs(stdout=False, stderr=True).decode(errors="replace")
    note(log, f"{stderr}\n[{what}: exit {status} after {time.monotonic() - start:.1f} s]")
    return {"status": status, "stdout": stdout, "stderr": stderr, "output": (stdout + "\n" + stderr).strip()}


# --- small helpers ------------------------------------------------------------------------------


@contextlib.contextmanager
def docker_errors(what: str) -> Iterator[None]:
    """Daemon trouble (an API error, a dead socket) depends on the moment: never a cached result."""
    import docker
    import requests

    try:
        yield
    except docker.errors.DockerException as exc:
        raise StageFailure("docker", f"{what}: {exc}", cacheable=False) from None
    except requests.exceptions.ConnectionError as exc:
        message = f"{what}: lost the Docker daemon ({exc}); {daemon.SETUP_HINT}"
        raise StageFailure("docker-daemon", message, cacheable=False) from None


def note(log: Optional[Path], text: str) -> None:
    if log is not None:
        with open(log, "a", encoding="utf-8", errors="replace") as f:
            f.write(text.rstrip("\n") + "\n")


def _read_json(path: Path) -> Optional[Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True))
    os.replace(tmp, path)
