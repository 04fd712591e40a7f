"""`iree-matrix merge DIR... --to OUT`: the logs of shards or workers as one, rendered."""

from __future__ import annotations

import argparse
from pathlib import Path

from iree_matrix.commands.base import write_documents
from iree_matrix.commands.shared_options import CACHE, cache_dir

NAME = "merge"
HELP = "merge the results of shards or workers into one log (duplicate-safe) and render it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dirs", nargs="+", type=Path, metavar="DIR", help="run directories (or results.jsonl files)"
    )
    parser.add_argument("--to", type=Path, required=True, help="where the merged results.jsonl and report go")
    parser.add_argument(
        "--bundle",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="a run bundle as shipped (its folder or bundle.json), for results from a bundle another "
        "machine made (those made here are known by their digest)",
    )
    CACHE.add(parser)


def main(args: argparse.Namespace) -> int:
    from iree_matrix.answers import search
    from iree_matrix.answers.bundles import Manifests
    from iree_matrix.answers.merge import merge

    merged = merge(args.dirs, args.to, Manifests.of(cache_dir(args), args.bundle))
    # A flag search's own account of its descents travels with its records.
    descents = search.merge_descents(args.dirs, args.to)
    print(
        f"merged {len(args.dirs)} result logs into {args.to / 'results.jsonl'}: "
        f"{len(merged.records)} records ({merged.inputs} read, {merged.duplicates} duplicates dropped)"
        + (f"; {descents} flag-search descents into {args.to / search.DESCENTS}" if descents else "")
    )
    if merged.records:
        write_documents(args.to)
    return 0
