"""The docker run options every container gets (pure: no daemon needed), and the callers that go
through them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iree_matrix import _proc, containers
from iree_matrix.containers import RUN_LABEL_ENV
from iree_matrix.envs.docker import DockerEnvironment
from iree_matrix.images import Bases, EnvImage

ISOLATION = ("--network none", "--cap-drop ALL", "--security-opt no-new-privileges", "--init", "--pull never")


def _options(monkeypatch: pytest.MonkeyPatch, label: str) -> list[str]:
    if label:
        monkeypatch.setenv(RUN_LABEL_ENV, label)
    else:
        monkeypatch.delenv(RUN_LABEL_ENV, raising=False)
    return containers.options(
        "name", (65534, 65534), [Path("/in")], [Path("/out")], {"QEMU_CPU": "cortex-a72"}, {"x": "y"}
    )


def test_isolation_mounts_and_the_run_label(monkeypatch: pytest.MonkeyPatch) -> None:
    opts = _options(monkeypatch, "test-1234")
    joined = " ".join(opts)
    assert all(option in joined for option in ISOLATION) and "--user 65534:65534" in joined
    assert "--label iree-matrix=1 --label x=y" in joined
    assert "--label iree-matrix.run=test-1234" in joined
    assert "--env QEMU_CPU=cortex-a72" in joined
    assert any("/in" in o and "readonly" in o for o in opts)
    assert any("/out" in o and "readonly" not in o for o in opts if "dst=/out" in o or "target=/out" in o)


def test_no_run_label_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not any(o.startswith("iree-matrix.run=") for o in _options(monkeypatch, ""))


class _Docker:
    """Stands in for the docker client: remembers each command and answers like a container."""

    def __init__(self, stdout: str = "") -> None:
        self.calls: list[tuple[str, ...]] = []
        self.stdout = stdout

    def __call__(self, argv, **kwargs) -> _proc.Completed:
        self.calls.append(tuple(argv))
        return _proc.Completed(tuple(argv), 0, self.stdout if argv[1] == "run" else "", "", 0.1, 1 << 20)


def _isolated(argv: tuple[str, ...]) -> bool:
    joined = " ".join(argv)
    return argv[1] == "run" and all(option in joined for option in ISOLATION) and "--user" in joined


def test_a_stage_command_runs_isolated_in_its_environment_and_reads_as_its_own(monkeypatch, tmp_path: Path):
    docker = _Docker("out")
    monkeypatch.setattr(_proc, "run", docker)
    env = DockerEnvironment("py3.11-x", EnvImage("t:1", "sha256:0", {}, Path("/m.json")), "docker")
    done = env.run(["python", "-V"], timeout=10)
    run, remove = docker.calls
    assert _isolated(run) and "iree-matrix.env=py3.11-x" in run and run[-3:] == ("sha256:0", "python", "-V")
    assert remove[1:3] == ("rm", "--force")
    assert done.argv == ("python", "-V") and done.stdout == "out" and done.peak_rss_bytes is None


def test_a_base_image_probe_runs_with_the_same_isolation(monkeypatch, tmp_path: Path):
    facts = {"python": "3.11", "machine": "x86_64", "glibc": [2, 36]}
    docker = _Docker(json.dumps(facts))
    monkeypatch.setattr(_proc, "run", docker)
    monkeypatch.setattr(containers, "docker_cli", lambda: "docker")
    assert Bases(tmp_path, client=None)._probe("sha256:1") == facts
    assert _isolated(docker.calls[0]) and docker.calls[0][-4:-2] == ("sha256:1", "python3")
