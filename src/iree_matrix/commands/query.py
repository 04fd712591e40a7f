"""`iree-matrix query load|model`: one question answered from stored results, naming its cells."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from iree_matrix.commands.shared_options import RESULTS_DIR
from iree_matrix.core.errors import UserError

NAME = "query"
HELP = (
    "answer one question from stored results, naming the cells it rests on "
    "(exit 0: answered, 1: not measured or unknown)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    questions = parser.add_subparsers(dest="question", required=True, metavar="{load,model,export}")
    ql = questions.add_parser("load", help="can runtime R load a module built by compiler C?")
    ql.add_argument("--compiler", required=True, metavar="C")
    ql.add_argument("--runtime", required=True, metavar="R")
    qm = questions.add_parser("model", help="which compiler releases pass for a model, newest, fastest")
    qm.add_argument("name", help="a model or function name as in the report, e.g. mobilenet_v2")
    qm.add_argument(
        "--arch",
        default=None,
        help="the run target: an arch as the results name it (armv6, aarch64-cortex-a72, ...) or a board "
        "(pi-zero, pi4, pi3); default: the one most runs are for",
    )
    qm.add_argument(
        "--releases",
        action="store_true",
        help="every release's pass/fail in full (by default the answer leads: release, flags, peer, "
        "CPU identity)",
    )
    qm.add_argument(
        "--target",
        default=None,
        help="a GPU target instead (vulkan-spirv, cuda or cuda:sm_80, rocm or rocm:gfx942): which "
        "releases compile the model for it, and run it where a device was present (e.g. "
        "--results-dir results/gpu)",
    )
    qe = questions.add_parser(
        "export", help="which compilers take the MLIR of my torch/turbine/Python, in which form"
    )
    qe.add_argument("--torch", default=None, help="required unless --onnx-opset")
    qe.add_argument("--turbine", default=None, help="required unless --onnx-opset")
    qe.add_argument(
        "--onnx-opset",
        type=int,
        default=None,
        metavar="N",
        help="instead: which compilers import torch.onnx.export's model at opset N (iree-import-onnx)",
    )
    qe.add_argument("--python", default=None, help="e.g. 3.10 (default: every Python measured)")
    for sub in (ql, qm, qe):
        RESULTS_DIR.add(
            sub,
            default=None,
            help="the results set asked (default: ./results, else the published results this "
            "iree-matrix ships: the same answers from any directory)",
        )
        sub.add_argument("--json", action="store_true", help="print the answer as JSON")


def _results_dir(given: Path | None) -> Path:
    """The results set a question is asked of: the one given; else ./results where it holds a log
    (a checkout, or a user's own published set); else the published results installed with the
    tool (core/shipped.py), so `query` answers outside a checkout too."""
    from iree_matrix.core import shipped

    if given is not None:
        return given
    here = Path("results")
    if (here / "results.jsonl").is_file():
        return here
    try:
        return shipped.results_dir()
    except FileNotFoundError:
        return here  # a broken install: said as the missing file below


def main(args: argparse.Namespace) -> int:
    from iree_matrix.answers import query, release_verdicts
    from iree_matrix.matrix import models

    args.results_dir = _results_dir(args.results_dir)
    path = args.results_dir / "results.jsonl"
    if not path.is_file():
        raise UserError(f"{path}: no such results file (pass --results-dir, e.g. results or runs/default)")
    if getattr(args, "name", None):  # `FILE:FACTORY` asks about the model the records name from it
        args.name = models.name_of(args.name)
    records = release_verdicts.read(path)
    for option in ("arch", "target", "name"):  # an empty value was a traceback or a silent "all" (#51)
        value = getattr(args, option, None)
        if value is not None and not str(value).strip():
            what = "the model's name" if option == "name" else f"--{option}"
            fix = "give one" if option == "name" else "give one or leave it out"
            raise UserError(f"query {args.question}: {what} {value!r} is empty; {fix}")
    if args.question == "load":
        answer = query.load(records, args.compiler, args.runtime)
    elif args.question == "export" and args.onnx_opset is not None:
        from iree_matrix.answers import onnx

        answer = onnx.export(records, args.onnx_opset, args.torch)
    elif args.question == "export":
        if not (args.torch and args.turbine):
            raise UserError("query export: give --torch and --turbine (or --onnx-opset N)")
        from iree_matrix.answers import onnx

        answer = query.export(records, args.torch, args.turbine, args.python)
        said = onnx.install_lines(args.torch, args.turbine)
        if said:  # what a plain pip install of this pair gives today (issue #38 item 4)
            answer = dataclasses.replace(answer, lines=(*answer.lines, *said))
    elif args.target is not None or _gpu(args.arch):
        from iree_matrix.answers import gpu

        if args.target is not None and args.arch is not None:
            raise UserError("query model: give --arch (a CPU or board) or --target (a GPU), not both")
        answer = gpu.model(records, args.name, args.arch if args.target is None else args.target)
    else:
        answer = query.model(records, args.name, args.arch)
        if not args.releases and args.arch is None:
            answer = query.with_advice(
                answer, _advice(args.results_dir, args.name), args.name, models.references(records)
            )
    print(json.dumps(answer.as_json(), indent=1) if args.json else answer.text())
    return 0 if answer.decided else 1


def _advice(results_dir: Path, name: str) -> Any:
    """This CPU's answer for `name`, else the nearest identity's that answered it: from `advise`'s
    own sittings (yours, on this machine, first) and the published ones (answers/advice.py)."""
    from iree_matrix.answers import advice
    from iree_matrix.core import host

    return advice.answer(advice.gathered(results_dir), name, host.describe())


def _gpu(arch: str | None) -> bool:
    """`--arch vulkan-spirv` (a GPU target named as an arch): answered as `--target` is."""
    if arch is None:
        return False
    from iree_matrix.iree import targets

    return arch.split(":", 1)[0].split("-", 1)[0] in {g.split("-", 1)[0] for g in targets.gpus()}
