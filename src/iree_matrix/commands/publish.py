"""`iree-matrix publish`: copy a run's records into the published results and render them."""

from __future__ import annotations

import argparse
from pathlib import Path

from iree_matrix.commands.report import render
from iree_matrix.core.results import ResultsLog

NAME = "publish"
HELP = "copy a run's records into the published results (results/) and render them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", type=Path, help="the directory a run wrote, e.g. runs/default")
    parser.add_argument(
        "--to", type=Path, default=Path("results"), help="the published directory (default: results)"
    )


def run(args: argparse.Namespace) -> int:
    from iree_matrix.answers.publish import publish

    written = publish(args.run, args.to)
    print(
        f"published {args.run} -> {args.to}: "
        + ", ".join(str(p) for p in written[:3])
        + (" …" if len(written) > 3 else "")
    )
    return render(args.to, performance=_has_performance(args.to))


def _has_performance(results_dir: Path) -> bool:
    return any(r.stage in ("peer", "dispatches") for r in ResultsLog(results_dir / "results.jsonl"))
