"""The ETA replayed over many synthetic episodes of others' work (tests/unit/test_eta_replay.py's
replays): seconds of CPU, so this tier, not the unit tier (issue 72)."""

from __future__ import annotations

import pytest

from iree_matrix.execution.eta import LoadTrace
from tests.unit.test_eta_replay import TenMinuteLevel, _episode_ratios

pytestmark = pytest.mark.heavy


def test_under_episodes_of_others_work_the_estimate_is_centred_and_the_forecast_holds_more() -> None:
    """Others' work in episodes of minutes (`_episodes`, load medians 4-14, at most 18): what is left
    depends on episodes still to come, which no estimate knows, so the 25 % band cannot hold at
    every point. Asserted: the ETA is centred (median real left / ETA within 10 % of 1), and the load
    ahead going back to the run's mean (`LoadTrace.ahead`) has a narrower 10-90 % spread than carrying
    the last two minutes over the rest and holds more points in the band than that or the ten-minute
    level before it (`TenMinuteLevel`): 66 % against 64 % and 61 % (median 1.06, 10-90 % 0.80-1.50;
    the level 1.06, 0.77-1.53; carried over 1.02, 0.72-1.51)."""
    read = {}
    for name, ahead, forecast in (
        ("carried over", False, LoadTrace),
        ("ten-minute level", True, TenMinuteLevel),
        ("back to the run's mean", True, LoadTrace),
    ):
        ratios = sorted(_episode_ratios(ahead, forecast))
        inside = sum(0.75 <= r <= 1.25 for r in ratios) / len(ratios)
        median, p10, p90 = ratios[len(ratios) // 2], ratios[len(ratios) // 10], ratios[9 * len(ratios) // 10]
        read[name] = (inside, p90 / p10)
        print(f"{name}: {inside:.0%} in 0.75-1.25, median {median:.2f}, 10-90 % {p10:.2f}-{p90:.2f}")
        assert 0.9 <= median <= 1.1
    shipped = read["back to the run's mean"]
    assert shipped[1] < read["carried over"][1], read
    assert shipped[0] > max(read["carried over"][0], read["ten-minute level"][0]), read
