"""The docker run options every stage container gets (pure: no daemon needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iree_matrix.envs.docker import RUN_LABEL_ENV, DockerEnvironment
from iree_matrix.images import EnvImage


def _options(monkeypatch: pytest.MonkeyPatch, label: str) -> list[str]:
    if label:
        monkeypatch.setenv(RUN_LABEL_ENV, label)
    else:
        monkeypatch.delenv(RUN_LABEL_ENV, raising=False)
    env = DockerEnvironment("py3.11-x", EnvImage("t:1", "sha256:0", {}, Path("/m.json")))
    return env._options("name", (65534, 65534), [Path("/in")], [Path("/out")], {"QEMU_CPU": "cortex-a72"})


def test_isolation_mounts_and_the_run_label(monkeypatch: pytest.MonkeyPatch) -> None:
    opts = _options(monkeypatch, "test-1234")
    joined = " ".join(opts)
    assert "--network none" in joined and "--user 65534:65534" in joined and "--cap-drop ALL" in joined
    assert "--label iree-matrix.run=test-1234" in joined
    assert "--env QEMU_CPU=cortex-a72" in joined
    assert any("/in" in o and "readonly" in o for o in opts)
    assert any("/out" in o and "readonly" not in o for o in opts if "dst=/out" in o or "target=/out" in o)


def test_no_run_label_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not any(o.startswith("iree-matrix.run=") for o in _options(monkeypatch, ""))
