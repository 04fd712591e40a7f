"""Environment images: a base plus a venv at /opt/env holding exactly the pinned wheels, installed
offline from the host wheelhouse (no network in the container), committed with its manifest."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from packaging.utils import canonicalize_name

from iree_matrix.core.atomic_files import read_json, write_json
from iree_matrix.core.errors import StageFailure
from iree_matrix.core.hashing import digest
from iree_matrix.core.system import containers, process_output
from iree_matrix.core.system.containers import LABEL
from iree_matrix.core.system.locks import file_lock
from iree_matrix.core.system.process_request import Bounds
from iree_matrix.core.system.processes import note
from iree_matrix.images.bases import BaseImage
from iree_matrix.images.common import ENV_REPO, ENV_ROOT, RECIPE
from iree_matrix.matrix.wheelhouse import Pins


@dataclasses.dataclass(frozen=True)
class EnvImage:
    tag: str
    image_id: str
    manifest: Mapping[str, Any]
    manifest_path: Path


def env_tag(base: BaseImage, pins: Pins, *, precompile: bool = True) -> str:
    # "lock": the pins' first name, kept: the tag is this recipe's digest (built images stay found).
    recipe = {"base": base.image_id, "lock": pins.digest, "recipe": RECIPE, "precompile": precompile}
    return f"{ENV_REPO}:{digest(recipe)[:16]}"


class EnvImages:
    """Environment images. `precompile` writes the venv's .pyc files into the image (see the build
    script for why); it is part of the tag, so both kinds can coexist."""

    def __init__(self, root: Path, *, precompile: bool = True) -> None:
        self.root = Path(root)
        self.precompile = precompile
        self.manifests = self.root / "manifests"

    def get(self, tag: str) -> Optional[EnvImage]:
        return None if (image := containers.image(tag)) is None else self._from_image(tag, image)

    def find(self, base_ref: str, pins_digest: str) -> Optional[EnvImage]:
        """The newest environment image built from `base_ref` for these pins (labels are the index)."""
        images = containers.images(self._identity(base_ref, pins_digest))
        for image in sorted(images, key=lambda i: i.created, reverse=True):
            if tags := [t for t in image.tags if t.startswith(ENV_REPO + ":")]:
                return self._from_image(tags[0], image)
        return None

    def ensure(self, base: BaseImage, pins: Pins, wheels: Sequence[Path], under: Bounds) -> EnvImage:
        """The environment image for (base, pins): reused when its tag exists, else built."""
        tag, log = env_tag(base, pins, precompile=self.precompile), under.log
        with file_lock(self.root / "locks" / f"{tag.partition(':')[2]}.lock"):
            if (existing := self.get(tag)) is not None:
                note(log, f"[images] reusing {tag} ({existing.image_id[:19]})")
                return existing
            wheels = [Path(w).resolve() for w in wheels]
            argv = ["/bin/sh", "-c", _BUILD_SCRIPT, "build", str(int(self.precompile)), *map(str, wheels)]
            note(log, f"[images] building {tag} from {base.tag} with {len(wheels)} wheels (network none)")
            read_only = sorted({w.parent for w in wheels})
            with containers.build_container(
                base.tag, argv, what="environment build", read_only=read_only, timeout=under.timeout, log=log
            ) as built:
                if built.done.returncode != 0:
                    raise StageFailure("pip-install", process_output.excerpt(built.done.output))
                probe = json.loads(built.done.stdout.strip().splitlines()[-1])
                manifest = _manifest(tag, base, pins, probe, precompiled=self.precompile)
                _check_installed(pins, probe["installed"])
                labels = {
                    LABEL: "1",
                    **self._identity(base.ref, pins.digest),
                    f"{LABEL}.manifest": json.dumps(manifest, sort_keys=True, separators=(",", ":")),
                }
                changes = [
                    f"ENV PATH={ENV_ROOT}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    f"ENV VIRTUAL_ENV={ENV_ROOT}",
                    "WORKDIR /tmp",
                    f'CMD ["{ENV_ROOT}/bin/python"]',
                ]
                built.commit(tag, changes=changes, labels=labels)
            if (image := self.get(tag)) is None:
                raise StageFailure("base-image", f"{tag} vanished right after docker commit", cacheable=False)
            note(log, f"[images] committed {tag} = {image.image_id}")
            return image

    def _identity(self, base_ref: str, pins_digest: str) -> dict[str, str]:
        """The labels `find` selects by: everything the tag is made of except the base's id."""
        return {
            f"{LABEL}.base-ref": base_ref,
            f"{LABEL}.lock-digest": pins_digest,
            f"{LABEL}.recipe": str(RECIPE),
            f"{LABEL}.precompile": str(int(self.precompile)),
        }

    def _from_image(self, tag: str, image: containers.Image) -> EnvImage:
        labels = image.labels
        manifest = {**json.loads(labels.get(f"{LABEL}.manifest", "{}")), "tag": tag, "image_id": image.id}
        path = self.manifests / f"{tag.replace(':', '-')}.json"
        if read_json(path) != manifest:
            write_json(path, manifest)
        return EnvImage(tag, image.id, manifest, path)


# Runs inside the build container as root, offline; the last line on stdout is the probe the manifest
# is made of. $1: precompile the .pyc files once (stages run as a user who cannot write them, so each
# container would recompile what it imports). /root is opened (0755): host paths under it are
# mounted at the same paths for the non-root user.
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
    tag: str, base: BaseImage, pins: Pins, probe: Mapping[str, Any], *, precompiled: bool
) -> dict[str, Any]:
    locked = {canonicalize_name(p.name) for p in pins.packages}
    return {
        "schema": 1,
        "tag": tag,
        "recipe": RECIPE,
        "precompiled": precompiled,
        "base": {
            "ref": base.ref,
            "tag": base.tag,
            "image_id": base.image_id,
            **{k: base.meta[k] for k in _BASE_FACTS if k in base.meta},
        },
        "python": probe["python"],
        "machine": probe["machine"],
        "glibc": probe["glibc"],
        "lock_digest": pins.digest,
        "target": dataclasses.asdict(pins.target),
        "python_packages": [
            {"name": p.name, "version": p.version, "sha256": p.sha256, "filename": p.filename}
            for p in sorted(pins.packages, key=lambda p: p.name.lower())
        ],
        # What `python -m venv` put there besides the pins (pip, maybe setuptools).
        "venv_seed": {
            n: v for n, v in sorted(probe["installed"].items()) if canonicalize_name(n) not in locked
        },
        "debian_packages": [{"name": n, "version": v, "arch": a} for n, v, a in probe["debian"]],
    }


_BASE_FACTS = ("suite", "arch", "mirror", "snapshot_epoch", "rootfs_sha256")


def _check_installed(pins: Pins, installed: Mapping[str, str]) -> None:
    have = {canonicalize_name(n): v for n, v in installed.items()}
    wrong = [
        f"{p.name} {p.version} (found {have.get(canonicalize_name(p.name))})"
        for p in pins.packages
        if have.get(canonicalize_name(p.name)) != p.version
    ]
    if wrong:
        raise StageFailure("pip-install", "the venv does not hold the pins: " + ", ".join(wrong))
