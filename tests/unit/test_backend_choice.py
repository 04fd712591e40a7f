"""`--backend auto`: host venvs for a plan of this host's architecture, Docker for other arches."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from iree_matrix.core.system import containers
from iree_matrix.envs import backends
from iree_matrix.iree import targets
from iree_matrix.matrix import interpreters


def _install(arch: str, python: str = "3.11") -> SimpleNamespace:
    return SimpleNamespace(
        stage="install", env=SimpleNamespace(arch=arch, python=python, tools=None, build=None)
    )


@pytest.fixture
def docker_answers(monkeypatch):
    monkeypatch.setattr(containers, "state", lambda: SimpleNamespace(ok=True, detail="Docker 27"))


def test_host_arch_plan_runs_in_venvs_even_with_a_daemon(docker_answers, monkeypatch):
    monkeypatch.setattr(
        interpreters, "require", lambda versions, named=None, ask=None: {"3.11": "/usr/bin/python3.11"}
    )
    backend, why = backends.choose("auto", [_install(targets.host_arch())])
    assert backend == "venv" and "host" in why


def test_other_arch_plan_goes_to_docker(docker_answers):
    backend, why = backends.choose("auto", [_install(targets.host_arch()), _install("armv6")])
    assert backend == "docker" and "armv6" in why


def test_missing_python_goes_to_docker(docker_answers, monkeypatch):
    def missing(versions, named=None, ask=None):
        raise interpreters.MissingInterpreter("no python3.9 on this machine")

    monkeypatch.setattr(interpreters, "require", missing)
    backend, why = backends.choose("auto", [_install(targets.host_arch(), "3.9")])
    assert backend == "docker" and "python3.9" in why


def test_explicit_choice_is_kept(docker_answers):
    assert backends.choose("docker", [_install(targets.host_arch())]) == ("docker", "as requested")
