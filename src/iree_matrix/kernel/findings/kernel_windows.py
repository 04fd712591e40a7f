"""Which releases take a kernel: per architecture and IREE release, does the same spec and object
compile (applied), load and match torch, derived from the kernel's cells' records, each verdict with the
jobs it rests on (`query kernel NAME`, COMPATIBILITY.md, compat.json). A release's verdict is the first
of ORDER that holds."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any, Optional

from iree_matrix.core import excerpts
from iree_matrix.core.model.results import Record, Status, latest_by_job
from iree_matrix.iree import versions

TAKES, WRONG, CRASHES = "takes it", "wrong results", "crashes"
REFUSED_AT_RUN, COMPILES = "refused at run", "compiles"
REFUSED, NOTHING, NO_BUILD, NOT_RUN = "refused", "matches nothing", "does not build", "not run"
# The answer of several releases: the best verdict among them (a release that takes it first).
ORDER = (TAKES, WRONG, CRASHES, REFUSED_AT_RUN, COMPILES, REFUSED, NOTHING, NO_BUILD, NOT_RUN)
_MAX_WORDS = 240


@dataclasses.dataclass(frozen=True)
class ReleaseVerdict:
    arch: str
    release: str  # the compiler's
    verdict: str
    compile: str  # ok / not applied / refused / not run: the compiles with the kernel, summed up
    load: str  # loads / refused / not run
    match: str  # matches / differs / not run
    reason: str  # the tools' words, where the verdict is a failure
    evidence: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"evidence": list(self.evidence)}


def names(records: Iterable[Record]) -> list[str]:
    """The kernels the records name."""
    return sorted({r.label.kernel for r in records if r.label.kernel})


def window(records: Iterable[Record], kernel: str) -> list[ReleaseVerdict]:
    """The kernel's verdict per architecture and compiler release, oldest release first, from the
    newest record of each job (a crash the same log later replaced by a match is history)."""
    mine = [r for r in latest_by_job(records).values() if r.label.kernel == kernel]
    builds = {r.label.arch: r for r in mine if r.stage == "kernel"}
    compiles = [r for r in mine if r.stage == "compile"]
    runs = [r for r in mine if r.stage == "run"]
    pairs = {(r.label.arch, r.label.compiler) for r in compiles}
    keys = sorted(pairs, key=lambda k: (k[0], versions.release_order(k[1])))
    return [
        _verdict(arch, release, builds.get(arch), _of(compiles, arch, release), _of(runs, arch, release))
        for arch, release in keys
    ]


def _of(records: Sequence[Record], arch: str, release: str) -> list[Record]:
    return [r for r in records if r.label.arch == arch and r.label.compiler == release]


def _verdict(
    arch: str, release: str, build: Optional[Record], compiles: list[Record], runs: list[Record]
) -> ReleaseVerdict:
    applied = [c for c in compiles if c.status is Status.OK]
    nothing = [c for c in compiles if c.error_class == "kernel-not-applied"]
    refused = [c for c in compiles if c.status is Status.FAIL and c.error_class != "kernel-not-applied"]
    ran = [r for r in runs if r.status in (Status.OK, Status.MISMATCH, Status.FAIL)]
    # "takes it" rests on a run of a module the kernel was applied to, never on one whose compile
    # the records call not applied (that run computed IREE's own ops).
    # A run's id is its compile's cell plus, where they differ, its runtime (…/rtsrc3.9.0+static):
    # a run of one of them is its cell itself, or below it.
    cells = tuple(c.job.split(":", 1)[1] + "/" for c in applied)
    matched = [r for r in ran if r.status is Status.OK and (r.job.split(":", 1)[1] + "/").startswith(cells)]
    wrong = [r for r in ran if r.status is Status.MISMATCH]
    failed = [r for r in ran if r.status is Status.FAIL]
    crashed = [r for r in failed if r.error_class == "kernel-crash"]
    compile = "ok" if applied else "refused" if refused else "not applied" if nothing else "not run"
    # A crash loaded first.
    load = "loads" if matched or wrong or crashed else "refused" if failed else "not run"
    match = "matches" if matched and not wrong else "differs" if wrong else "not run"
    reason, evidence = "", [r.job for r in (*applied, *refused, *nothing)]
    # The first kind of record there is gives the verdict, its first record the reason (but for a
    # take or a compile) and its records the evidence. A run the kernel broke outweighs one that
    # matched; a runtime's refusal (a cross of releases) does not, where another runtime ran the same
    # module right.
    kinds = (
        (wrong, WRONG),
        (crashed, CRASHES),
        (matched, TAKES),
        (failed, REFUSED_AT_RUN),
        (applied, COMPILES),
        (refused, REFUSED),
        (nothing, NOTHING),
    )
    if (first_kind := next(((found, said) for found, said in kinds if found), None)) is not None:
        found, verdict = first_kind
        reason = "" if verdict in (TAKES, COMPILES) else _words(found[0])
        evidence += [r.job for r in found]
    elif build is not None and build.status is Status.FAIL:
        verdict, reason = NO_BUILD, _words(build)
        evidence.append(build.job)
    else:
        verdict = NOT_RUN
        first = compiles[0] if compiles else None
        reason = _words(first) if first is not None else ""
        evidence += [c.job for c in compiles]
    if build is not None and build.job not in evidence:
        evidence.insert(0, build.job)
    unique = tuple(dict.fromkeys(evidence))
    return ReleaseVerdict(arch, release, verdict, compile, load, match, reason, unique)


def _words(record: Record) -> str:
    """A record's reason as a reader sees it: one line, without this machine's paths."""
    text = record.message or record.error_class or record.status.value
    if record.status is Status.NOT_RUN and record.blocked_by:
        text = f"blocked by {record.blocked_by}: {text}"
    line = excerpts.without_paths(text.strip().splitlines()[0] if text.strip() else text)
    return line if len(line) <= _MAX_WORDS else line[: _MAX_WORDS - 1] + "…"
