"""The Statistics page in a real browser: two cameras' bars drawn as inline SVG, a table with
the same numbers as ``GET /api/stats``, "too little feedback to say" where it applies, the
nav's link, nothing from another host, and nothing wider than a 390 px phone."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from tests.support import alert_stats
from tests.support.alert_stats import EXPECTED, ZONE_NAME, month_label
from tests.support.browser import PHONE, no_horizontal_scroll, shoot

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DESKTOP_WIDE = {"width": 1280, "height": 900}


async def test_the_stats_page_on_a_phone_and_a_desktop(
    make_app, serve, watched, db_sessions, settings, screenshots
) -> None:
    house = msgspec.structs.replace(settings, timezone=ZONE_NAME)
    await alert_stats.seed(db_sessions, house, NOW)
    base = serve(make_app(settings=house))
    browser = await watched(base)

    phone = await browser.page(PHONE)
    await phone.goto(base + "/")
    await phone.get_by_role("link", name="Statistics").click()
    await phone.wait_for_url(base + "/stats")
    await phone.goto(base + "/stats?months=3")
    assert await phone.get_attribute('nav a[href="/stats"]', "aria-current") == "page"
    await no_horizontal_scroll(phone)
    # The tables fit the phone whole: no column, the rate least of all, hides in a scroll.
    widths = await phone.locator("table.stats-table").evaluate_all(
        "(tables) => tables.map((t) => [t.scrollWidth, t.parentElement.clientWidth])"
    )
    assert len(widths) == 2 and all(table <= box for table, box in widths), widths

    # The garage's table: read as a screen reader gets it, by its caption and header cells.
    garage = phone.get_by_role("table", name="Garage, per month")
    rows = garage.get_by_role("row")
    assert await rows.count() == 4  # the header and three months
    cells = [await rows.nth(i).get_by_role("cell").all_inner_texts() for i in (1, 2, 3)]
    months = [await rows.nth(i).get_by_role("rowheader").inner_text() for i in (1, 2, 3)]
    assert months == [month_label(NOW, back) for back in (2, 1, 0)]
    expected = EXPECTED["garage"]
    for back, row in zip((-2, -1, 0), cells, strict=True):
        want = expected[back]
        assert row[:4] == [
            str(want[name]) for name in ("alerts_sent", "rated", "false_alarms", "wrong_severity")
        ], row
    assert cells[0][4] == "80% of 5"
    assert cells[1][4] == "20% of 5"
    assert cells[2][4] == "too little feedback to say"
    section = phone.locator('section[data-camera="garage"]')
    assert "fell from 80% to 29%" in await section.locator(".calibration-verdict").inner_text()

    # The bars: one group per month, its parts adding up to what was sent, the rate beneath.
    svg = section.locator("svg.bars")
    assert await svg.get_attribute("role") == "img"
    groups = svg.locator("g.month")
    assert await groups.count() == 3
    assert await groups.nth(0).locator("rect.false-alarm").count() == 1
    assert await groups.nth(0).locator("text.count").text_content() == "5"
    assert await groups.nth(0).locator("text.rate").text_content() == "80%"
    assert await groups.nth(2).locator("text.rate").text_content() == "\u2013"
    heights = (
        await groups.nth(0)
        .locator("rect")
        .evaluate_all("(rects) => rects.map((r) => r.getBBox().height)")
    )
    # Both cameras on one scale: the front door's six alerts of M-1 are the tallest bar.
    assert sum(heights) == pytest.approx(100 * 5 / 6, abs=0.05)
    assert await svg.locator("line.learnt").count() == 1

    # The front door: one too-little month with alerts, one with none.
    front = phone.get_by_role("table", name="Front Door, per month")
    front_rows = front.get_by_role("row")
    assert (await front_rows.nth(1).get_by_role("cell").all_inner_texts())[4] == (
        "too little feedback to say"
    )
    assert (await front_rows.nth(3).get_by_role("cell").all_inner_texts())[4] == "no alerts"
    await shoot(phone, screenshots, "stats")

    # The default six months fit a phone's width without scrolling the bars sideways.
    await phone.goto(base + "/stats")
    await no_horizontal_scroll(phone)
    charts = await phone.locator("svg.bars").evaluate_all(
        "(svgs) => svgs.map((s) => [s.parentElement.scrollWidth, s.parentElement.clientWidth])"
    )
    assert len(charts) == 2 and all(wide <= box for wide, box in charts), charts

    desktop = await browser.page(DESKTOP_WIDE)
    await desktop.goto(base + "/stats?months=3")
    await no_horizontal_scroll(desktop)
    await shoot(desktop, screenshots, "stats")

    # One camera, on the default six months.
    await desktop.goto(base + "/stats?camera=garage")
    assert await desktop.locator("section.stats-camera").count() == 1
    assert await desktop.locator("section[data-camera=garage] g.month").count() == 6
