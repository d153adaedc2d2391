"""The events search box: what a search text asks for, and its matches highlighted.

The words go through PostgreSQL's ``websearch_to_tsquery`` with the English configuration,
against ``events.search_document`` (revision 0015 says what it holds and why it is stored):
every word must match, "quoted phrases" and ``-word`` work as on a web search engine, and no
text can make it fail. Time words ("last night", "tuesday") are taken out first by
``policy.time_words`` and narrow the time range instead.
"""

from __future__ import annotations

import datetime as dt
import re

import msgspec
from markupsafe import Markup, escape
from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.ext.asyncio import AsyncSession

from homesec.http.errors import BadRequest
from homesec.models import Event
from homesec.policy.search_synonyms import SYNONYMS
from homesec.policy.time_words import TimeRange, read_time_words

# A constant configuration (not a parameter), so the planner can match the GIN index.
_CONFIG = "'english'::regconfig"
_ENGLISH = literal_column(_CONFIG)
# ts_headline marks matched words with these; they are stripped from the text first, so a
# summary cannot forge a mark, and everything between them is HTML-escaped in Python.
_START, _STOP = "\x02", "\x03"
_MARKS = f"StartSel={_START}, StopSel={_STOP}"
_WHOLE = f"{_MARKS}, HighlightAll=true"
_FRAGMENT = f'{_MARKS}, MaxFragments=1, MaxWords=18, MinWords=6, FragmentDelimiter=" … "'
# Relevance is ts_rank scaled to an integer, so a page's cursor carries an exact value.
RELEVANCE_SCALE = 10_000


class Search(msgspec.Struct, kw_only=True):
    """What a search box's text asks for: ``words`` for the text search (None: none) and the
    range its time words name (None: none), with the phrases understood."""

    words: str | None = None
    time_range: TimeRange | None = None
    time_phrases: tuple[str, ...] = ()


class Highlight(msgspec.Struct, kw_only=True):
    """An event's matched words as HTML fragments: the text escaped, matches in ``<mark>``."""

    summary_html: str | None
    snippet_html: str | None  # from the owner's notes, else the reasoning, where they matched


def _query_sql() -> str:
    """The tsquery of the bound ``search_words``, each synonym group's word widened to its
    alternatives with ``ts_rewrite``. Every argument but the words is a constant, so
    PostgreSQL folds it once per query, before the index scan. Written once as SQL text:
    built as SQLAlchemy function objects it cost milliseconds of Python per use."""
    query = f"websearch_to_tsquery({_CONFIG}, :search_words)"
    for word, alternatives in SYNONYMS.items():
        if not all(part.isalpha() for part in (word, *alternatives)):
            raise ValueError(f"a synonym is not one plain word: {word} {alternatives}")
        either = " | ".join((word, *alternatives))
        query = (
            f"ts_rewrite({query}, to_tsquery({_CONFIG}, '{word}'), "
            f"to_tsquery({_CONFIG}, '{either}'))"
        )
    return query


_QUERY_SQL = _query_sql()


def tsquery(words: str) -> ColumnElement:
    return type_coerce(
        sql(_QUERY_SQL).bindparams(bindparam("search_words", words, type_=String)), TSQUERY
    )


# What a facet lexeme may hold to be written into a tsquery as it is: camera ids, bands and
# object kinds are all of this form; a filter value that is not matches no event anyway.
_FACET_VALUE = re.compile(r"[a-z0-9_ -]{1,100}")


def facets(*, camera_id: str | None, risk_level: str | None, object_type: str | None) -> list[str]:
    """The document's facet lexemes (revision 0015) that these filters require."""
    wanted = [("camera", camera_id), ("band", risk_level), ("kind", object_type)]
    return [
        f"{name}:{value}"
        for name, value in wanted
        if value is not None and _FACET_VALUE.fullmatch(value)
    ]


def matches(words: str, required: list[str] | None = None) -> ColumnElement[bool]:
    """The words match, and the document holds every ``required`` facet: one GIN lookup for
    both, so a common word on one camera reads that camera's matches, not every match."""
    query = tsquery(words)
    if required:
        facet_query = " & ".join(f"'{facet}'" for facet in required)
        query = query.op("&&")(cast(bindparam("search_facets", facet_query, String), TSQUERY))
    return Event.search_document.op("@@")(query)


def relevance(words: str) -> ColumnElement[int]:
    """ts_rank with the document's weights (summary and notes first, then camera, kinds and
    zones, then the reasoning), scaled to an integer."""
    rank = func.ts_rank(Event.search_document, tsquery(words))
    return cast(func.round(rank * RELEVANCE_SCALE), Integer)


async def read_search(
    session: AsyncSession, text: str | None, now: dt.datetime, zone: dt.tzinfo | None
) -> Search:
    """``text`` as a search. Empty text is no search. Text left with nothing to look for
    (punctuation, only words like "the") is a 400, unless it named a time, which then stands
    alone ("on monday")."""
    if text is None or not text.strip():
        return Search()
    read = read_time_words(text, now, zone)
    words = read.words or None
    if words is not None:
        # How to find a word's matches depends on how many there are: the newest through the
        # time index for "person", the GIN index for "fox". A cached generic plan (asyncpg
        # prepares every statement; PostgreSQL switches to one after five runs) cannot know
        # which, and was measured at ten times the custom plan's time; so this transaction
        # (the request's) plans each search with its words. set_config(..., true) is SET LOCAL:
        # it writes nothing. In the same round trip as the check for words.
        nodes = await session.scalar(
            select(
                func.numnode(tsquery(words)),
                func.set_config("plan_cache_mode", "force_custom_plan", True),
            )
        )
        if not nodes:
            if read.time_range is None:
                raise BadRequest(
                    f"nothing to search for in {text.strip()!r}: give words such as "
                    "'parcel', 'person back door' or 'car last night'"
                )
            words = None
    return Search(words=words, time_range=read.time_range, time_phrases=read.time_phrases)


def _marked(text: str | None) -> str | None:
    """ts_headline's output as safe HTML, or None when nothing in it matched."""
    if text is None or _START not in text:
        return None
    html = Markup()
    for index, part in enumerate(text.split(_START)):
        if index == 0:
            html += escape(part)
            continue
        matched, _, rest = part.partition(_STOP)
        html += Markup("<mark>{}</mark>").format(matched) + escape(rest)
    return str(html)


def _headline(column, words: str, options: str) -> ColumnElement[str]:
    clean = func.translate(column, _START + _STOP, "")
    return func.ts_headline(_ENGLISH, clean, tsquery(words), options)


def headline_columns(words: str) -> tuple[ColumnElement[str], ...]:
    """The summary, notes and reasoning with the matched words marked, for ``highlight`` (a
    page's rows only: ts_headline is too slow for every match)."""
    return (
        _headline(Event.summary, words, _WHOLE),
        _headline(Event.notes, words, _FRAGMENT),
        _headline(Event.reasoning, words, _FRAGMENT),
    )


def highlight(summary: str | None, notes: str | None, reasoning: str | None) -> Highlight:
    """``headline_columns``' values as safe HTML."""
    return Highlight(
        summary_html=_marked(summary), snippet_html=_marked(notes) or _marked(reasoning)
    )
