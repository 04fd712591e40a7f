"""What a runtime tool that died says, in words: the signal its exit status encodes (-N, 128+N through a
shell or qemu-user, 256-N through an IREE wheel's console script: exit 245 is SIGSEGV) and IREE's own
status line (`file:line: CODE; message`). A local-task run may die before printing its status, so the run
stage calls a kernel cell again on local-sync, which prints the cause."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable, Sequence
from typing import Any, Optional

from iree_matrix.core.system.processes import Timeout

SYNC_DEVICE = "--device=local-sync"
_STATUS = re.compile(
    r"\b(CANCELLED|UNKNOWN|INVALID_ARGUMENT|DEADLINE_EXCEEDED|NOT_FOUND|ALREADY_EXISTS|PERMISSION_DENIED"
    r"|RESOURCE_EXHAUSTED|FAILED_PRECONDITION|ABORTED|OUT_OF_RANGE|UNIMPLEMENTED|INTERNAL|UNAVAILABLE"
    r"|DATA_LOSS|UNAUTHENTICATED|DEFERRED|INCOMPATIBLE); "
)


# The encodings of signal N (-N, 128+N, 256-N): low < status < high gives N = sign * (status - base).
_ENCODINGS = ((-256, 0, 0, -1), (128, 160, 128, 1), (224, 256, 256, -1))  # (low, high, base, sign)


def signal_of(returncode: int) -> Optional[int]:
    """The signal an exit status says ended the tool, in any of the three encodings; None for an
    exit of its own (IREE's tools exit 0 or 1)."""
    number = next(
        (sign * (returncode - base) for low, high, base, sign in _ENCODINGS if low < returncode < high), 0
    )
    return number if number in signal.valid_signals() else None


def signal_words(returncode: int) -> str:
    """'SIGSEGV (Segmentation fault, exit 245)' for a status that encodes a signal, else 'exit N'."""
    if (number := signal_of(returncode)) is None:
        return f"exit {returncode}"
    name = signal.Signals(number).name
    return f"{name} ({signal.strsignal(number) or name}, exit {returncode})"


def status_line(output: str) -> str:
    """The runtime's first status line in `output` ('' where it printed none)."""
    return next((ln.strip().rstrip("; ") for ln in output.splitlines() if _STATUS.search(ln)), "")


def hidden(output: str) -> bool:
    """Whether the status is only local-task's word for a dispatch a worker failed
    (`ABORTED; while invoking native function hal.fence.await`), the cause left unsaid."""
    return status_line(output).startswith("ABORTED; while invoking native function hal.fence.await")


def sync_argv(argv: Sequence[str], output: str) -> list[str]:
    """The failed call to make again on local-sync, where that can say more: a local-task call whose
    output holds no status, or only `hidden`'s; [] where it cannot (already local-sync, a GPU's driver)."""
    devices = [a for a in argv if a.startswith("--device=")]
    if (status_line(output) and not hidden(output)) or devices != ["--device=local-task"]:
        return []
    return [SYNC_DEVICE if a.startswith("--device=") else a for a in argv]


def crash_words(returncode: int, output: str, sync_output: str = "") -> str:
    """The failure's first line: the signal by name (a crash), and the runtime's own status, from the call's
    output or, where that has none or `hidden`'s, from its re-run on local-sync (`sync_output`)."""
    said = f"the run died of {signal_words(returncode)}" if signal_of(returncode) else status_line(output)
    if (own := status_line(output)) and not hidden(output):
        return f"{said}; the runtime said: {own}"
    if again := status_line(sync_output):
        return f"{said}; the same call on {SYNC_DEVICE} says: {again}"
    return said + (f"; on {SYNC_DEVICE} it said no status either" if sync_output else "")


def said_by_crash(argv: Sequence[str], done: Any, rerun: Callable[[list[str]], str]) -> str:
    """`crash_words` of the call `argv` that ended as `done` (its returncode and output), `rerun`
    making it again on local-sync where `sync_argv` says that can say more (returning its output);
    '' for a failure that is no signal and said its own status."""
    again = sync_argv(argv, done.output)
    if signal_of(done.returncode) is None and not again:
        return ""
    try:
        sync = rerun(again) if again else ""
    except Timeout:  # the second call's limit: never the cell's answer, which the first call gave
        sync = ""
    return crash_words(done.returncode, done.output, sync)
