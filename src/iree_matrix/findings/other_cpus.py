"""What a user whose CPU has no answer of its own is told beside `query`'s answers: which identities
answered the model, that another architecture's passes are not this machine's, and where an
AVX-2-only CPU should not take an AVX-512 identity's ratios or older release."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from iree_matrix.core.model.host_identity import ISA_ORDER, HostIdentity
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
    `name`, and on another architecture than the runs', that their passes are that architecture's."""
    lines = list(answer.lines)
    if chosen is None or not chosen.here:
        published = advice.matching(gathered, name)
        if known := sorted({f"{a.identity.short} ({_arch_isa(a.identity.host)})" for a in published}):
            lines.append(f"  published answers for {name}: {'; '.join(known)}; this CPU: {here.label()}")
    lines += _isa(here, chosen, name)
    machine = here.machine or ""
    ran_on = runs_view.main_arch(records) if records else ""
    if machine and ran_on and not ran_on.startswith(_target_of(machine)):
        lines.append(
            f"  this machine is {machine}: the releases above passed on {ran_on}; for ARM boards "
            f"(emulated): `iree-matrix query model {name} --arch pi4 --results-dir results/armv6`, and "
            f"`iree-matrix bundle --to DIR` runs it on this machine (docs/bundles.md)"
        )
    return dataclasses.replace(answer, lines=tuple(lines)) if lines != list(answer.lines) else answer


def _isa(here: HostIdentity, chosen: Any, name: str) -> list[str]:
    """Which vector ISA the answer was made with, and a warning where this CPU lacks it: an AVX-512
    ratio does not hold on an AVX2 CPU (MobileNetV2: 1.08x ONNX Runtime's time on a Zen 4, 1.74x on a
    Zen 3), and a release before targets.AVX2_MATMUL_FIXED vectorizes a matmul only along its reduction."""
    if chosen is None or not chosen.advice or chosen.here:  # this CPU's own answer holds for it
        return []
    theirs = chosen.advice[0].identity.host
    isa, mine = theirs.isa, here.isa
    if not isa:
        return []
    if not mine or here.machine != theirs.machine or isa == mine:
        return [f"  vector ISA: {isa}" + (", as this CPU's" if mine == isa else "")]
    if ISA_ORDER.index(mine if mine in ISA_ORDER else "") >= ISA_ORDER.index(isa if isa in ISA_ORDER else ""):
        return [f"  vector ISA: the answer's identity has {isa}, this CPU {mine}"]
    fixed = targets.AVX2_MATMUL_FIXED
    cut = versions.release_order(fixed)
    older = sorted({a.release for a in chosen.advice if versions.release_order(a.release) < cut})
    release = (
        f"; IREE before {fixed} vectorizes a matmul only along its reduction without AVX-512 "
        f"(iree-org/iree#24700), so {', '.join(older)} may not be the release for you: "
        f"`{advice.COMMAND} {name} --release 3.13.0` times a newer one here"
        if older and isa == "AVX-512"
        else ""
    )
    return [
        f"  vector ISA: the answer's identity has {isa}, this CPU has {mine} only: its ratios do not hold "
        f"here (docs/answers.md); `{advice.COMMAND} {name}` measures them here{release}"
    ]


def _arch_isa(host: HostIdentity) -> str:
    return ", ".join(filter(None, (host.machine or "?", host.isa)))


def _target_of(machine: str) -> str:
    """A uname -m as the run targets' labels start: armv6l and armv7l are `armv6`/`armv7`."""
    return {"arm64": "aarch64", "amd64": "x86_64"}.get(machine, machine.rstrip("l"))


def kernel_answer(answer: Answer, records: Sequence[Record], here: HostIdentity) -> Answer:
    """A kernel's window with the CPU each architecture's cells ran on and, where this machine's
    architecture has no cell, that it has none and the command that measures it here."""
    if not answer.measured:
        return answer
    arches = [line.split(":", 1)[0] for line in answer.lines if not line.startswith(" ")]
    # the kernel's own runs (its evidence), newest last: a log holds other kernels' and older sittings
    runs = [r for r in records if r.stage == "run" and r.job in answer.evidence and r.host.known]
    lines: list[str] = []
    for line in answer.lines:
        lines.append(line)
        arch = line.split(":", 1)[0]
        if not line.startswith(" ") and (ran := [r for r in runs if r.label.arch == arch]):
            emulated = ", its runs emulated" if not arch.startswith(ran[-1].host.machine or "?") else ""
            lines.append(f"  measured on {ran[-1].host.label()}{emulated}")
    if (machine := _target_of(here.machine or "")) and not any(a.startswith(machine) for a in arches):
        lines.append(
            f"{machine} (this machine): not measured; `iree-matrix advise MODEL --kernel DIR` on it builds "
            f"the kernel for this CPU (Zig's clang, -mcpu=native) and times it beside the pick"
        )
    return dataclasses.replace(answer, lines=tuple(lines))
