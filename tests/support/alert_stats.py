"""Sent alerts, the owner's feedback and reviews over two cameras and three months, with the
counts the statistics must find (tests/test_http/test_stats.py and the Statistics page's
browser test).

The house is in New York (UTC-5 in winter, UTC-4 in summer). Months are named back from ``now``:
``M`` is ``now``'s month, ``M-1`` and ``M-2`` the two before, ``M-3`` the one outside a three
month report. One front-door alert goes out at 23:30 on the last day of ``M-1`` in New York,
already ``M`` in UTC: it must count in ``M-1``. One garage alert goes out at 23:30 on the last
day of ``M-3``, already ``M-2`` in UTC: it must stay out of a three-month report.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import AlertRow, Event, EventFeedback
from homesec.settings import Settings
from tests.support.rows import add_camera

ZONE_NAME = "America/New_York"
ZONE = zoneinfo.ZoneInfo(ZONE_NAME)
_keys = itertools.count(1)


def month_start(now: dt.datetime, back: int) -> dt.date:
    local = now.astimezone(ZONE)
    month = local.month - back
    return dt.date(local.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def month_label(now: dt.datetime, back: int) -> str:
    return f"{month_start(now, back):%Y-%m}"


def at(now: dt.datetime, back: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    """``day`` of month ``M-back`` at ``hour:minute`` in New York, in UTC; day 0 is the last
    day of the month before."""
    first = month_start(now, back)
    # Aware arithmetic in Python keeps the wall time: 23:30 stays 23:30 across a DST change.
    local = dt.datetime.combine(first, dt.time(hour, minute), ZONE) + dt.timedelta(days=day - 1)
    return local.astimezone(dt.UTC)


class Seeder:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def event(self, camera: str, started: dt.datetime, **fields) -> int:
        async with self.sessions.begin() as session:
            row = Event(
                batch_id=f"stats-{next(_keys)}", camera_id=camera, started_at=started,
                risk_score=70, risk_level="high", **fields,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            return row.id

    async def alert(self, event_id: int | None, camera: str | None, sent: dt.datetime,
                    *, channel: str = "mqtt", kind: str = "alert", status: str = "sent",
                    updates: int | None = None) -> int:  # fmt: skip
        async with self.sessions.begin() as session:
            row = AlertRow(
                event_id=event_id, camera_id=camera, channel=channel, kind=kind, status=status,
                idempotency_key=f"stats:{next(_keys)}", created_at=sent, next_attempt_at=sent,
                sent_at=sent if status == "sent" else None, updates_alert_id=updates,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            return row.id

    async def feedback(
        self, event_id: int, feedback: str, given: dt.datetime, should_be: str | None = None
    ) -> None:
        if feedback == "wrong_severity" and should_be is None:
            should_be = "low"
        async with self.sessions.begin() as session:
            session.add(
                EventFeedback(
                    event_id=event_id, feedback=feedback, should_be=should_be, created_at=given
                )
            )

    async def alerted(self, camera: str, sent: dt.datetime, **fields) -> int:
        """An event with one delivered alert; its id."""
        event_id = await self.event(camera, sent - dt.timedelta(minutes=1), **fields)
        await self.alert(event_id, camera, sent)
        return event_id


# What a three-month report must say; rates as the API rounds nothing: exact fractions.
EXPECTED = {
    "front_door": {
        -2: dict(alerts_sent=4, with_feedback=2, rated=3, false_alarms=1, wrong_severity=1),
        -1: dict(alerts_sent=6, with_feedback=2, rated=6, false_alarms=1, wrong_severity=1),
        0: dict(alerts_sent=0, with_feedback=0, rated=0, false_alarms=0, wrong_severity=0),
        "total": dict(alerts_sent=10, with_feedback=4, rated=9, false_alarms=2, wrong_severity=2),
        "before": dict(alerts_sent=4, with_feedback=2, rated=3, false_alarms=1, wrong_severity=1),
        "after": dict(alerts_sent=6, with_feedback=2, rated=6, false_alarms=1, wrong_severity=1),
    },
    "garage": {
        -2: dict(alerts_sent=5, with_feedback=5, rated=5, false_alarms=4, wrong_severity=1),
        -1: dict(alerts_sent=5, with_feedback=1, rated=5, false_alarms=1, wrong_severity=0),
        0: dict(alerts_sent=3, with_feedback=1, rated=2, false_alarms=1, wrong_severity=0),
        "total": dict(alerts_sent=13, with_feedback=7, rated=12, false_alarms=6, wrong_severity=1),
        "before": dict(alerts_sent=5, with_feedback=5, rated=5, false_alarms=4, wrong_severity=1),
        "after": dict(alerts_sent=8, with_feedback=2, rated=7, false_alarms=2, wrong_severity=0),
    },
}


def learnt_at(now: dt.datetime) -> dict[str, dt.datetime]:
    """When each camera's calibration had its third visit with feedback."""
    return {"front_door": at(now, 2, 15, 12), "garage": at(now, 2, 20, 14)}


async def seed(sessions: async_sessionmaker[AsyncSession], settings: Settings,
               now: dt.datetime) -> None:  # fmt: skip
    for camera in ("front_door", "garage"):
        await add_camera(sessions, settings, camera)
    s = Seeder(sessions)
    hour = dt.timedelta(hours=1)

    # --- front door, M-2: four alerted visits, then the calibration learns on day 15 --------
    # A fast-path alert on two channels, the batch event's update, a false alarm on the batch
    # event: one visit, one alert, one false alarm.
    fast = await s.event("front_door", at(now, 2, 3, 11, 59), is_fast_path=True)
    first = await s.alert(fast, "front_door", at(now, 2, 3, 12))
    await s.alert(fast, "front_door", at(now, 2, 3, 12, 1), channel="apprise:1a2b3c4d")
    batch = await s.event("front_door", at(now, 2, 3, 11, 59), supersedes_event_id=fast)
    await s.alert(batch, "front_door", at(now, 2, 3, 12, 2), kind="update", updates=first)
    await s.feedback(batch, "false_alarm", at(now, 2, 10, 12))
    # A false alarm, then the owner changed their mind: wrong severity.
    changed = await s.alerted("front_door", at(now, 2, 4, 12))
    await s.feedback(changed, "false_alarm", at(now, 2, 11, 12))
    await s.feedback(changed, "wrong_severity", at(now, 2, 12, 12))
    # Reviewed and nothing said: rated, right. Then one nobody looked at.
    await s.alerted("front_door", at(now, 2, 5, 12), reviewed=True)
    await s.alerted("front_door", at(now, 2, 6, 12))
    # Feedback on a visit that alerted nobody: no alert, but the calibration's third word.
    quiet = await s.event("front_door", at(now, 2, 14, 12))
    await s.feedback(quiet, "false_alarm", at(now, 2, 15, 12))
    # Nothing of these is an alert sent of an event.
    unsent = await s.event("front_door", at(now, 2, 7, 12))
    await s.alert(unsent, "front_door", at(now, 2, 7, 12), status="suppressed_cooldown")
    await s.alert(unsent, "front_door", at(now, 2, 7, 12), status="failed", channel="webhook:1")
    await s.alert(unsent, "front_door", at(now, 2, 7, 12), status="pending", channel="apprise:2")
    await s.alert(None, None, at(now, 2, 8, 12), kind="test")
    await s.alert(None, "front_door", at(now, 2, 8, 13), kind="camera")

    # --- front door, M-1: six alerts, all rated ----------------------------------------------
    fa = await s.alerted("front_door", at(now, 1, 2, 12))
    await s.feedback(fa, "false_alarm", at(now, 1, 2, 12) + hour)
    ws = await s.alerted("front_door", at(now, 1, 3, 12))
    await s.feedback(ws, "wrong_severity", at(now, 1, 3, 12) + hour, should_be="critical")
    for day in (4, 5, 6):
        await s.alerted("front_door", at(now, 1, day, 12), reviewed=True)
    # 23:30 on the last day of M-1 in New York: M in UTC, M-1 in the house.
    await s.alerted("front_door", at(now, 0, 0, 23, 30), reviewed=True)

    # --- garage, M-2: five alerts, all rated on day 20 (the third word teaches at 14:00) ----
    said = ["false_alarm"] * 4 + ["wrong_severity"]
    for day, feedback in zip(range(1, 6), said, strict=True):
        event_id = await s.alerted("garage", at(now, 2, day, 12))
        await s.feedback(event_id, feedback, at(now, 2, 20, 11 + day))
    # 23:30 on the last day of M-3 in New York: outside a three-month report.
    await s.alerted("garage", at(now, 2, 0, 23, 30))
    # --- garage, M-1: five rated, one false alarm; M: three, one false alarm ----------------
    fa = await s.alerted("garage", at(now, 1, 10, 12))
    await s.feedback(fa, "false_alarm", at(now, 1, 10, 13))
    for day in (11, 12, 13, 14):
        await s.alerted("garage", at(now, 1, day, 12), reviewed=True)
    fa = await s.alerted("garage", at(now, 0, 1, 9))
    await s.feedback(fa, "false_alarm", at(now, 0, 1, 10))
    await s.alerted("garage", at(now, 0, 1, 11))
    # The first message failed, the batch's update got through: the owner was told. Reviewed.
    fast = await s.event("garage", at(now, 0, 1, 12), is_fast_path=True, reviewed=True)
    first = await s.alert(fast, "garage", at(now, 0, 1, 12), status="failed")
    batch = await s.event("garage", at(now, 0, 1, 12), supersedes_event_id=fast)
    await s.alert(batch, "garage", at(now, 0, 1, 12, 5), kind="update", updates=first)
