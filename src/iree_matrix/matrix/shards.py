"""Split a plan into N shards that run independently (pure). A shard's unit is the leaves that read
one module with every job they need; groups go largest first to the shard where they add the fewest
new jobs within `SLACK` x an even share. A prerequisite of groups on several shards runs in each (the
same content-addressed key: `merge` keeps one record).
"""

from __future__ import annotations

import dataclasses
import math
import re

from iree_matrix.core.errors import UserError
from iree_matrix.matrix.plan import Plan

SLACK = 1.2  # how far above an even share a shard may grow to reuse prerequisites it already has


@dataclasses.dataclass(frozen=True)
class Shard:
    index: int  # 1-based, as written on the command line
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse(text: str) -> Shard:
    """`K/N` with 1 <= K <= N; anything else is a one-line `UserError`."""
    if not (match := re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")):
        raise UserError(f"--shard {text!r}: expected K/N, e.g. --shard 1/4 (shard 1 of 4)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or not 1 <= index <= count:
        raise UserError(f"--shard {text}: expected K/N with 1 <= K <= N, e.g. --shard 1/{max(count, 2)}")
    return Shard(index, count)


def groups(plan: Plan) -> list[tuple[str, ...]]:
    """The leaves (jobs nothing depends on), grouped by the compile they read (a leaf that reads no
    module, e.g. a peer or an install left alone by --select, is a group of its own)."""
    needed = {dep for job in plan.jobs for dep in job.deps}
    by_id = plan.by_id()
    grouped: dict[str, list[str]] = {}
    for job in plan.jobs:
        if job.id in needed:
            continue
        compiles = sorted(d for d in job.deps if by_id[d].stage == "compile")
        grouped.setdefault(compiles[0] if compiles else job.id, []).append(job.id)
    return [tuple(sorted(leaves)) for _, leaves in sorted(grouped.items())]


def partition(plan: Plan, count: int) -> list[Plan]:
    """`count` plans (some may be empty when there are fewer groups than shards)."""
    if count < 1:
        raise ValueError(f"count must be >= 1, not {count}")
    chains = [(leaves, plan.closure(leaves)) for leaves in groups(plan)]
    chains.sort(key=lambda chain: (-len(chain[1]), chain[0]))
    cap = math.ceil(SLACK * len(plan) / count)
    members: list[set[str]] = [set() for _ in range(count)]
    for _leaves, jobs in chains:

        def cost(i: int, jobs: set[str] = jobs) -> tuple[int, int, int, int]:
            size = len(members[i] | jobs)
            return max(0, size - cap), len(jobs - members[i]), len(members[i]), i

        members[min(range(count), key=cost)] |= jobs
    return [Plan(tuple(job for job in plan.jobs if job.id in ids)) for ids in members]


def select(plan: Plan, shard: Shard) -> Plan:
    return partition(plan, shard.count)[shard.index - 1]
