"""The morning digest (issue 24): deciding it into the outbox, and its message at sending.

The Notifier calls :func:`decide_digest` each cycle (it already has the clock and the channels).
While day D's digest is due (:func:`homesec.policy.digest.due_day`) it writes one ``digest`` row
per Apprise channel; the idempotency key ``digest:<D>:<channel>`` makes that once per day and
channel, across restarts. The rows go out with the alerts' delivery (retries, backoff, the
Alerts page's record). The message is worded when it is sent, from the night's rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.alerts import AlertKind, AlertMessage, AlertStatus
from homesec.policy import digest
from homesec.store import alerts, digest_facts
from homesec.store.alerts import NewAlert, StoredAlert


async def decide_digest(
    sessions: async_sessionmaker[AsyncSession],
    channels: Sequence[str],
    now: dt.datetime,
    *,
    digest_at: dt.time | None,
    zone: dt.tzinfo | None,
) -> tuple[dt.date | None, int]:
    """Queue the due day's digest on the channels that have not had it; (the day, rows
    written)."""
    day = digest.due_day(now, digest_at, zone)
    targets = digest.digest_channels(channels)
    if day is None or not targets:
        return day, 0
    rows = [
        NewAlert(
            channel=channel,
            status=AlertStatus.PENDING,
            idempotency_key=digest.digest_key(day, channel),
            kind=AlertKind.DIGEST,
        )
        for channel in targets
    ]
    async with sessions.begin() as session:
        written = await alerts.add(session, rows, now)
    return day, len(written)


async def digest_alert_message(
    sessions: async_sessionmaker[AsyncSession],
    row: StoredAlert,
    *,
    digest_at: dt.time | None,
    night_starts: dt.time,
    link_base: str,
    zone: dt.tzinfo | None,
    now: dt.datetime,
) -> AlertMessage | None:
    """The digest of the row's day; None when the row's key names no day."""
    day = digest.digest_day(row.idempotency_key)
    if day is None:
        return None
    # Turned off since it was queued: the night as the default digest time would have it.
    window = digest.night_window(day, digest_at or dt.time(7, 0), night_starts, zone)
    visits, problems = await digest_facts.night_facts(sessions, *window)
    title, body = digest.compose_digest(
        day=day, window=window, visits=visits, problems=problems, link_base=link_base, zone=zone
    )
    return digest.digest_message(
        alert_id=row.id, idempotency_key=row.idempotency_key, title=title, body=body,
        now=now.astimezone(zone),
    )  # fmt: skip
