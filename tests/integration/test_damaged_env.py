"""A venv whose file no longer has the bytes its package installed (issue #51): real pip, a real
IREE compiler wheel from the wheelhouse, a real iree-compile. A zero-byte module of the compiler's
Python package is found by its RECORD hash when a command fails (a check of the files' presence
passed it), the failure is an environment fault (never stored), and the environment is rebuilt from
its pins, after which the same command works."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest

from iree_matrix.core.errors import EnvironmentFault
from iree_matrix.core.model.results import Record, Status
from iree_matrix.core.model.store import Entry
from iree_matrix.core.system.process_request import Bounds, ProcessRequest
from iree_matrix.envs import venv
from iree_matrix.envs.cache_usage import default_cache
from iree_matrix.matrix.plan import EnvSpec
from iree_matrix.matrix.wheelhouse import PINS_FILE, Wheelhouse
from iree_matrix.stages import base

pytestmark = pytest.mark.integration

SPEC = EnvSpec("compiler", "3.11", ("iree-base-compiler==3.9.0",), "iree-compiler3.9.0-damage-test")


def test_a_damaged_file_is_found_by_content_and_the_environment_rebuilt(tmp_path: Path) -> None:
    backend = venv.VenvBackend(tmp_path / "envs")
    house = Wheelhouse(default_cache() / "wheelhouse")
    log = tmp_path / "log.txt"
    pins = house.pin(SPEC.requirements, backend.target(SPEC), log=log)
    env = backend.create(SPEC, pins, house.fetch(pins, log=log), Bounds(900, log))
    assert env.run(ProcessRequest([env.tool("iree-compile"), "--version"], timeout=120)).returncode == 0
    assert venv.content_damage(env.path) is None  # as built: every file its RECORD's bytes

    (damaged,) = env.path.glob("lib/python3.11/site-packages/iree/compiler/tools/core.py")
    size = damaged.stat().st_size
    damaged.write_bytes(b"")  # what the drill did to turbine's aot/exporter.py
    assert venv.verify(env.path) is None  # every file is there: the presence check passes it
    # What turbine's export did with its zero-byte exporter.py: an AttributeError, whose words a
    # worker's own answer could have (never taken for damage by its text), exit 1.
    uses = [env.python(), "-c", "from iree.compiler.tools import core; core.compile_file"]
    with pytest.raises(EnvironmentFault) as raised:
        env.run(ProcessRequest(uses, timeout=120))
    assert "tools/core.py is not the file its package installed" in raised.value.message, raised.value.message
    assert raised.value.cacheable is False
    assert backend.open(SPEC, pins.digest) is None  # so the next stage asking for it rebuilds it

    # As a stage asks for it (`Context.environment`): rebuilt from the pins its install stored.
    (entry := tmp_path / "install").mkdir()
    (entry / PINS_FILE).write_text(pins.to_json())
    record = Record("install:x", "install", "x", "k", Status.OK, {}, env={"lock_digest": pins.digest})
    ctx = types.SimpleNamespace(wheelhouse=house, backend=backend, log=log, bounds=Bounds(900, log))
    rebuilt = base._rebuild(ctx, SPEC, Entry(record, entry))  # type: ignore[arg-type]
    assert rebuilt is not None and Path(rebuilt.path) == Path(env.path)
    assert damaged.stat().st_size == size and venv.content_damage(env.path) is None
    assert rebuilt.run(ProcessRequest(uses, timeout=120)).returncode == 0
    assert json.loads((env.path / ".complete").read_text())["lock_digest"] == pins.digest
