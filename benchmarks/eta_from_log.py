"""How a finished run's ETA held: read the console log of `iree-matrix matrix` (or `nox -s matrix`) and,
at every 5 % of the run from its first quarter on, print the time that was really left over the ETA its
progress line said — issue #69's measure, whose bar is 0.75-1.25 — and the inverse, ETA / time left,
which lab/first-run-timings.md's older figures read (the run's end is its last progress line's elapsed
clock). The last line counts the points within 0.75-1.25 of time left / ETA.

    nox -s matrix 2>&1 | tee matrix.log; python benchmarks/eta_from_log.py matrix.log

`--replays` prints the same for the replays of tests/unit/test_eta_replay.py instead (the published
quiet first run's jobs under load traces: the steps and levels there, issue #69's cold run, a host
slower or faster than the publication's, others' work in episodes) and issue #69's live runs, each ETA
read as a run's progress would read it, with the shipped load forecast (`LoadTrace.ahead`: back to the
run's mean), the ten-minute level before it, and the last two minutes carried over, as real left / ETA;
the live runs also without the quiet lock's waits to come (`eta.LockWaits`), as the estimate was before,
and with the lock holder's rest (not recorded) replayed as the real rest of a waiting job's wait:

    PYTHONPATH=src python benchmarks/eta_from_log.py --replays

lab/first-run-timings.md quotes both."""

from __future__ import annotations

import re
import sys

LINE = re.compile(r"^\[\s*(\d+)/(\d+) (\d+):(\d\d):(\d\d) ETA (\d+):(\d\d):(\d\d)\]")


def main(path: str) -> int:
    points = []
    with open(path, errors="replace") as log:
        for line in log:
            m = LINE.match(line.strip())
            if m:
                g = [int(x) for x in m.groups()]
                points.append((g[2] * 3600 + g[3] * 60 + g[4], g[5] * 3600 + g[6] * 60 + g[7], g[0], g[1]))
    if not points:
        print(f"{path}: no progress lines ('[n/N h:mm:ss ETA h:mm:ss]')", file=sys.stderr)
        return 2
    end = max(p[0] for p in points)
    print(f"run: {end / 60:.1f} min, {len(points)} progress lines")
    seen: set[int] = set()
    read: list[float] = []  # time left / ETA at each point
    for elapsed, eta, done, total in points:
        fraction, left = elapsed / end if end else 1.0, end - elapsed
        step = int(fraction * 20)  # every 5 %
        if fraction < 0.25 or step in seen or left <= 0 or eta <= 0:
            continue
        seen.add(step)
        read.append(left / eta)
        print(
            f"{fraction:5.0%} {done:3d}/{total} ETA {eta:6d} s, left {left:6.0f} s: "
            f"left/ETA {left / eta:.2f} (ETA/left {eta / left:.2f})"
        )
    if read:
        inside = sum(0.75 <= r <= 1.25 for r in read)
        print(
            f"left/ETA from 25 %: {min(read):.2f}-{max(read):.2f}, {inside} of {len(read)} within 0.75-1.25; "
            + " ".join(f"{r:.2f}" for r in read)
        )
    return 0


def replays() -> int:
    """Each replay's time really left / ETA from a quarter of the run on, at every 5 %: its range, and
    all of them for the episodes (median, 10-90 %, the share within 0.75-1.25), under each load
    forecast: the shipped one, the ten-minute level before it, the last two minutes carried over."""
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.unit import test_eta as live
    from tests.unit import test_eta_replay as replay

    from iree_matrix.execution.eta import LoadTrace

    def said(name: str, ratios: list[float]) -> int:
        inside = sum(0.75 <= r <= 1.25 for r in ratios)
        print(
            f"{name:<34} {min(ratios):.2f}-{max(ratios):.2f} {inside:2d}  "
            + " ".join(f"{r:.2f}" for r in ratios)
        )
        return inside

    for title, ahead, forecast in (
        ("back to the run's mean (LoadTrace.ahead, shipped)", True, LoadTrace),
        ("the ten-minute level (before)", True, replay.TenMinuteLevel),
        ("the last two minutes carried over", False, LoadTrace),
    ):
        print(f"--- {title}: range, points within 0.75-1.25, each point")
        total = 0
        for name, trace in sorted(replay.TRACES.items()):
            total += said(name, list(replay._replay(trace, ahead=ahead, forecast=forecast).ratios.values()))
        for k in (0.4, 1.2):
            ratios = replay._replay(replay.TRACES["rising"], k, ahead=ahead, forecast=forecast).ratios
            total += said(f"rising, L**{k}", list(ratios.values()))
        for host in (0.7, 1.0, 1.5, 2.0):
            k = 0.6 if host > 1 else replay.K
            ratios = replay._replay(replay._cold, k, host=host, ahead=ahead, forecast=forecast).ratios
            total += said(f"cold (issue #69), host x{host}", list(ratios.values()))
        if ahead:  # the live runs are replayed as Progress feeds them: always with a forecast
            for run in sorted(live.LIVE):
                total += said(f"live ({run})", live._live_ratios(run, forecast=forecast))
            # the third waited 11 min for others' timed stages (the quiet lock): apart, not counted
            said("live (live69c)", live._live_ratios("live69c", forecast=forecast))
            said(
                "live (live69c), its waits cut out",
                live._live_ratios("live69c", forecast=forecast, waits=False),
            )
            # the fourth, the first live run with eta.LockWaits, the fifth, and the sixth and seventh
            # (the quiet lock their own, load 3.6 and 10): apart, not counted
            for run in ("live69d", "live69e", "live69f", "live69g"):
                said(f"live ({run})", live._live_ratios(run, forecast=forecast))
                said(
                    f"live ({run}), its waits cut out",
                    live._live_ratios(run, forecast=forecast, waits=False),
                )
            for run in (*sorted(live.LIVE), "live69c", "live69d", "live69e"):  # the holder's rest, once
                said(
                    f"live ({run}), the holder's rest",
                    live._live_ratios(run, forecast=forecast, held=True),
                )
            for run in (*sorted(live.LIVE), "live69c", "live69d", "live69e"):  # before eta.LockWaits
                said(
                    f"live ({run}), no lock waits ahead",
                    live._live_ratios(run, forecast=forecast, lock_waits=False),
                )
        ratios = sorted(replay._episode_ratios(ahead, forecast))
        inside = sum(0.75 <= r <= 1.25 for r in ratios)
        median, p10, p90 = ratios[len(ratios) // 2], ratios[len(ratios) // 10], ratios[9 * len(ratios) // 10]
        spread = f"median {median:.2f}, 10-90 % {p10:.2f}-{p90:.2f}"
        print(f"{'episodes (40 replays)':<34} {spread}, {inside / len(ratios):.0%} within 0.75-1.25")
        print(f"points within 0.75-1.25 in all: {total + inside}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--replays"]:
        sys.exit(replays())
    sys.exit(main(sys.argv[1]) if len(sys.argv) == 2 else "usage: eta_from_log.py LOG | --replays")
