#!/usr/bin/env python3
"""Rewrite the published stage times the progress estimate ships with
(`src/iree_matrix/execution/stage_times.json`) from a checkout's published records, after a
publish (`nox -s stage_times` runs it). tests/unit/test_stage_times.py fails until it has been run.

    bin/update_stage_times.py [RESULTS]    # RESULTS: the published results (default: this checkout's)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from iree_matrix.execution import stage_times
from iree_matrix.findings import results_folder

REPO = Path(__file__).resolve().parents[1]


def main(argv: Sequence[str] = ()) -> int:
    raw = argparse.RawDescriptionHelpFormatter  # the docstring's example line kept as written
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument(
        "results",
        nargs="?",
        type=Path,
        default=REPO / "results",
        help="the published results (default: this checkout's)",
    )
    results = parser.parse_args(argv).results
    logs = [published.logged for published in results_folder.under(results, published=None)]
    if not logs:
        print(f"{results}: no published results.jsonl under it (run this in a checkout)", file=sys.stderr)
        return 1
    stage_times.SUMMARY.write_text(stage_times.render(stage_times.of_published(logs)))
    print(f"wrote {stage_times.SUMMARY} from {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
