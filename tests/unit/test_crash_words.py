"""A kernel's crash in words (iree/crash_words.py, the run stage's `kernel-crash`): the signal named
in each encoding the run stage meets, and the runtime's own status, re-made on local-sync where the
crash printed none (issue 82: `kernel-crash … EXEC @main`, exit 250, hid `binding count mismatch`)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from iree_matrix.core.system import processes
from iree_matrix.core.system.process_request import Bounds
from iree_matrix.iree import crash_words
from iree_matrix.stages import run as run_stage
from iree_matrix.stages.base import Context

BINDINGS = (
    "iree/runtime/src/iree/hal/local/executable_library_util.c:142: INVALID_ARGUMENT; binding count "
    "mismatch, expected 2 but was provided 3; while invoking native function hal.command_buffer.dispatch"
)
# What local-task says where a worker's dispatch failed (IREE 3.9.0): its fence's word, not the cause.
FENCE = "ABORTED; while invoking native function hal.fence.await; while calling import"
TASK = ["iree-run-module", "--device=local-task", "--task_topology_group_count=2", "--module=m.vmfb"]


@pytest.mark.parametrize(
    ("returncode", "said"),
    [
        (245, "SIGSEGV (Segmentation fault, exit 245)"),  # a wheel's console script: 256 - 11
        (250, "SIGABRT (Aborted, exit 250)"),  # 256 - 6
        (139, "SIGSEGV (Segmentation fault, exit 139)"),  # a shell, qemu-user: 128 + 11
        (132, "SIGILL (Illegal instruction, exit 132)"),
        (-11, "SIGSEGV (Segmentation fault, exit -11)"),  # the tool itself
        (1, "exit 1"),  # the tool's own failure
        (200, "exit 200"),  # no encoding of a signal
    ],
)
def test_the_signal_is_named_in_each_encoding(returncode: int, said: str) -> None:
    assert crash_words.signal_words(returncode) == said


def test_the_runtime_status_is_quoted_from_the_call_or_its_re_run_on_local_sync() -> None:
    own = crash_words.crash_words(250, f"EXEC @main\n{BINDINGS}\n")
    assert own == f"the run died of SIGABRT (Aborted, exit 250); the runtime said: {BINDINGS}"
    again = crash_words.crash_words(250, "EXEC @main\n", f"EXEC @main\n{BINDINGS}\n")
    assert again.endswith(f"the same call on --device=local-sync says: {BINDINGS}")
    assert crash_words.crash_words(245, "EXEC @main\n", "EXEC @main\n").endswith(
        "on --device=local-sync it said no status either"
    )
    assert crash_words.crash_words(245, "EXEC @main\n") == (
        "the run died of SIGSEGV (Segmentation fault, exit 245)"
    )


def test_only_a_local_task_call_without_a_status_is_made_again_on_local_sync() -> None:
    assert crash_words.sync_argv(TASK, "EXEC @main") == [
        "iree-run-module", "--device=local-sync", "--task_topology_group_count=2", "--module=m.vmfb",
    ]  # fmt: skip
    assert crash_words.sync_argv(TASK, BINDINGS) == []  # it said its status already
    assert crash_words.sync_argv(["iree-run-module", "--device=local-sync"], "") == []
    assert crash_words.sync_argv(["iree-run-module", "--device=vulkan"], "") == []


def _call(sync_output: str, ran: list[list[str]]) -> Any:
    def run(request: Any) -> processes.Completed:
        ran.append(list(request.argv))
        return processes.Completed(tuple(request.argv), 1, sync_output, "", 0.1)

    return SimpleNamespace(run_argv=TASK, mounts={}, env=SimpleNamespace(run=run))


def _ctx() -> Any:
    compile_record = SimpleNamespace(metrics={})
    ctx = SimpleNamespace(
        dep=lambda stage: SimpleNamespace(record=compile_record), timeout=60, bounds=Bounds(60)
    )
    ctx.request = lambda argv, **options: Context.request(ctx, argv, **options)  # type: ignore[arg-type]
    return ctx


def test_a_kernel_crash_names_the_signal_and_the_status_of_its_re_run() -> None:
    ran: list[list[str]] = []
    done = processes.Completed(tuple(TASK), 250, "EXEC @main\n", "", 0.5)
    job = SimpleNamespace(label=SimpleNamespace(kernel="negabs"))
    failed = run_stage._failed_run(job, _ctx(), done, _call(f"EXEC @main\n{BINDINGS}\n", ran))
    assert failed.error_class == "kernel-crash"
    first = (failed.message or "").splitlines()[0]
    assert "with kernel 'negabs'" in first and "died of SIGABRT (Aborted, exit 250)" in first
    assert first.endswith(f"the same call on --device=local-sync says: {BINDINGS}")
    assert ran == [[a.replace("local-task", "local-sync") for a in TASK]]
    # A crash that said its status is not run again; a kernel-less cell's exit 1 is no crash.
    ran.clear()
    crashed = processes.Completed(tuple(TASK), 245, BINDINGS, "", 0.5)
    assert run_stage._failed_run(job, _ctx(), crashed, _call("", ran)).error_class == "kernel-crash"
    assert ran == []
    plain = SimpleNamespace(label=SimpleNamespace(kernel=""))
    refused = processes.Completed(tuple(TASK), 1, BINDINGS, "", 0.5)
    assert run_stage._failed_run(plain, _ctx(), refused, _call("", ran)).error_class != "kernel-crash"
    assert ran == []


def test_a_status_local_task_hid_is_made_again_on_local_sync() -> None:
    """IREE 3.9.0 on local-task: a dispatch a worker refused (`binding count mismatch`) is only the
    fence's ABORTED, exit 1; local-sync returns the cause. A kernel cell's run says both."""
    assert crash_words.hidden(f"EXEC @main\n{FENCE}; \n") and not crash_words.hidden(BINDINGS)
    assert crash_words.sync_argv(TASK, f"EXEC @main\n{FENCE}; \n")[1] == "--device=local-sync"
    ran: list[list[str]] = []
    job = SimpleNamespace(label=SimpleNamespace(kernel="negabs"))
    done = processes.Completed(tuple(TASK), 1, f"EXEC @main\n{FENCE}; \n", "", 0.5)
    failed = run_stage._failed_run(job, _ctx(), done, _call(f"EXEC @main\n{BINDINGS}; \n", ran))
    assert failed.error_class != "kernel-crash" and len(ran) == 1
    assert (failed.message or "").splitlines()[
        0
    ] == f"{FENCE}; the same call on --device=local-sync says: {BINDINGS}"
    # A refusal that said its own cause is not made again, nor given words of a crash.
    ran.clear()
    refused = processes.Completed(tuple(TASK), 1, f"EXEC @main\n{BINDINGS}\n", "", 0.5)
    assert (run_stage._failed_run(job, _ctx(), refused, _call("", ran)).message or "").startswith(BINDINGS)
    assert ran == []


def test_a_run_a_limit_killed_is_never_made_again() -> None:
    """Out of memory or out of time: the limit's answer, not the kernel's; no second call."""
    ran: list[list[str]] = []
    job = SimpleNamespace(label=SimpleNamespace(kernel="negabs"))
    killed = processes.Completed(tuple(TASK), -9, "EXEC @main\n", "", 0.5, killed="killed: out of memory")
    assert run_stage._failed_run(job, _ctx(), killed, _call("", ran)).error_class == "out-of-memory"
    assert ran == []


def test_a_re_run_past_its_limit_leaves_the_crash_its_own_words() -> None:
    """A crash whose second call on local-sync runs out of time is still the kernel's crash, said
    with its signal: the second call's limit is never the cell's answer."""

    def hangs(argv: list[str]) -> str:
        raise processes.Timeout(argv, 60.0, "")

    done = processes.Completed(tuple(TASK), 245, "EXEC @main\n", "", 0.5)
    said = crash_words.said_by_crash(TASK, done, hangs)
    assert said == "the run died of SIGSEGV (Segmentation fault, exit 245)"
