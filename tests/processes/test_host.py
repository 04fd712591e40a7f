"""host.cpu_seconds: what the machine and what this process tree used (for `other_load`). Its test
starts a child that spends half a second of CPU: the process-heavy tier."""

from __future__ import annotations

import math
import sys

import pytest

from iree_matrix.core.system import host, processes
from iree_matrix.core.system.process_request import ProcessRequest


@pytest.mark.processes
def test_a_childs_cpu_time_counts_as_our_own_and_as_the_machines() -> None:
    busy_before, own_before = host.cpu_seconds()
    processes.run(
        ProcessRequest(
            [
                sys.executable,
                "-c",
                "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass",
            ]
        )
    )
    busy_after, own_after = host.cpu_seconds()
    assert own_after - own_before >= 0.45  # the child's 0.5 s of CPU, once waited for
    assert not math.isnan(busy_after)
    assert busy_after - busy_before >= 0.4  # /proc/stat saw it too (10 ms ticks)
