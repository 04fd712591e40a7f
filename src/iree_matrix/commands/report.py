"""`iree-matrix report`: render a results directory's COMPATIBILITY.md (and PERFORMANCE.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from iree_matrix.commands.base import write_report
from iree_matrix.commands.shared_options import RESULTS_DIR

NAME = "report"
HELP = "render COMPATIBILITY.md from a results file (default: results/)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    RESULTS_DIR.add(parser, default=Path("results"), help="the results set to render (default: results)")
    parser.add_argument("--performance", action="store_true", help="also print the performance table")


def main(args: argparse.Namespace) -> int:
    return render(args.results_dir, performance=args.performance)


def render(results_dir: Path, performance: bool) -> int:
    render_answers(results_dir)
    write_report(results_dir)
    if performance:
        from iree_matrix.report.performance import write_performance

        out = results_dir / "PERFORMANCE.md"
        lines = write_performance(results_dir / "results.jsonl", out)
        print(
            "\n".join(lines) + f"\nreport: {out}" if lines else "no performance results yet: `nox -s bench`"
        )
    return 0


def render_answers(results_dir: Path) -> None:
    """ANSWERS.md of the published answers (RESULTS/answers), and the checkout's README table."""
    answers_dir = results_dir / "answers"
    if not answers_dir.is_dir():
        return
    from iree_matrix.report import answers

    out = answers.write(answers_dir)
    if out is not None:
        print(f"report: {out}")
    readme = results_dir.resolve().parent / "README.md"  # the checkout's README: its first table
    if answers.write_readme(readme, answers_dir):
        print(f"report: {readme} (its answers table)")
