"""The Docker daemon: whether it answers, why not, and how to fix it — one check, asked through
the Docker SDK, for `doctor`, the automatic backend choice, image commands and the stages."""

from __future__ import annotations

import dataclasses
from typing import Any

from iree_matrix.errors import StageFailure, UserError

SETUP = "images/setup-host.sh"
SETUP_HINT = f"run `{SETUP}` as root (installs docker.io + debootstrap and starts dockerd)"


@dataclasses.dataclass(frozen=True)
class State:
    ok: bool
    detail: str  # "Docker Engine 20.10.24" or why it does not answer
    fix: str = ""


def state(timeout: int = 10) -> State:
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        version = client.version().get("Version", "?")
    except Exception as exc:  # the SDK raises several unrelated types for "no daemon"
        text = str(exc)
        if "permission denied" in text.lower():
            fix = "add yourself to the 'docker' group (sudo usermod -aG docker $USER; log in again) or run as root"  # noqa: E501
            return State(False, f"no permission on the Docker socket ({text})", fix)
        return State(False, f"not running ({text})", f"bash {SETUP} starts dockerd (no init system does)")
    return State(True, f"Docker Engine {version}")


def problem() -> str | None:
    """Why the daemon cannot be used (with the fix), or None when it answers."""
    found = state()
    return None if found.ok else f"the Docker daemon does not answer: {found.detail}; {found.fix}"


def require() -> None:
    """For the CLI boundary: fail fast, with the fix, before a run starts."""
    found = problem()
    if found:
        raise UserError(found)


def connect() -> Any:
    """A `docker.DockerClient`, or a non-cacheable StageFailure saying how to start the daemon."""
    import docker

    try:
        # Loading a base streams ~100 MB and an env build waits for pip: long HTTP reads are normal.
        client = docker.from_env(timeout=3600)
        client.ping()
    except Exception as exc:
        raise StageFailure(
            "docker-daemon", f"the Docker daemon does not answer ({exc}); {SETUP_HINT}", cacheable=False
        ) from None
    return client
