"""`iree-matrix publish`: copy a run's records into the published results and render them, as one
step: a publish killed halfway is finished by the next command (`finish_interrupted`)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from iree_matrix.commands.options import RUN, TO, WAIT, WAIT_WRITER_HELP
from iree_matrix.core import console
from iree_matrix.core.errors import UserError
from iree_matrix.findings import results_folder
from iree_matrix.report.documents import has_performance, render, write_documents

logger = console.logger(__name__)

NAME = "publish"
HELP = "copy a run's records into the published results (results/) and render them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    RUN.add(parser)
    TO.add(parser, default=Path("results"), help="the published directory (default: results)")
    WAIT.add(parser, help=WAIT_WRITER_HELP)


def main(args: argparse.Namespace) -> int:
    to = TO.of(args) or Path("results")
    _check_to(to)
    return run(RUN.of(args), to, wait=WAIT.of(args))


def _check_to(to: Path) -> None:
    """`--to` names a folder (made when missing): a file there, or on the way to it, is one line
    before anything is copied (it was a FileExistsError traceback from the results lock's mkdir)."""
    from iree_matrix.core.input_files import blocking_file

    if (where := blocking_file(to)) is not None:
        raise UserError(
            f"publish --to {to}: {where} exists and is not a directory; name the published folder "
            "(default: results)"
        )


def run(source: Path, to: Path, *, wait: bool = False) -> int:
    """Copy the run in `source` into the published directory `to`, and render it there."""
    from iree_matrix.findings.publish import publish, publishing

    with publishing(source, to, wait=wait, say=print):
        written = publish(source, to)
        print(
            f"published {source} -> {to}: "
            + ", ".join(str(p) for p in written[:3])
            + (" …" if len(written) > 3 else "")
        )
        return render(to, has_performance(results_folder.load(to)), print)


def finish_interrupted(dirs: Iterable[Path]) -> list[str]:
    """Finish every publish killed before it ended (into `dirs` or results/): its records copied again
    and every document rendered; a warning per publish, returned, never raised."""
    from iree_matrix.findings import publish as published

    warnings = []
    for to in published.marked(dirs):
        with published.pending(to) as found:
            if found is None:
                continue
            try:
                if found.what != "publish":
                    how = f"its documents rendered from {to / published.RESULTS}"
                elif found.run is not None and (found.run / published.RESULTS).is_file():
                    published.publish(found.run, to)
                    how = f"its records copied again from {found.run} and its documents rendered"
                else:
                    gone = "its run is not known" if found.run is None else f"{found.run} is gone"
                    how = f"{gone}: its documents rendered from {to / published.RESULTS} as it stands"
                write_documents(to, lambda _: None)
                published.rendered(found.to)
                text = f"warning: {found.describe()} was interrupted; finished now: {how}"
            except Exception as exc:  # noqa: BLE001 - said, and the command goes on
                text = (
                    f"warning: {found.describe()} was interrupted and could not be finished ({exc}); "
                    f"run `iree-matrix publish {found.run or 'RUN'} --to {to}` again"
                )
        logger.warning(text.removeprefix("warning: "))
        warnings.append(text)
    return warnings
