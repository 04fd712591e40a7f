"""The options of the commands that plan and run a matrix (`matrix`, `tune`, `search`, `armv6-smoke`)."""

from __future__ import annotations

import argparse
import functools
import os
from collections.abc import Sequence

from iree_matrix.commands.base import absolute, add_output_options, default_results_dir
from iree_matrix.commands.shared_options import BACKEND, MATRIX, TIMEOUT, UNSANDBOXED
from iree_matrix.core import shipped

# Installs and compiles overlap with each other and with exports (timed stages still take the
# machine alone): on 2 cores a first default run is minutes shorter (docs/first-run.md). Capped
# because each compile is itself multi-threaded and the large ones take gigabytes.
DEFAULT_JOBS = max(1, min(4, os.cpu_count() or 1))


def add_matrix_options(m: argparse.ArgumentParser, default_matrix: str) -> None:
    """Which matrix, which of its jobs, where they run, and what is measured again."""
    MATRIX.add(m, help=f"matrix file (default: matrix/{default_matrix})")
    m.add_argument("--select", action="append", default=[], metavar="GLOB",
                   help="only jobs whose id matches (repeatable), plus what they depend on")  # fmt: skip
    m.add_argument("--list", action="store_true", help="print the plan and run nothing")
    m.add_argument(
        "--strict",
        action="store_true",
        help=(
            "exit 1 when a stage failed, timed out or mismatched; a cross cell the runtime refuses is "
            "an answer, not a failure (default: 0; the last line says)"
        ),
    )
    m.add_argument(
        "--refresh-releases",
        action="store_true",
        help='ask the package index again what selectors such as compiler = "all" mean, instead of '
        "reusing RESULTS_DIR/releases.json",
    )
    m.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        help=f"stages run at once (default {DEFAULT_JOBS}: one per CPU, at most 4; timed stages run alone)",
    )
    BACKEND.add(m)
    UNSANDBOXED.add(m)
    m.add_argument(
        "--retry-failed", action="store_true", help="re-run stages whose stored result is a failure"
    )
    m.add_argument(
        "--retime",
        action="append",
        default=[],
        metavar="GLOB",
        help="measure the timed stages (run, export, peer, dispatches) whose job id matches again, "
        "even when stored, e.g. --retime 'run:*' (repeatable)",
    )
    m.add_argument(
        "--wait",
        action="store_true",
        help="when another run uses the cache, wait for it to end (it is named: pid, command, since "
        "when) instead of stopping",
    )
    TIMEOUT.add(m)
    m.add_argument(
        "--runtime-dir",
        action="append",
        default=[],
        metavar="ARCH=DIR",
        help="run ARCH's modules with the IREE runtime tools in DIR (iree-run-module, "
        "iree-benchmark-module) instead of a runtime wheel",
    )
    m.add_argument("--armv6-runtime", metavar="DIR", help="same as --runtime-dir armv6=DIR")
    m.add_argument(
        "--iree-source",
        action="append",
        default=[],
        metavar="[RELEASE=]SRC",
        help="IREE's source for the matrix's \"src:RELEASE\" runtimes (built here with cmake): a directory, "
        "a tarball, or git+URL@TAG; RELEASE= names one release (default: every one; without this option "
        "IREE's repository at the release's tag, or the matrix's iree_source; offline: a tarball of "
        "IREE's tree at the tag, docs/arm.md \"Getting IREE's source\"); default: $IREE_MATRIX_IREE_SOURCE",
    )
    m.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="REF",
        help="run these models instead of the file's: a built-in name, path/to/file.py:factory "
        "or package.module:factory (repeatable)",
    )
    add_output_options(m)
    # `--results-dir`'s default (runs/<matrix file name>) depends on `--matrix`: the command line
    # completes it once parsed (cli.main), so no command reads it before it is known or writes it later.
    m.set_defaults(complete_arguments=functools.partial(_complete, default_matrix))


def _complete(default_matrix: str, args: argparse.Namespace) -> None:
    matrix_path = args.matrix or shipped.matrix_dir() / default_matrix
    args.results_dir = default_results_dir(args.results_dir, matrix_path)


def add_scale_options(m: argparse.ArgumentParser) -> None:
    """Scale out (#17): a CI shard of the plan, or the plan on a Dask cluster."""
    m.add_argument(
        "--shard",
        metavar="K/N",
        help="run only the K-th of N independent parts of the plan (each cell's chain whole; shared "
        "prerequisites may run in several shards); `iree-matrix merge` joins the shards' results",
    )
    where = m.add_mutually_exclusive_group()
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run each stage as a task on this Dask scheduler's workers (tcp://host:8786); results.jsonl "
        "is written here only; the store must be shared (--store)",
    )
    where.add_argument(
        "--cluster", metavar="local:N", help="start N Dask worker processes on this machine and run on them"
    )
    m.add_argument(
        "--store",
        type=absolute,
        default=None,
        help="with --scheduler/--cluster: the content-addressed store every worker reads and writes at "
        "the same path (default: CACHE/store)",
    )


def add_profile_list(parser: argparse.ArgumentParser, flag: str, defaults: Sequence[str], help: str) -> None:
    """A comma-separated list of compile profiles (`tune --profiles`, `search --knobs`); `help`
    names the default where it says `{default}`."""
    default = ",".join(defaults)
    parser.add_argument(flag, default=default, help=help.format(default=default))
