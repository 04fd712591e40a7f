"""results/answers/ANSWERS.md and README's first table: the published Advice (findings/advice.py),
one row per function and CPU identity, and "On GPUs" (findings/gpu_advice.py), each row from one
paired sitting."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Optional

from iree_matrix.bundle_runner import gpu_peers
from iree_matrix.core import formats
from iree_matrix.core.atomic_files import write_atomically
from iree_matrix.core.model import stats
from iree_matrix.core.model.configuration import Config
from iree_matrix.findings import advice, gpu_advice, neighbourhood
from iree_matrix.findings import gap as gaps
from iree_matrix.iree.flags import compile_line, flags_text
from iree_matrix.kernel.findings import kernel_trials
from iree_matrix.matrix import export_recipes as recipes
from iree_matrix.matrix import peers as peer_registry
from iree_matrix.matrix.models import split_recipe
from iree_matrix.report import markdown, markup

FILENAME = "ANSWERS.md"
PAGE = "What to take per model and CPU: release, flags, and how it compares"
# README's first table sits between these lines; a unit test checks it is this module's render.
README_BEGIN = "<!-- answers:begin (rendered from results/answers by `iree-matrix report`) -->"
README_END = "<!-- answers:end -->"


HEADERS = (
    "function",
    "CPU identity",
    "take",
    "one thread, per call",
    "vs `default`",
    "vs naive build",
    "vs torch eager",
    "vs the best peer",
)


def names(found: Sequence[advice.Advice]) -> dict[str, str]:
    """Each identity's name by key: its short name, with its CPU flags' digest where another identity
    shares it (two Zen 3 hosts with different flags would read alike with different figures)."""
    shorts = {a.identity.key: a.identity.short for a in found}
    flags = {a.identity.key: a.identity.host.cpu_flags_sha256 or "" for a in found}
    shared = Counter(shorts.values())
    return {
        k: f"{short} (flags {flags[k][:8]}…)" if shared[short] > 1 and flags[k] else short
        for k, short in shorts.items()
    }


def rows(found: Sequence[advice.Advice]) -> list[tuple[str, ...]]:
    """One row per function and identity: what to take, and how it compares, all one sitting's."""
    out: list[tuple[str, ...]] = []
    named = names(found)
    for a in _in_order(found):
        config = Config.parse(a.config).with_kernel(a.kernel_name)  # "im2col+k:dw"
        out.append(
            (
                advice.display_name(a),
                named[a.identity.key],
                f"IREE {a.release} {config}",
                formats.duration_ms(a.ms) if a.ms else "–",
                "is `default`"
                if a.config == "default"
                else advice.speedup_text(a.over_default, "", short=True),
                advice.speedup_text(a.over_naive, "", short=True),
                advice.times_text(a.vs_eager, "eager", short=True),
                advice.times_text(a.vs_peer, a.best_peer, short=True) if a.best_peer else "–",
            )
        )
    return out


def _in_order(found: Sequence[advice.Advice]) -> list[advice.Advice]:
    return sorted(found, key=lambda a: (advice.display_name(a), a.identity.short))


def table(found: Sequence[advice.Advice]) -> list[str]:
    """The answers' table; an unproved pick says so beside it, never reading as a proved one."""
    out = []
    for a, row in zip(_in_order(found), rows(found)):
        release, _, config = row[2].rpartition(" ")
        out.append((*row[:2], f"{release} `{config}`{_proof_mark(a)}", *row[3:]))
    return markdown.pipes(HEADERS, out)


def _proof_mark(a: advice.Advice) -> str:
    if a.proof is None:
        return " (not proved)"
    return "" if a.proof.certified else " (not proved: see its neighbourhood)"


def render(found: Sequence[advice.Advice], gpu: Sequence[gpu_advice.GpuAnswer] = ()) -> list[str]:
    return _render_cpu(found) + on_gpus(gpu)


def _render_cpu(found: Sequence[advice.Advice]) -> list[str]:
    if not found:
        return ["# The answer per function and GPU", ""]
    out = [
        "# The answer per function and CPU identity",
        "",
        "Rendered by `iree-matrix report` from the sittings in this folder (one folder per CPU identity,",
        "one `advice-MODEL.json` per model, made by `iree-matrix advise MODEL`). Every figure of a row is",
        "one thread's CPU time per call from **one** paired sitting on that identity: `default`, the",
        "published picks, the naive build (no target CPU: what turbine's `compile()` does), ONNX Runtime and",
        "torch eager timed in alternating rounds. A ratio is never carried to another CPU: on yours,",
        "`iree-matrix query model NAME` shows the nearest identity's row and `iree-matrix advise NAME`",
        "measures it there in minutes.",
        "",
        *table(found),
        "",
    ]
    named = names(found)
    for a in sorted(found, key=lambda a: (named[a.identity.key], advice.display_name(a))):
        out += [
            f"## {advice.display_name(a)} on {named[a.identity.key]}",
            "",
            f"{a.identity.label}; {a.sitting}; `{Path(a.source).name}`.",
            "",
            *_recipe_head(a),
            *_kernel_head(a),
            "```sh",
            *([a.kernel.build] if a.kernel is not None and a.kernel.build else []),
            *kernel_trials.compile_lines(a),
            *_kernel_run(a),
            "```",
            "",
            f"- {advice.speedup_text(a.over_default, '`default`')}; "
            f"{advice.speedup_text(a.over_naive, 'the naive build')}",
            f"- {advice.times_text(a.vs_eager, 'torch eager')}",
        ]
        if a.best_peer and a.best_peer != "torch eager":
            out.append(f"- {advice.times_text(a.vs_peer, a.best_peer)}")
        if tried := [p for p in a.picks_tried if p != a.config]:
            out.append(f"- also tried in the sitting: {', '.join(f'`{p}`' for p in tried)}")
        out += [f"- the other release, same sitting: {advice.rival_text(r, a.release)}" for r in a.rivals]
        for f in a.fleet:
            out.append(f"- for a fleet of `{f.cpu}`: `{flags_text(f.flags)}` — {advice.fleet_text(f)}")
        out += [f"- {kernel_trials.kernel_text(trial)}" for trial in a.kernel_trials]
        out += ["", *_proof(a), *_gap(a)]
    return out


def _recipe_head(a: advice.Advice) -> list[str]:
    """A model exported by a recipe: the model.mlir its commands compile is that export."""
    model, recipe = split_recipe(a.model)
    if not recipe:
        return []
    said = f"`model.mlir` is {model} exported by the recipe `{recipe}` ({recipes.describe(recipe)}), as "
    return [said + f"`iree-matrix advise '{a.model}'` exports it.", ""]


def _kernel_head(a: advice.Advice) -> list[str]:
    """An answer with a kernel names it and its files before the commands that build and use it."""
    if a.kernel is None:
        return []
    where = f" (`{a.kernel.directory}`: its kernel.toml, sources and spec)" if a.kernel.directory else ""
    return [f"With the kernel `{a.kernel.kernel}`{where}: build its object, then compile with it:", ""]


def _kernel_run(a: advice.Advice) -> list[str]:
    """The runtime flags a module with the kernel runs only with (its plugin, a bigger worker stack)."""
    if a.kernel is None or not a.kernel.run_flags:
        return []
    return [f"# run model.vmfb with: iree-run-module {' '.join(a.kernel.run_flags)} --module=model.vmfb ..."]


def gpu_headers() -> tuple[str, ...]:
    """The GPU table's columns: one "vs" column per GPU peer (bundle_runner/gpu_peers/)."""
    peers = tuple(f"vs {p.display}" for p in gpu_peers.ordered())
    ours = ("model", "GPU (identity, driver)", "release", "chip flag", "matches torch", "IREE, per call")
    return (*ours, *peers, "sitting")


def _gpu_ratio(ratio: Optional[advice.Ratio], error: str, software: bool, other: str) -> str:
    if software:
        return "– (software device)"
    if ratio is None:
        return f"not measured ({error})" if error else "not measured"
    if ratio.paired.verdict == stats.SAME_MODULE:
        return f"as fast as {other} (the same module)"
    return advice.times_text(ratio, other, short=True)


def gpu_rows(found: Sequence[gpu_advice.GpuAnswer]) -> list[tuple[str, ...]]:
    """One row per function and GPU, all one sitting's; a GPU where no IREE arm matched torch says so."""
    out: list[tuple[str, ...]] = []
    for a in sorted(found, key=lambda a: (a.model, a.function, a.identity.key)):
        name = a.model if a.function in ("", "main", a.model) else f"{a.model}.{a.function}"
        sitting = f"{a.sitting}; `{Path(a.source).name}`"
        if not a.answered:
            cells: tuple[str, ...] = ("–", "–", f"❌ no: {a.why}", "–", *("–" for _ in a.peers))
        else:
            ratios = (_gpu_ratio(x.ratio, x.error, a.identity.software, x.peer.config) for x in a.peers)
            cells = (f"IREE {a.release}", f"`{a.chip_flag}`", "✅ yes", gpu_advice.ms_text(a), *ratios)
        out.append((name, a.identity.label, *cells, sitting))
    return out


def on_gpus(found: Sequence[gpu_advice.GpuAnswer]) -> list[str]:
    """ANSWERS.md's "On GPUs": the table, the arms that are not the answer, the neighbourhoods."""
    if not found:
        return []
    out = [
        "## On GPUs",
        "",
        "Rendered from the GPU sittings in this folder (one folder per GPU, made by a run bundle on it:",
        "`iree-matrix bundle --advise MODEL --target cuda:sm_80 --to DIR`, `python3 run.py` there,",
        "`iree-matrix merge RESULTS --to results`). Every figure of a row is the synchronised wall time",
        "per call (outputs read back) from **one** paired sitting on that GPU: each release's module for",
        f"each chip, {peer_registry.listed([p.described for p in gpu_peers.ordered()])} timed in alternating "
        "rounds. A ratio is",
        "never carried to another GPU; a software device's row says how it runs, not how fast a GPU is.",
        "",
        markdown.table(gpu_headers(), gpu_rows(found)),
        "",
    ]
    if wrong := [(a, e) for a in found for e in a.excluded]:
        ordered = sorted(wrong, key=lambda p: (p[0].model, p[0].identity.key, p[1].release, p[1].target))
        out += ["Arms of these sittings that are not the answer:", ""]
        out += [*(f"- {a.model} on {a.identity.short}: {e.text()}" for a, e in ordered), ""]
    return out + _gpu_proofs(found)


def _gpu_proofs(found: Sequence[gpu_advice.GpuAnswer]) -> list[str]:
    """Each GPU answer's neighbourhood: every one-knob change timed against it, or that none was."""
    answered = sorted((a for a in found if a.answered), key=lambda a: (a.model, a.function, a.identity.key))
    out: list[str] = []
    for a in answered:
        name = a.model if a.function in ("", "main", a.model) else f"{a.model}.{a.function}"
        out += [f"{name} on {a.identity.short}, IREE {a.release} {a.target}: {gpu_advice.proof_text(a)}.", ""]
        table = neighbourhood.table(a.proof) if a.proof is not None else []
        out += [*table, ""] if table else []
    return out


def _proof(a: advice.Advice) -> list[str]:
    """The pick's neighbourhood: every one-knob change timed against it in one sitting, and its steps."""
    if a.proof is None:
        return [f"Neighbourhood: {neighbourhood.untimed(a.model, a.proof_cpu, a.proof_skipped)}.", ""]
    earlier = f" Timed in an earlier sitting of this pick: `{a.proof_from}`." if a.proof_from else ""
    out = [f"Neighbourhood: {neighbourhood.summary(a.proof, a.config, kernel=a.kernel_name)}.{earlier}", ""]
    if moves := neighbourhood.path_lines(a.proof):
        out += [*(f"- {line}" for line in moves), ""]
    table = neighbourhood.table(a.proof)
    return out + ([*table, ""] if table else [])


# A one-dispatch reproducer of a function's gap sits beside its identity's sittings, written by
# `benchmarks/dispatch_tuning.py --reproducer IDENTITY/reproducers/NAME` (MLIR and the two commands).
REPRODUCERS = "reproducers"


def _gap(a: advice.Advice) -> list[str]:
    """Where an answer that trails the best peer beyond gaps.GAP spends the difference, op kind by op
    kind; a trailing answer without a profile says so, so a missing explanation is never silent."""
    ratio = a.vs_peer.value if a.vs_peer is not None else None
    if not gaps.trails(ratio):
        return []
    head = f"Where the gap to {a.best_peer} is ({ratio:.2f}× its time)"
    if a.gap is None:
        why = f": {a.gap_error}" if a.gap_error else " in this sitting (`iree-matrix advise` profiles it)"
        return [f"{head}: not profiled{why}.", ""]
    out = [f"{head}: {gaps.summary(a.gap)}.", "", *gaps.table(a.gap), ""]
    if a.gap.dispatches:
        out += [f"IREE's slowest dispatches in context: {gaps.dispatches_text(a.gap)}.", ""]
    if not split_recipe(a.model)[1]:  # the model's own export: a recipe that rewrites what holds the gap
        said = [
            f"`{r}` exports {does}: `iree-matrix advise '{a.model}{recipes.SEP}{r}'`"
            for r, does in gaps.recipes_for(a.gap)
        ]
        out += [f"Next: {'; '.join(said)}.", ""] if said else []
    source = Path(a.source)
    if (reproducer := source.parent / REPRODUCERS / f"{advice.display_name(a)}.md").is_file():
        out += [
            f"One-dispatch reproducer (MLIR and the two commands): "
            f"[{reproducer.name}]({source.parent.name}/{REPRODUCERS}/{reproducer.name}).",
            "",
        ]
    return out


def write(root: Path) -> Optional[Path]:
    """ANSWERS.md of `root` (results/answers), when it holds sittings."""
    found = advice.published(root)
    gpu = gpu_advice.published(root)
    if not found and not gpu:
        return None
    out = root / FILENAME
    write_atomically(out, "\n".join(render(found, gpu)).rstrip() + "\n")
    return out


def readme_block(root: Path) -> list[str]:
    """README's first table: the identity with the most proved answers, then the most answers (README
    stays a page however many CPUs answer), and a line naming the others."""
    found = advice.published(root)
    counts = Counter(a.identity.key for a in found)
    proved = Counter(a.identity.key for a in found if a.proof is not None and a.proof.certified)
    shown = max(counts, key=lambda key: (proved[key], counts[key], key)) if counts else ""
    named = names(found)
    others = {
        named[a.identity.key]: (counts[a.identity.key], counts[a.identity.key] - proved[a.identity.key])
        for a in found
        if a.identity.key != shown
    }

    def said(n: int, unproved: int) -> str:
        return f"{n} function{'' if n == 1 else 's'}" + (f", {unproved} not proved" if unproved else "")

    also = ", ".join(f"{name} ({said(*n)})" for name, n in sorted(others.items()))
    text = f"Also answered, each in its own sitting ([every row](results/answers/ANSWERS.md)): {also}."
    # one paragraph, no line over 190 characters (README's bar is 200), however many CPUs answer
    line = ["", *textwrap.wrap(text, 190, break_long_words=False, break_on_hyphens=False)] if others else []
    return [README_BEGIN, *_readme_table([a for a in found if a.identity.key == shown]), *line, README_END]


README_HEADERS = (
    "function",
    "take ([its flags: ANSWERS.md](results/answers/ANSWERS.md))",
    "one thread, per call",
    "vs `default`",
    "vs the best peer",
)


def _readme_table(found: Sequence[advice.Advice]) -> list[str]:
    """README's narrow table of one identity: the release, how many knobs and which kernel; the exact
    flags are in ANSWERS.md (the wide table's configurations made lines of 250-350 characters)."""
    if not found:
        return []
    host = found[0].identity.host
    isa = f" ({host.isa})" if host.isa else ""
    headers = (f"function, on {found[0].identity.short}{isa}", *README_HEADERS[1:])
    out = []
    for a, row in zip(_in_order(found), rows(found)):
        config = a.configuration
        shown = f"{len(config.knob_set)} knobs" + (f" of `@{config.variant}`" if config.variant else "")
        take = f"IREE {a.release} " + (f"`{a.config}`" if len(a.config) <= 30 else shown)
        if a.kernel is not None:
            take += f" + kernel `{a.kernel.kernel}`"
        out.append((row[0], take + _proof_mark(a), row[3], row[4], row[7]))  # the exact flags: ANSWERS.md
    return markdown.pipes(headers, out)


def with_readme_block(text: str, root: Path) -> str:
    """README's text with its answers block rendered again; unchanged without the markers."""
    if README_BEGIN not in text or README_END not in text:
        return text
    head, _, rest = text.partition(README_BEGIN)
    _, _, tail = rest.partition(README_END)
    return head + "\n".join(readme_block(root)) + tail


def write_readme(readme: Path, root: Path) -> bool:
    """Render README's answers block in place; True when README changed."""
    if not readme.is_file():
        return False
    text = readme.read_text(encoding="utf-8")
    if (new := with_readme_block(text, root)) == text:
        return False
    write_atomically(readme, new)
    return True


def html_body(found: Sequence[advice.Advice], gpu: Sequence[gpu_advice.GpuAnswer] = ()) -> list[str]:
    """The site's page: the CPU table with each answer's exact flags, then the GPUs'."""
    return _cpu_html(found) + _gpu_html(gpu)


def _gpu_html(found: Sequence[gpu_advice.GpuAnswer]) -> list[str]:
    if not found:
        return []
    rows = [tuple(cell.replace("`", "") for cell in row) for row in gpu_rows(found)]
    body = [
        "<h2>On GPUs</h2>",
        "<p>Every figure of a row is the synchronised wall time per call from one paired sitting of a run "
        "bundle on the GPU it names; a software device's row says how it runs, not how fast a GPU is.</p>",
        markup.table(gpu_headers(), rows),
    ]
    wrong = [
        f"<li>{markup.e(a.model)} on {markup.e(a.identity.short)}: {markup.e(e.text())}</li>"
        for a in found
        for e in a.excluded
    ]
    proofs = [
        f"<li>{markup.e(a.model)} on {markup.e(a.identity.short)}, IREE {markup.e(a.release)} "
        f"{markup.e(a.target)}: {markup.e(gpu_advice.proof_text(a).replace('`', ''))}</li>"
        for a in found
        if a.answered
    ]
    return body + [f"<ul>{''.join(items)}</ul>" for items in (wrong, proofs) if items]


def _cpu_html(found: Sequence[advice.Advice]) -> list[str]:
    if not found:
        return []
    body = [
        "<p class=lead>Every figure of a row is one thread's CPU time per call from one paired sitting on "
        "the CPU it names (<code>iree-matrix advise MODEL</code>); ratios do not carry between CPUs.</p>",
        markup.table(HEADERS, rows(found)),
    ]
    named = names(found)
    for a in found:
        body.append(f"<h2>{markup.e(advice.display_name(a))} on {markup.e(named[a.identity.key])}</h2>")
        body.append(f"<p>{markup.e(a.identity.label)}; {markup.e(a.sitting)}</p>")
        body.append(f"<pre>{markup.e(compile_line(a.flags))}</pre>")
    return body
