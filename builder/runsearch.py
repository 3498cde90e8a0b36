"""What the runs list's search box finds: words and whole values of a run's trigger data and error.

A run's terms are written with it (its trigger data) and when it fails (its error), lower-cased
and cut to TERM_LENGTH. A query matches a run when each of its words begins a term of the run, so
`alice` finds `alice@example.com`, `list` finds "List not found", and a run id finds its run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

TERM_LENGTH = 100
#: Enough for any realistic trigger; a payload of thousands of values is searched by its first.
MAX_TERMS = 200
MAX_QUERY_WORDS = 5
_WORD = re.compile(r"[^\s\"'“”‘’()\[\]{},;:<>]+")
_EDGE = ".!?…-_/"


def words(text: str) -> list[str]:
    """Split text into lower-cased words, keeping emails, ids and dotted names whole."""
    # NUL is no character of any word, and PostgreSQL text cannot hold it.
    found = (word.strip(_EDGE) for word in _WORD.findall(text.casefold().replace("\x00", " ")))
    return [word[:TERM_LENGTH] for word in found if word]


def _values(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > 20:
        return
    if isinstance(value, dict):
        for item in value.values():
            yield from _values(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _values(item, depth + 1)
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, (str, int, float)):
        yield str(value)


def terms_of(payload: Any = None, error: str = "") -> list[str]:
    """Return the distinct terms of a trigger payload and an error text, at most MAX_TERMS."""
    found: dict[str, None] = {}

    def add(terms: Iterable[str]) -> None:
        for term in terms:
            if len(found) >= MAX_TERMS:
                return
            found.setdefault(term, None)

    for value in _values(payload):
        whole = value.replace("\x00", "").strip().casefold()[:TERM_LENGTH]
        if whole:
            add([whole])
        if any(space in value for space in " \t\n"):
            add(words(value))
    add(words(error))
    return list(found)


def query_words(query: str) -> list[str]:
    """Return the words of a search query (at most MAX_QUERY_WORDS), as terms are written."""
    return words(query)[:MAX_QUERY_WORDS]


def index_run(run_id: int, workspace_id: int, *, payload: Any = None, error: str = "") -> None:
    """Write the terms of a run's trigger data and/or error (those it has already stay)."""
    from builder.models import RunSearchTerm

    terms = terms_of(payload, error)
    if terms:
        RunSearchTerm.objects.bulk_create(
            [RunSearchTerm(run_id=run_id, workspace_id=workspace_id, term=t) for t in terms]
        )
