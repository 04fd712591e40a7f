"""A bundle's modules, carried cut into chunks, each distinct chunk once (every arm's module holds the
same weights: execution/bundle_chunks.py): each put together again from its recipe before anything runs
and checked against its compile's sha256. Without `modules_packed` a bundle carries each module whole."""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from .base import MANIFEST, BundleError
from .manifest import run_flag_problem, within

if TYPE_CHECKING:
    from .base import Json

ASSEMBLED = Path(".runtime") / "modules"  # in the bundle's folder; a temporary one where it is read-only

# IREE's runtime flag that loads a standalone executable plugin, read by its tools and its Python binding
# alike; `embedded:` loads it with IREE's own ELF loader, whatever the file's name.
PLUGIN_FLAG = "--executable_plugin"


def plugin_flag(plugin: object) -> str:
    return f"{PLUGIN_FLAG}=embedded:{plugin}"


def plugin_flags(root: Path, cell: Json) -> list[str]:
    """What running the cell's module needs beside it: its plugin kernel's plugin, where it has one,
    and its kernel's runtime flags (`run_flags`: a bigger worker stack, say)."""
    plugin = [plugin_flag(within(root, cell["plugin"]))] if cell.get("plugin") else []
    extra = cell.get("run_flags") or []
    if not isinstance(extra, list) or any(run_flag_problem(f) is not None for f in extra):
        raise BundleError(f"{cell.get('job')}: its run_flags are not a list of runtime flags --name=value")
    return [*plugin, *extra]


def _places(root: Path) -> list[Path]:
    """Where assembled modules are kept: the bundle's own folder, else a temporary folder of its own."""
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    return [root / ASSEMBLED, Path(tempfile.gettempdir()) / "iree-matrix-bundle-modules" / digest]


def module_path(root: Path, cell: Json) -> Path:
    """The file of the cell's module: carried whole in the bundle, or assembled by `assemble`."""
    if (whole := within(root, cell["module"])).is_file():
        return whole
    name = Path(str(cell["module"])).name
    for place in _places(root):
        if (place / name).is_file():
            return place / name
    raise BundleError(f"{cell['module']}: neither in the bundle nor assembled (run.py assembles it first)")


def assemble(root: Path, manifest: Json) -> int:
    """Every packed module put together from the pack and checked against its sha256 (one assembled before
    is kept); how many there are. BundleError where a recipe does not make its module, or none is writable."""
    if not (packed := manifest.get("modules_packed")):
        return 0
    recipes: dict[str, Json] = json.loads(within(root, packed["recipes"]).read_text(encoding="utf-8"))
    pack = within(root, packed["pack"])
    place = _writable(root)
    with open(pack, "rb") as source:
        for name, recipe in sorted(recipes.items()):
            _one(source, place, name, recipe)
    return len(recipes)


def _writable(root: Path) -> Path:
    for place in _places(root):
        try:
            place.mkdir(parents=True, exist_ok=True)
            probe = place / f".probe.{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
            return place
        except OSError:
            continue
    raise BundleError(
        f"nowhere to assemble the bundle's modules: {root} and {tempfile.gettempdir()} are read-only"
    )


def _one(source: BinaryIO, place: Path, name: str, recipe: Json) -> None:
    """One module written from its recipe's ranges of the pack, kept only if its sha256 is the one
    its compile gave it."""
    digest = str(recipe.get("sha256", ""))
    if not re.fullmatch(r"[0-9a-f]{64}", digest) or Path(name).name != f"{digest}.vmfb":
        raise BundleError(f"{MANIFEST}: a packed module {name[:80]!r} is not named by its sha256")
    target = place / Path(name).name
    if target.is_file():
        return
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    h = hashlib.sha256()
    with open(partial, "wb") as out:
        for offset, length in recipe.get("pieces") or ():
            source.seek(int(offset))
            piece = source.read(int(length))
            h.update(piece)
            out.write(piece)
    if h.hexdigest() != digest:
        partial.unlink()
        raise BundleError(
            f"{name}: its chunks do not make the module its compile made; copy the whole bundle again"
        )
    os.replace(partial, target)
