"""Docker images without a registry: Debian bases from debootstrap (a reproducible tarball in the
cache, loaded so the same tarball always gives the same image id) or an image the user names, and
environment images: a base plus a venv at /opt/env holding exactly the pinned wheels, committed with
its manifest.
"""

from __future__ import annotations

# Re-exported (`X as X`): the package's names, each written once.
from iree_matrix.core.system.containers import LABEL as LABEL
from iree_matrix.images.bases import BaseImage as BaseImage
from iree_matrix.images.bases import Bases as Bases
from iree_matrix.images.common import ENV_REPO as ENV_REPO
from iree_matrix.images.common import ENV_ROOT as ENV_ROOT
from iree_matrix.images.debian import SUITES as SUITES
from iree_matrix.images.debian import suite_for_python as suite_for_python
from iree_matrix.images.env_images import EnvImage as EnvImage
from iree_matrix.images.env_images import EnvImages as EnvImages
from iree_matrix.images.env_images import env_tag as env_tag
