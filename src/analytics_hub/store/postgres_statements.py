"""Statements handed to ``PostgresStore.fetch``: ``?`` placeholders and the first keyword.

Every dialect writes ``?`` for a bound value (the contract of
:class:`analytics_hub.query.dialects.base.Compiled`); PostgreSQL's own placeholders are
``$1, $2, ...``. :func:`numbered` rewrites one into the other with a small scanner that
knows where a ``?`` is *not* a placeholder: inside string literals, quoted identifiers,
dollar-quoted text and comments. Executed through psycopg's ``RawCursor``, the text
then needs no ``%`` escaping either.

The scanner also yields the statement's first keyword, which ``fetch`` uses to run
only queries (``SELECT`` or ``WITH``); the read-only session does the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_WORD = re.compile(r"[A-Za-z_]+")


@dataclass(frozen=True, slots=True)
class Numbered:
    """A statement with ``$n`` placeholders, how many it has, and its first keyword."""

    sql: str
    placeholders: int
    keyword: str


def _skip_quoted(text: str, start: int, quote: str) -> int:
    """Index just past the literal or identifier opened at ``start`` (doubled quotes
    stay inside it)."""
    i = start + 1
    while True:
        end = text.find(quote, i)
        if end < 0:
            return len(text)
        if text.startswith(quote * 2, end):
            i = end + 2
            continue
        return end + 1


def numbered(text: str) -> Numbered:
    """Rewrite the ``?`` placeholders of ``text`` as ``$1, $2, ...``."""
    out: list[str] = []
    count = 0
    keyword = ""
    i, n, last = 0, len(text), 0
    while i < n:
        ch = text[i]
        if ch in "'\"":
            i = _skip_quoted(text, i, ch)
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif ch == "$" and (m := _DOLLAR_TAG.match(text, i)) and not text[i + 1 : i + 2].isdigit():
            end = text.find(m.group(0), m.end())
            i = n if end < 0 else end + len(m.group(0))
        elif ch == "?":
            count += 1
            out.append(text[last:i])
            out.append(f"${count}")
            i += 1
            last = i
        else:
            if not keyword and (w := _WORD.match(text, i)):
                keyword = w.group(0).upper()
                i = w.end()
                continue
            i += 1
    out.append(text[last:])
    return Numbered("".join(out), count, keyword)


__all__ = ["Numbered", "numbered"]
