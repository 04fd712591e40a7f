"""`iree-matrix merge DIR... --to OUT`: the logs of shards or workers as one, rendered."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from iree_matrix.commands.options import BUNDLE, CACHE, RUN_DIRS, TO, WAIT, WAIT_WRITER_HELP, cache_dir
from iree_matrix.report.documents import render_answers, write_documents

NAME = "merge"
HELP = "merge the results of shards or workers into one log (duplicate-safe) and render it"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    RUN_DIRS.add(parser)
    TO.add(parser, required=True, help="where the merged results.jsonl and report go")
    BUNDLE.add(parser)
    CACHE.add(parser)
    WAIT.add(parser, help=WAIT_WRITER_HELP)


def main(args: argparse.Namespace) -> int:
    to = TO.of(args)
    assert to is not None  # required
    return run(RUN_DIRS.each(args), to, cache_dir(args), BUNDLE.each(args), wait=WAIT.of(args))


def run(dirs: Sequence[Path], to: Path, cache: Path, bundles: Sequence[Path], *, wait: bool = False) -> int:
    from iree_matrix.advise import received_sittings as sittings
    from iree_matrix.findings import results_folder, search_descent
    from iree_matrix.findings.bundles import Manifests
    from iree_matrix.findings.merge import merge
    from iree_matrix.findings.publish import rendered

    # An `advise` sitting's folder publishes its answers under their identity (advise/received_sittings.py).
    # Every sitting is checked here and every bundle's log in `merge`, which writes only after its
    # own checks: so the logs are merged first, and nothing is written when any input is refused.
    manifests = Manifests.of(cache, list(bundles))
    found = [s for d in dirs if sittings.is_sitting_dir(d) for s in sittings.read(d, manifests)]
    if logs := [d for d in dirs if not sittings.is_sitting_dir(d)]:
        merged = merge(logs, to, manifests, wait=wait, say=print)
        # A flag search's own account of its descents travels with its records.
        descents = search_descent.merge_descents(logs, to)
        print(
            f"merged {len(logs)} result logs into {results_folder.load(to, None).source}: "
            f"{merged.count()}; {merged.dropped()}"
            + (f"; {descents} flag-search descents into {to / search_descent.DESCENTS}" if descents else "")
        )
        if merged.records and not found:
            write_documents(to, print)
        if not found:
            rendered(to)  # marked by `merge` before it wrote the log (findings/publish.py `rendering`)
    if found:
        from iree_matrix.core.system import locks

        with locks.results_lock(to, wait=wait, report=print):
            for path in sittings.publish(found, to):
                print(f"published: {path}")
        render_answers(to, print)
        if results_folder.load(to, None).source.is_file():  # compat.json and the site carry the answers too
            write_documents(to, print)
        rendered(to)
    return 0
