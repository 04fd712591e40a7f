"""Markdown that shows record text as text (records arrive from other parties through merge and
shards): `no_html` runs once over a whole document and writes `<` as `&lt;` outside code, leaving
fenced blocks and code spans (found as CommonMark finds them) alone; where this reading and a
renderer's could differ, the text is escaped: an entity inside code, never a tag outside it."""

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
            # a closing fence: the opening's character, as long or longer, nothing after it
            closing = found.group(1) if found and not line[found.end() :].strip() else ""
            if closing[:1] == fence[0] and len(closing) >= len(fence):
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


def pipes(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A table's lines with its cells as given: the caller made them table-safe."""
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


def github_table(rows: Iterable[Iterable[Any]], headers: Sequence[str]) -> str:
    """A GitHub-flavoured table of the cells as written: every report table's one format."""
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)  # "3.10": no float


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured table of table-safe cells."""
    return github_table([[cell(v) for v in row] for row in rows], [cell(h) for h in headers])
