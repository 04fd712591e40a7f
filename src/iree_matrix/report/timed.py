"""The two figures PERFORMANCE.md's tables are drawn on, and the peers its records ran: what
report/performance.py and the stages' sections (report/sections/) share."""

from __future__ import annotations

from collections.abc import Iterable

from iree_matrix.core.model.metrics.peer import PeerMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.matrix import peers as peer_registry

WALL, CPU = "latency_ms", "cpu_ms"  # the two figures the peers table is drawn on


def peers_ran(records: Iterable[Record]) -> tuple[str, ...]:
    """The peers these records ran, in the peers' order: a peer no record ran gets no column, so adding
    one changes no published document until a run times it."""
    ran = (
        name
        for r in records
        if r.stage == "peer" and r.status is Status.OK
        for name in r.metric.of(PeerMetrics).peers
    )
    return peer_registry.among(ran)
