"""The documents' sections, each registered with its rank: COMPATIBILITY.md and PERFORMANCE.md render
every section of theirs by rank and nothing else (`render`), so a section's place is its number.

A section a stage owns is a module here declaring `SECTION` (its name, document, rank, the stages whose
records it shows, its render over a `View`, and optionally a site `page`): a reader finds a heading's
code by its file name, and a new stage adds its module and edits nothing else. A document's sections
no stage owns are its `OWN` (compatibility.py, performance.py). A module without `SECTION` would be a
part another section renders."""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Callable, Optional

from iree_matrix.core import modules
from iree_matrix.core.model.results import Index, Record
from iree_matrix.findings import advice, compat
from iree_matrix.findings.search_descent import Descent
from iree_matrix.report.numbering import Numbering


class Document(enum.Enum):
    COMPATIBILITY = "COMPATIBILITY.md"
    PERFORMANCE = "PERFORMANCE.md"


@dataclasses.dataclass(frozen=True)
class Setting:
    """What a document is rendered for beyond its records: the stages' order, whether it is a run's own
    report (with the answers `advised` here and the `published` figures it relates to), the `tool`
    command, and the answers derived once (compat.json's document)."""

    stage_order: tuple[str, ...] = ()
    own: bool = False
    advised: tuple[advice.Chosen, ...] = ()
    published: tuple[Record, ...] = ()
    published_name: str = ""
    tool: str = "iree-matrix"
    answers: Optional[Mapping[str, Any]] = None


@dataclasses.dataclass(frozen=True)
class View:
    """What a section renders from: its document's newest records, the search's descents, the setting."""

    records: tuple[Record, ...]
    descents: tuple[Descent, ...] = ()
    setting: Setting = dataclasses.field(default_factory=Setting)

    @classmethod
    def of(
        cls, records: Iterable[Record], descents: Iterable[Descent] = (), setting: Optional[Setting] = None
    ) -> View:
        return cls(tuple(records), tuple(descents), setting or Setting())

    @functools.cached_property
    def index(self) -> Index:
        return Index.of(self.records)

    @functools.cached_property
    def numbered(self) -> Numbering:
        """The failures and refusals the document numbers, once for all its sections."""
        return Numbering.of(self.records, self.setting.stage_order)

    @functools.cached_property
    def answers(self) -> Mapping[str, Any]:
        """The answers derived from the records (compat.json's document), the setting's where given."""
        given = self.setting.answers
        return given if given is not None else compat.derive(self.records)


Lines = Callable[[View], list[str]]


def on_records(render: Callable[[Iterable[Record]], list[str]]) -> Lines:
    """A section's render that reads the view's records alone."""
    return lambda view: render(view.records)


@dataclasses.dataclass(frozen=True)
class Section:
    name: str  # its module's name, and its site page's (`<name>.html`)
    document: Document
    rank: int  # its place in its document: see each document's own ranks (`render`'s `own`)
    title: str  # its heading, as the document prints it
    stages: tuple[str, ...]  # the stages whose records it shows
    render: Lines  # its Markdown lines; [] when the records hold nothing of it
    page: Optional[Lines] = None  # its HTML on the site (a page of its own), if it has one


@functools.cache
def ordered() -> tuple[Section, ...]:
    """Every section of this package and of kernel/report/, by document and rank."""
    found = [getattr(module, "SECTION", None) for module in modules(__name__, "iree_matrix.kernel.report")]
    return tuple(sorted((s for s in found if s is not None), key=lambda s: (s.document.value, s.rank)))


def of(document: Document, own: Sequence[Section] = ()) -> tuple[Section, ...]:
    """The sections of `document`: its `own` (those no stage owns) and this package's, by rank."""
    found = sorted([*own, *(s for s in ordered() if s.document is document)], key=lambda s: s.rank)
    for earlier, later in zip(found, found[1:]):
        if earlier.rank == later.rank:
            raise RuntimeError(f"{document.value}: sections {earlier.name!r} and {later.name!r} share a rank")
    names = [s.name for s in found]
    if len(set(names)) < len(names):
        raise RuntimeError(f"{document.value}: two sections share a name ({', '.join(sorted(names))})")
    return tuple(found)


def render(document: Document, view: View, own: Sequence[Section] = ()) -> list[str]:
    return [line for section in of(document, own) for line in section.render(view)]


def refresh() -> None:
    """Forget the sections found (a test that adds a module to this package)."""
    ordered.cache_clear()
