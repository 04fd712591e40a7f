"""`iree-matrix merge DIR... --to OUT`: the logs of shards or workers as one, rendered."""

from __future__ import annotations

import argparse
from pathlib import Path

from iree_matrix.commands.base import write_documents
from iree_matrix.commands.shared_options import CACHE, WAIT_WRITER, cache_dir

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
    WAIT_WRITER.add(parser)


def main(args: argparse.Namespace) -> int:
    from iree_matrix.answers import search, sittings
    from iree_matrix.answers.bundles import Manifests
    from iree_matrix.answers.merge import merge

    # An `advise` sitting's folder publishes its answers under their identity (answers/sittings.py).
    # Every sitting is checked here and every bundle's log in `merge`, which writes only after its
    # own checks: so the logs are merged first, and nothing is written when any input is refused.
    manifests = Manifests.of(cache_dir(args), args.bundle)
    found = [s for d in args.dirs if sittings.is_sitting_dir(d) for s in sittings.read(d, manifests)]
    logs = [d for d in args.dirs if not sittings.is_sitting_dir(d)]
    if logs:
        merged = merge(logs, args.to, manifests, wait=WAIT_WRITER.of(args), say=print)
        # A flag search's own account of its descents travels with its records.
        descents = search.merge_descents(logs, args.to)
        print(
            f"merged {len(logs)} result logs into {args.to / 'results.jsonl'}: "
            f"{len(merged.records)} records ({merged.inputs} read, {merged.duplicates} duplicates dropped)"
            + (f"; {descents} flag-search descents into {args.to / search.DESCENTS}" if descents else "")
        )
        if merged.records and not found:
            write_documents(args.to)
    if found:
        from iree_matrix.answers.publish import locked

        with locked(args.to, say=print, wait=WAIT_WRITER.of(args)):
            for path in sittings.publish(found, args.to):
                print(f"published: {path}")
        from iree_matrix.commands.report import render_answers

        render_answers(args.to)
        if (args.to / "results.jsonl").is_file():  # compat.json and the site carry the answers too
            write_documents(args.to)
    return 0
