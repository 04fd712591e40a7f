"""The ETA replayed over many synthetic episodes of others' work (tests/unit/test_eta_replay.py's
replays): seconds of CPU, so this tier, not the unit tier (issue 72)."""

from __future__ import annotations

import pytest

from tests.unit.test_eta_replay import _episode_ratios

pytestmark = pytest.mark.heavy


def test_under_episodes_of_others_work_the_estimate_is_centred_and_the_level_holds_more() -> None:
    """Others' work in episodes of minutes (`_episodes`, load medians 4-14, at most 18): what is left
    depends on episodes still to come, which no estimate knows, so the 25 % band cannot hold at
    every point. Asserted: the ETA is centred (median real left / ETA within 10 % of 1) and the level
    ahead (`LoadTrace.ahead`) has a narrower 10-90 % spread than carrying the last two minutes over
    the rest. Not asserted: it holds more points in the band — read as issue #69's measure (real left /
    ETA), with runs hit less than compiles (`eta.RELATIVE`), 61 % against 64 % (ETA / real left, with
    every stage alike, it read 64 % against 60 %)."""
    spread = {}
    for ahead in (False, True):
        ratios = sorted(_episode_ratios(ahead))
        inside = sum(0.75 <= r <= 1.25 for r in ratios) / len(ratios)
        median, p10, p90 = ratios[len(ratios) // 2], ratios[len(ratios) // 10], ratios[9 * len(ratios) // 10]
        spread[ahead] = (inside, p90 / p10)
        print(f"ahead={ahead}: {inside:.0%} in 0.75-1.25, median {median:.2f}, 10-90 % {p10:.2f}-{p90:.2f}")
        assert 0.9 <= median <= 1.1
    assert spread[True][1] < spread[False][1], spread
