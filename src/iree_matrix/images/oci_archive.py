"""A rootfs as an image without `docker import`: a reproducible tarball and a hand-made `docker save` archive
whose config carries no wall-clock time, so the same tarball always gives the same image id."""

from __future__ import annotations

import datetime
import hashlib
import json
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from iree_matrix.core.system import processes
from iree_matrix.core.system.containers import LABEL
from iree_matrix.core.system.process_request import Bounds
from iree_matrix.iree.targets import Platform


def pack(rootfs: Path, out: Path, epoch: int, under: Bounds) -> None:
    # Reproducible: names sorted, numeric owners, no atime/ctime (GNU format stores neither), and
    # mtimes newer than the archive's date (files made during the install) clamped to it. Older
    # mtimes stay, so Python's stdlib .pyc files (keyed on their sources' mtimes) remain valid.
    argv = ["tar", "--create", "--file", str(out), "--directory", str(rootfs), "--format=gnu", "--sort=name"]
    argv += ["--numeric-owner", f"--mtime=@{epoch}", "--clamp-mtime", "."]
    processes.run(under.request(argv, error_class="base-image"))


def image_config(meta: Mapping[str, Any], arch: Platform) -> bytes:
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
    if arch.oci_variant:
        config["variant"] = arch.oci_variant
    return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()


def save_archive(config: bytes, layer: Path, tag: str) -> Iterator[bytes]:
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
