"""The published answers in words, worded once: each question, the sentence that explains how it was
decided, and a table's cells, from compat.json's document. COMPATIBILITY.md, the site and `query`
print them; a `code span` and **bold** are the one markup."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Optional

from iree_matrix.core import formats
from iree_matrix.core.model import stats
from iree_matrix.findings import release_regressions, runs_view
from iree_matrix.matrix import export_recipes as recipes

Entry = Mapping[str, Any]  # one item of a compat.json list ("models", "windows", "regressions" …)

# --- which compilers' modules each runtime loads ----------------------------------------------------

WINDOWS = "Can runtime B load a module built by compiler A?"
WINDOWS_INTRO = (
    "Each runtime release was given the modules of every compiler release (the functions in the cross "
    "tables). A window is the range from the oldest to the newest compiler whose modules the runtime "
    "loaded; every cell that contradicts a contiguous range is listed. A runtime's own modules say what "
    "it expects (VM bytecode version, HAL module version, feature bits), read from the .vmfb."
)
WINDOW_HEADERS = ("runtime", "its own modules", "loads modules from compilers", "refuses", "contradictions")


def windows(document: Entry) -> list[Entry]:
    """The windows worth a row: a runtime no run reached (its install failed, e.g. a compiler release
    without a runtime release of the same version) has none, and the failures say why."""
    return [w for w in document.get("windows") or () if w["loads"] or w["refuses"]]


def window_row(window: Entry, document: Entry) -> list[str]:
    versions = (document.get("module_versions") or {}).get(window["runtime"])
    names = {"bytecode": "bytecode ", "hal": "hal ≥", "features": "features "}
    low, high = window["low"], window["high"]
    return [
        window["runtime"],
        ", ".join(f"{names[k]}{versions[k]}" for k in names if k in versions) if versions else "not read",
        f"{low}–{high}" if window["loads"] and low != high else (low or "none"),
        ", ".join(window["refuses"]) or "—",
        "; ".join(window["contradictions"]) or "none",
    ]


# --- which release should I use ---------------------------------------------------------------------

RELEASE = "Which IREE release should I use?"
RELEASE_INTRO = (
    "Per model (all its functions, its reference exporter, each module run by its own release's runtime, "
    "IREE's `default` flags): the newest release where every function compiles and matches torch; the "
    "fastest correct release, named only from paired rounds against the newest (`iree-matrix compare "
    "NEWEST OTHER`, kept beside the log) or from one quiet sitting's one-thread CPU times on one "
    f"identified CPU where it beats the newest by more than {runs_view.NOISE_RATIO}× (this "
    "machine's noise between sittings); the smallest module. Which flags to take with a release on a "
    "given CPU is another question, answered per function by `iree-matrix query model MODEL`."
)
RELEASE_HEADERS = (
    "model",
    "releases that pass",
    "newest passing",
    "its latency per call",
    "fastest correct, `default` flags",
    "smallest module",
)
MEASURED = "measured"  # the site's column: when and where the newest passing release's figures were taken
NOT_DECIDED = "not decided (no paired rounds, no quiet sitting of one identified CPU)"


def _ms(ms: Optional[float], noisy: bool = False) -> str:
    return "" if ms is None else f"{'~' if noisy else ''}{formats.duration_ms(ms)}"


def latency(release: Optional[Entry]) -> str:
    """A release's latency per call, each function apart (a prefill and a decode step are two
    figures, not one sum); `~` before a noisy one."""
    if release is None:
        return ""
    timed = release.get("timings") or ()
    if len(timed) <= 1:
        return _ms(release.get("latency_ms"), bool(release.get("noisy")))
    return "; ".join(f"{t['function'].split('.', 1)[-1]}: {_ms(t['ms'], t['noisy'])}" for t in timed)


def measured(release: Optional[Entry]) -> str:
    """When and where a release's figures were taken, and why they are noisy if they are."""
    if not (timed := (release or {}).get("timings") or ()):
        return ""
    why = "; ".join(t.get("why_noisy") or "" for t in timed if t["noisy"] and t.get("why_noisy"))
    when: str = timed[0]["measured"]
    return when + (f" — noisy: {why}" if why else "")


def fastest(model: Entry) -> str:
    """The fastest correct release of one model, against the newest passing one, and on what it was
    decided — or why nothing decided it."""
    newest, found, basis = model.get("newest_passing"), model.get("fastest"), model.get("fastest_basis") or ""
    if newest is None:
        return "—"
    if found is not None and model.get("fastest_ratio"):
        ratio = formats.ratio(model["fastest_ratio"])
        return f"{found['compiler']} ({ratio} faster than {newest['compiler']}, {basis})"
    if basis:
        return f"none faster than {newest['compiler']} beyond noise ({basis})"
    return NOT_DECIDED if newest.get("latency_ms") is not None else "not timed"


def release_row(model: Entry) -> list[str]:
    newest, smallest = model.get("newest_passing"), model.get("smallest")
    size = smallest.get("module_bytes") if smallest else None
    return [
        model["model"],
        f"{len(model['passing'])} of {len(model['releases'])}",
        newest["compiler"] if newest else "none",
        latency(newest),
        fastest(model),
        f"{smallest['compiler']} ({formats.size(size)})" if smallest and size is not None else "—",
    ]


def overall(models: Sequence[Entry]) -> str:
    """The newest release every model that passes anywhere passes on, and the models no release
    passes (with their export recipes that do)."""
    passing = [set(m["passing"]) for m in models if m.get("newest_passing") is not None]
    common = set.intersection(*passing) if passing else set()
    every = runs_view.sorted_versions(common)[-1] if common else "none"
    never = [m["model"] for m in models if m.get("newest_passing") is None]
    said = {m: _passing_recipes(m, models) for m in never}
    named = [
        f"`{m}` as exported (recipes that pass: {', '.join(r)})" if r else f"`{m}`" for m, r in said.items()
    ]
    tail = f" No release passes {('; ' if any(said.values()) else ', ').join(named)}." if never else ""
    return (
        "Overall, the newest release where every model that passes anywhere passes (which release works "
        f"with `default` flags, not which is fastest): **{every}**.{tail}"
    )


def _passing_recipes(model: str, models: Iterable[Entry]) -> list[str]:
    """The export recipes of a model no release passes that pass in the same records, each with its
    oldest passing release (the model alone read as if nothing could run it)."""
    split = [(e, *recipes.split(e["model"])) for e in models if e.get("newest_passing") is not None]
    return [
        f"`{e['model']}` from {runs_view.sorted_versions(e['passing'])[0]}"
        for e, base, recipe in split
        if base == model and recipe
    ]


# --- regressions ------------------------------------------------------------------------------------

REGRESSIONS = "Regressions between consecutive releases"
REGRESSIONS_INTRO = (
    "Each module run by its own runtime: a function that passed and then fails; slower by the paired test "
    "where the two releases were timed in interleaved rounds (`iree-matrix compare OLDER NEWER`, kept "
    "beside the log: it decides over the medians); else, for two figures of one identified CPU, a latency "
    f"up by more than {runs_view.NOISE_RATIO}× where neither figure is noisy, or — with a noisy "
    f"one — where the newer release's fastest repetition is over {runs_view.LOADED_RATIO:g}× the "
    "older's slowest (more than contention explains), or more instructions per call; a timing of a "
    f"record that names no CPU family/model, or of fewer than {stats.MIN_REPETITIONS} repetitions (too "
    f"few for an interval), decides nothing; a module more than {runs_view.SIZE_RATIO - 1:.0%} larger."
)
REGRESSION_HEADERS = ("function", "releases", "kind", "what", "decided by", "evidence")
NO_REGRESSION = "None found."


def regression_row(found: Entry) -> list[str]:
    subject = release_regressions.subject(found["function"], found.get("profile") or "default")
    return [
        subject,
        f"{found['older']} → {found['newer']}",
        found["kind"],
        found["detail"],
        found.get("signal") or "",
        f"`{found['evidence'][1]}`",
    ]


# --- exporters that write the same MLIR ---------------------------------------------------------------

IDENTICAL = "Exporters that write the same MLIR"
IDENTICAL_INTRO = (
    "Byte-identical exports share one compile and one run per compiler (the store keys them by "
    "content), so their rows agree by construction:"
)


def identical(document: Entry) -> list[str]:
    """A sentence per function exported by several environments: which wrote the same MLIR."""
    groups = document.get("identical_exports") or ()
    exporters: dict[str, int] = {}
    for g in groups:
        exporters[g["function"]] = exporters.get(g["function"], 0) + len(g["exporters"])
    out = []
    for function in sorted(f for f, n in exporters.items() if n > 1):
        if not (same := [g for g in groups if g["function"] == function and len(g["exporters"]) > 1]):
            out.append(f"`{function}`: every exporter wrote different MLIR.")
        for g in same:
            names = ", ".join(f"`{e}`" for e in g["exporters"])
            out.append(f"`{function}`: {names} (sha256 {g['sha256'][:12]}…)")
    return out
