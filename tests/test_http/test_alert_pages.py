"""The Alerts page (server-rendered): rules in words, recent alerts (one line per alert with its
event's score, band and summary, and a status per channel) with their filters, the channels by
service and host (never a URL or a hash) or what to set when there are none. What its scripts do
is tested in tests/test_ui.
"""

from __future__ import annotations

import re

import msgspec
from litestar.testing import AsyncTestClient

from homesec.contract.alerts import AlertStatus
from homesec.http.pages.alerts import conditions_in_words
from homesec.http.schemas.alerts import AlertRule
from homesec.models import APIKey
from homesec.store.api_keys import hash_api_key
from tests.support.rows import T0, add_alert, add_camera, add_event


def listed_alerts(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<li class="alert[^"]*" data-id="(\d+)"', html)]


def test_conditions_read_as_words() -> None:
    rule = AlertRule(
        id=1, name="Garden at night", enabled=True, min_risk_level="medium", min_risk_score=40,
        camera_ids=["garden", "gone"], object_types=["person", "dog"], min_confidence=0.6,
        days=[1, 2, 3, 4, 5, 7], time_ranges=["22:00-06:00"], fast_path=True,
        cooldown_seconds=600, channels=["apprise"],
    )  # fmt: skip
    assert conditions_in_words(rule, {"garden": "Garden"}) == [
        "band medium or above", "score 40 or more", "cameras Garden, gone", "person or dog",
        "confidence 60% or more", "Mon\u2013Fri, Sun", "22:00\u201306:00", "fast-path events only",
    ]  # fmt: skip
    every = msgspec.structs.replace(rule, min_risk_level="critical", min_risk_score=None,
                                    camera_ids=[], object_types=[], min_confidence=None,
                                    days=[1, 3], time_ranges=[], fast_path=False)  # fmt: skip
    assert conditions_in_words(every, {}) == ["band critical", "Mon, Wed", "scored batches only"]
    none = msgspec.structs.replace(every, min_risk_level=None, days=list(range(1, 8)),
                                   fast_path=None)  # fmt: skip
    assert conditions_in_words(none, {}) == ["every event"]
    away = msgspec.structs.replace(none, modes=["away", "night"])
    assert conditions_in_words(away, {}) == ["the house away or night"]


async def test_alerts_page_lists_rules_and_alerts(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "porch")
    event = await add_event(db_sessions, batch_id="e", camera_id="porch", started_at=T0,
                            risk_score=80, risk_level="high",
                            summary="A man tries the porch door")  # fmt: skip
    created = await client.post("/api/alerts/rules", json={
        "name": "Porch <at night>", "min_risk_level": "high", "camera_ids": ["porch"],
        "days": [6, 7], "time_ranges": ["22:00-06:00"], "cooldown_seconds": 600,
        "channels": ["apprise"], "enabled": False,
    })  # fmt: skip
    rule = created.json()
    sent = await add_alert(db_sessions, event_id=event, rule_id=rule["id"], channel="mqtt")
    failed = await add_alert(db_sessions, event_id=event, rule_id=rule["id"],
                             channel="webhook:5e6f7a8b", status=AlertStatus.FAILED,
                             error="ConnectError: connection refused")  # fmt: skip

    response = await client.get("/alerts")
    assert response.status_code == 200
    html = response.text
    assert '<a href="/alerts" aria-current="page">Alerts</a>' in html
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", html)
    # The rule, in words, escaped, off.
    assert "Porch &lt;at night&gt;" in html and "<at night>" not in html
    assert f'class="rule disabled" id="rule-{rule["id"]}"' in html
    for phrase in ("band high or above", "camera Porch", "Sat, Sun", "22:00\u201306:00"):
        assert f'<span class="chip">{phrase}</span>' in html, phrase
    assert "Cooldown 10 min per camera · to apprise" in html
    # Its JSON for the editor, in an attribute.
    assert "&#34;time_ranges&#34;:[&#34;22:00-06:00&#34;]" in html
    # One line for the alert (its first row's id), with the event's score, band and summary, the
    # link, camera and rule, and each channel's part: sent, or failed with its error.
    assert listed_alerts(html) == [sent]
    assert 'class="alert band-high"' in html
    assert '<span class="score">80</span> <b class="band-name">high</b>' in html
    assert "A man tries the porch door" in html
    assert html.count(f'<a href="/events/{event}">Event {event}</a>') == 1
    assert "ConnectError: connection refused" in html and "1 attempt<" in html
    assert "rule Porch &lt;at night&gt;" in html
    assert (
        'class="badge status-failed">failed<' in html and 'class="badge status-sent">sent<' in html
    )
    # Channels configured no more read by their kind, never by their hash.
    assert "Webhook (removed)" in html and "MQTT (removed)" in html
    assert "5e6f7a8b" not in html.replace('data-channel="webhook:5e6f7a8b"', "")
    # No channel configured: what to set, and the form to add one, instead of a test button.
    assert 'id="send-test"' not in html and 'id="no-channels"' in html
    assert 'id="channel-form"' in html
    for setting in ("NOTIFY_URLS", "MQTT_URL", "WEBHOOK_URLS", "docs/alerts.md"):
        assert setting in html

    # Filters and acknowledgement.
    # A filter chooses alerts by any of their channels' rows, and shows all of them.
    only_failed = (await client.get("/alerts?status=failed")).text
    assert listed_alerts(only_failed) == [sent] and "status-sent" in only_failed
    assert listed_alerts((await client.get("/alerts?status=suppressed_cooldown")).text) == []
    await client.post(f"/api/alerts/{sent}/acknowledge")
    assert listed_alerts((await client.get("/alerts?status=open")).text) == []
    odd = await client.get("/alerts?status=purple&before_id=x")
    assert odd.status_code == 200 and listed_alerts(odd.text) == [sent]
    assert listed_alerts((await client.get(f"/alerts?before_id={failed}")).text) == []
    assert listed_alerts((await client.get(f"/alerts?before_id={failed + 1}")).text) == [sent]
    # The rule gone: its alerts say so.
    await client.delete(f"/api/alerts/rules/{rule['id']}")
    html = (await client.get("/alerts")).text
    assert "rule deleted" in html and "No rule: nothing alerts" in html


async def test_alerts_page_offers_the_test_message_with_channels(make_app, settings) -> None:
    configured = msgspec.structs.replace(
        settings,
        webhook_urls=("http://127.0.0.1:9/hook-secret-path",),
        notify_urls=("tgram://123456:bot-token-secret/987",),
    )
    async with AsyncTestClient(make_app(settings=configured)) as client:
        html = (await client.get("/alerts")).text
    assert 'id="send-test"' in html and 'id="no-channels"' not in html
    # Each channel by service and host, from the environment (not removable); no secret, no hash.
    labels = re.findall(r'<b class="channel-label">([^<]+)</b>', html)
    assert labels == ["Telegram", "Webhook \u00b7 127.0.0.1:9"]
    assert html.count("from environment") == 2 and "remove-channel" not in html
    assert "http://127.0.0.1:9/\u2022\u2022\u2022" in html and "tgram://\u2022\u2022\u2022" in html
    for secret in ("hook-secret-path", "bot-token-secret", "123456", "987"):
        assert secret not in html, secret
    assert not re.search(r">[^<]*(webhook|apprise):[0-9a-f]{8}", html)  # no hash shown


async def test_alert_times_are_in_the_house_time_zone(make_app, settings, db_sessions) -> None:
    await add_camera(db_sessions, settings, "porch")
    event = await add_event(db_sessions, batch_id="e", camera_id="porch", started_at=T0)
    await add_alert(db_sessions, event_id=event, rule_id=None, channel="mqtt")
    house = msgspec.structs.replace(settings, timezone="America/New_York")
    async with AsyncTestClient(make_app(settings=house)) as client:
        html = (await client.get("/alerts")).text
    # T0 is 12:00 UTC: 07:00 in New York; the script formats in the same zone.
    assert "23 Dec 2025 07:00" in html and "at 07:00" in html
    assert 'data-zone="America/New_York"' in html


async def test_the_page_and_its_changes_follow_the_access_rules(make_app, settings, db_sessions):
    async with db_sessions.begin() as session:
        session.add(APIKey(key_hash=hash_api_key("an alerts page key"), name="test"))
    secured = msgspec.structs.replace(settings, api_key_enabled=True)
    async with AsyncTestClient(make_app(settings=secured)) as client:
        # Without a key or a session the channels are neither listed nor changed.
        for method, path in (("GET", "/api/alerts/channels"), ("POST", "/api/alerts/channels"),
                             ("DELETE", "/api/alerts/channels/1")):  # fmt: skip
            refused = await client.request(
                method, path, json={"kind": "webhook", "url": "http://h/"}
            )
            assert refused.status_code == 401, (method, path)
        page = await client.get("/alerts", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Falerts"
        await client.post("/login", data={"key": "an alerts page key"}, follow_redirects=False)
        assert (await client.get("/alerts")).status_code == 200
        # The page's changes are refused from another site, with the session or without.
        evil = {"Origin": "https://evil.example"}
        for method, path in (("POST", "/api/alerts/rules"), ("POST", "/api/alerts/test"),
                             ("DELETE", "/api/alerts/rules/1"),
                             ("POST", "/api/alerts/1/acknowledge"),
                             ("POST", "/api/alerts/channels"),
                             ("DELETE", "/api/alerts/channels/1"),
                             ("POST", "/api/alerts/channels/1/test")):  # fmt: skip
            refused = await client.request(method, path, headers=evil, json={"name": "x"})
            assert refused.status_code == 403, (method, path)
        same = {"Origin": str(client.base_url).rstrip("/")}
        created = await client.post("/api/alerts/rules", headers=same, json={"name": "x"})
        assert created.status_code == 201
