"""What a command's output says: the part worth recording (`excerpt`), whether its environment failed
it (`environment_fault`) or a flag's file could not be written (`flag_output`); and what is kept of a
stream (`Capture`). Text in, text out."""

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
# IREE's compiler runs its linker through `sh` and reports system()'s status: 32512 is exit 127, 32256 126.
_LINKER_NOT_STARTED = ("returned exit code 32512", "returned exit code 32256")
_NO_OUTPUT = "cannot open output file"  # iree-compile -o into a directory that is not there


def environment_fault(
    output: str,
    argv: Sequence[str] = (),
    returncode: Optional[int] = None,
    root: Optional[str] = None,
    outputs: Sequence[object] = (),
) -> Optional[Fault]:
    """Whether a failed command's `output` says its environment failed it, not its inputs: a library
    missing, a console script under `root` unable to import its package, a file under `root` missing,
    IREE's linker not found, an output not writable, or exit 126/127. None when the tool answered."""
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
    """(file, the system's words) when `line` says the tool could not open an output file other than
    its `-o` (by name): one a flag names, which the sandbox kept from an input or the outside."""
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
