"""`iree-matrix query load|model|export|kernel`, from stored results, naming its cells: can runtime R load
compiler C's module; which releases pass a model; which compilers take my MLIR; which take a kernel."""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from iree_matrix.commands import options
from iree_matrix.core import pasted
from iree_matrix.core.errors import UserError
from iree_matrix.core.model.results import no_log

if TYPE_CHECKING:
    from iree_matrix.findings.results_folder import Results

NAME = "query"
HELP = (
    "answer one question from stored results, naming the cells it rests on "
    "(exit 0: answered, 1: not measured or unknown)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    questions = parser.add_subparsers(dest="question", required=True, metavar="{load,model,export,kernel}")
    ql = questions.add_parser("load", help="can runtime R load a module built by compiler C?")
    options.COMPILER.add(ql, required=True)
    options.RUNTIME.add(ql, required=True)
    qm = questions.add_parser("model", help="which compiler releases pass for a model, newest, fastest")
    for option in (options.MODEL_NAME, options.ARCH, options.RELEASES, options.TARGET):
        option.add(qm)
    qe = questions.add_parser(
        "export", help="which compilers take the MLIR of my torch/turbine/Python, in which form"
    )
    for asked in (options.TORCH, options.TURBINE, options.ONNX_OPSET):
        asked.add(qe)
    options.PYTHON.add(qe, help="e.g. 3.10 (default: every Python measured)")
    qk = questions.add_parser(
        "kernel", help="which IREE releases take a kernel (compile it applied, load, match torch), per arch"
    )
    options.KERNEL_NAME.add(qk)
    for sub in (ql, qm, qe, qk):
        options.RESULTS_DIR.add(
            sub,
            default=None,
            help="the results set asked (default: ./results, else the published results this "
            "iree-matrix ships: the same answers from any directory)",
        )
        # Taken as the `matrix ... --cache C` line that made the results, repeated with `query`.
        options.CACHE.add(
            sub, help="the cache the results were made with (the answer reads only the results set)"
        )
        options.JSON.add(sub)


@dataclasses.dataclass(frozen=True)
class Question:
    """One question, as the command line asked it."""

    question: str  # load, model, export or kernel
    name: Optional[str] = None  # model: the model or function; kernel: the kernel
    arch: Optional[str] = None
    target: Optional[str] = None
    releases: bool = False
    compiler: Optional[str] = None  # load
    runtime: Optional[str] = None
    torch: Optional[str] = None  # export
    turbine: Optional[str] = None
    python: Optional[str] = None
    onnx_opset: Optional[int] = None

    @classmethod
    def of(cls, args: argparse.Namespace) -> Question:
        name = options.MODEL_NAME.of(args) if hasattr(args, options.MODEL_NAME.name) else None
        if hasattr(args, options.KERNEL_NAME.name):
            name = options.KERNEL_NAME.of(args)
        # Each other field is the option of its name (`--onnx-opset`: onnx_opset), absent from a
        # question that does not take it.
        rest: dict[str, Any] = {f.name: getattr(args, f.name, f.default) for f in dataclasses.fields(cls)[2:]}
        return cls(args.question, name, **rest)


def _results_dir(given: Path | None) -> Path:
    """The results set a question is asked of: the one given, else ./results where it holds a log,
    else the published results installed with the tool."""
    from iree_matrix.core import shipped
    from iree_matrix.findings import results_folder

    if given is not None:
        return given
    here = Path("results")
    if results_folder.load(here, None).source.is_file():
        return here
    try:
        return shipped.results_dir()
    except FileNotFoundError:
        return here  # a broken install: said as the missing file below


# Kernels are measured in their own published set (matrix/kernels.toml, matrix/kernels-armv6.toml),
# not in the model results: a bare `query kernel NAME` asks that set.
KERNELS_SET = "kernels"


def main(args: argparse.Namespace) -> int:
    from iree_matrix.findings import results_folder

    asked, given = Question.of(args), options.RESULTS_DIR.of(args)
    folder = _results_dir(given)
    kernels = results_folder.load(folder / KERNELS_SET, None)
    if given is None and asked.question == "kernel" and kernels.source.is_file():
        folder = folder / KERNELS_SET
    return run(asked, folder, as_json=options.JSON.of(args))


def run(asked: Question, results_dir: Path, as_json: bool = False) -> int:
    """Answer `asked` from `results_dir`'s records; 0 when it is answered, 1 when not measured."""
    from iree_matrix.findings import results_folder
    from iree_matrix.matrix import export_recipes as recipes
    from iree_matrix.matrix import models

    results = results_folder.load(results_dir)
    # A folder `merge` made of sittings only (answers/<identity>/, no log of its own) answers from them.
    if not results.source.is_file() and not results.only_sittings:
        raise UserError(no_log(results.source, "results or runs/default"))
    # `FILE:FACTORY` asks about the model the records name from it.
    if asked.name and asked.question == "model":
        if asked.name.endswith(recipes.SEP):  # `FILE:build~` was asked as `FILE:build`, silently
            raise UserError(
                f"query model {asked.name}: nothing after {recipes.SEP!r}: name the export recipe "
                f"(e.g. {asked.name}fx+decompose), or leave the {recipes.SEP!r} out"
            )
        asked = dataclasses.replace(asked, name=models.name_of(asked.name))
    # There, the cells' records travelled with each sitting (answers/<identity>/results.jsonl).
    records = results.sitting_records if results.only_sittings else results.records
    for option in ("arch", "target", "name"):  # an empty value was a traceback or a silent "all"
        if (value := getattr(asked, option)) is not None and not str(value).strip():
            what = f"the {asked.question}'s name" if option == "name" else f"--{option}"
            fix = "give one" if option == "name" else "give one or leave it out"
            raise UserError(f"query {asked.question}: {what} {value!r} is empty; {fix}")
    answer = _answer(asked, records, results)
    # each command it prints runs as printed (`pasted.invoked_in`: the tool as the user ran it)
    print(json.dumps(answer.as_json(), indent=1) if as_json else pasted.invoked_in(answer.text()))
    return 0 if answer.decided else 1


def _answer(asked: Question, records: Sequence[Any], results: Results) -> Any:
    from iree_matrix.core.model import host_identity
    from iree_matrix.findings import advice, other_cpus, query
    from iree_matrix.matrix import models

    if asked.question == "load":
        return query.load(records, asked.compiler or "", asked.runtime or "")
    if asked.question == "kernel":
        from iree_matrix.kernel.findings import kernels

        found = kernels.answer(records, asked.name or "")
        return other_cpus.kernel_answer(found, records, host_identity.here())
    if asked.question == "export":
        from iree_matrix.findings import onnx

        if asked.onnx_opset is not None:
            return onnx.export(records, asked.onnx_opset, asked.torch)
        if not (asked.torch and asked.turbine):
            raise UserError("query export: give --torch and --turbine (or --onnx-opset N)")
        answer = query.export(records, asked.torch, asked.turbine, asked.python)
        if said := onnx.install_lines(asked.torch, asked.turbine):  # what a plain pip install gives today
            answer = dataclasses.replace(answer, lines=(*answer.lines, *said))
        return answer
    name = asked.name or ""
    if asked.target is not None or _gpu(asked.arch):
        from iree_matrix.findings import gpu

        if asked.target is not None and asked.arch is not None:
            raise UserError("query model: give --arch (a CPU or board) or --target (a GPU), not both")
        gpu_target = asked.arch if asked.target is None else asked.target
        assert gpu_target is not None  # `_gpu` named one
        return gpu.model(records, name, gpu_target, results.gpu_gathered)
    answer = query.model(records, name, asked.arch)
    if not asked.releases and asked.arch is None:
        # This CPU's answer for `name`, else the nearest identity's that answered it: from `advise`'s
        # own sittings (yours, on this machine, first) and the published ones (findings/advice.py).
        here = host_identity.here()
        chosen = advice.answer(results.gathered, name, here)
        answer = query.with_advice(answer, chosen, name, models.references(records))
        if chosen is None:  # no sitting answered it: a slow pass leads on as the run's summary said
            from iree_matrix.report import machine

            led = machine.leads_on(records, machine.rows(records), "iree-matrix", pasted.HERE, name)
            answer = dataclasses.replace(answer, lines=(*answer.lines, *led))
        answer = other_cpus.model_answer(answer, results.gathered, name, chosen, records, here)
        answer = _with_gpu_answers(answer, results, name)
    return answer


def _with_gpu_answers(answer: Any, results: Results, name: str) -> Any:
    """The model's answer with its published GPU answers under it (findings/gpu_advice.py): each
    GPU's own sitting, never folded into the CPU's answer."""
    from iree_matrix.findings import advice, gpu_advice

    if not (found := advice.matching(results.gpu_gathered, name)):
        return answer
    data = {**(answer.data or {}), "gpu_answers": [gpu_advice.as_json(a) for a in found]}
    lines = (*answer.lines, *gpu_advice.lines(found, found[0].model))
    return dataclasses.replace(answer, lines=lines, data=data)


def _gpu(arch: str | None) -> bool:
    """`--arch vulkan-spirv` (a GPU target named as an arch): answered as `--target` is."""
    if arch is None:
        return False
    from iree_matrix.iree import targets

    return arch.split(":", 1)[0].split("-", 1)[0] in {g.split("-", 1)[0] for g in targets.gpus()}
