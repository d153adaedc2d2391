"""The morning digest through the Notifier's real code and Apprise (``json://``) to an HTTP
receiver of the test's own: sent once at the digest time, with last night's visits by band, the
ones worth a look with their links and the cameras that had problems; not to webhooks, not
before its time, and not twice, even by a Notifier started again."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import msgspec
import pytest
from sqlalchemy import select, update

from homesec.actors.notifier import Notifier
from homesec.contract.alerts import AlertKind, AlertStatus
from homesec.engines.notify import build_channels
from homesec.models import AlertRow, CameraProblem, Event
from tests.support.alerts import alert_settings

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# A past morning: the outbox sends what is due by the real clock.
DAY = dt.date(2026, 12, 1)


def local(days: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """``days`` after DAY's day before (7: the evening before, 8: DAY), at a local time."""
    day = DAY + dt.timedelta(days=days - 8)
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=BERLIN)


@pytest.fixture
def make_notifier(tmp_path, receiver, migrated_database_url, redis_url):
    def make() -> Notifier:
        settings = alert_settings(
            tmp_path,
            HOMESEC_TIMEZONE="Europe/Berlin",
            NOTIFY_URLS=f"json://127.0.0.1:{receiver.port}/apprise",
            WEBHOOK_URLS=f"http://127.0.0.1:{receiver.port}/hook",
            HOMESEC_PUBLIC_URL="https://cam.example",
            DIGEST_AT="07:00",
        )
        actor = Notifier("notifier", settings, migrated_database_url, redis_url)
        actor.channels = build_channels(settings, client_id="test-digest")
        return actor

    return make  # each test closes what it made


async def seed_night(rows, db_sessions) -> dict[str, int]:
    await rows.camera("porch", "Porch")
    await rows.camera("garage", "Garage")
    seen = await rows.detection("porch")
    ids = {
        "evening": await rows.event("porch", [await rows.detection("porch")], score=5,
                                    level="low", fast_path=False, at=local(7, 19)),
        "fast": await rows.event("porch", [seen], score=65, level="high", fast_path=True,
                                 at=local(8, 2, 14)),
        "batch": await rows.event("porch", [seen], score=92, level="critical", fast_path=False,
                                  at=local(8, 2, 14), summary="A person tries the door."),
        "garage": await rows.event("garage", [await rows.detection("garage")], score=45,
                                   level="medium", fast_path=False, at=local(8, 4)),
        "morning": await rows.event("porch", [await rows.detection("porch")], score=80,
                                    level="high", fast_path=False, at=local(8, 7, 30)),
        "afternoon": await rows.event("porch", [await rows.detection("porch")], score=80,
                                      level="high", fast_path=False, at=local(7, 15)),
    }  # fmt: skip
    async with db_sessions.begin() as session:
        await session.execute(
            update(Event).where(Event.id == ids["batch"]).values(supersedes_event_id=ids["fast"])
        )
        session.add(CameraProblem(camera_id="garage", problem="offline",
                                  started_at=local(8, 1), cleared_at=local(8, 3, 30)))  # fmt: skip
        session.add(CameraProblem(camera_id="porch", problem="lens covered",
                                  started_at=local(5, 1), cleared_at=local(5, 2)))  # fmt: skip
    return ids


async def digest_rows(db_sessions) -> list[AlertRow]:
    async with db_sessions() as session:
        statement = select(AlertRow).where(AlertRow.kind == AlertKind.DIGEST)
        return list((await session.scalars(statement)).all())


async def test_the_digest_reaches_the_phone_once_with_last_night(
    make_notifier, rows, db_sessions, receiver
):
    ids = await seed_night(rows, db_sessions)
    notifier = make_notifier()
    try:
        await notifier.decide_digest(local(8, 6, 59))  # not yet
        await notifier.deliver_due()
        assert receiver.json_bodies("/apprise") == [] and await digest_rows(db_sessions) == []

        await notifier.decide_digest(local(8, 7, 0, 30))
        assert await notifier.deliver_due() == 1
    finally:
        await notifier.close()

    (push,) = receiver.json_bodies("/apprise")
    assert push["title"] == "Last night: 3 visits, 1 worth a look; 1 camera with problems"
    assert push["message"] == "\n".join([
        "Mon 18:00 to Tue 07:00: 3 visits: 1 critical, 1 medium, 1 low.",
        "",
        "Worth a look:",
        f"- 02:14 Porch, critical 92. A person tries the door. https://cam.example/events/{ids['batch']}",
        "",
        "Cameras:",
        "- Garage: offline 01:00 to 03:30",
    ])  # fmt: skip
    assert push["type"] == "info"
    # Webhooks and MQTT are not the digest's: only the Apprise channel has a row.
    assert [d for d in receiver.deliveries if d["path"] == "/hook"] == []
    (row,) = await digest_rows(db_sessions)
    assert row.status == AlertStatus.SENT and row.channel.startswith("apprise:")
    assert row.idempotency_key == f"digest:{DAY}:{row.channel}"

    # A Notifier started again the same morning (its memory gone) sends nothing twice.
    again = make_notifier()
    try:
        await again.decide_digest(local(8, 9))
        assert await again.deliver_due() == 0
    finally:
        await again.close()
    assert len(receiver.json_bodies("/apprise")) == 1
    assert len(await digest_rows(db_sessions)) == 1


async def test_the_notifier_cycle_sends_it_when_due(make_notifier, rows, db_sessions, receiver):
    notifier = make_notifier()
    # Due a minute ago by the real clock: the cycle's own clock decides and delivers it.
    a_minute_ago = dt.datetime.now(BERLIN) - dt.timedelta(minutes=1)
    notifier.settings = msgspec.structs.replace(
        notifier.settings, digest_at=a_minute_ago.time().replace(second=0, microsecond=0)
    )
    try:
        await notifier.cycle()
        await notifier.cycle()
    finally:
        await notifier.close()
    (push,) = receiver.json_bodies("/apprise")
    assert push["title"] == "Last night: no visits"


async def test_the_alerts_page_and_api_list_the_digest(make_notifier, make_client, rows,
                                                       db_sessions, receiver):  # fmt: skip
    await seed_night(rows, db_sessions)
    notifier = make_notifier()
    try:
        await notifier.decide_digest(local(8, 7, 1))
        assert await notifier.deliver_due() == 1
    finally:
        await notifier.close()
    async with make_client() as client:
        [item] = (await client.get("/api/alerts")).json()["items"]
        assert (item["source"], item["kind"], item["event_id"]) == ("digest", "digest", None)
        page = (await client.get("/alerts")).text
        assert page.count('<li class="alert ') == 1
        assert '<span class="chip">morning digest</span>' in page and "rule deleted" not in page


async def test_off_without_digest_at_and_skipped_when_stale(
    make_notifier, rows, db_sessions, receiver
):
    await seed_night(rows, db_sessions)
    notifier = make_notifier()
    try:
        await notifier.decide_digest(local(8, 19, 1))  # twelve hours late: stale
        assert await digest_rows(db_sessions) == []
        notifier.settings = msgspec.structs.replace(notifier.settings, digest_at=None)
        await notifier.decide_digest(local(8, 7, 5))
        assert await digest_rows(db_sessions) == []
    finally:
        await notifier.close()
    assert receiver.json_bodies("/apprise") == []
