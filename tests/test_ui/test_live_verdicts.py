"""A visit's final verdict arriving live on the Events page: it takes the place of the visit's
preliminary (fast-path) line, as a reload would show it, instead of standing beside it."""

from __future__ import annotations

import datetime as dt

from homesec.contract.messages import SecurityEventData, SecurityEventMessage, encode_message
from tests.support.browser import PHONE, no_horizontal_scroll, shoot
from tests.support.rows import NOW, add_camera, add_event


def _message(event_id: int, batch_id: str, **fields) -> str:
    data = SecurityEventData(
        id=event_id, event_id=event_id, batch_id=batch_id, camera_id="porch",
        started_at=NOW.isoformat(), summary=None, **fields,
    )  # fmt: skip
    return encode_message(SecurityEventMessage(data=data))


async def test_the_final_verdict_replaces_the_preliminary_line_live(
    make_app, serve, watched, db_sessions, settings, redis_client, events_channel, screenshots
) -> None:
    await add_camera(db_sessions, settings, "porch")
    earlier = await add_event(
        db_sessions, camera_id="porch", started_at=NOW - dt.timedelta(hours=1), risk_score=10,
        risk_level="low", summary="A cat crosses the porch.",
    )  # fmt: skip
    base = serve(make_app())
    browser = await watched(base)
    page = await browser.page(PHONE)
    await page.goto(base + "/")
    await page.wait_for_selector("#live.badge.on")
    lines = page.locator("ol#events > li.event")

    # The fast path's preliminary verdict comes first, on top.
    fast = await add_event(
        db_sessions, batch_id="fast-1", camera_id="porch", started_at=NOW, risk_score=70,
        risk_level="high", summary="A person at the door.", is_fast_path=True,
    )  # fmt: skip
    await redis_client.publish(
        events_channel,
        _message(fast, "fast-1", risk_score=70, risk_level="high", is_fast_path=True),
    )
    await page.wait_for_selector(f'ol#events > li.event[data-id="{fast}"]:first-child')
    # The line under it is selected with j: the selection must follow that line.
    await page.keyboard.press("j")
    await page.keyboard.press("j")
    assert await page.get_attribute("li.event.selected", "data-id") == str(earlier)

    # The batch's final verdict supersedes it: one line for the visit, where it stood.
    final = await add_event(
        db_sessions, batch_id="visit", camera_id="porch", started_at=NOW, risk_score=35,
        risk_level="medium", summary="A courier leaves a parcel.", supersedes_event_id=fast,
    )  # fmt: skip
    await redis_client.publish(
        events_channel,
        _message(final, "visit", risk_score=35, risk_level="medium", supersedes_event_id=fast),
    )
    await page.wait_for_selector(f'ol#events > li.event[data-id="{final}"]:first-child')
    assert await page.locator(f'li.event[data-id="{fast}"]').count() == 0
    assert [await line.get_attribute("data-id") for line in await lines.all()] == [
        str(final),
        str(earlier),
    ]
    assert await page.get_attribute("li.event.selected", "data-id") == str(earlier)
    await no_horizontal_scroll(page)
    await shoot(page, screenshots, "events-final-verdict-live")

    # A reload shows the same list.
    await page.reload()
    await page.wait_for_selector("#live.badge.on")
    assert [await line.get_attribute("data-id") for line in await lines.all()] == [
        str(final),
        str(earlier),
    ]
