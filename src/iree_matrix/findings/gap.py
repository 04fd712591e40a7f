"""Where an answer's gap to the best peer is: the op kinds and dispatches that hold most of it, from
IREE's and the peer's in-context profiles (same machine, inputs and threads), ops grouped by what they
compute (iree/opkinds.py). The profiles are taken minutes apart, so each side's kinds are read as
shares of its profiled sum scaled to its median in the paired sitting (`scaled`), where load falls on
both alike."""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Mapping
from typing import Any, Optional

from iree_matrix.core.formats import duration_ms
from iree_matrix.core.formats import ratio as ratio_text
from iree_matrix.iree import opkinds
from iree_matrix.matrix import export_recipes as recipes
from iree_matrix.matrix import models
from iree_matrix.matrix import peers as peer_registry

GAP = 1.2  # IREE's pick takes more than this times the best peer's time (issue 92): it names the kinds
SLOW = 3.0  # IREE taking more than this times the best peer's time: the function's next step is said
TOP_KINDS = 3  # the kinds an answer names (the table lists them all)
# Op kinds an export recipe takes off IREE's slow path, and that recipe: IREE lowers `topk` to a sort
# of each whole row, which the `rewrite` recipe replaces by k rounds of a reduction where k is small
# (scripts/export_rewrites.py; a kNN block 0.85 -> 0.12 ms on a Zen 4).
RECIPES = {"sort": ("fx+rewrite", "a `topk` of k <= 16 as k rounds of a reduction, not a sort of each row")}

# torch-mlir's adaptive average pool: a gather in a reduction over an i1 window, which IREE does not
# vectorise; torch's decomposition makes it a mean, 5x faster alone (MobileNetV3-small's pools).
POOL_GATHER = re.compile(r"_reduction_[0-9x]+_i1x")
POOL_RECIPE = (
    "fx+decompose",
    "each adaptive average pool as torch decomposes it (a mean), not torch-mlir's gather",
)
# The least share of the gap the pools' kind holds for the recipe to be named and followed: 86 % in
# MobileNetV3-small's (its recipe: 1.07x ONNX Runtime, not 1.56x), 3 % in MobileNetV2's (1.13x, 1.12x).
POOL_SHARE = 0.1
TOP_DISPATCHES = 3  # IREE's slowest dispatches in context an answer names
# The peer whose per-op profile is compared, in order of preference: ONNX Runtime profiles every
# node of the same graph; torch eager's ATen ops do not fuse, so its kinds differ by construction.
REFERENCES = ("onnxruntime", "eager")


def op_kind_times(profile: Any, framework: str, custom: str = "kernel") -> Optional[dict[str, float]]:
    """An `op_profile` (IREE's dispatches, or a peer's ops) summed per op kind, ms per call; a dispatch
    IREE did not make (a kernel's, no `_dispatch_` in its name) is of the `custom` kind."""
    if not isinstance(profile, Mapping):
        return None
    classify = opkinds.CLASSIFIERS[framework]
    rows = profile.get("dispatches") if framework == "iree" else profile.get("ops")
    if not isinstance(rows, list):
        return None
    kinds: dict[str, float] = {}
    for row in rows:
        name = str(row.get("name") or row.get("op") or "")
        kind = _iree_kind(name, custom) if framework == "iree" else classify(name, row.get("weight_shape"))
        kinds[kind] = kinds.get(kind, 0.0) + float(row.get("ms_per_call") or 0.0)
    return kinds


# Attention is one op on one side and matmuls + softmax on the other when an export decomposed it
# or a framework runs it unfused (ONNX Runtime runs torch's exported attention as MatMul, Softmax):
# then only the three together compare.
ATTENTION_PARTS = ("attention", "matmul", "softmax")


def comparable_kinds(
    iree: Mapping[str, float], reference: Mapping[str, float]
) -> tuple[dict[str, float], dict[str, float]]:
    """Both sides' ms per op kind, in kinds that compare: where only one side has an attention kind,
    attention, matmul and softmax are one entry on both (an unfused framework's attention is no zero)."""
    ours, theirs = dict(iree), dict(reference)
    if ("attention" in ours) != ("attention" in theirs):
        merged = "+".join(ATTENTION_PARTS)
        for side in (ours, theirs):
            side[merged] = sum(side.pop(k, 0.0) for k in ATTENTION_PARTS)
    return ours, theirs


def kind_gaps(iree: Mapping[str, float], reference: Mapping[str, float]) -> list[tuple[float, str]]:
    """(IREE's ms − the reference's ms, op kind) per comparable kind (`comparable_kinds`), largest first."""
    ours, theirs = comparable_kinds(iree, reference)
    return sorted(((ours.get(k, 0.0) - theirs.get(k, 0.0), k) for k in {*ours, *theirs}), reverse=True)


@dataclasses.dataclass(frozen=True)
class Kind:
    kind: str
    iree_ms: float
    peer_ms: float

    @property
    def difference(self) -> float:
        return self.iree_ms - self.peer_ms


@dataclasses.dataclass(frozen=True)
class Dispatch:
    name: str  # the executable's function, `main$async_dispatch_61_matmul_49x160x960_f32`
    kind: str
    ms: float  # per call, in context


@dataclasses.dataclass(frozen=True)
class Gap:
    """IREE's pick against one peer, op kind by op kind, both profiled in context."""

    peer: str  # the peer's registry name (`onnxruntime`)
    config: str  # the pick that was profiled
    release: str
    threads: int  # both profiles' thread count
    kinds: tuple[Kind, ...]  # every comparable kind, largest difference first
    dispatches: tuple[Dispatch, ...]  # IREE's slowest dispatches in context
    run_job: str = ""  # the profiled run's job id (its record is the sitting's evidence)
    # (IREE's ms, the peer's ms) of the paired sitting the kinds were scaled to; None: as profiled
    scale: Optional[tuple[float, float]] = None
    gathers: tuple[str, ...] = ()  # its adaptive pools' gathers (POOL_GATHER), the slowest or not

    @property
    def difference(self) -> float:
        """The profiled sums' difference: what the kinds share out."""
        return sum(k.difference for k in self.kinds)

    def leading(self) -> list[Kind]:
        """The kinds that hold the gap: those IREE spends more on, most first, at most TOP_KINDS."""
        return [k for k in self.kinds if k.difference > 0][:TOP_KINDS]

    def scaled(self, iree_ms: Optional[float], peer_ms: Optional[float]) -> Gap:
        """The kinds as shares of each side's profiled sum times that side's paired median (the
        dispatches by IREE's factor); unchanged when a median or a profiled sum is missing."""
        ours, theirs = sum(k.iree_ms for k in self.kinds), sum(k.peer_ms for k in self.kinds)
        if not iree_ms or not peer_ms or ours <= 0 or theirs <= 0:
            return self
        a, b = iree_ms / ours, peer_ms / theirs
        kinds = sorted(
            (Kind(k.kind, k.iree_ms * a, k.peer_ms * b) for k in self.kinds), key=lambda k: -k.difference
        )
        dispatches = tuple(dataclasses.replace(d, ms=d.ms * a) for d in self.dispatches)
        return dataclasses.replace(self, kinds=tuple(kinds), dispatches=dispatches, scale=(iree_ms, peer_ms))

    def answering(
        self, config: str, release: str, iree_ms: Optional[float], peer_ms: Optional[float]
    ) -> Optional[Gap]:
        """This gap at an answer's paired scale (`scaled`) when it was profiled for the answer's
        configuration and release; None when for another (a proof moved the pick since)."""
        return self.scaled(iree_ms, peer_ms) if (self.config, self.release) == (config, release) else None

    def to_json(self) -> dict[str, Any]:
        """Its fields, the kinds and dispatches as lists, `scale` a list or null, `gathers` if any."""
        fields = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items() if v or k != "gathers"}

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Optional[Gap]:
        """A stored gap, or None when it is not one (a received sitting is data: nothing is trusted)."""
        try:
            kinds = tuple(
                Kind(str(k["kind"]), float(k["iree_ms"]), float(k["peer_ms"])) for k in data["kinds"]
            )
            dispatches = tuple(
                Dispatch(str(d["name"]), str(d["kind"]), float(d["ms"])) for d in data.get("dispatches") or ()
            )
            return cls(
                **{k: str(data[k]) for k in ("peer", "config", "release")},
                threads=int(data["threads"]),
                kinds=kinds,
                dispatches=dispatches,
                run_job=str(data.get("run_job") or ""),
                scale=_pair(data.get("scale")),
                gathers=tuple(map(str, data.get("gathers") or ())),
            )
        except (KeyError, TypeError, ValueError):
            return None


def _pair(value: Any) -> Optional[tuple[float, float]]:
    if value is None:
        return None
    first, second = value  # anything else is not a stored gap: Gap.of's except drops it
    return float(first), float(second)


def measure(
    iree_profile: Any,
    peer_results: Mapping[str, Any],
    *,
    config: str,
    release: str,
    threads: int,
    run_job: str = "",
    custom: str = "kernel",
) -> tuple[Optional[Gap], str]:
    """The gap of one profiled pick (its run's `op_profile`) against the first profiled peer of
    REFERENCES among `peer_results` (the peer stage's per-peer metrics): the gap, or None and why."""
    if (iree := op_kind_times(iree_profile, "iree", custom)) is None:
        why = iree_profile.get("unavailable") if isinstance(iree_profile, Mapping) else None
        return None, f"IREE {release}'s runtime gave no in-context profile" + (f": {why}" if why else "")
    vocabulary = peer_registry.op_profiled()
    for name in REFERENCES:
        entry = peer_results.get(name)
        if name not in vocabulary or not isinstance(entry, Mapping) or entry.get("status") != "ok":
            continue
        if (theirs := op_kind_times(entry.get("op_profile"), vocabulary[name])) is None:
            continue
        ours, reference = comparable_kinds(iree, theirs)
        kinds = tuple(Kind(k, ours.get(k, 0.0), reference.get(k, 0.0)) for _, k in kind_gaps(iree, theirs))
        rows = iree_profile.get("dispatches") or []
        slowest = sorted(rows, key=lambda r: -float(r.get("ms_per_call") or 0.0))[:TOP_DISPATCHES]
        dispatches = tuple(_dispatch(str(r.get("name")), r.get("ms_per_call"), custom) for r in slowest)
        gathers = tuple(n for r in rows if POOL_GATHER.search(n := str(r.get("name"))))
        return Gap(name, config, release, threads, kinds, dispatches, run_job, gathers=gathers), ""
    return None, "no peer profiled per op (" + ", ".join(REFERENCES) + ")"


def _iree_kind(name: str, custom: str) -> str:
    """An IREE dispatch's op kind; one IREE did not make (a kernel's, named by its spec's export) is
    `custom`, the kernel's. IREE names its executables MODULE_dispatch_N_..., and data tiling's operand
    packing _encoding_N_encode_..."""
    return opkinds.of_dispatch(name) if re.search(r"_dispatch_|^_encoding_\d+_encode_", name) else custom


def _dispatch(name: str, ms: Any, custom: str = "kernel") -> Dispatch:
    return Dispatch(name, _iree_kind(name, custom), float(ms or 0.0))


# --------------------------------------------------------------------------- wording (once)


def summary(gap: Gap) -> str:
    """One sentence: where IREE spends the time the peer does not."""
    peer = peer_registry.display(gap.peer)
    # A kind's share of all the time IREE spends beyond the peer, kind by kind (the kinds where the
    # peer spends more, such as a convolution IREE lowered to a matmul, are not netted against it).
    excess = sum(k.difference for k in gap.kinds if k.difference > 0)
    named = [
        f"{k.kind} {duration_ms(k.iree_ms)} against {duration_ms(k.peer_ms)} (+{duration_ms(k.difference)}"
        + (f", {k.difference / excess:.0%} of IREE's excess)" if excess > 0 else ")")
        for k in gap.leading()
    ]
    if not named:
        return f"profiled in context, no op kind takes IREE longer than {peer}: the gap is outside the ops"
    total = f"+{duration_ms(gap.difference)}" if gap.difference > 0 else duration_ms(gap.difference)
    how = "both profiled in context" + (f" on {gap.threads} thread(s)" if gap.threads else "")
    if gap.scale is not None:
        how += (
            f", each side's op-kind shares scaled to its one-thread median of the paired sitting "
            f"({duration_ms(gap.scale[0])} against {duration_ms(gap.scale[1])})"
        )
    return f"against {peer}, {how}; {total} per call in all: " + "; ".join(named)


def dispatches_text(gap: Gap) -> str:
    """IREE's slowest dispatches in context, the names an IREE developer looks for."""
    return "; ".join(f"`{d.name.split('$')[-1]}` ({d.kind}) {duration_ms(d.ms)}" for d in gap.dispatches)


def table(gap: Gap) -> list[str]:
    """ANSWERS.md's table under the sentence: every comparable kind, IREE's pick against the peer."""
    peer = peer_registry.display(gap.peer)
    out = [f"| op kind | IREE {gap.release} `{gap.config}` | {peer} | difference |", "|---|---|---|---|"]
    for k in gap.kinds:
        sign = "+" if k.difference > 0 else ""
        cells = (k.kind, duration_ms(k.iree_ms), duration_ms(k.peer_ms), sign + duration_ms(k.difference))
        out.append("| " + " | ".join(cells) + " |")
    return out


def trails(ratio: Optional[float]) -> bool:
    """Whether an answer taking `ratio` times the best peer's time must name its gap."""
    return ratio is not None and ratio > GAP


def recipes_for(gap: Optional[Gap]) -> list[tuple[str, str]]:
    """The recipes for the kinds that hold `gap` (its leading kind's first) and for the slow forms its
    dispatches show (an adaptive pool's gather, if POOL_SHARE of it), each with what it does."""
    if gap is None:
        return []
    found = [RECIPES[k.kind] for k in gap.leading() if k.kind in RECIPES]
    pooled = bool(gap.gathers) or any(POOL_GATHER.search(d.name) for d in gap.dispatches)
    pooled &= sum(k.difference for k in gap.kinds if k.kind == "reduction") >= POOL_SHARE * gap.difference
    return list(dict.fromkeys(found + [POOL_RECIPE] * pooled))


def leads_on(function: str, times: Optional[float], peer: str, gap: Optional[Gap], *then: str) -> list[str]:
    """The line a function taking more than SLOW `times` its best peer's time gets (a run's summary,
    `query model`, `advise`): where the gap is, then each next step of `then`; none under SLOW."""
    if times is None or times <= SLOW:
        return []
    where = [f"where the gap is: {summary(gap)}"] if gap else []
    return [f"  {function}: " + "; ".join([f"IREE takes {ratio_text(times)} {peer}'s time", *where, *then])]


def next_routes(command: str, argument: str, gap: Gap, answered: Mapping[str, str] = {}) -> list[str]:  # noqa: B006
    """The export recipes that rewrite what holds `gap`, each as `command` of the model `argument` names
    exported by it, or its answer (`answered`); none where that model is a recipe's export already."""
    reference, *options = shlex.split(argument)
    if models.split_recipe(reference)[1]:
        return []
    out = []
    for recipe, does in recipes_for(gap):
        exported = reference + recipes.SEP + recipe  # the model that recipe's export is
        routed, said = shlex.join([exported, *options]), answered.get(exported)
        how = f"its answer: {said} (`iree-matrix query model {routed}`)" if said else ""
        out.append(f"      next: `{recipe}` exports {does}: {how or f'`{command} {routed}` times it'}")
    return out
