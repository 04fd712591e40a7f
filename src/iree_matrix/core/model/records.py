"""The typed view of a result record's labels (`Labels`), read through `Record.label`, never by string."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iree_matrix.core.model.configuration import Config, Runtime, split_variant


class LabelError(ValueError):
    """A record's labels do not fit `Labels`: a name it does not know, or a value it refuses."""


@dataclasses.dataclass(frozen=True)
class Labels:
    """What every record says about its cell; `as_dict` writes them (empties left out), `of` reads them."""

    model: str = ""  # the function's unit: "whisper_tiny.encoder", or just "mobilenet_v2"
    source_model: str = ""  # the model: "whisper_tiny"
    function: str = ""
    python: str = ""
    torch: str = ""
    turbine: str = ""
    exporter: str = ""  # the exporter environment
    compiler: str = ""
    # a release, "src:<release>[+variant]" (built here), or "source build <id>" (a directory)
    runtime: str = ""
    runtime_tools: str = ""  # that directory
    runtime_source: str = ""  # runtime-build jobs: IREE's source (directory, tarball, git+URL@TAG)
    linkage: str = ""  # runtime-build jobs: static | dynamic
    device: str = ""  # run jobs on a HAL driver other than the default local-task: local-sync
    arch: str = ""  # a target's label: x86_64, aarch64-cortex-a72, armv6-arm1176jzf-s
    profile: str = ""  # a kernel's cells: the profile and the kernel, "default+k:depthwise3x3"
    kernel: str = ""  # kernel, compile and run jobs with a kernel swapped in: its name
    form: str = ""  # compile and run jobs of MLIR bytecode: "bytecode" (text, the default, is left out);
    # export, compile and run jobs of the ONNX front door: "onnx:<opset>"
    peers: str = ""  # peer jobs: the peers asked for, comma-separated
    env: str = ""  # install jobs: the environment
    kind: str = ""  # install jobs: exporter | compiler | runtime | peer

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v}

    @classmethod
    def of(cls, labels: Mapping[str, Any], job: str = "") -> Labels:
        """`labels` as the schema; a `LabelError` naming an unknown label, or a value it refuses."""
        if unknown := sorted(set(labels) - set(NAMES)):
            raise LabelError(
                f"{_who(job)}: unknown label {unknown[0]!r} (the labels are {', '.join(NAMES)}); "
                "a record written by another iree-matrix: re-run its stage or read it with that version"
            )
        view = cls(**{name: "" if value is None else str(value) for name, value in labels.items()})
        for name, text in view.as_dict().items():
            if problem := label_problem(name, text):
                raise LabelError(f"{_who(job)}: label {name!r} {problem}")
        return view

    @property
    def run_runtime(self) -> str:
        """The runtime a run used, as the tables name it, with a non-default HAL driver after it."""
        return runtime_name(self.runtime) + (f" ({self.device})" if self.device else "")

    @property
    def own_runtime(self) -> bool:
        """The module ran (or runs) on its own release's runtime: what the timing tables compare."""
        return self.runtime == self.compiler

    @property
    def config(self) -> Config:
        """The cell's configuration, read from its labels once."""
        found = Config.parse(self.profile) if self.profile else Config()
        return found.with_variant(split_variant(self.model)[1]).with_kernel(self.kernel or found.kernel)

    @property
    def runtime_value(self) -> Runtime:
        """The runtime as a value: a release, or one built here from a release's source."""
        return Runtime.parse(self.runtime)

    @property
    def planned_model(self) -> str:
        """The model a cell is of, as the planner named it (`source_model`, else the job's model)."""
        return self.source_model or self.model


NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Labels))
# A label travels in records other parties made and ends up in file names, tables and shell lines: a
# name is held to the planner's alphabet and a length that fits a file name; a path or list label may
# hold more, but never a control character.
NAME_CHARS = "A-Za-z0-9._+@~:/-"
MAX_NAME = 200
MAX_TEXT = 4096
_NAME = re.compile(f"[{NAME_CHARS}]*")
# C0, C1 and the bidirectional controls (U+202E shows the rest of a job id reversed).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# runtime: "source build <directory's name>" for tools in a directory; runtime_tools and
# runtime_source: paths (and URLs); peers: a comma-separated list.
_TEXT_LABELS = frozenset({"runtime", "runtime_tools", "runtime_source", "peers"})


def shown(text: str, limit: int = 60) -> str:
    """`text` as a message quotes it from a record: its repr, at most `limit` characters."""
    return repr(text[:limit]) + ("…" if len(text) > limit else "")


def _who(job: str) -> str:
    """A job id as a message names it: itself, or its repr when it holds what a terminal acts on."""
    return "a record" if not job else shown(job) if text_problem(job) else job


def name_problem(text: str, limit: int = MAX_NAME) -> str:
    """Why `text` is not a name ("" when it is): a character outside `NAME_CHARS`, or too long."""
    if len(text) > limit:
        return f"is {len(text)} characters long (a name has at most {limit})"
    if not _NAME.fullmatch(text):
        bad = next(c for c in text if not _NAME.fullmatch(c))
        return f"is {shown(text)}, with {bad!r} (a name is made of {NAME_CHARS})"
    return ""


def text_problem(text: str, limit: int = MAX_TEXT) -> str:
    """Why `text` from a record is refused: a control character (tab, newline too), too long, or ""."""
    if len(text) > limit:
        return f"is {len(text)} characters long (at most {limit})"
    found = _CONTROL.search(text)
    return f"is {shown(text)}, with the control character {found.group()!r}" if found else ""


def label_problem(name: str, text: str) -> str:
    """Why a label's value is refused ("" when it is not)."""
    return text_problem(text) if name in _TEXT_LABELS else name_problem(text)


SOURCE_BUILD = "source build"


def tools_runtime(tools: str) -> str:
    """A directory of runtime tools as a reader names that runtime: "source build <id>"."""
    parts = Path(tools).parts
    if len(parts) >= 2 and parts[-1] == "tools":
        return f"{SOURCE_BUILD} {parts[-2][:8]}"
    return f"{SOURCE_BUILD} {parts[-1] if parts else tools}"


def runtime_name(label: str) -> str:
    """A runtime as a reader names it: a release, or "source build <id>" (older records: "dir:<path>")."""
    return tools_runtime(label[len("dir:") :]) if label.startswith("dir:") else label
