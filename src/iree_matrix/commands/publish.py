"""`iree-matrix publish`: copy a run's records into the published results and render them, as one
step: a publish killed halfway is finished by the next command (`finish_interrupted`)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import Callable

from iree_matrix.commands.base import has_performance, write_documents
from iree_matrix.commands.report import render
from iree_matrix.commands.shared_options import WAIT_WRITER
from iree_matrix.core import console

logger = console.logger(__name__)

NAME = "publish"
HELP = "copy a run's records into the published results (results/) and render them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", type=Path, help="the directory a run wrote, e.g. runs/default")
    parser.add_argument(
        "--to", type=Path, default=Path("results"), help="the published directory (default: results)"
    )
    WAIT_WRITER.add(parser)


def main(args: argparse.Namespace) -> int:
    from iree_matrix.answers.publish import publish, publishing

    with publishing(args.run, args.to, wait=WAIT_WRITER.of(args), say=print):
        written = publish(args.run, args.to)
        print(
            f"published {args.run} -> {args.to}: "
            + ", ".join(str(p) for p in written[:3])
            + (" …" if len(written) > 3 else "")
        )
        code = render(args.to, performance=has_performance(args.to))
    return code


def finish_interrupted(dirs: Iterable[Path] = (), say: Callable[[str], None] = lambda s: None) -> list[str]:
    """Finish every publish that was killed before it ended, into `dirs` or the published
    directories under `results/`: the run's records copied again (if the run is still there) and
    every document rendered from the records the directory then holds. A warning per publish (on
    stderr), which is also returned; a publish that cannot be finished is said, never raised."""
    from iree_matrix.answers import publish as published

    warnings = []
    for to in published.marked(dirs):
        with published.pending(to) as found:
            if found is None:
                continue
            try:
                if found.run is not None and (found.run / published.RESULTS).is_file():
                    published.publish(found.run, to)
                    how = f"its records copied again from {found.run} and its documents rendered"
                else:
                    gone = "its run is not known" if found.run is None else f"{found.run} is gone"
                    how = f"{gone}: its documents rendered from {to / published.RESULTS} as it stands"
                write_documents(to, say)
                published.done(found)
                text = f"warning: {found.describe()} was interrupted; finished now: {how}"
            except Exception as exc:  # noqa: BLE001 - said, and the command goes on
                text = (
                    f"warning: {found.describe()} was interrupted and could not be finished ({exc}); "
                    f"run `iree-matrix publish {found.run or 'RUN'} --to {to}` again"
                )
        logger.warning(text.removeprefix("warning: "))
        warnings.append(text)
    return warnings
