"""The stages, one module each with a `STAGE` (`stages.base`: its name, rank, key and execution),
found in the order of their `rank`: adding a stage is adding its module (CONTRIBUTING.md)."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from iree_matrix.core import modules
from iree_matrix.core.errors import SpecError
from iree_matrix.matrix import plan as _plan
from iree_matrix.matrix.plan import EnvSpec, Plan
from iree_matrix.matrix.spec import MatrixSpec
from iree_matrix.stages.base import Context, Stage

__all__ = ["Context", "Stage", "get", "names", "ordered", "plan"]


@functools.cache
def ordered() -> tuple[Stage, ...]:
    """Every stage, in pipeline order: the `STAGE` of each module of this package that has one, and
    of kernel/stages/ (the kernel's stage, kept with the kernel)."""
    declared = [getattr(module, "STAGE", None) for module in modules(__name__, "iree_matrix.kernel.stages")]
    found: list[Stage] = sorted((s for s in declared if s is not None), key=lambda s: s.rank)
    for earlier, later in zip(found, found[1:]):
        if earlier.rank == later.rank or earlier.name == later.name:
            raise RuntimeError(f"stages {earlier.name!r} and {later.name!r} share a rank or a name")
    return tuple(found)


def names() -> tuple[str, ...]:
    """The stages' names, in pipeline order (the plan's job order, the report's)."""
    return tuple(stage.name for stage in ordered())


def get(name: str) -> Stage:
    return {stage.name: stage for stage in ordered()}[name]


def refresh() -> None:
    """Forget the stages found (a test that adds a module to this package)."""
    ordered.cache_clear()


def timeout(spec: MatrixSpec, name: str) -> float:
    """A stage's timeout in this matrix: the file's [timeouts], else the stage's own."""
    return spec.timeouts[name] if name in spec.timeouts else get(name).timeout


def check(spec: MatrixSpec) -> None:
    """What the matrix file says of stages names stages (its [timeouts] keys)."""
    known = names()
    if unknown := [key for key in spec.timeouts if key not in known]:
        raise SpecError(
            f"{spec.path}: unknown key {'timeouts.' + unknown[0]!r} (known: {', '.join(sorted(known))})"
        )


def plan(spec: MatrixSpec, runtime_dirs: Mapping[str, str] = {}) -> Plan:  # noqa: B006 - read only
    """Every stage's jobs for the matrix (`plan.build` with every stage, in order)."""
    check(spec)
    return _plan.build(spec, ordered(), runtime_dirs)


def describe(the_plan: Plan) -> str:
    """The plan as `--list` prints it: its jobs counted per stage, then one id a line."""
    return _plan.describe(the_plan, ordered())


def add_job(the_plan: Plan, spec: MatrixSpec, stage: str, env: EnvSpec) -> Plan:
    """The plan plus the job `stage` plans for `env` (and what that job needs), e.g. a runtime build
    nothing runs on (what `armv6-smoke` reports of a dynamic twin: what it would need of the board)."""
    builder = _plan.Builder(spec, ordered(), jobs=the_plan.jobs)
    builder.need(stage, env)
    return builder.plan()
