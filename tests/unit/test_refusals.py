"""Every way a runtime refuses a module from another release is `incompatible-module`: the messages
below are the runtimes' own words, taken from the published release-history run (store paths
shortened)."""

from __future__ import annotations

import dataclasses

import pytest

from iree_matrix.core.model.refusals import classify
from iree_matrix.stages.run import _runtime_message

REFUSALS = [
    # 2.9.0 module on the 3.10.0 runtime
    "c/runtime/src/iree/vm/bytecode/verifier.c:180: INVALID_ARGUMENT; bytecode version mismatch; runtime "
    "supports 16.0, module has 15.0; loading bytecode module at '<store>/compile/48c1fdd3/module.vmfb'; "
    "loading modules and dependencies; creating run context",
    # 3.11.0 module on the 2.9.0 runtime
    "c/runtime/src/iree/vm/bytecode/verifier.c:40: INVALID_ARGUMENT; required module features [Ch] are not "
    "available in this runtime configuration; have [EXT_F32|EXT_F64] while module requires [Ch]; loading "
    "bytecode module at '<store>/compile/3772b7d9/module.vmfb'; loading modules and dependencies; creating "
    "run context",
    # 3.12.0 module on the 3.11.0 runtime
    "c/runtime/src/iree/vm/context.c:187: NOT_FOUND; required module 'hal' version mismatch; have 6 but "
    "require 7; resolving module 'module' imports; creating VM context; creating run context",
    # 3.11.0 module on the 3.12.0 runtime
    "c/runtime/src/iree/vm/context.c:287: INTERNAL; import function hal.command_buffer.dispatch signature "
    "mismatch between module and source hal; expected 0rriiiiICiDCiirIID_v but got 0rrIiiiICiDCiirIID_v; "
    "resolving module 'module' imports; creating VM context; creating run context",
    # 2.9.0 module on the 3.4.0 runtime (the same kind, another import)
    "c/runtime/src/iree/vm/context.c:239: INTERNAL; import function hal.command_buffer.execution_barrier "
    "signature mismatch between module and source hal; expected 0riii_v but got 0riiI_v; resolving module "
    "'module' imports; creating VM context; creating run context",
    # 3.5.0 module on the 3.8.0 runtime: the module loads, its executable is refused at the first call
    "c/runtime/src/iree/hal/local/loaders/embedded_elf_loader.c:59: FAILED_PRECONDITION; executable does "
    "not support this version of the runtime (00000006); while invoking native function "
    "hal.executable.create; while calling import;",
]


# A Vulkan executable of another format: 3.4.0-3.8.0's vulkan-spirv modules on runtime 3.9.0 (results/gpu)
VULKAN_REFUSALS = [
    "c/runtime/src/iree/hal/utils/executable_header.c:30: INVALID_ARGUMENT; executable file identifier "
    "does not match; expected `VKE1`; while invoking native function hal.executable.create; while "
    "calling import;",
]


# The date-versioned runtimes' words (results/history, issue #38)
DATE_REFUSALS = [
    # a 20230209.425 module on the 2.9.0 runtime, a 20230404.479 module on the 20230209.425 runtime
    "c/runtime/src/iree/vm/bytecode/verifier.c:29: INVALID_ARGUMENT; FlatBuffer verification failed: "
    "vector count exceeds representable vector size; loading bytecode module at "
    "'<store>/compile/3be90c6a/module.vmfb'; loading modules and dependencies; creating run context",
    "main_checkout/runtime/src/iree/vm/bytecode_module.c:253: INVALID_ARGUMENT; FlatBuffer verification "
    "failed: vtable header too small",
    # a 20230404.479 module on the 2.9.0 runtime; a 20231004.665 module on the 20230404.479 runtime
    "c/runtime/src/iree/vm/bytecode/module.c:95: NOT_FOUND; no type registered with name "
    "'!hal.descriptor_set_layout'; loading bytecode module at '<store>/compile/872d8a06/module.vmfb'; "
    "loading modules and dependencies; creating run context",
    "main_checkout/runtime/src/iree/vm/bytecode/module.c:93: NOT_FOUND; no type registered with name "
    "'!hal.file'",
    # a 20230404.479 module on the 20231218.742 and 20240724.964 runtimes
    "c/runtime/src/iree/vm/native_module.c:280: NOT_FOUND; no function hal.ex.shared_device exported by "
    "module; resolving module 'module' imports; creating VM context; creating run context",
    "c/runtime/src/iree/vm/native_module.c:286: NOT_FOUND; no function `ex.shared_device` exported by "
    "module `hal`; resolving module 'module' imports; creating VM context; creating run context",
    # a 20231113.707 module on the 20231004.665 runtime
    "c/runtime/src/iree/vm/bytecode/verifier.c:1874: INVALID_ARGUMENT; unrecognized opcode 131; at "
    "module.main+00000268; loading bytecode module at '<store>/compile/9b08ae01/module.vmfb'; loading "
    "modules and dependencies; creating run context",
]


@pytest.mark.parametrize("output", REFUSALS + DATE_REFUSALS + VULKAN_REFUSALS)
def test_every_load_refusal_is_incompatible_module(output):
    assert classify("Traceback noise\n" + output + "\n") == "incompatible-module"
    assert output in _runtime_message("some banner\n" + output)


def test_a_date_runtimes_refusal_reads_as_one_line():
    from iree_matrix.findings import runs_view

    assert (
        runs_view.refusal_reason(DATE_REFUSALS[0])
        == "FlatBuffer verification failed: vector count exceeds representable vector size"
    )
    assert runs_view.refusal_reason(DATE_REFUSALS[3]) == "no type registered with name '!hal.file'"
    assert runs_view.refusal_reason(DATE_REFUSALS[4]) == "no function hal.ex.shared_device exported by module"


def test_a_crash_after_loading_is_a_run_error():
    assert classify("INTERNAL; failed to execute dispatch 3; while invoking native function") == "run-error"


def test_a_stored_run_error_with_a_refusals_words_counts_as_a_refusal():
    """Records from before the executable-version phrase was known say `run-error`."""
    from iree_matrix.core.model.results import Record, Status
    from iree_matrix.findings import load_windows, runs_view

    record = Record("run:x", "run", "x", "k", Status.FAIL, {}, error_class="run-error", message=REFUSALS[-1])
    assert load_windows.load_of(record) is load_windows.Load.REFUSES
    assert (
        runs_view.refusal_reason(record.message)
        == "executable does not support this version of the runtime (00000006)"
    )
    crash = Record(
        "run:y", "run", "y", "k", Status.FAIL, {}, error_class="run-error", message="Segmentation fault"
    )
    assert load_windows.load_of(crash) is load_windows.Load.UNKNOWN


def test_a_stored_run_error_with_a_refusals_words_is_read_as_incompatible_module(tmp_path):
    """Issue 29: the published 3.4-3.7 modules on runtimes 3.8/3.9 were stored `run-error` (F37/F38)
    before the executable-version phrase was known; every reader (report, site, compat.json, a
    filter on the class) must see `incompatible-module`, with the runtime's words unchanged."""
    import json

    from iree_matrix.core.model.results import Record, ResultsLog, Status
    from iree_matrix.report import render_compatibility

    stored = Record(
        "run:m/e/iree3.5.0/x86_64/default/rt3.8.0", "run", "m/e/iree3.5.0/x86_64/default/rt3.8.0", "k",
        Status.FAIL, {"model": "m", "compiler": "3.5.0", "runtime": "3.8.0"}, error_class="run-error",
        message=REFUSALS[-1],
    )  # fmt: skip
    log = ResultsLog(tmp_path / "results.jsonl")
    log.path.write_text(stored.to_json() + "\n")
    (read,) = list(log)
    assert read.error_class == "incompatible-module" and read.message == REFUSALS[-1]
    assert json.loads(read.to_json())["error_class"] == "incompatible-module"
    assert "run 🚫 refused (`incompatible-module`)" in render_compatibility([read])  # an answer: not ❌
    crash = dataclasses.replace(stored, message="Segmentation fault")
    log.path.write_text(crash.to_json() + "\n")
    assert next(iter(log)).error_class == "run-error"


def test_a_crash_message_leads_with_its_signal():
    """qemu-user's words of a guest's segfault, as the armv6 kernel cell recorded them: the signal is
    the message's first line, not the tool's echo of the call or docker's platform warning."""
    output = (
        "EXEC @main\n"
        "WARNING: The requested image's platform (linux/arm/v5) does not match the detected host platform "
        "(linux/amd64) and no specific platform was requested\n"
        "qemu: uncaught target signal 11 (Segmentation fault) - core dumped\n"
        "Segmentation fault\n"
    )
    lines = _runtime_message(output).splitlines()
    assert lines[0] == "qemu: uncaught target signal 11 (Segmentation fault) - core dumped"
    assert lines[1] == "Segmentation fault"
    assert "EXEC @main" in lines[2:]


def test_a_status_line_still_leads_a_refusal_and_a_signal_leads_a_status():
    refusal = REFUSALS[0]
    assert _runtime_message("EXEC @main\n" + refusal).splitlines()[0] == refusal
    crashed = _runtime_message("EXEC @main\nINTERNAL; failed to execute dispatch 3\nBus error\n")
    assert crashed.splitlines() == ["Bus error", "INTERNAL; failed to execute dispatch 3"]


def test_a_refused_load_keeps_the_command_that_was_refused() -> None:
    """`show JOB --commands` prints a record's command; a refusal's record had none (only a call that
    succeeded kept its command), so the command a reader re-runs to see the refusal was missing."""
    from types import SimpleNamespace

    from iree_matrix.core.model.results import Status
    from iree_matrix.core.system.processes import Completed
    from iree_matrix.stages.run import _failed_run

    argv = ("/envs/py3.11-iree-runtime3.11.0/bin/iree-run-module", "--module=module.vmfb", "--function=main")
    done = Completed(argv, 1, "", REFUSALS[2] + "\n", 0.05)
    compiled = SimpleNamespace(record=SimpleNamespace(metrics={}))
    job = SimpleNamespace(label=SimpleNamespace(kernel=None))
    ctx = SimpleNamespace(dep=lambda stage: compiled)
    call = SimpleNamespace(run_argv=list(argv))  # a refusal is never made again
    outcome = _failed_run(job, ctx, done, call)  # type: ignore[arg-type]
    assert outcome.status is Status.FAIL and outcome.error_class == "incompatible-module"
    assert "required module 'hal' version mismatch; have 6 but require 7" in (outcome.message or "")
    assert outcome.command == argv
