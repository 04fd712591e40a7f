"""The names of this tool's images (every Docker command the image modules need is `containers`')."""

from __future__ import annotations

BASE_REPO = "iree-matrix-base"
ENV_REPO = "iree-matrix-env"
ENV_ROOT = "/opt/env"
RECIPE = 1  # bump when the environment build changes, so old images are not reused for new recipes
