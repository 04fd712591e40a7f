"""Markdown that shows record text as text: HTML in a model name, a tool's message or an error class
(records arrive from other parties through merge and shards) is shown as text, wherever a section
put it.

Applied once to a whole document, as its last step, so that no section has to remember it: outside
code, `<` becomes `&lt;`, which a renderer shows as the character and which begins no tag, comment
or autolink (`&` and `>` begin none either, and stay as they are, readable in the raw file);
inside a fenced block or a code span a renderer shows the text literally already, and it is left
alone. Code is found as CommonMark finds it: a fence is a line of three or more backticks or tildes
(up to three spaces in), closed by a line of at least as many of the same character; a code span is
a run of backticks closed by the next run of exactly the same length on the line. Where this reading
and a renderer's could differ (a span a renderer joins across lines), the text is escaped: it then
shows an entity inside code, never a tag outside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from tabulate import tabulate

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_TICKS = re.compile(r"`+")


def no_html(document: str) -> str:
    """`document` with every `<` outside code written as `&lt;`."""
    out: list[str] = []
    fence = ""  # the opening fence's run while inside a fenced block
    for line in document.split("\n"):
        found = _FENCE.match(line)
        if fence:
            if (
                found
                and found.group(1)[0] == fence[0]
                and len(found.group(1)) >= len(fence)
                and (not line[found.end() :].strip())
            ):
                fence = ""
            out.append(line)
        elif found and not (found.group(1)[0] == "`" and "`" in line[found.end() :]):
            fence = found.group(1)
            out.append(line)
        else:
            out.append(_escape_line(line))
    return "\n".join(out)


def _escape_line(line: str) -> str:
    """One line outside a fence: escaped but for its code spans."""
    parts: list[str] = []
    at = 0
    while at < len(line):
        if (opening := _TICKS.search(line, at)) is None:
            break
        # Where the code span that `opening` begins ends (past its closing run, as wide), or None.
        width = len(opening.group())
        ends = (run.end() for run in _TICKS.finditer(line, opening.end()) if len(run.group()) == width)
        closing = next(ends, None)
        if closing is None:  # no closing run: its backticks are text
            parts.append(_escape(line[at : opening.end()]))
            at = opening.end()
            continue
        parts += [_escape(line[at : opening.start()]), line[opening.start() : closing]]
        at = closing
    parts.append(_escape(line[at:]))
    return "".join(parts)


def _escape(text: str) -> str:
    return text.replace("<", "&lt;")


def cell(value: Any) -> str:
    """Table-safe text: a newline or a bare `|` would end the row or add a column."""
    text = " ⏎ ".join(line.strip() for line in str(value).strip().splitlines())
    return re.sub(r"(?<!\\)\|", r"\\|", text)


def github_table(rows: Iterable[Iterable[Any]], headers: Sequence[str]) -> str:
    """A GitHub-flavoured table of the cells as written: every report table's one format."""
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)  # "3.10": no float


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured table of table-safe cells."""
    return github_table([[cell(v) for v in row] for row in rows], [cell(h) for h in headers])
