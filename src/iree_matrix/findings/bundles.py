"""Records that come home from a run bundle, checked before anything is written: `merge` takes them only
if every line is a readable record naming a consistent machine identity and a bundle this machine
made (or `--bundle` gives) whose cell of that job shipped exactly that module, with those labels.
Anything else is refused in one line naming the file, the line and the reason; nothing is merged."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.cache_layout import CacheLayout
from iree_matrix.core.errors import UserError
from iree_matrix.core.hashing import file_sha256
from iree_matrix.core.model.metrics.run import RunMetrics
from iree_matrix.core.model.results import Record, SchemaError
from iree_matrix.findings.runs_view import grouped_by
from iree_matrix.matrix import peers as peer_registry

BACKEND = "bundle"  # a bundle record's env.backend (bundle_runner/records.py `record`)
HEAD = "  run elsewhere by a bundle"  # how a view's block of them starts
MANIFEST = "bundle.json"  # execution/bundle.py MANIFEST: the runner copies it beside its records


class RefusedRecord(UserError):
    """A record from a bundle that cannot be taken: nothing is merged."""


@dataclasses.dataclass(frozen=True)
class Manifests:
    """The bundles this machine made (the cache keeps each manifest under its digest) and those given."""

    cache: Path
    given: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, cache: Path, bundles: Sequence[Path] = ()) -> Manifests:
        given: dict[str, Mapping[str, Any]] = {}
        for path in bundles:
            manifest = Path(path) / MANIFEST if Path(path).is_dir() else Path(path)
            try:
                given[file_sha256(manifest)] = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UserError(
                    f"merge --bundle {path}: not a bundle's folder or {MANIFEST} ({exc})"
                ) from None
        return cls(Path(cache), given)

    def get(self, digest: str) -> Optional[Mapping[str, Any]]:
        if digest in self.given:
            return self.given[digest]
        if not digest or not all(c in "0123456789abcdef" for c in digest):
            return None
        path = CacheLayout(self.cache).bundles / f"{digest}.json"
        try:
            if file_sha256(path) != digest:  # the kept copy itself was edited
                return None
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, Mapping) else None


def is_bundle_results(log: Path) -> bool:
    """A results log a bundle's runner wrote (its manifest copied beside the records): the caller
    names the log it is about to read."""
    return (Path(log).parent / MANIFEST).is_file() and Path(log).is_file()


def read(results: Path, manifests: Manifests) -> list[Record]:
    """Every record of a bundle's results file, each checked (module docstring); a `RefusedRecord`
    naming the first that fails."""
    records: list[Record] = []
    try:
        lines = results.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RefusedRecord(f"merge: {results}: unreadable ({exc})") from None
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"merge: {results}:{lineno}"
        try:
            record = Record.from_dict(json.loads(line))
        except SchemaError as exc:
            raise RefusedRecord(f"{where}: {exc}; nothing merged") from None
        except (ValueError, TypeError, KeyError) as exc:
            raise RefusedRecord(
                f"{where}: not a record ({type(exc).__name__}: {exc}); nothing merged"
            ) from None
        if why := problem(record, manifests):
            raise RefusedRecord(f"{where}: {record.job}: {why}; nothing merged")
        records.append(record)
    return records


def vouched(log: Path, records: Iterable[Record], manifests: Manifests) -> list[Record]:
    """The `records` of a log that is not a bundle's folder, each that says a run bundle ran it checked
    against that bundle (a folder without bundle.json once skipped every check)."""
    records = list(records)
    for record in records:
        if is_from_bundle(record) and (why := problem(record, manifests)):
            raise RefusedRecord(
                f"merge: {log}: {record.job}: says a run bundle ran it, and {why}; nothing merged"
            )
    return records


def problem(record: Record, manifests: Manifests) -> Optional[str]:
    """Why `record` cannot be taken from a bundle, or None."""
    if record.stage != "run":
        return f"a bundle records runs only, not {record.stage!r}"
    if record.env.get("backend") != BACKEND:
        return f"env.backend is {record.env.get('backend')!r}, not {BACKEND!r}: not a bundle's record"
    found = record.host
    if not found.recorded_identity or not found.family or not found.cpu_flags_sha256:
        return "no machine identity (host.identity, family, cpu_flags_sha256)"
    if not found.consistent:
        return "its identity string does not agree with the CPU fields it is made of"
    digest = str(record.env.get("bundle_sha256") or "")
    if (manifest := manifests.get(digest)) is None:
        return (
            f"names bundle {digest[:12] or '(none)'}, which this machine did not make: pass the bundle "
            "as shipped with --bundle DIR"
        )
    if (cell := next((c for c in manifest.get("cells", ()) if c.get("job") == record.job), None)) is None:
        return f"bundle {digest[:12]} has no cell {record.job}"
    if record.metric.of(RunMetrics).module_sha256 != cell.get("module_sha256"):
        return (
            f"module digest {str(record.metric.of(RunMetrics).module_sha256)[:12]} is not the one bundle "
            f"{digest[:12]} shipped ({str(cell.get('module_sha256'))[:12]})"
        )
    if dict(record.labels) != dict(cell.get("labels") or {}):
        return f"its labels differ from bundle {digest[:12]}'s cell"
    return None


# --------------------------------------------------------------------------- what a view says of them


def is_from_bundle(record: Record) -> bool:
    return record.stage == "run" and record.env.get("backend") == BACKEND


def where_ran(record: Record) -> str:
    """The machine a bundle's record ran on, as a reader names it: its CPU identity and, for a GPU
    cell, the GPU the runtime used."""
    text = record.host.label()
    gpus = record.host.gpus or ()
    devices = record.metric.of(RunMetrics).gpu_devices
    if record.metric.of(RunMetrics).device in ("cuda", "hip") and gpus:
        g = gpus[0]
        capability = g.get("compute_capability")
        text += f"; GPU {g.get('name')} (driver {g.get('driver')}, compute capability {capability})"
    elif devices and record.metric.of(RunMetrics).device not in ("", "local-sync"):
        text += f"; device {devices[0]}"
    return text


def lines(records: Sequence[Record], model: str) -> list[str]:
    """A model's cells run elsewhere by a bundle, by machine: target, release, verdict, figure."""
    from iree_matrix.core.formats import duration_ms

    own = [r for r in records if is_from_bundle(r) and model in (r.label.model, r.label.source_model)]
    out: list[str] = []
    for machine, found in sorted(grouped_by((where_ran(r), r) for r in own).items()):
        # merge proved the bundle, module, labels and identity; the status and figures are run.py's.
        out.append(f"{HEAD}, on {machine} (status and times as its run.py reported them):")
        for r in sorted(found, key=lambda r: (r.label.arch, r.label.profile, r.label.compiler)):
            what = f"{r.label.arch}/{r.label.profile} IREE {r.label.compiler}"
            if r.status.value == "ok":
                figure = r.metric.of(RunMetrics).cpu_time or r.metric.of(RunMetrics).latency
                kind = "one thread's CPU" if r.metric.of(RunMetrics).cpu_time else "wall"
                said = f"matches torch (max abs err {r.metric.of(RunMetrics).max_abs_err or 0:.2g})"
                if figure is not None and figure.median is not None:
                    said += f", {duration_ms(figure.median)} {kind} per call (n={figure.n})"
                timing = r.metric.of(RunMetrics).timing
                said += f" [{timing}]" if timing else ""
            else:
                said = f"{r.status.value}: {r.message or r.error_class or ''}"
            out.append(f"    {what}: {said}")
    return out


def missing_peers(entry: Mapping[str, Any]) -> tuple[str, ...]:
    """The function's `peers_missing` (bundle_runner/sitting.py: a peer whose package that Python
    could not import) in words, each with the command that adds it there."""
    given = [p for p in entry.get("peers_missing") or () if isinstance(p, Mapping)]
    named = [(str(p.get("name") or ""), str(p.get("package") or "")) for p in given]
    return tuple(
        f"{peer_registry.display(name)}: not importable where the sitting ran, so no ratio to it "
        f"(`python3 -m pip install {package}` there beside numpy, then run.py again)"
        for name, package in named
        if _PACKAGE.fullmatch(name) and _PACKAGE.fullmatch(package)
    )


_PACKAGE = re.compile(r"[A-Za-z0-9_.-]{1,40}")
