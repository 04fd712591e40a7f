"""One process request: every way of running a command takes one `ProcessRequest`, not its own
spelling of a dozen keywords, and no backend forwards keywords it does not name."""

from __future__ import annotations

import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

from iree_matrix import envs
from iree_matrix.core.system import bubblewrap, containers, process_tree, processes
from iree_matrix.core.system.process_request import ProcessRequest
from iree_matrix.envs.docker import DockerEnvironment, ToolsEnvironment
from iree_matrix.envs.venv import VenvEnvironment
from iree_matrix.source_builds import armv6_hello
from iree_matrix.stages import model_worker
from tests.unit import source_tree

PACKAGE = Path(envs.__file__).resolve().parents[1]


def _parameters(function) -> list[tuple[str, object]]:
    """(name, annotation as written) of each parameter: the package's modules use postponed annotations."""
    return [
        (p.name, None if p.annotation is p.empty else p.annotation)
        for p in inspect.signature(function).parameters.values()
    ]


@pytest.mark.parametrize(
    "environment",
    [envs.Environment, VenvEnvironment, DockerEnvironment, ToolsEnvironment, armv6_hello.Runner],
)
def test_every_environment_runs_exactly_one_request(environment):
    assert _parameters(environment.run) == [("self", None), ("request", "ProcessRequest")]


def test_the_host_and_the_container_layer_take_the_same_request():
    assert _parameters(processes.run) == [("request", "ProcessRequest")]
    assert [name for name, _ in _parameters(containers.run)] == ["image_id", "request", "what", "labels"]
    assert _parameters(containers.run)[1] == ("request", "ProcessRequest")
    assert [name for name, _ in _parameters(model_worker.run_timed)] == ["env", "request", "ctx", "out"]


def test_no_way_of_running_a_command_forwards_keywords_it_does_not_name():
    """The `**options: Any` docker.py once passed on hid which options a container takes: a misspelt
    one failed only when a container ran."""
    modules = [*sorted((PACKAGE / "envs").glob("*.py")), PACKAGE / "core/system/processes.py",
               PACKAGE / "core/system/containers.py", PACKAGE / "stages/model_worker.py",
               PACKAGE / "source_builds/cmake_runtime.py"]  # fmt: skip
    forwarding = []
    for module in modules:
        for node in ast.walk(source_tree.tree(module)):
            if isinstance(node, (ast.FunctionDef, ast.Lambda)) and node.args.kwarg is not None:
                name = getattr(node, "name", "lambda")
                if name == "run" or name.startswith("run_") or name == "lambda":
                    forwarding.append(f"{module.relative_to(PACKAGE)}:{node.lineno} {name}")
    assert forwarding == []
    assert "**" not in inspect.getsource(DockerEnvironment)  # neither taken nor passed on


def test_a_request_holds_plain_values_and_derives_variants():
    request = ProcessRequest([Path("/bin/echo"), "hi"], read_only=["/a"], writes_beneath=[Path("/w")])  # type: ignore[list-item]
    assert request.argv == ("/bin/echo", "hi")
    assert request.read_only == (Path("/a"),) and request.writes_beneath == ("/w",)
    more = request.reading(Path("/tools"))
    assert more.read_only == (Path("/a"), Path("/tools")) and request.read_only == (Path("/a"),)
    assert dataclasses.replace(request, check=False).argv == request.argv
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.timeout = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("isolation", "named"),
    [
        ({"limits": process_tree.Limits(memory=1 << 30)}, "limits"),
        ({"writes_beneath": ["/tmp"]}, "writes_beneath"),
        ({"private_shm": True}, "private_shm"),
        ({"sandbox": bubblewrap.Sandbox()}, "sandbox"),
        ({"feed": [b"x"]}, "feed"),
    ],
)
def test_a_container_refuses_the_hosts_isolation_rather_than_drop_it(isolation, named):
    with pytest.raises(ValueError, match=f"cannot take {named}"):
        containers.run("sha256:0", ProcessRequest(["true"], **isolation), what="t")
