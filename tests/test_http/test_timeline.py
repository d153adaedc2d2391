"""``GET /timeline`` over HTTP: the day in the address (a bad one says so and shows today), no
next day past today, and which views count as a look, for whom."""

from __future__ import annotations

import datetime as dt

import msgspec
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from homesec.models import APIKey, TimelineLook
from homesec.store.api_keys import hash_api_key
from tests.support.rows import add_camera, add_event

KEY = "timeline-test-key"


async def looks(db_sessions) -> dict[str, TimelineLook]:
    async with db_sessions() as session:
        return {row.viewer: row for row in (await session.scalars(select(TimelineLook))).all()}


async def test_a_past_day_its_marks_and_no_look_counted(client, db_sessions, settings):
    await add_camera(db_sessions, settings, "porch")
    day = dt.date.today() - dt.timedelta(days=3)
    at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC).astimezone()
    event = await add_event(db_sessions, camera_id="porch", started_at=at, risk_level="high",
                            risk_score=70, summary="Someone at the porch")  # fmt: skip
    page = await client.get(f"/timeline?day={day.isoformat()}")
    assert page.status_code == 200
    assert f'href="/events/{event}" data-event="{event}"' in page.text
    assert 'class="mark band-high"' in page.text
    assert 'id="next-day"' in page.text and 'aria-current="page"' in page.text
    assert await looks(db_sessions) == {}  # a past day is not a look at what is new


async def test_a_bad_day_shows_today_and_counts_the_look(client, db_sessions):
    page = await client.get("/timeline?day=yesterday")
    assert page.status_code == 200
    assert "&#39;yesterday&#39; is not a date (YYYY-MM-DD): showing today" in page.text
    assert "(today)" in page.text and 'id="next-day"' not in page.text
    assert list(await looks(db_sessions)) == ["house"]


async def test_with_keys_each_key_has_its_own_last_look(make_app, settings, db_sessions):
    async with db_sessions.begin() as session:
        session.add(APIKey(key_hash=hash_api_key(KEY), name="phone"))
    secured = msgspec.structs.replace(settings, api_key_enabled=True)
    async with AsyncTestClient(make_app(settings=secured)) as client:
        refused = await client.get("/timeline?since=last-look", follow_redirects=False)
        assert refused.status_code == 303  # to the login page, no look counted
        assert await looks(db_sessions) == {}
        page = await client.get("/timeline?since=last-look", headers={"X-API-Key": KEY})
        assert page.status_code == 200 and "Since you last looked" in page.text
    assert list(await looks(db_sessions)) == [hash_api_key(KEY)]
