"""The names of this tool's images, and the small helpers the image modules share (every Docker
command they need is `containers`')."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Optional

BASE_REPO = "iree-matrix-base"
ENV_REPO = "iree-matrix-env"
ENV_ROOT = "/opt/env"
RECIPE = 1  # bump when the environment build changes, so old images are not reused for new recipes


def read_json(path: Path) -> Optional[Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(value, indent=1, sort_keys=True))
    os.replace(tmp, path)
