"""A `--wait` on a busy cache said whom it waited for once and then nothing, for as long as it waited: a
user could not tell it was alive. `wait_note` is what it says as it starts, every WAIT_NOTE_EVERY s and
whenever the holder changes (how long so far), and when it takes the lock (tests/processes/
test_cache_lock.py waits for a real holder)."""

from __future__ import annotations

import time

from iree_matrix.core.system import locks


def test_a_wait_says_whom_for_then_how_long_so_far_then_that_it_took_the_lock() -> None:
    since = time.mktime((2026, 12, 1, 11, 2, 13, 0, 0, -1))
    who = locks.Holder(4242, "iree-matrix advise yolox_nano", since).describe(since + 300)
    assert who == "pid 4242 (iree-matrix advise yolox_nano since 11:02:13, 5 min)"
    assert locks.wait_note("the cache /c", who, 0.2) == f"waiting for the cache /c: in use by {who}"
    assert locks.wait_note("the cache /c", who, 95.0).endswith(f"in use by {who}; waited 1 min so far")
    assert locks.wait_note("the cache /c", who, 4000.0).endswith("; waited 1 h 06 min so far")
    assert locks.wait_note("the cache /c", None, 42.9) == "took the cache /c after waiting 42 s"
