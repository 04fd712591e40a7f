"""The site's HTML pieces every page uses: text escaped once, a table, and a sentence of the answers'
words (findings/wording.py) with its `code spans` as `<code>` and its **bold** as `<b>`."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import Any

_SPAN = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def e(value: Any) -> str:
    """Text as HTML text (quotes too: it may stand in an attribute)."""
    return html.escape(str(value), quote=True)


def words(text: str) -> str:
    """Plain words with `code spans` and **bold**, as escaped markup with `<code>` and `<b>`."""
    return _BOLD.sub(r"<b>\1</b>", _SPAN.sub(lambda m: f"<code>{m[1]}</code>", e(text)))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], raw: Sequence[int] = ()) -> str:
    """An HTML table; columns listed in `raw` are already markup."""
    head = "".join(f"<th>{words(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{v if i in raw else e(v)}</td>" for i, v in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
