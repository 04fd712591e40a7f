"""Docker is driven from one module, `containers.py` (issue 27): no other module of src/ runs the
`docker` command or imports the Docker SDK. Read from the source (like test_layers.py), so a new
`subprocess.run(["docker", ...])` anywhere else fails here, not in a review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.unit import source_tree

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "iree_matrix"
THE_LAYER = PACKAGE / "core" / "system" / "containers.py"


# What starts a process from a command line or an argument list (a `ProcessRequest` is one to start).
PROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output", "system", "popen", "getoutput",
                 "getstatusoutput", "create_subprocess_exec", "create_subprocess_shell",
                 "ProcessRequest"}  # fmt: skip
# `docker`'s subcommands: `["docker", "ps"]` is a command, `["docker", "venv"]` a list of backends.
SUBCOMMANDS = {"run", "ps", "rm", "kill", "load", "save", "image", "images", "inspect", "commit", "create",
               "start", "stop", "exec", "version", "info", "system", "pull", "build", "rmi"}  # fmt: skip


def _named_docker(node: ast.expr) -> bool:
    """`"docker"`, `docker`, `self._docker`, `docker_cli()`, `"/usr/bin/docker"`: the command itself."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return Path(node.value).name == "docker"
    if isinstance(node, ast.Call):
        return _named_docker(node.func)
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""
    return "docker" in name.lower()


def _argv(node: ast.expr, *, run: bool) -> bool:
    """A list or tuple that is a docker command: headed by the command in a variable (or a call that
    finds it), or by its name followed by a subcommand, or by its name alone where a process starts."""
    if not isinstance(node, (ast.List, ast.Tuple)) or not node.elts or not _named_docker(node.elts[0]):
        return False
    if not isinstance(node.elts[0], ast.Constant) or run:
        return True
    return any(isinstance(e, ast.Constant) and e.value in SUBCOMMANDS for e in node.elts[1:])


def _func(node: ast.Call) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def invocations(source: str | ast.Module) -> list[int]:
    """The lines where `source` (a module's text or tree) runs Docker: an import of the SDK,
    `shutil.which("docker")`, a docker argument list, or a process started from a command line that
    begins with `docker `."""
    found = []
    for node in ast.walk(ast.parse(source) if isinstance(source, str) else source):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "docker" for a in node.names):
            found.append(node.lineno)
        elif (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] == "docker"
            and not node.level
        ):
            found.append(node.lineno)
        elif isinstance(node, (ast.List, ast.Tuple)) and _argv(node, run=False):
            found.append(node.lineno)
        elif isinstance(node, ast.Call):
            args = [*node.args, *(k.value for k in node.keywords)]
            if _func(node) == "which" and any(_named_docker(a) for a in args):
                found.append(node.lineno)
            elif _func(node) in PROCESS_CALLS and any(
                _argv(a, run=True) or (isinstance(a, ast.Constant) and str(a.value).startswith("docker "))
                for a in args
            ):
                found.append(node.lineno)
    return sorted(set(found))


@pytest.mark.parametrize(
    "source",
    [
        "import docker",
        "import docker.errors",
        "from docker.errors import ImageNotFound",
        "shutil.which('docker')",
        "subprocess.run(['docker', 'ps'])",
        "processes.run(ProcessRequest([docker, 'rm', name], timeout=60))",
        "processes.run(ProcessRequest((self._docker, 'load'), feed=chunks))",
        "processes.run(ProcessRequest([find_docker(), 'version']))",
        "processes.run(ProcessRequest(argv=['/usr/bin/docker', 'images']))",
        "request = ProcessRequest(('docker',))",
        "os.system('docker rm -f x')",
        "argv = ['docker', 'image', 'ls']",
        "argv = [self._docker, 'ps']",
        "subprocess.run(('docker',))",
    ],
)
def test_each_way_of_running_docker_is_seen(source: str) -> None:
    assert invocations(source) == [1]


@pytest.mark.parametrize(
    "source",
    [
        "from iree_matrix.envs.docker import DockerBackend",
        "processes.run(ProcessRequest([cmake, '--build', docker_dir]))",
        "print('the docker backend')",
        "backend == 'docker'",
        "processes.run(ProcessRequest([*remove, *names]))",
        'parser.add_argument("--backend", choices=["docker", "venv"])',
        'Check("docker client", False, "not installed")',
        "print('docker rm -f x')",
    ],
)
def test_mentioning_docker_is_not_running_it(source: str) -> None:
    assert invocations(source) == []


def test_docker_is_run_from_containers_py_only() -> None:
    elsewhere = {
        str(path.relative_to(PACKAGE)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != THE_LAYER and (lines := invocations(source_tree.tree(path)))
    }
    assert not elsewhere, (
        f"Docker run outside containers.py (file: lines): {elsewhere}; call containers instead"
    )
    assert invocations(source_tree.tree(THE_LAYER)), (
        "containers.py runs no docker command: is this test still reading it?"
    )
