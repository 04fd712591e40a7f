"""How a finished run's ETA held: read the console log of `iree-matrix matrix` (or `nox -s matrix`) and,
at every 5 % of the run from its first quarter on, print the ETA its progress line said over the time
that was really left (the run's end is its last progress line's elapsed clock).

    nox -s matrix 2>&1 | tee matrix.log; python benchmarks/eta_from_log.py matrix.log

docs/first-run.md quotes it on the loaded first runs of 2026-11-25/26."""

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
    for elapsed, eta, done, total in points:
        fraction, left = elapsed / end if end else 1.0, end - elapsed
        step = int(fraction * 20)  # every 5 %
        if fraction < 0.25 or step in seen or left <= 0:
            continue
        seen.add(step)
        print(f"{fraction:5.0%} {done:3d}/{total} ETA {eta:6d} s, left {left:6.0f} s: {eta / left:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]) if len(sys.argv) == 2 else "usage: eta_from_log.py LOG")
