"""Every way a runtime refuses a module from another release is `incompatible-module`: the four
messages below are the runtimes' own words, seen by hand with pip-installed releases (IREE-NOTES)."""

from __future__ import annotations

import pytest

from iree_matrix.stages.run import _classify, _runtime_message

REFUSALS = [
    # 3.8.0 module on the 3.10.0 runtime
    "iree/runtime/src/iree/vm/bytecode/module.c:269: INVALID_ARGUMENT; bytecode version mismatch; "
    "runtime supports 16.0, module has 15.0; loading module",
    # 3.13.0 module on the 3.8.0 runtime
    "iree/runtime/src/iree/vm/bytecode/module.c:300: INVALID_ARGUMENT; required module features [Ch] "
    "are not available in this runtime configuration; have [EXT_F32|EXT_F64]",
    # 3.12.0 module on the 3.11.0 runtime
    "iree/runtime/src/iree/vm/context.c:170: NOT_FOUND; required module 'hal' version mismatch; "
    "have 6 but require 7; resolving module imports",
    # 3.11.0 module on the 3.12.0 runtime
    "iree/runtime/src/iree/vm/context.c:102: INVALID_ARGUMENT; import function "
    "hal.command_buffer.dispatch signature mismatch; resolving module imports",
]


@pytest.mark.parametrize("output", REFUSALS)
def test_every_load_refusal_is_incompatible_module(output):
    assert _classify("Traceback noise\n" + output + "\n") == "incompatible-module"
    assert output in _runtime_message("some banner\n" + output)


def test_a_crash_after_loading_is_a_run_error():
    assert _classify("INTERNAL; failed to execute dispatch 3; while invoking native function") == "run-error"
