"""Docker images without a registry: Debian bases from debootstrap (a reproducible tarball in the
cache, loaded so the same tarball always gives the same image id) or an image the user names, and
environment images: a base plus a venv at /opt/env holding exactly the pinned wheels, committed with
its manifest.
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
