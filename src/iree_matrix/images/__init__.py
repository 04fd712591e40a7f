"""Docker images without a registry: Debian bases from debootstrap, environment images from pins.

No container registry is assumed reachable, so every image is made here:

- A *base* is a Debian `minbase` rootfs made by `debootstrap`, packed into a tarball kept in the
  cache (`<root>/rootfs/<suite>-<arch>.tar`, with `.sha256`, `.packages` and `.json` beside it) and
  loaded into the daemon. The tarball is packed reproducibly and loaded as a hand-made
  `docker save` archive whose config carries no wall-clock time, so the same tarball always gives
  the same image id: a base can be re-created bit for bit later without debootstrap.
  (`docker import` would stamp the import time into the config and change the id every time.)
- A user may instead name an image the daemon already has (`base_image="python:3.12-slim"`).
- An *environment image* is a base plus a venv at /opt/env holding exactly the pinned wheels,
  installed offline from the host wheelhouse (mounted read-only; the container has no network),
  then committed with its manifest (Debian and Python packages, base id, Python version) as a label
  and as `<root>/manifests/<tag>.json`.
"""

from __future__ import annotations

from iree_matrix.core.system.containers import LABEL
from iree_matrix.images.bases import BaseImage, Bases
from iree_matrix.images.common import ENV_REPO, ENV_ROOT
from iree_matrix.images.debian import SUITES, suite_for_python
from iree_matrix.images.env_images import EnvImage, EnvImages, env_tag

__all__ = [
    "ENV_REPO",
    "ENV_ROOT",
    "LABEL",
    "SUITES",
    "BaseImage",
    "Bases",
    "EnvImage",
    "EnvImages",
    "env_tag",
    "suite_for_python",
]
