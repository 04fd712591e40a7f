"""What a user whose CPU has no answer of its own is told beside `query`'s answers (docs/answers.md,
"Ratios do not carry between CPUs"): which identities answered the model, that another
architecture's passes and windows are not this machine's, and where an AVX-2-only CPU should not take
an AVX-512 identity's older release. Pure: the answers, the records and this host in, the answer with
its lines out (commands/query.py asks; tests/unit/test_other_cpus.py tries real cpuinfo texts)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from iree_matrix.core.model.host_identity import HostIdentity
from iree_matrix.core.model.results import Record
from iree_matrix.findings import advice, runs_view
from iree_matrix.findings.query import Answer
from iree_matrix.iree import targets, versions


def model_answer(
    answer: Answer,
    gathered: Sequence[Any],
    name: str,
    chosen: Any,
    records: Sequence[Record],
    here: HostIdentity,
) -> Answer:
    """What a user whose CPU has no answer of its own is told besides: every identity that answered
    `name` (which exist, so the nearest one's choice can be judged), and, on another architecture
    than the results' runs, that their passes are that architecture's, with where its boards' are.
    Before, an aarch64 host read "passes on 16 of 16" of x86_64 runs as its own, and no list of the
    identities measured."""
    lines = list(answer.lines)
    if chosen is None or not chosen.here:
        published = advice.matching(gathered, name)
        known = sorted({f"{a.identity.short} ({a.identity.host.machine or '?'})" for a in published})
        if known:
            lines.append(f"  published answers for {name}: {'; '.join(known)}; this CPU: {here.label()}")
    lines += _avx2_only(here, chosen, name)
    machine = here.machine or ""
    ran_on = runs_view.main_arch(records) if records else ""
    if machine and ran_on and not ran_on.startswith(_target_of(machine)):
        lines.append(
            f"  this machine is {machine}: the releases above passed on {ran_on}; for ARM boards "
            f"(emulated): `iree-matrix query model {name} --arch pi4 --results-dir results/armv6`, and "
            f"`iree-matrix bundle --to DIR` runs it on this machine (docs/bundles.md)"
        )
    return dataclasses.replace(answer, lines=tuple(lines)) if lines != list(answer.lines) else answer


def _avx2_only(here: HostIdentity, chosen: Any, name: str) -> list[str]:
    """A warning where this x86 CPU has no AVX-512 but the nearest answer's identity had, and the
    answer takes a release before targets.AVX2_MATMUL_FIXED: its pick was fast there for a reason this
    CPU lacks (a Haswell or a Zen 3 was shown a Zen 4's 3.9.0 answer as its own nearest, unremarked)."""
    if chosen is None or chosen.here or here.machine != "x86_64" or here.cpu_features is None:
        return []
    if "avx512f" in here.cpu_features:
        return []
    theirs = chosen.advice[0].identity.host.cpu_features or ()
    fixed = targets.AVX2_MATMUL_FIXED
    cut = versions.release_order(fixed)
    older = sorted({a.release for a in chosen.advice if versions.release_order(a.release) < cut})
    if "avx512f" not in theirs or not older:
        return []
    return [
        f"  this CPU has no AVX-512, the answer's identity has: IREE before {fixed} vectorizes a "
        f"matmul only along its reduction on such CPUs (iree-org/iree#24700, docs/performance.md), so "
        f"{', '.join(older)} may not be the release for you: `{advice.COMMAND} {name} --release 3.13.0` "
        "times a newer one here"
    ]


def _target_of(machine: str) -> str:
    """A uname -m as the run targets' labels start: armv6l and armv7l are `armv6`/`armv7`."""
    return {"arm64": "aarch64", "amd64": "x86_64"}.get(machine, machine.rstrip("l"))


def kernel_answer(answer: Answer, records: Sequence[Record], here: HostIdentity) -> Answer:
    """A kernel's window with the CPU each architecture's cells ran on (a `host` object is built for
    the CPU that builds it) and, where this machine's architecture has no cell, that it has none and
    the command that measures it here: on an aarch64 host the x86_64 and armv6 windows were all it
    read, as if they were its own."""
    if not answer.measured:
        return answer
    arches = [line.split(":", 1)[0] for line in answer.lines if not line.startswith(" ")]
    lines: list[str] = []
    for line in answer.lines:
        lines.append(line)
        arch = line.split(":", 1)[0]
        ran = [r for r in records if r.stage == "run" and r.label.arch == arch and r.host.known]
        if not line.startswith(" ") and ran:
            emulated = ", its runs emulated" if not arch.startswith(ran[0].host.machine or "?") else ""
            lines.append(f"  measured on {ran[0].host.label()}{emulated}")
    machine = _target_of(here.machine or "")
    if machine and not any(a.startswith(machine) for a in arches):
        lines.append(
            f"{machine} (this machine): not measured; `iree-matrix advise MODEL --kernel DIR` on it builds "
            f"the kernel for this CPU (Zig's clang, -mcpu=native) and times it beside the pick"
        )
    return dataclasses.replace(answer, lines=tuple(lines))
