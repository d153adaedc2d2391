"""What an owner's hold ("keep", issue 24) protects, as SQL building blocks for retention.

A held event (``events.held_at`` set) keeps itself, the detections its ``detection_ids`` lists,
and through them their thumbnails, their originals and the originals' ledger rows. These are
expressions, not queries: :mod:`homesec.store.retention`, :mod:`homesec.store.detections` and
:mod:`homesec.store.uploads` put them into their own predicates, so a dry run counts exactly what
a real run deletes. A module of its own because ``uploads`` cannot import ``events`` (which
imports it).

``detection_ids`` is the contract's soft link, a JSON array in text. The analyst writes it with
:func:`homesec.store.events.encode_detection_ids`; it is read here in SQL so that retention stays
one statement per table.
"""

from __future__ import annotations

from sqlalchemy import JSON, ColumnElement, Integer, Select, cast, func, select

from homesec.models import Detection, Event


def is_held() -> ColumnElement[bool]:
    return Event.held_at.is_not(None)


def held_detection_ids() -> Select:
    """SELECT of the ids of every detection a held event lists."""
    listed = func.json_array_elements_text(cast(Event.detection_ids, JSON))
    return select(cast(listed, Integer)).where(is_held(), Event.detection_ids.is_not(None))


def detection_is_held() -> ColumnElement[bool]:
    """This detection (``detections`` in the enclosing statement) belongs to a held event."""
    return Detection.id.in_(held_detection_ids())
