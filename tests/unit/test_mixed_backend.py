"""The mixed backend hands each environment to the backend its architecture needs, under that
backend's name, so its install key is the one a pure venv or Docker run stores."""

from __future__ import annotations

from types import SimpleNamespace

from iree_matrix import envs
from iree_matrix.envs.mixed import MixedBackend
from iree_matrix.iree import targets


class _Fake:
    def __init__(self, name: str) -> None:
        self.name, self.calls = name, []

    def target(self, env):
        self.calls.append(("target", env.arch))
        return self.name

    def open(self, env, pins_digest):
        self.calls.append(("open", env.arch))
        return None

    def contained_cpu_seconds(self) -> float:
        return 7.0

    def remove_orphans(self) -> list[str]:
        return ["gone"]


def _env(arch: str) -> SimpleNamespace:
    return SimpleNamespace(arch=arch)


def test_each_environment_goes_to_the_backend_of_its_architecture() -> None:
    host, foreign = _Fake("venv"), _Fake("docker")
    mixed = MixedBackend(host, foreign)  # type: ignore[arg-type]
    assert mixed.target(_env(targets.host_arch())) == "venv"
    assert mixed.target(_env("armv6")) == "docker"
    mixed.open(_env("aarch64"), "d")
    assert host.calls == [("target", targets.host_arch())]
    assert foreign.calls == [("target", "armv6"), ("open", "aarch64")]
    assert mixed.contained_cpu_seconds() == 7.0 and mixed.remove_orphans() == ["gone"]


def test_install_keys_use_the_chosen_backends_name() -> None:
    mixed = MixedBackend(_Fake("venv"), _Fake("docker"))  # type: ignore[arg-type]
    assert envs.name_of(mixed, _env(targets.host_arch())) == "venv"  # type: ignore[arg-type]
    assert envs.name_of(mixed, _env("armv6")) == "docker"  # type: ignore[arg-type]
    assert envs.name_of(_Fake("docker"), _env("armv6")) == "docker"  # type: ignore[arg-type]
