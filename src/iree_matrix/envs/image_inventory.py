"""`iree-matrix images list|prune`: a matrix's environment images, and the ones nothing needs.

(`images build` is the matrix's install jobs run on the Docker backend: see commands/images.py.)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

from iree_matrix import images
from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import MatrixError
from iree_matrix.core.system import containers
from iree_matrix.envs.docker import DockerBackend
from iree_matrix.matrix.plan import EnvSpec, Plan
from iree_matrix.matrix.spec import MatrixSpec
from iree_matrix.matrix.wheelhouse import Wheelhouse


@dataclasses.dataclass(frozen=True)
class Row:
    env: str
    state: str  # built | not built | not resolved | unavailable
    tag: str = ""
    size_bytes: Optional[int] = None
    detail: str = ""


def inventory(matrix: MatrixSpec, plan: Plan, cache: Path) -> list[Row]:
    containers.require()
    backend = DockerBackend(CacheLayout(cache).images, base_images=matrix.images)
    wheelhouse = Wheelhouse(CacheLayout(cache).wheelhouse)
    return [_row(job.env, backend, wheelhouse) for job in plan.jobs if job.stage == "install"]


def _row(env: EnvSpec, backend: DockerBackend, wheelhouse: Wheelhouse) -> Row:
    try:
        pins = wheelhouse.cached_pins(env.requirements, backend.target(env))
    except MatrixError as exc:  # e.g. a Python no suite ships
        return Row(env.id, "unavailable", detail=str(exc).splitlines()[0])
    if pins is None:
        return Row(env.id, "not resolved", detail="run `images build` (or the matrix)")
    if (built := backend.open(env, pins.digest)) is None:
        return Row(env.id, "not built", detail=f"pins {pins.digest[:12]}")
    image = containers.image(built.image.image_id)
    return Row(env.id, "built", built.image.tag, image.size if image else 0)


def prune(matrix: MatrixSpec, plan: Plan, cache: Path, *, everything: bool = False) -> list[str]:
    """Remove environment images this matrix does not use (all of them with `everything`)."""
    keep = set() if everything else {r.tag for r in inventory(matrix, plan, cache) if r.tag}
    removed = []
    for image in containers.images({images.LABEL: "1"}):
        for tag in image.tags:
            if tag.startswith(images.ENV_REPO + ":") and tag not in keep:
                containers.remove_image(tag)
                removed.append(tag)
    return removed
