"""The header's house mode in a real browser: on every page, set with a tap on a phone and a
click on a desktop, saying since when and who set it, without widening a 390 px page."""

from __future__ import annotations

from sqlalchemy import select

from homesec.models import AlertRuleRow
from homesec.store import house_modes
from tests.support.browser import DESKTOP, PHONE, no_horizontal_scroll, shoot


async def test_the_header_sets_and_shows_the_house_mode(
    make_app, serve, watched, db_sessions, screenshots
) -> None:
    base = serve(make_app())
    browser = await watched(base)

    page = await browser.page(DESKTOP)
    await page.goto(base + "/")
    picker = page.locator("header.top #house-mode")
    await page.wait_for_function("document.getElementById('house-mode').title !== ''")
    assert await picker.input_value() == "home"
    assert "never changed" in await picker.get_attribute("title")

    async with page.expect_response(
        lambda r: r.url.endswith("/api/mode") and r.request.method == "PUT"
    ) as put:
        await picker.select_option("away")
    assert (await put.value).status == 200
    await page.locator('#house-mode[data-mode="away"]').wait_for()
    assert "set by dashboard" in await picker.get_attribute("title")
    stored = await house_modes.current(db_sessions)
    assert (stored.mode, stored.changed_by) == ("away", "dashboard")
    await shoot(page, screenshots, "house-mode")

    # Every page's header shows it.
    for path in ("/cameras", "/alerts", "/system"):
        await page.goto(base + path)
        await page.locator('header.top #house-mode[data-mode="away"]').wait_for()

    # A phone: the picker fits the header, readable, and a tap sets night.
    phone = await browser.page(PHONE)
    await phone.goto(base + "/")
    mobile = phone.locator("#house-mode")
    await phone.locator('#house-mode[data-mode="away"]').wait_for()
    box = await mobile.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert box["height"] >= 20  # big enough to tap
    size = await mobile.evaluate("(e) => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 12
    await no_horizontal_scroll(phone)
    await shoot(phone, screenshots, "house-mode")
    await mobile.select_option("night")
    await phone.locator('#house-mode[data-mode="night"]').wait_for()
    assert (await house_modes.current(db_sessions)).mode == "night"
    assert [c.mode for c in await house_modes.history(db_sessions)] == ["night", "away"]

    # Changed elsewhere (Home Assistant, the schedule): the page reads it again when it comes
    # back into view.
    await house_modes.set_mode(db_sessions, "home", "mqtt")
    await phone.reload()
    await phone.locator('#house-mode[data-mode="home"]').wait_for()
    assert "set by mqtt" in await mobile.get_attribute("title")


async def test_a_rule_for_away_is_made_on_the_alerts_page(
    make_app, serve, watched, db_sessions, screenshots
) -> None:
    base = serve(make_app())
    browser = await watched(base)
    phone = await browser.page(PHONE)
    await phone.goto(base + "/alerts")
    await phone.click("#new-rule")
    form = phone.locator("#rule-form")
    await form.locator("input[name=name]").fill("While away")
    await form.locator("input[name=modes][value=away]").check()
    await no_horizontal_scroll(phone)
    async with phone.expect_navigation():
        await phone.click("#save-rule")
    async with db_sessions() as session:
        row = (await session.scalars(select(AlertRuleRow))).one()
    assert row.modes == ["away"]
    rule = phone.locator(f"li#rule-{row.id}")
    assert await rule.locator(".conditions .chip").all_inner_texts() == ["the house away"]

    # Editing keeps the modes ticked; unticking them makes the rule hold in every mode.
    await rule.locator("button.edit").click()
    assert await form.locator("input[name=modes][value=away]").is_checked()
    await form.locator("input[name=modes][value=away]").uncheck()
    async with phone.expect_navigation():
        await phone.click("#save-rule")
    async with db_sessions() as session:
        assert (await session.get(AlertRuleRow, row.id)).modes == []
