"""The proof that goes with a pick (`advise`): every configuration one knob away, timed against the pick
in paired rounds of one sitting and judged by `stats.paired`. A faster neighbour becomes the pick and
its own neighbourhood is timed, up to a step bound: a local search that ends at a certified local
optimum. A knob that pays only beside others (LLVM's loop vectorizer: 0.93x alone on QuartzNet, 1.8x
on top of data tiling) shows here, where a knob-alone ablation misses it. Pure: `Sit` times."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Optional

from iree_matrix.core.errors import StageSkipped
from iree_matrix.core.model import stats
from iree_matrix.core.model.configuration import BASELINE, Config
from iree_matrix.findings import arms, search
from iree_matrix.iree import compiler_options
from iree_matrix.iree.flags import BUILTIN_PROFILES, SEARCH_KNOBS, combine, compile_flags

# Steps of the local search, each a sitting of the centre and its ~15-20 neighbours; past the bound
# the search stops and says so.
MAX_STEPS = 3
ARCH = "x86_64"  # advise's target (matrix/advise.toml)
# Where a proof was sat: a run bundle's runner has no compiler, so its proof is one step and a
# faster neighbour is reported, not moved to (its own neighbourhood needs another bundle).
BUNDLE = "run bundle"


def accepted_knobs(release: str, knobs: Sequence[str] = SEARCH_KNOBS) -> tuple[str, ...]:
    """The knobs `release` accepts: the profile is for it, and its compiler lists every `--iree-*` flag
    of it (a release iree/compiler_options.json does not hold is not filtered)."""
    known = [k for k in knobs if k in BUILTIN_PROFILES]
    flags = [(k, _unskipped(compile_flags, release, ARCH, BUILTIN_PROFILES[k])) for k in known]
    return tuple(k for k, f in flags if f is not None and not compiler_options.unknown(release, f))


def _unskipped(make: Callable[..., list[str]], *args: Any) -> Optional[list[str]]:
    """`make(*args)`'s flags, or None where the compile stage skips the profile (`StageSkipped`)."""
    try:
        return make(*args)
    except StageSkipped:
        return None


def for_named_cpu(knobs: Sequence[str]) -> tuple[str, ...]:
    """The knobs that keep a build's named target CPU (a bundle's `--cpu`): a knob naming a CPU of
    its own (`avx2`: x86-64-v3) or none cannot combine with it, and the CPU is not a knob there."""
    return tuple(k for k in knobs if k not in BUILTIN_PROFILES or BUILTIN_PROFILES[k].target_cpu == "host")


def for_gpu(knobs: Sequence[str], release: str, target: str) -> tuple[str, ...]:
    """The knobs that compile for a GPU target (`cuda-sm_80`, `vulkan-spirv`): the compile stage's
    own rule (stages/compile.py `gpu_flags` skips a CPU profile: a named CPU, llvm-cpu flags, vmvx)."""
    from iree_matrix.iree import targets
    from iree_matrix.stages.compile import gpu_flags

    parsed, known = targets.parse(target), [k for k in knobs if k in BUILTIN_PROFILES]
    return tuple(k for k in known if _unskipped(gpu_flags, release, parsed, BUILTIN_PROFILES[k]) is not None)


def neighbours(centre: Config, knobs: Sequence[str]) -> list[Config]:
    """Every configuration one knob away from `centre`, its export variant kept: each knob added,
    dropped, or swapped for another of its group; only those whose knobs combine (`generic` combines
    with none, so its neighbours are the target CPUs it can be swapped for)."""
    dims = search.space(knobs)
    # The export variant stays the pick's: another export is another model file, not a knob.
    found = [c for c in search.neighbours(centre, dims, ()) if c.variant == centre.variant]
    in_dims = {o for d in dims for o in d.options}
    # A knob of the pick outside `knobs` (the release does not list it) can still be dropped.
    found += [Config.of(centre.knob_set - {k}, centre.variant) for k in sorted(centre.knob_set - in_dims)]
    return [c for c in dict.fromkeys(found) if c != centre and _combines(c)]


def _combines(config: Config) -> bool:
    """Whether a configuration's knobs combine (`flags.combine`): building one that does not stopped a
    whole `advise`. A knob the profiles do not know stays: its release's arm says so."""
    try:
        combine(config.profile, BUILTIN_PROFILES)
    except ValueError:
        return False
    except KeyError:  # a knob the profiles do not know: its release's arm says so
        return True
    return True


def change(centre: Config, neighbour: Config) -> str:
    """ "+ loop-vectorization", "− slp-vectorization", "data-tiling → dt-ukernels"."""
    added = Config(knobs=tuple(sorted(neighbour.knob_set - centre.knob_set))).profile  # "default": none
    dropped = Config(knobs=tuple(sorted(centre.knob_set - neighbour.knob_set))).profile
    if added != BASELINE and dropped != BASELINE:
        return f"{dropped} → {added}"
    if added != BASELINE:
        return f"+ {added}"
    return f"− {dropped}" if dropped != BASELINE else "(the same)"


@dataclasses.dataclass(frozen=True)
class Timed(arms.Rounds):
    """One arm of a step's sitting: a configuration and its CPU ms per call, round by round, or why
    it has none (its compile was skipped or failed, its outputs did not match torch)."""

    config: str
    ms: tuple[float, ...] = ()
    flags: tuple[str, ...] = ()
    module_sha256: str = ""
    matches: Optional[bool] = None
    error: str = ""
    same_as: str = ""  # a byte-identical module timed under another name

    @property
    def configuration(self) -> Config:
        """`config` typed: its export variant and knobs (`search.parse`, read here once for all)."""
        return search.parse(self.config)

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Timed:
        return cls(
            **{k: str(data.get(k) or "") for k in ("config", "module_sha256", "error", "same_as")},
            ms=tuple(float(x) for x in data.get("ms") or ()),
            flags=tuple(str(f) for f in data.get("flags") or ()),
            matches=data.get("matches"),
        )


# `other`'s time over the centre's: a byte-identical module is the same one even where either failed.
against = functools.partial(arms.pair, same_first=True)


@dataclasses.dataclass(frozen=True)
class Step:
    """One sitting of the local search: the centre and each neighbour timed in the same rounds, and each
    neighbour's paired verdict against the centre, taken once (`judged`) for every reader."""

    centre: Timed
    neighbours: tuple[Timed, ...]
    verdicts: tuple[Optional[stats.Paired], ...]  # verdicts[i]: neighbours[i] against the centre
    interrupted: bool = False  # Ctrl-C: the whole rounds so far, no verdict taken from them

    @classmethod
    def judged(cls, centre: Timed, neighbours: Sequence[Timed], interrupted: bool = False) -> Step:
        return cls(centre, tuple(neighbours), tuple(against(centre, n) for n in neighbours), interrupted)

    def judging(self) -> list[tuple[Timed, Optional[stats.Paired]]]:
        """Each neighbour with its verdict."""
        return list(zip(self.neighbours, self.verdicts))

    def verdict(self, neighbour: Timed) -> Optional[stats.Paired]:
        return self.verdicts[self.neighbours.index(neighbour)]

    @property
    def winner(self) -> Optional[Timed]:
        """The neighbour the paired verdict calls faster than the centre, the fastest of several
        (by the median of its rounds' ratios); None: the centre is a local optimum."""
        if self.interrupted or not self.centre.usable:
            return None
        faster = [
            (v.ratio, n.config, n) for n, v in self.judging() if v is not None and v.verdict == stats.FASTER
        ]
        return min(faster)[2] if faster else None

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Step:
        centre = Timed.of(data.get("centre") or {})
        return cls.judged(
            centre, [Timed.of(n) for n in data.get("neighbours") or ()], bool(data.get("interrupted"))
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "centre": self.centre.as_dict(),
            "neighbours": [n.as_dict() for n in self.neighbours],
            **({"interrupted": True} if self.interrupted else {}),
        }


LOCAL_OPTIMUM = "local optimum"


@dataclasses.dataclass(frozen=True)
class Proof:
    """A pick's local search: where it started, each step's sitting, and the step bound."""

    start: str
    steps: tuple[Step, ...]
    max_steps: int = MAX_STEPS
    source: str = ""  # BUNDLE: sat by a run bundle's runner (one step, no compiler there)

    @property
    def result(self) -> str:
        """The configuration the search ends at: the last step's winner (the bound stopped it), else
        its centre."""
        return self.start if not self.steps else (self.steps[-1].winner or self.steps[-1].centre).config

    @property
    def interrupted(self) -> bool:
        return bool(self.steps) and self.steps[-1].interrupted

    @property
    def certified(self) -> bool:
        """The result's whole neighbourhood was timed against it and none was faster beyond noise."""
        return bool(self.steps) and not self.interrupted and self.steps[-1].winner is None

    @property
    def stopped(self) -> str:
        if not self.steps:
            return "not timed"
        if self.interrupted:
            return "interrupted: no verdict from the last step"
        if self.certified:
            return LOCAL_OPTIMUM
        if self.source == BUNDLE:
            return "not a local optimum"
        return (
            f"the step bound ({self.max_steps} steps) stopped it: `{self.result}` beat `"
            f"{self.steps[-1].centre.config}` but its own neighbourhood was not timed"
        )

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Proof:
        return cls(
            str(data.get("start") or ""),
            tuple(Step.of(s) for s in data.get("steps") or ()),
            int(data.get("max_steps") or MAX_STEPS),
            str(data.get("source") or ""),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            **{k: getattr(self, k) for k in ("start", "result", "stopped", "max_steps")},
            "steps": [s.as_dict() for s in self.steps],
            **({"source": self.source} if self.source else {}),
        }

    def published(self) -> dict[str, Any]:
        """The proof as compat.json gives it: where it ended, why, and the last step's verdicts."""
        verdicts = [
            {
                "config": n.config,
                "time_over_pick": p.ratio if p is not None else None,
                "verdict": p.verdict if p is not None else None,
                "error": n.error,
            }
            for n, p in (self.steps[-1].judging() if self.steps else ())
        ]
        return {
            **{k: getattr(self, k) for k in ("start", "result", "certified", "stopped")},
            "steps": len(self.steps),
            "neighbours": verdicts,
        }


# (centre, its neighbours) -> the step (`Step.judged`): every arm built, checked and timed in one sitting.
Sit = Callable[[Config, Sequence[Config]], Step]


def local_search(
    start: Config, neighbours_of: Callable[[Config], Sequence[Config]], sit: Sit, max_steps: int = MAX_STEPS
) -> Proof:
    """From `start`, time the centre's neighbourhood and move to a neighbour faster beyond noise, at
    most `max_steps` sittings (each verdict that sitting's); stops on an interrupted step."""
    steps: list[Step] = []
    centre = start
    for _ in range(max(1, max_steps)):
        steps.append(step := sit(centre, neighbours_of(centre)))
        if (winner := step.winner) is None:  # a local optimum, or an interrupted step (no verdict)
            break
        centre = winner.configuration
    return Proof(str(start), tuple(steps), max(1, max_steps))


# --------------------------------------------------------------------------- words


def _verdict_text(p: Optional[stats.Paired], n: Timed) -> str:
    if n.error:
        return f"not timed: {n.error}"
    if n.matches is False:
        return "outputs do not match torch's"
    if p is None:
        return "not timed"
    if p.verdict == stats.SAME_MODULE:
        return "the same module (byte-identical: not timed)"
    if p.verdict == stats.FASTER:
        return f"FASTER (p = {p.p_value:.2g})"
    return f"slower (p = {p.p_value:.2g})" if p.verdict == stats.SLOWER else p.verdict


def rows(step: Step) -> list[tuple[str, str, str, str, str]]:
    """(change, configuration, time over the centre's, rounds' range, verdict) per neighbour,
    fastest first, those without a time last."""
    centre = step.centre.configuration
    out = []
    for n, p in step.judging():
        timed = p if p is not None and p.verdict != stats.SAME_MODULE else None
        figures = (f"{timed.ratio:.2f}×", f"{timed.low:.3g}–{timed.high:.3g}") if timed else ("–", "–")
        row = (change(centre, n.configuration), n.config, *figures, _verdict_text(p, n))
        out.append((timed.ratio if timed else float("inf"), row))
    return [row for _, row in sorted(out, key=lambda r: r[0])]


def summary(proof: Proof, answer: str = "", again: str = "", kernel: str = "") -> str:
    """One line: "a local optimum: none of 17 one-knob changes faster beyond noise (2 steps)". A proof
    of another configuration than `answer` says so first (a bundle proves the pick it carried); `kernel`:
    the one the answer adds, which the neighbours were timed without."""
    if answer and answer not in (proof.start, proof.result):
        return f"of `{proof.start}`, not of this answer (`{answer}`): {summary(proof, again=again)}"
    if not proof.steps:
        return "no neighbourhood timed"
    last = proof.steps[-1]
    timed = sum(1 for p in last.verdicts if p is not None)
    untimed = len(last.neighbours) - timed
    missing = f"; {untimed} could not be timed (see the table)" if untimed else ""
    missing += f"; each without the kernel `{kernel}` the answer adds" if kernel else ""
    steps = f"{len(proof.steps)} step{'s' if len(proof.steps) != 1 else ''}"
    moved = f"; from `{proof.start}`" if proof.result != proof.start else ""
    if proof.certified:
        none = f"none of its {timed} one-knob changes was"
        none = "its one one-knob change was not" if timed == 1 else none  # generic's: default alone
        return (
            f"`{proof.result}` is a local optimum: {none} faster "
            f"beyond noise in paired rounds against it ({steps}{moved}{missing})"
        )
    if proof.source == BUNDLE and not proof.interrupted:
        return not_optimum(proof, again)
    return f"`{proof.result}`: {proof.stopped} ({steps}{moved})"


def newest_of(pick: str, earlier: Sequence[tuple[tuple[str, str], Proof]]) -> Optional[tuple[str, Proof]]:
    """(sitting file, proof) of the newest certified proof of `pick` among `earlier` ((started, file),
    proof), which a `--no-proof` answer carries; `earlier` holds only its own kind (advice `_proved_as`)."""
    held = [(when, (when[1], proof)) for when, proof in earlier if proof.result == pick and proof.certified]
    return max(held, key=lambda found: found[0])[1] if held else None


def untimed(model: str, llvm_cpu: str = "", skipped: bool = False) -> str:
    """What an answer whose sitting timed no neighbourhood says of it (`skipped`: the sitting ran with
    `--no-proof`; else one made before picks were proved), and the two ways to time it on that CPU."""
    cpu = llvm_cpu or "LLVM_CPU"
    why = "skipped by --no-proof" if skipped else "it predates the pick's proof"
    return (
        f"not timed in this sitting ({why}): `iree-matrix advise {model}` on that "
        f"CPU times it, or without the tool there `iree-matrix bundle --advise {model} --cpu {cpu} --to DIR` "
        "and `python3 run.py` there"
    )


def not_optimum(proof: Proof, again: str = "") -> str:
    """A run bundle's proof that found a faster neighbour (no compiler there to time its neighbourhood):
    what to bundle next (`again`, where the bundle's `--picks` is not it)."""
    last = proof.steps[-1]
    if (winner := last.winner) is None:
        return f"`{last.centre.config}`: {proof.stopped}"
    p = last.verdict(winner)
    figures = f" (rounds {p.low:.3g}–{p.high:.3g})" if p is not None else ""
    ratio = f"{p.ratio:.2f}×" if p is not None else "less than"
    what = change(last.centre.configuration, winner.configuration)
    return (
        f"`{last.centre.config}` is not a local optimum: `{winner.config}` ({what}) takes {ratio} its "
        f"time{figures} in the bundle's paired rounds; "
        + (again or f"bundle again with it as the pick (`bundle --advise … --picks {winner.config}`)")
    )


def path_lines(proof: Proof) -> list[str]:
    """Each step that moved the pick: "step 1: `+ loop-vectorization` was faster (0.55×, rounds
    0.53–0.58): `data-tiling+…` became the pick"."""
    out: list[str] = []
    if proof.source == BUNDLE:  # no move there: the summary names the faster neighbour
        return out
    for i, step in enumerate(proof.steps, 1):
        if (winner := step.winner) is None:
            continue
        p = step.verdict(winner)
        what = change(step.centre.configuration, winner.configuration)
        figures = f" ({p.ratio:.2f}× its time, rounds {p.low:.3g}–{p.high:.3g})" if p is not None else ""
        out.append(
            f"step {i}: `{what}` on `{step.centre.config}` was faster{figures}: "
            f"`{winner.config}` became the pick"
        )
    return out


def table(proof: Proof) -> list[str]:
    """The last step's neighbourhood as Markdown: the certificate of a local optimum."""
    if not proof.steps:
        return []
    last = proof.steps[-1]
    head = f"| change to `{last.centre.config}` | configuration | time over its | rounds | verdict |"
    return [
        head,
        "|---|---|---|---|---|",
        *(f"| {c} | `{n}` | {r} | {s} | {v} |" for c, n, r, s, v in rows(last)),
    ]


def console_lines(proof: Proof, indent: str = "    ", answer: str = "") -> list[str]:
    """What `advise` prints under a function's answer: the summary, the moves and the table's rows."""
    out = [f"{indent}proof: {summary(proof, answer)}"]
    out += [f"{indent}  {line}" for line in path_lines(proof)]
    if proof.steps:
        for change_text, _, ratio, span, verdict in rows(proof.steps[-1]):
            figures = f"{ratio} (rounds {span})" if span != "–" else ""
            out.append(f"{indent}  {change_text:<40} {figures:<24} {verdict}".rstrip())
    return out


def estimate_seconds(step_seconds: float, count: int, rounds: int) -> float:
    """One step's sitting: the centre and `count` neighbours, each at about the centre's step (a
    round's seconds of one arm), for `rounds` rounds."""
    return step_seconds * (count + 1) * rounds
