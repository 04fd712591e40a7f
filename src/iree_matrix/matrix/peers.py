"""The peers: the other frameworks timed beside IREE, one module each in `scripts/peer_frameworks/`
(CONTRIBUTING.md, "Adding a peer"), whose `PEER` declaration is read here from the source (nothing
imported). Everything that lists peers reads them here.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core import shipped
from iree_matrix.iree import opkinds

PACKAGE = "peer_frameworks"  # scripts/peer_frameworks/: one module per peer
EAGER = "eager"  # torch eager, every answer's reference: its figure is the export stage's
# A declaration's keys (scripts/peer_frameworks/__init__.py DECLARED, held equal by test_peers).
DECLARED = ("rank", "display", "requirements", "distributions", "shown", "op_kinds", "one_thread")


@dataclasses.dataclass(frozen=True)
class Peer:
    """One peer, as its module declares it."""

    name: str  # the module's name: what a matrix file's `peers` and the records say
    rank: int  # its place in the order (eager, the reference, first)
    display: str  # what a reader sees ("ONNX Runtime")
    requirements: tuple[str, ...]  # pinned, beside torch and numpy
    distributions: tuple[str, ...]  # whose versions peers.json records
    shown: tuple[str, ...]  # name prefixes of the packages the site's environment listing shows
    op_kinds: Optional[str]  # iree/opkinds.py's vocabulary of its op profile, None without one
    one_thread: str  # how its one-thread CPU figure is taken: the report's words after its name
    path: Path


@functools.cache
def ordered() -> tuple[Peer, ...]:
    """Every peer, in their `rank` order."""
    folder = shipped.scripts_dir() / PACKAGE
    found = [_read(path) for path in sorted(folder.glob("*.py")) if not path.name.startswith("_")]
    peers = sorted(found, key=lambda p: (p.rank, p.name))
    for earlier, later in zip(peers, peers[1:]):
        if earlier.rank == later.rank:
            raise RuntimeError(f"peers {earlier.name!r} and {later.name!r} share rank {earlier.rank}")
    return tuple(peers)


def refresh() -> None:
    """Forget the peers found (a test that adds a module)."""
    ordered.cache_clear()


def names() -> tuple[str, ...]:
    return tuple(p.name for p in ordered())


def among(found: Iterable[str]) -> tuple[str, ...]:
    """The peers named in `found`, in the peers' order; a name no module declares is left out."""
    named = set(found)
    return tuple(name for name in names() if name in named)


def get(name: str) -> Peer:
    return next(p for p in ordered() if p.name == name)


def display(name: str) -> str:
    """A peer's name for a reader; a name no module declares (an old record's) as it is."""
    return next((p.display for p in ordered() if p.name == name), name)


def requirements(asked: Sequence[str]) -> tuple[str, ...]:
    """What the asked peers need beside torch and numpy, in the peers' order."""
    return tuple(r for p in ordered() if p.name in asked for r in p.requirements)


def shown() -> tuple[str, ...]:
    """The name prefixes of the peers' packages an environment's listing shows, in the peers' order."""
    return tuple(prefix for p in ordered() for prefix in p.shown)


def op_profiled() -> dict[str, str]:
    """{peer: its op-kind vocabulary} for the peers that profile per op."""
    return {p.name: p.op_kinds for p in ordered() if p.op_kinds is not None}


def one_thread(name: str) -> str:
    """ "ONNX Runtime with one intra-op thread": a peer and how its one-thread figure is taken."""
    peer = get(name)
    return f"{peer.display} {peer.one_thread}"


def one_thread_prose(asked: Sequence[str]) -> str:
    """How the asked peers' one-thread figures are taken, in their order, neighbours alike said once."""
    groups = itertools.groupby((p for p in ordered() if p.name in asked), key=lambda p: p.one_thread)
    return ", ".join(f"{listed([p.display for p in peers])} {how}" for how, peers in groups)


def listed(words: Sequence[str]) -> str:
    """ "a, b and c": how prose lists peers."""
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)


def _read(path: Path) -> Peer:
    declared = _declaration(path)
    missing = [k for k in DECLARED if k not in declared]
    unknown = sorted(set(declared) - set(DECLARED))
    if missing or unknown:
        said = f"lacks {', '.join(missing)}" if missing else f"has unknown {', '.join(unknown)}"
        raise RuntimeError(f"{path}: its PEER {said} (the keys: {', '.join(DECLARED)}; CONTRIBUTING.md)")
    if (vocabulary := declared["op_kinds"]) is not None and vocabulary not in opkinds.CLASSIFIERS:
        known = ", ".join(opkinds.CLASSIFIERS)
        raise RuntimeError(
            f"{path}: op_kinds = {vocabulary!r} is no vocabulary of iree/opkinds.py (known: {known})"
        )
    # Each declared value as `Peer` holds it (op_kinds as declared: a vocabulary's name, or None).
    kinds: dict[str, Callable[[Any], Any]] = {"rank": int, "display": str, "one_thread": str}
    kinds.update(dict.fromkeys(("requirements", "distributions", "shown"), tuple))
    typed = {k: kinds[k](declared[k]) if k in kinds else declared[k] for k in DECLARED}
    return Peer(name=path.stem, path=path, **typed)


def _declaration(path: Path) -> Mapping[str, Any]:
    """The module's `PEER = {...}`, its literal evaluated (the module is not imported)."""
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "PEER" for t in node.targets
        ):
            try:
                value = ast.literal_eval(node.value)
            except ValueError as exc:
                raise RuntimeError(f"{path}: its PEER must be a dict of literals ({exc})") from None
            if isinstance(value, dict):
                return value
    raise RuntimeError(f"{path}: no `PEER = {{...}}` declaration (CONTRIBUTING.md, 'Adding a peer')")
