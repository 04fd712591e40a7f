"""What a command's output says, read by the one process layer (processes.failure) and by the stages
that read a stored record's excerpt: the part worth recording (`excerpt`), whether the environment
it ran in failed it rather than its inputs (`environment_fault`), and whether it could not write a
file one of its flags names (`flag_output`); and what is kept of a stream (`Capture`: its head and
tail, bounded). Text in, text out: nothing here starts a process."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Fault:
    """Why a command failed because of where it ran rather than what it was given."""

    cause: str  # the tool's own line that says so
    damaged: bool  # a file of the environment itself is missing or broken (else: an output path)


_LOADER = "error while loading shared libraries"  # ld.so, starting an executable
_NO_LIBRARY = "cannot open shared object file"
_MISSING = ("No such file or directory", "not found", _NO_LIBRARY)
_UNWRITABLE = ("No such file or directory", "Permission denied", "Read-only file system", "Not a directory")
# IREE's compiler runs its linker through `sh` and reports system()'s status: 32512 is the shell's
# exit 127 (no such command), 32256 its 126. Measured with IREE 3.13.0 and iree-lld under a path with
# a space: "sh: 1: /tmp/sp: not found / Linking failed; escaped command line returned exit code 32512".
_LINKER_NOT_STARTED = ("returned exit code 32512", "returned exit code 32256")
_NO_OUTPUT = "cannot open output file"  # iree-compile -o into a directory that is not there


def environment_fault(
    output: str,
    argv: Sequence[str] = (),
    returncode: Optional[int] = None,
    root: Optional[str] = None,
    outputs: Sequence[object] = (),
) -> Optional[Fault]:
    """Whether a failed command's `output` says the environment it ran in failed it, not its
    inputs: a library the tool needs missing, a console script of the environment at `root` (a venv,
    whose IREE tools import nothing but IREE) unable to import its own package, a file under `root`
    missing, IREE's linker not found, one of its `outputs` (or its `-o`) not writable, or exit
    126/127. None when the tool answered. Read from the whole output, or from a stored record's
    excerpt (a result an older version stored is then redone, `stages.base`)."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    under = str(root).rstrip("/") + "/" if root else None

    def first(*phrases: str, also: str = "", starts: tuple[str, ...] = ("",)) -> Optional[str]:
        """The first line with one of `phrases`, `also`, and one of the `starts`."""
        found = (ln for ln in lines if any(p in ln for p in phrases) and also in ln and ln.startswith(starts))
        return next(found, None)

    # ld.so could not load the tool's libraries; Python could not load an extension module's.
    found = first(_LOADER) or first(_NO_LIBRARY, starts=("ImportError", "OSError"))
    if found is None and under is not None:  # a file of the environment itself is missing
        found = _about(lines, under, _MISSING)
    found = found or first(*_LINKER_NOT_STARTED)
    tool = Path(str(argv[0])) if argv else None
    if (
        found is None
        and under is not None
        and tool is not None
        and str(tool).startswith(under)
        and tool.parent.name == "bin"
        and not tool.name.startswith("python")  # a worker script's ImportError may be an answer
    ):
        found = first("ImportError:", "ModuleNotFoundError:", starts=("ImportError:", "ModuleNotFoundError:"))
    if found is not None:
        return Fault(found, damaged=True)
    own = first(_NO_OUTPUT)
    if own is not None and flag_output(own, argv):  # a flag's own file: the flag's fault, below
        own = None
    for written in (own, *(_about(lines, str(path), _UNWRITABLE) for path in outputs)):
        if written is not None:
            return Fault(written, damaged=False)
    if returncode in (126, 127):
        return Fault(lines[-1] if lines else f"exit {returncode}", damaged=True)
    return None


_OUTPUT_NAMED = re.compile(r"cannot open output file '([^']*)': (.*)")


def flag_output(line: str, argv: Sequence[str]) -> Optional[tuple[str, str]]:
    """(file, the system's words) when `line` says the tool could not open an output file that is
    not its `-o` (by name: a stored command's `-o` was a staging path since moved): a file one of
    its flags names, such as a dump flag's, which the sandbox kept from an input or the outside."""
    if (found := _OUTPUT_NAMED.search(line)) is None:
        return None
    named = [str(argv[i + 1]) for i, arg in enumerate(argv[:-1]) if arg == "-o"]
    if any(Path(found.group(1)).name == Path(o).name for o in named):
        return None
    return found.group(1), found.group(2).strip()


def _about(lines: Sequence[str], path: str, errors: Sequence[str]) -> Optional[str]:
    """The first line where the system said one of `errors` of a file under `path`: "<path...>: <error>"
    (sh, ld.so, most tools) or "<error>: '<path...>'" (Python's OSError)."""
    said = "|".join(map(re.escape, errors))
    where = re.escape(path)
    pattern = re.compile(rf"{where}[^\s'\"]*['\"]?: (?:{said})|(?:{said}): ['\"]?{where}")
    return next((ln for ln in lines if pattern.search(ln)), None)


_NOISE = ("WARNING: Location 'file:", "[notice]")


def excerpt(output: str, max_lines: int = 25, max_chars: int = 4000) -> str:
    """The part of a tool's output worth recording: errors first, bounded in size."""
    lines = [ln.rstrip() for ln in output.splitlines() if ln.strip() and not ln.startswith(_NOISE)]
    flagged = [ln for ln in lines if "error" in ln.lower() or "fail" in ln.lower()]
    chosen = flagged if flagged else lines[-max_lines:]
    if len(chosen) > max_lines:
        chosen = chosen[:max_lines] + [f"... ({len(chosen) - max_lines} more lines)"]
    text = "\n".join(chosen)
    return text if len(text) <= max_chars else text[: max_chars - 4] + " ..."


class Capture:
    """One stream's output as kept: its first and last `keep` bytes, and how much it was."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.head = bytearray()
        self.tail = bytearray()
        self.size = 0

    def add(self, data: bytes) -> None:
        self.size += len(data)
        if (room := self.keep - len(self.head)) > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > 2 * self.keep:  # trimmed now and then, not at every read
                del self.tail[: len(self.tail) - self.keep]

    def text(self, keep: Optional[int] = None) -> str:
        """What was kept, or only its first and last `keep` bytes; what was left out is said."""
        k = self.keep if keep is None else min(keep, self.keep)
        head, tail = bytes(self.head), bytes(self.tail)
        if self.size == len(head) + len(tail):  # nothing dropped yet
            head, tail = head + tail, b""
            if len(head) <= 2 * k:
                return decode(head)
            head, tail = head[:-k], head[-k:]
        said = f"\n[... {self.size - 2 * k} bytes of output left out: {self.size} in all, the first and last "
        said += f"{k} kept ...]\n"
        return decode(head[:k] + said.encode() + tail[-k:])


def decode(data: bytes) -> str:
    """What text mode would have read: UTF-8 (bad bytes replaced), universal newlines."""
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
