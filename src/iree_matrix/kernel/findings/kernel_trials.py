"""A user's kernel tried in an answer's sitting (`advise --kernel`): its arm against the configuration
it was swapped into, whether the answer takes it, and how that is said and kept."""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core import shipped
from iree_matrix.core.model import stats
from iree_matrix.core.model.configuration import Config
from iree_matrix.findings.arms import Arm, Ratio, paired
from iree_matrix.iree.flags import compile_line
from iree_matrix.kernel.iree.custom_dispatch import TRANSFORM_SPEC_FLAG
from iree_matrix.kernel.kernels import GENERATED, SPEC_FILE


@dataclasses.dataclass(frozen=True)
class KernelTrial:
    """A user's kernel swapped into the answer's configuration (`base`), timed in its sitting."""

    kernel: str
    base: str
    against_base: Optional[Ratio]  # the kernel arm's time over `base`'s (< 1: the kernel is faster)
    flags: tuple[str, ...] = ()  # iree-compile's: the base's, the kernel's requires_flags, spec, search path
    directory: str = ""  # the kernel's directory (its kernel.toml, sources and spec)
    build: str = ""  # the command that builds its object there (the kernel job's)
    object: str = ""  # where the sitting's machine stored the object it built
    applied: Optional[bool] = None  # False: its spec matched nothing (no module of its own to time)
    matches: Optional[bool] = None  # False: its outputs differ from torch's
    error: str = ""  # why it has no times
    taken: bool = False
    run_flags: tuple[str, ...] = ()  # the runtime tools': a plugin kernel's plugin, the kernel's run_flags
    outrun_by: str = ""  # faster than its base, yet another build was faster still: "the naive build"

    @classmethod
    def of(cls, arm: Arm, base: Arm) -> KernelTrial:
        return cls(
            arm.kernel,
            base.config,
            paired(base, arm),
            arm.flags,
            arm.kernel_dir,
            in_subshell(arm.kernel_build),
            arm.kernel_object,
            arm.applied,
            arm.matches,
            arm.error,
            run_flags=arm.kernel_run,
        )

    @property
    def faster(self) -> bool:
        """Faster than its base beyond noise, applied and matching torch: the only arm an answer takes."""
        faster = (r := self.against_base) is not None and r.paired.verdict == stats.FASTER
        return faster and self.applied is not False and self.matches is not False and not self.error


def with_kernel(
    chosen: Arm, kernel_arms: Sequence[Arm]
) -> tuple[Arm, Arm, Optional[KernelTrial], list[KernelTrial]]:
    """The answer with a kernel where one wins (the fastest faster than the configuration alone): the arm
    answered, its configuration alone, the trial taken, and every trial."""
    trials = [KernelTrial.of(k, chosen) for k in kernel_arms]
    if not (winners := [(k, t) for k, t in zip(kernel_arms, trials) if t.faster]):
        return chosen, chosen, None, trials
    arm, taken = min(winners, key=lambda w: w[0].median or float("inf"))
    taken = dataclasses.replace(taken, taken=True)
    return arm, chosen, taken, [taken if t.kernel == taken.kernel else t for t in trials]


def kernel_text(trial: KernelTrial) -> str:
    """A kernel timed with the answer's configuration, and why it is or is not taken."""
    head = f"kernel `{trial.kernel}` with `{trial.base}`"
    if trial.applied is False:
        return f"{head}: not applied (its spec matched nothing in this model): never taken ({trial.error})"
    if trial.matches is False:
        return f"{head}: its outputs differ from torch's: never taken ({trial.error or 'mismatch'})"
    if trial.error or (r := trial.against_base) is None:
        return f"{head}: not timed ({trial.error or 'it did not run here'}): not taken"
    p = r.paired
    if trial.taken:
        return (
            f"{head}: {1 / r.value:.2f}× faster than `{trial.base}` alone (takes {r.value:.2f}× its time, "
            f"{r.span()}, {p.rounds} paired rounds, p = {p.p_value:.2g}): taken"
        )
    if p.verdict == stats.SLOWER:
        return f"{head}: takes {r.value:.2f}× `{trial.base}`'s time alone ({r.span()}), slower: not taken"
    if p.verdict == stats.FASTER:  # faster, yet not taken: another kernel or build was faster still
        beaten = trial.outrun_by or "another kernel"
        return f"{head}: {r.value:.2f}× `{trial.base}`'s time ({r.span()}), faster; {beaten} was faster still"
    return (
        f"{head}: {r.value:.2f}× `{trial.base}`'s time alone ({r.span()}; {p.verdict}): no faster "
        "beyond noise, not taken"
    )


REPO = shipped.kernels_dir().parent  # where a shipped kernel's directory (kernels/NAME) is


def compile_lines(a: Any) -> list[str]:
    """An answer's iree-compile line, after the command that writes a generated kernel spec it names."""
    if a.kernel is None or (flags := shown_flags(a.flags, a.kernel.directory)) == list(a.flags):
        named = [f.split("=", 1)[1] for f in a.flags if f.startswith(f"{TRANSFORM_SPEC_FLAG}=")]
        if gone := [s for s in named if not (REPO / s).is_file()]:  # a spec file the kernel no longer ships
            said = f"since gone: `iree-matrix advise {a.model}` times the kernel as it is"
            return [f"# measured with {gone[0]}, {said}", compile_line(a.flags)]
        return [compile_line(a.flags)]
    config = Config.parse(a.config)
    made = f"--release {a.release} --profile {config.profile} --kernel {a.kernel.directory} > {SPEC_FILE}"
    return [f"iree-matrix kernel spec {config.model(a.model)} {made}", compile_line(flags)]


def shown_flags(flags: Sequence[str], directory: str) -> list[str]:
    """`flags` with a generated spec's record spelling (kernels/NAME/generated, no file) as the file
    `iree-matrix kernel spec` writes, so published flags name what a user can make."""
    generated = f"{TRANSFORM_SPEC_FLAG}={directory}/{GENERATED}"
    return [f"{TRANSFORM_SPEC_FLAG}={SPEC_FILE}" if f == generated else f for f in flags]


def ratio_json(r: Optional[Ratio]) -> Optional[dict[str, Any]]:
    """A paired ratio as compat.json and a sitting's `kernel_proof` give it."""
    if r is None:
        return None
    p = r.paired
    return {"ratio": p.ratio, "low": p.low, "high": p.high, "rounds": p.rounds, "verdict": p.verdict}


def kernel_json(trial: KernelTrial) -> dict[str, Any]:
    """A kernel trial as compat.json and a sitting's `kernel_proof` give it."""
    return {
        "kernel": trial.kernel,
        "base": trial.base,
        "time_over_base": ratio_json(trial.against_base),
        **{k: getattr(trial, k) for k in ("taken", "applied", "matches", "error")},
        "flags": shown_flags(trial.flags, trial.directory),
        **{k: getattr(trial, k) for k in ("directory", "build", "object")},
        **({"run_flags": list(trial.run_flags)} if trial.run_flags else {}),
        **({"outrun_by": trial.outrun_by} if trial.outrun_by else {}),
    }


def placed(text: str, directory: str) -> str:
    """`text` (a taken kernel's build line or flags) with its directory absolute where it lies here, so
    the command runs from anywhere; as kept where it lies elsewhere or would need quoting."""
    if not directory or Path(directory).is_absolute():
        return text
    roots = (Path.cwd(), shipped.scripts_dir().parent)
    found = next((root / directory for root in roots if (root / directory).is_dir()), None)
    if found is None or shlex.quote(str(found.resolve())) != str(found.resolve()):
        return text
    return re.sub(rf"(?<![\w./-]){re.escape(directory)}(?=[/\s)'\"]|$)", str(found.resolve()), text)


def in_subshell(build: str) -> str:
    """A kernel's build line in a subshell, so the shell comes back to where the compile's paths start."""
    return f"({build})" if build.startswith("cd ") else build
