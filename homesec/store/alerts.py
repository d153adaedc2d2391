"""The ``alerts`` table: the durable outbox of alerts and the record of what went out.

Rows are added with ``INSERT ... ON CONFLICT (idempotency_key) DO NOTHING`` inside the
transaction that decided them (:func:`add`), so a decision made twice queues nothing twice.
Delivery is one row at a time: :func:`claim` counts the attempt and commits before the send,
:func:`mark_sent` or :func:`mark_failed` after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec
from sqlalchemy import String, and_, case, cast, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from homesec.contract.alerts import AlertKind, AlertStatus
from homesec.models import AlertRow

# Not suppressed: these rows count for the cooldown and get an update when the batch is scored.
ANNOUNCED = (AlertStatus.PENDING, AlertStatus.SENT, AlertStatus.FAILED)


class NewAlert(msgspec.Struct, frozen=True, kw_only=True):
    channel: str
    status: str
    idempotency_key: str
    kind: str = AlertKind.ALERT
    event_id: int | None = None
    rule_id: int | None = None
    camera_id: str | None = None
    updates_alert_id: int | None = None
    camera_problem_id: int | None = None  # a camera alert's problem (issue 23)


class StoredAlert(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    event_id: int | None
    rule_id: int | None
    camera_id: str | None
    channel: str
    kind: str
    updates_alert_id: int | None
    status: str
    attempts: int
    last_error: str | None
    idempotency_key: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    acknowledged: bool
    camera_problem_id: int | None = None  # a camera alert's problem (issue 23)


def _stored(row: AlertRow) -> StoredAlert:
    return StoredAlert(
        id=row.id,
        event_id=row.event_id,
        rule_id=row.rule_id,
        camera_id=row.camera_id,
        channel=row.channel,
        kind=row.kind,
        updates_alert_id=row.updates_alert_id,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        idempotency_key=row.idempotency_key,
        created_at=row.created_at,
        sent_at=row.sent_at,
        acknowledged=row.acknowledged,
        camera_problem_id=row.camera_problem_id,
    )


# --- building blocks of the decision transaction ------------------------------------------------
async def add(session: AsyncSession, alerts: Sequence[NewAlert], now: dt.datetime) -> list[int]:
    """Insert the rows whose key is new; the ids of those inserted."""
    if not alerts:
        return []
    values = [
        {**msgspec.structs.asdict(alert), "created_at": now, "next_attempt_at": now}
        for alert in alerts
    ]
    statement = (
        insert(AlertRow)
        .values(values)
        .on_conflict_do_nothing(index_elements=[AlertRow.idempotency_key])
        .returning(AlertRow.id)
    )
    return list((await session.scalars(statement)).all())


async def last_alerted_at(
    session: AsyncSession, rule_id: int, camera_id: str
) -> dt.datetime | None:
    """When ``rule`` last alerted for ``camera`` (suppressed rows do not count)."""
    return await session.scalar(
        select(func.max(AlertRow.created_at)).where(
            AlertRow.rule_id == rule_id,
            AlertRow.camera_id == camera_id,
            AlertRow.kind == AlertKind.ALERT,
            AlertRow.status.in_(ANNOUNCED),
        )
    )


async def announced_for_events(
    session: AsyncSession, event_ids: Sequence[int]
) -> list[StoredAlert]:
    """The first alerts (not suppressed, not updates) of these events, one per channel."""
    if not event_ids:
        return []
    rows = await session.scalars(
        select(AlertRow)
        .where(
            AlertRow.event_id.in_(list(event_ids)),
            AlertRow.kind == AlertKind.ALERT,
            AlertRow.status.in_(ANNOUNCED),
        )
        .order_by(AlertRow.id)
    )
    return [_stored(row) for row in rows]


async def last_told_events(session: AsyncSession, first_alert_ids: Sequence[int]) -> dict[int, int]:
    """For each of these first alerts, the event whose verdict its channel last announced: the
    newest of the alert and its updates that went out (or are on their way), not one kept
    quiet. What a further update is news against."""
    if not first_alert_ids:
        return {}
    ids = list(first_alert_ids)
    rows = await session.execute(
        select(AlertRow.id, AlertRow.updates_alert_id, AlertRow.event_id)
        .where(
            or_(AlertRow.id.in_(ids), AlertRow.updates_alert_id.in_(ids)),
            AlertRow.status.in_(ANNOUNCED),
            AlertRow.event_id.is_not(None),
        )
        .order_by(AlertRow.id)
    )
    told: dict[int, int] = {}
    for row_id, updates, event_id in rows.all():
        told[updates if updates is not None else row_id] = event_id
    return told


# --- delivery ------------------------------------------------------------------------------------
def _deliverable(now: dt.datetime | None = None):
    """Pending rows (due by ``now`` when given). An update waits while the alert it updates is
    still pending, so a receiver never sees the update before the alert."""
    original = aliased(AlertRow)
    waiting_for_original = exists(
        select(original.id).where(
            and_(original.id == AlertRow.updates_alert_id, original.status == AlertStatus.PENDING)
        )
    )
    conditions = [AlertRow.status == AlertStatus.PENDING, ~waiting_for_original]
    if now is not None:
        conditions.append(AlertRow.next_attempt_at <= now)
    return and_(*conditions)


async def due(
    sessions: async_sessionmaker[AsyncSession], now: dt.datetime, limit: int
) -> list[StoredAlert]:
    """Deliverable rows whose next attempt is due, oldest first."""
    async with sessions() as session:
        rows = await session.scalars(
            select(AlertRow)
            .where(_deliverable(now))
            .order_by(AlertRow.next_attempt_at, AlertRow.id)
            .limit(limit)
        )
        return [_stored(row) for row in rows]


async def next_due_at(sessions: async_sessionmaker[AsyncSession]) -> dt.datetime | None:
    """When the next deliverable row is due (an update waiting for its alert is not)."""
    async with sessions() as session:
        return await session.scalar(
            select(func.min(AlertRow.next_attempt_at)).where(_deliverable())
        )


async def claim(sessions: async_sessionmaker[AsyncSession], alert_id: int) -> int | None:
    """Count one attempt and commit it before the send; the attempt number, or None when the
    row is no longer pending (sent meanwhile by an overlapping Notifier)."""
    async with sessions.begin() as session:
        return await session.scalar(
            update(AlertRow)
            .where(AlertRow.id == alert_id, AlertRow.status == AlertStatus.PENDING)
            .values(attempts=AlertRow.attempts + 1)
            .returning(AlertRow.attempts)
        )


async def mark_sent(
    sessions: async_sessionmaker[AsyncSession], alert_id: int, now: dt.datetime
) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(AlertRow)
            .where(AlertRow.id == alert_id)
            .values(status=AlertStatus.SENT, sent_at=now, last_error=None)
        )


async def mark_failed(
    sessions: async_sessionmaker[AsyncSession],
    alert_id: int,
    error: str,
    status: AlertStatus,
    next_attempt_at: dt.datetime,
) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(AlertRow)
            .where(AlertRow.id == alert_id)
            .values(status=status, last_error=error[:1000], next_attempt_at=next_attempt_at)
        )


# --- what the API reads and changes --------------------------------------------------------------
async def get(sessions: async_sessionmaker[AsyncSession], alert_id: int) -> StoredAlert | None:
    async with sessions() as session:
        row = await session.get(AlertRow, alert_id)
        return _stored(row) if row is not None else None


async def by_ids(
    sessions: async_sessionmaker[AsyncSession], alert_ids: Sequence[int]
) -> list[StoredAlert]:
    async with sessions() as session:
        rows = await session.scalars(
            select(AlertRow).where(AlertRow.id.in_(list(alert_ids))).order_by(AlertRow.id)
        )
        return [_stored(row) for row in rows]


async def recent(
    sessions: async_sessionmaker[AsyncSession],
    limit: int,
    *,
    status: str | None = None,
    acknowledged: bool | None = None,
    before_id: int | None = None,
) -> list[StoredAlert]:
    """Newest first; ``before_id`` pages on."""
    query = select(AlertRow)
    if status is not None:
        query = query.where(AlertRow.status == status)
    if acknowledged is not None:
        query = query.where(AlertRow.acknowledged.is_(acknowledged))
    if before_id is not None:
        query = query.where(AlertRow.id < before_id)
    async with sessions() as session:
        rows = await session.scalars(query.order_by(AlertRow.id.desc()).limit(limit))
        return [_stored(row) for row in rows]


async def acknowledge(
    sessions: async_sessionmaker[AsyncSession], alert_id: int, now: dt.datetime
) -> StoredAlert | None:
    """Acknowledge the alert and the other channels' rows of the same event (the owner saw it
    once, on whichever channel); None when there is no such alert."""
    async with sessions.begin() as session:
        row = await session.get(AlertRow, alert_id)
        if row is None:
            return None
        same = AlertRow.id == alert_id
        if row.event_id is not None:
            same = same | (AlertRow.event_id == row.event_id)
        if row.camera_problem_id is not None:  # a camera alert: its problem's rows
            same = same | (AlertRow.camera_problem_id == row.camera_problem_id)
        await session.execute(
            update(AlertRow)
            .where(same, AlertRow.acknowledged.is_(False))
            .values(acknowledged=True, acknowledged_at=now)
        )
    return await get(sessions, alert_id)


async def add_test_alerts(
    sessions: async_sessionmaker[AsyncSession], channels: Sequence[str], token: str
) -> list[int]:
    """One test row per channel, for the Notifier to send (``POST /api/alerts/test``)."""
    now = dt.datetime.now(dt.UTC)
    rows = [
        NewAlert(
            channel=channel,
            status=AlertStatus.PENDING,
            kind=AlertKind.TEST,
            idempotency_key=f"test:{token}:{channel}",
        )
        for channel in channels
    ]
    async with sessions.begin() as session:
        return await add(session, rows, now)


async def fail_pending_of_channel(
    sessions: async_sessionmaker[AsyncSession], channel: str, error: str
) -> int:
    """Give up the channel's pending rows (it was removed): ``failed`` with ``error``; how many."""
    async with sessions.begin() as session:
        result = await session.execute(
            update(AlertRow)
            .where(AlertRow.channel == channel, AlertRow.status == AlertStatus.PENDING)
            .values(status=AlertStatus.FAILED, last_error=error[:1000])
        )
        return result.rowcount or 0


def _alert_key():
    """One alert, whatever its channels: a test message by its token (``test:<token>:<channel>``),
    any other by its kind and event (``alert:42``, ``update:43``)."""
    return case(
        (AlertRow.kind == AlertKind.TEST, func.split_part(AlertRow.idempotency_key, ":", 2)),
        # A camera alert by its problem (issue 23): ``camera:7``.
        (
            AlertRow.kind == AlertKind.CAMERA,
            AlertRow.kind
            + ":"
            + cast(func.coalesce(AlertRow.camera_problem_id, AlertRow.id), String),
        ),
        else_=AlertRow.kind + ":" + cast(func.coalesce(AlertRow.event_id, AlertRow.id), String),
    )


async def recent_grouped(
    sessions: async_sessionmaker[AsyncSession],
    limit: int,
    *,
    status: str | None = None,
    acknowledged: bool | None = None,
    before_id: int | None = None,
) -> list[list[StoredAlert]]:
    """The newest ``limit`` alerts, each as its rows (one per channel, oldest first); an alert
    is chosen when one of its rows fits the filters, and comes with all of them. Newest first by
    their newest row's id; ``before_id`` (the last alert's :func:`newest id <group_id>`) pages
    on."""
    key = _alert_key()
    newest = func.max(AlertRow.id)
    chosen = select(key.label("key"), newest.label("newest")).group_by(key)
    if status is not None:
        chosen = chosen.where(AlertRow.status == status)
    if acknowledged is not None:
        chosen = chosen.where(AlertRow.acknowledged.is_(acknowledged))
    if before_id is not None:
        chosen = chosen.having(newest < before_id)
    chosen = chosen.order_by(newest.desc()).limit(limit)
    async with sessions() as session:
        found = [found_key for found_key, _ in (await session.execute(chosen)).all()]
        if not found:
            return []
        rows = await session.execute(
            select(AlertRow, key).where(key.in_(found)).order_by(AlertRow.id)
        )
        groups: dict[str, list[StoredAlert]] = {found_key: [] for found_key in found}
        for row, row_key in rows:
            groups[row_key].append(_stored(row))
    return [group for group in groups.values() if group]


def group_id(group: Sequence[StoredAlert]) -> int:
    """The id that orders and pages alerts: their newest row's."""
    return max(row.id for row in group)
