"""COMPATIBILITY.md's "Answers": the windows, "Which IREE release should I use?", the regressions and
the identical exports, as Markdown — rendered from compat.json's document (a `View`'s `answers`) in
the words of findings/wording.py, which the site and `query` print too."""

from __future__ import annotations

from iree_matrix.findings import wording
from iree_matrix.report import markdown
from iree_matrix.report.sections import View

TITLE = "Answers"


def section(view: View) -> list[str]:
    document = view.answers
    return [
        f"## {TITLE}",
        "",
        *_windows(document),
        *_releases(document),
        *_regressions(document),
        *_identical(document),
    ]


def _windows(document: wording.Entry) -> list[str]:
    if not (found := wording.windows(document)):
        return []
    table = markdown.table(wording.WINDOW_HEADERS, [wording.window_row(w, document) for w in found])
    return [f"**{wording.WINDOWS}** {wording.WINDOWS_INTRO}", "", table, ""]


def _releases(document: wording.Entry) -> list[str]:
    if not (models := [m for m in document.get("models") or () if m["releases"]]):
        return []
    table = markdown.table(wording.RELEASE_HEADERS, [wording.release_row(m) for m in models])
    return [f"**{wording.RELEASE}** {wording.RELEASE_INTRO}", "", table, "", wording.overall(models), ""]


def _regressions(document: wording.Entry) -> list[str]:
    found = document.get("regressions") or ()
    head = [f"**{wording.REGRESSIONS}.** {wording.REGRESSIONS_INTRO}", ""]
    if not found:
        return [*head, wording.NO_REGRESSION, ""]
    return [*head, markdown.table(wording.REGRESSION_HEADERS, [wording.regression_row(r) for r in found]), ""]


def _identical(document: wording.Entry) -> list[str]:
    if not (lines := wording.identical(document)):
        return []
    return [f"**{wording.IDENTICAL}.** {wording.IDENTICAL_INTRO}", "", *(f"- {line}" for line in lines), ""]
