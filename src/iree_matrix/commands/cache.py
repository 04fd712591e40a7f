"""`iree-matrix cache`: how much disk the cache takes, and `cache prune` to reclaim it."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from iree_matrix.commands.options import CACHE, CACHE_ACTION, CACHE_PARTS, cache_dir
from iree_matrix.core import formats
from iree_matrix.core.errors import UserError
from iree_matrix.envs import cache_usage

NAME = "cache"
HELP = "the cache's disk use (`cache`), and `cache prune [PART ...]` to reclaim it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    CACHE_ACTION.add(parser)
    CACHE_PARTS.add(
        parser,
        help=f"prune these parts: {', '.join(cache_usage.PARTS)} or all "
        f"(default: {' '.join(cache_usage.CHEAP)}, which no stage has to redo)",
    )
    CACHE.add(parser)


def main(args: argparse.Namespace) -> int:
    cache, parts = cache_dir(args), CACHE_PARTS.each(args)
    if CACHE_ACTION.of(args) == "prune":
        return prune(cache, parts)
    if parts:
        raise UserError(f"cache du takes no parts (got {' '.join(parts)}); `cache prune PART` removes one")
    return usage(cache)


def usage(cache: Path) -> int:
    for part in cache_usage.usage(cache):
        print(f"{formats.size(part.bytes):>9}  {part.name:<10} {part.holds}; removing it: {part.cost}")
    if images := cache_usage.docker_images():
        print(
            f"{formats.size(images[1]):>9}  Docker images ({images[0]}, in Docker's storage): "
            "`iree-matrix images prune [--all]`"
        )
    print(f"reclaim: iree-matrix cache prune [{' | '.join([*cache_usage.PARTS, 'all'])}] (--cache {cache})")
    return 0


def prune(cache: Path, parts: Sequence[str]) -> int:
    from iree_matrix.core.system.locks import cache_lock

    names = cache_usage.names(list(parts))
    if unknown := [n for n in names if n not in cache_usage.PARTS]:
        raise UserError(
            f"cache prune {' '.join(unknown)}: no such part (parts: {', '.join(cache_usage.PARTS)}, or all)"
        )
    with cache_lock(cache):  # not while a run uses this cache
        freed = cache_usage.prune(cache, names)
    for name, size in freed:
        print(f"removed {name}: {formats.size(size)} ({cache_usage.PARTS[name][1]})")
    print(
        f"freed {formats.size(sum(s for _, s in freed))} in {cache}"
        if freed
        else f"nothing to remove in {cache}"
    )
    return 0
