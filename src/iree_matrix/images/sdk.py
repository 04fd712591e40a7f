"""The Docker SDK as the image modules use it (waiting on a build container, daemon errors), the
names of their images, and the small helpers they share."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

from iree_matrix import _proc, daemon
from iree_matrix.errors import StageFailure

BASE_REPO = "iree-matrix-base"
ENV_REPO = "iree-matrix-env"
ENV_ROOT = "/opt/env"
RECIPE = 1  # bump when the environment build changes, so old images are not reused for new recipes


# --- build containers, driven through the SDK ----------------------------------------------


def wait(container: Any, *, timeout: Optional[float], log: Optional[Path], what: str) -> dict[str, Any]:
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
