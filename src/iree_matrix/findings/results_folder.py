"""A results folder read once for one command: its records, the answers and GPU answers published in
it, the paired verdicts and calibration beside it, and the package's published results its views
relate to. Each part is read when first asked for and kept; the domain modules parse a file they
are handed and open no folder themselves."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any, Optional

from iree_matrix.core.model import results
from iree_matrix.findings import advice, calibration, gpu_advice, identities, paired, search_descent
from iree_matrix.findings.runs_view import cross_checked, grouped_by

_UNSET = Path("\0unset")  # `load`'s default: the package's published results, looked up once there


def package_results() -> Optional[Path]:
    """The published results the package carries (results/ in a checkout), or None where it carries
    none (a broken install): the one place a command names them."""
    from iree_matrix.core import shipped

    try:
        return shipped.results_dir()
    except FileNotFoundError:
        return None


def read(source: Path, published: Optional[Path] = _UNSET) -> list[results.Record]:
    """A results log as every view reads it: each record with the `compare` verdicts beside it, its
    latencies cross-checked against the other published logs when `source` is one of `published`'s
    (default: the package's). Each log is parsed once per process while unchanged."""
    records = paired.attach(list(results.read_log(source)), paired.read(Path(source).parent))
    _say_unknown_stages(source, records)
    root = package_results() if published is _UNSET else published
    if root is None or root.resolve() not in Path(source).resolve().parents:
        return cross_checked(records)
    root = root.resolve()
    others = {
        str(log.parent.relative_to(root.parent)): list(results.latest_by_job(results.read_log(log)).values())
        for log in results.logs_under(root)
        if log.resolve() != Path(source).resolve()
    }
    return cross_checked(records, others)


def _say_unknown_stages(source: Path, records: list[results.Record]) -> None:
    """A warning for the records of a stage this iree-matrix has none of (written by a newer one, or
    by hand): no view shows them, which said nothing before."""
    from iree_matrix import __version__, stages

    known = {*stages.names(), *results.RECORD_ONLY_STAGES}
    unknown = grouped_by((r.stage, r) for r in records if r.stage not in known)
    for stage, those in sorted(unknown.items()):  # each said once per process, as a skipped line is
        writers = sorted({r.tool_version for r in those if r.tool_version} - {__version__})
        by = f"; iree-matrix {', '.join(writers)} wrote them: read them with it" if writers else ""
        results.warn_once(
            str(source),
            f"{len(those)} record(s) of stage {stage!r}, which iree-matrix {__version__} does not have "
            f"(its stages: {', '.join(sorted(known))}): not shown{by}",
        )


@dataclasses.dataclass(frozen=True)
class Results:
    """One results folder, each part read once when first asked for (module docstring)."""

    directory: Path
    published: Optional[Path]  # the package's published results (results/), None where none ships

    @property
    def source(self) -> Path:
        """The folder's results log."""
        return results.log_path(self.directory)

    @functools.cached_property
    def records(self) -> list[results.Record]:
        """The records as every view reads them (`read`)."""
        return read(self.source, self.published)

    @functools.cached_property
    def logged(self) -> tuple[results.Record, ...]:
        """The records as logged, not cross-checked (BOARDS.md)."""
        return results.read_log(self.source)

    @functools.cached_property
    def checked(self) -> list[results.Record]:
        """Every record as logged, or a `RecordError` naming the first line that is no record: for a
        command that acts on what the records say (`reproduce` runs their cells)."""
        return results.ResultsLog(self.source).checked()

    @functools.cached_property
    def advised(self) -> list[advice.Advice]:
        """The answers per function and CPU identity published in the folder (its answers/)."""
        return advice.published(self.directory / advice.DIRNAME)  # none where it has no answers/

    @functools.cached_property
    def gpu_advised(self) -> list[gpu_advice.GpuAnswer]:
        """The answers per function and GPU published in the folder (its answers/)."""
        return gpu_advice.published(self.directory / advice.DIRNAME)

    @property
    def answer_roots(self) -> list[Path]:
        """The published answers' folders a question reads: this folder's answers/, then the
        package's (each folder once, as it was first named)."""
        roots = [d / advice.DIRNAME for d in (self.directory, self.published) if d is not None]
        return [r for i, r in enumerate(roots) if r.resolve() not in {o.resolve() for o in roots[:i]}]

    @functools.cached_property
    def gathered(self) -> list[advice.Advice]:
        """Every answer `query` and a run's report choose from: `advise`'s own unpublished sittings first
        (here and in runs/advise), the newest of each model and CPU, then the published ones."""
        from iree_matrix.findings.publish import run_dir

        own = dict.fromkeys([self.directory, run_dir(Path(advice.MATRIX))])
        found = advice.sittings(path for d in own for path in sorted(d.glob(f"{advice.FILE_PREFIX}*.json")))
        return found + [a for root in self.answer_roots for a in advice.published(root)]

    @functools.cached_property
    def gpu_gathered(self) -> list[gpu_advice.GpuAnswer]:
        """The published GPU answers a question reads (`answer_roots`)."""
        return [a for root in self.answer_roots for a in gpu_advice.published(root)]

    @property
    def only_sittings(self) -> bool:
        """A folder `merge` made of sittings only (answers/<identity>/, no log of its own)."""
        return not self.source.is_file() and (self.directory / advice.DIRNAME).is_dir()

    @functools.cached_property
    def sitting_records(self) -> list[results.Record]:
        """The records that travelled with each sitting published here (answers/<identity>/'s logs)."""
        logs = results.logs_under(self.directory / advice.DIRNAME, "*")
        return [r for log in logs for r in read(log, self.published)]

    @functools.cached_property
    def compared(self) -> list[Any]:
        """The `compare A B` verdicts kept beside the log (paired.py)."""
        return paired.read(self.directory)

    @functools.cached_property
    def descents(self) -> list[search_descent.Descent]:
        """A flag search's walks kept here (search.json), [] without them."""
        return search_descent.read_descents(self.directory)

    @functools.cached_property
    def calibration(self) -> Optional[dict[str, Any]]:
        """What `calibrate --out` left here, if anything."""
        return calibration.read(self.directory / calibration.FILENAME)

    @property
    def is_published(self) -> bool:
        """Whether this is one of the package's published sets (results/…), not a run's folder."""
        return self.published is not None and self.published.resolve() in self.source.resolve().parents

    def published_speed(self, sets: str, reference: str) -> tuple[list[results.Record], str]:
        """The published speed figures (of the sets `sets` matches) a run's report relates its own to:
        the set of this CPU's identity if published, else `reference`; none for a published set itself."""
        from iree_matrix.core.system import host

        if self.is_published or self.published is None:
            return [], reference
        found: list[results.Record] = []
        for log in results.logs_under(self.published.resolve(), sets):
            records = list(results.latest_by_job(read(log, self.published)).values())
            if identities.main_identity(records) == host.identity():
                return records, log.parent.name
            if log.parent.name == reference:
                found = records
        return found, reference

    def inputs(self) -> list[Path]:
        """Every file the folder's report is rendered from, beside the renderer's code: its log and
        calibration, and the published logs and answers it relates its figures to."""
        own = [self.source, self.directory / calibration.FILENAME]
        if self.published is None or not self.published.is_dir():
            return own
        answers = sorted(self.published.glob(f"{advice.DIRNAME}/*/*.json"))
        return [*own, *results.logs_under(self.published), *answers]


def load(directory: Path, published: Optional[Path] = _UNSET) -> Results:
    """The results folder `directory`, related to `published` (default: the package's results)."""
    return Results(Path(directory), package_results() if published is _UNSET else published)


def under(root: Path, folders: str = "**", published: Optional[Path] = _UNSET) -> list[Results]:
    """The results folders under `root` that hold a log and whose path `folders` (a glob, as
    `results.logs_under` takes it) matches, sorted."""
    return [load(log.parent, published) for log in results.logs_under(root, folders)]
