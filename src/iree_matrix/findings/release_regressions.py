"""What regressed between consecutive compiler releases: a function that passed and now fails, a
latency up beyond noise (or more instructions per call), a module more than 10 % larger. Pure:
records in, plain data out; every regression names the two cells it rests on.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from iree_matrix.core import formats
from iree_matrix.core.model import stats
from iree_matrix.core.model.metrics.compile import CompileMetrics
from iree_matrix.core.model.metrics.instructions import InstructionsMetrics
from iree_matrix.core.model.results import Record, Status
from iree_matrix.findings import paired, runs_view


@dataclasses.dataclass(frozen=True)
class Regression:
    function: str
    older: str
    newer: str
    kind: str  # "fails" | "slower" | "larger"
    detail: str
    evidence: tuple[str, str]  # job ids: older cell, newer cell
    # What decided it: "outcome" (fails), "size" (larger), "timing", "instructions" or "paired" (slower).
    signal: str = ""
    profile: str = "default"  # the build it is about: `default`, or a counted one (`avx2`)

    @property
    def subject(self) -> str:
        return subject(self.function, self.profile)


def subject(function: str, profile: str) -> str:
    """What a regression is about: the function, and the build when it is not the default one."""
    return function if profile == "default" else f"{function} (`{profile}` build)"


def slower_beyond_noise(older: runs_view.Timing, newer: runs_view.Timing) -> bool:
    """Two quiet figures: the newer median beyond NOISE_RATIO. With a noisy one, only a change no
    disturbance explains: the newer's fastest repetition beyond LOADED_RATIO times the older's slowest.
    Never from a figure of too few repetitions to have an interval."""
    if older.too_few or newer.too_few:
        return False
    if not older.noisy and not newer.noisy:
        return newer.median > older.median * runs_view.NOISE_RATIO
    return (
        older.high is not None and newer.low is not None and newer.low > older.high * runs_view.LOADED_RATIO
    )


def counted(record: Optional[Record]) -> Optional[float]:
    """Instructions per call of an `instructions` record (stages/instructions.py), if it has them."""
    return record.metric.of(InstructionsMetrics).per_call if record is not None else None


def slower_pair(
    older: runs_view.Timing,
    newer: runs_view.Timing,
    older_count: Optional[float] = None,
    newer_count: Optional[float] = None,
) -> Optional[tuple[str, str]]:
    """(detail, signal) when the newer release is slower beyond noise, else None. Quiet timings decide by
    their medians ("timing"); where either is noisy and both have an instruction count of the build, the
    counts decide, which load does not move ("instructions"); without counts, `slower_beyond_noise`'s
    loaded rule may ("timing"). Quiet timings carry the count ratio in their detail where there is one."""
    both = f"{formats.duration_ms(older.median)} → {formats.duration_ms(newer.median)}"
    times = formats.ratio(newer.median / older.median)
    quiet = not older.noisy and not newer.noisy
    if not quiet and older_count and newer_count:
        if (count_ratio := newer_count / older_count) <= runs_view.NOISE_RATIO:
            return None
        counts = f"{instructions_text(older_count)} → {instructions_text(newer_count)} per call"
        detail = f"{formats.ratio(count_ratio)} the instructions ({counts}, callgrind)"
        return f"{detail}; timings noisy: {times} ({both})", "instructions"
    if not slower_beyond_noise(older, newer):
        return None
    if not quiet:
        both += f"; noisy, but its fastest repetition is > {runs_view.LOADED_RATIO:g}× the older's slowest"
    elif older_count and newer_count:
        # Quiet timings decide, but the count stays beside them: a slower time at the same count is
        # a change in how the instructions run (threads, memory, dependencies), worth reading apart.
        both += f"; {formats.ratio(newer_count / older_count)} the instructions"
    return f"{times} slower ({both})", "timing"


def more_instructions(older: Optional[Record], newer: Optional[Record]) -> Optional[tuple[str, str]]:
    """(detail, "instructions") when an untimed build's count grew more than NOISE_RATIO times: a
    count needs no quiet machine, so it decides without a timing."""
    a, b = counted(older), counted(newer)
    if not a or not b or b <= a * runs_view.NOISE_RATIO:
        return None
    counts = f"{instructions_text(a)} → {instructions_text(b)} per call"
    return f"{formats.ratio(b / a)} the instructions ({counts}, callgrind); not timed", "instructions"


def instructions_text(count: float) -> str:
    """An instruction count as a reader takes it in: 767.7 k, 12.3 M, 4.56 G."""
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count:.0f}"


def regressions(runs: runs_view.Runs) -> list[Regression]:
    """Between consecutive compiler releases (each on its own runtime): passed then fails, slower beyond
    noise (`slower_pair`), a module > 10 % larger; of the runs' profile, then of each counted build."""
    out = _profile_regressions(runs)
    for profile in runs.counted_profiles():
        other = runs_view.Runs(runs.index, profile, runs.arch)
        counted = {function for (function, _, _) in other.instructions}
        out += [
            dataclasses.replace(r, profile=profile)
            for r in _profile_regressions(other)
            if r.function in counted
        ]
    return out


def _profile_regressions(runs: runs_view.Runs) -> list[Regression]:
    """`regressions` of one profile. A release run on a stand-in runtime (3.7.1 on 3.7.0) is left
    out like one with no runtime: its figure comes from the cross, not from its own release's runtime."""
    out = []
    for function in runs.functions():
        reference = runs.main_exporter([function])
        compilers = [
            c
            for c in runs_view.sorted_versions(
                c for (f, e, c) in runs.compiles if f == function and e == reference
            )
            if not runs_view.no_runtime(run := runs.same(function, reference, c))
            and not (run is not None and runs_view.stand_in_of(run))
        ]
        out += _function_regressions(runs, function, reference, compilers)
    return out


def _function_regressions(
    runs: runs_view.Runs, function: str, exporter: str, compilers: list[str]
) -> list[Regression]:
    out = []
    for older, newer in zip(compilers, compilers[1:]):
        a, b = runs.same(function, exporter, older), runs.same(function, exporter, newer)
        ca, cb = (runs.compiles.get((function, exporter, v)) for v in (older, newer))
        ok_a, ok_b = (r is not None and r.status is Status.OK for r in (a, b))
        first, second = a or ca, b or cb
        evidence = (first.job if first is not None else "", second.job if second is not None else "")
        # A cell never run (not planned: an untimed counted build, a run still to come) is no evidence.
        if ok_a and b is not None and not ok_b and b.status is not Status.SKIP:
            what = b.status.value + (f" ({b.error_class})" if b.error_class else "")
            if b.status is Status.NOT_RUN and cb is not None and cb.status is not Status.OK:
                what = f"compile {cb.status.value} ({cb.error_class or ''})".replace(" ()", "")
            detail = f"passed in {older}, {what} in {newer}"
            out.append(Regression(function, older, newer, "fails", detail, evidence, "outcome"))
            continue
        ia, ib = (runs.instructions.get((function, exporter, v)) for v in (older, newer))
        verdict = paired.against(b, older) if ok_a and ok_b else None
        if verdict is not None and verdict.verdict in paired.DECIDED:
            # Paired rounds decide (`iree-matrix compare OLDER NEWER` beside the log): "slower" is a
            # regression, anything else is none, whatever the two medians said.
            if verdict.verdict == stats.SLOWER:
                detail = f"{formats.ratio(verdict.ratio)} slower ({verdict.describe()})"
                out.append(Regression(function, older, newer, "slower", detail, evidence, "paired"))
            slower = None
        else:
            # Two medians decide only as figures of one named CPU: a timing of a record that names no
            # family/model is no evidence (a count needs none, `more_instructions`).
            same_cpu = ok_a and ok_b and runs_view.identified(a) in ({runs_view.identified(b)} - {None})
            ta, tb = (runs_view.timing(a), runs_view.timing(b)) if same_cpu else (None, None)
            slower = slower_pair(ta, tb, counted(ia), counted(ib)) if ta and tb else more_instructions(ia, ib)
        if slower is not None:
            detail, signal = slower
            if signal == "instructions" and ia is not None and ib is not None:
                evidence = (ia.job, ib.job)
            out.append(Regression(function, older, newer, "slower", detail, evidence, signal))
        sa, sb = (
            c.metric.of(CompileMetrics).module_bytes if c and c.status is Status.OK else None
            for c in (ca, cb)
        )
        if ca and cb and sa and sb and sb > sa * runs_view.SIZE_RATIO:
            detail = f"module {formats.ratio(sb / sa)} larger ({formats.size(sa)} → {formats.size(sb)})"
            out.append(Regression(function, older, newer, "larger", detail, (ca.job, cb.job), "size"))
    return out
