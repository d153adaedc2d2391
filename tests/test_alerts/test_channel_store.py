"""``notify_channels`` through its store module, and the labels and masks that stand for a URL."""

from __future__ import annotations

import pytest

from homesec.contract.alerts import AlertStatus
from homesec.policy.alert_channels import (
    channel_label,
    masked_url,
    page_channel,
    page_channel_id,
)
from homesec.store import alerts, notify_channels
from homesec.store.alerts import NewAlert


async def test_a_channel_is_stored_listed_without_its_url_and_removed(db_sessions):
    url = "tgram://123456:bot-token-secret/987654"
    added = await notify_channels.add(db_sessions, kind="apprise", url=url,
                                      label=channel_label("apprise", url))  # fmt: skip
    assert added is not None and added.label == "Telegram" and added.enabled
    assert added.masked == "tgram://\u2022\u2022\u2022"
    assert "bot-token-secret" not in repr(added)  # the listing has no URL field at all
    assert not hasattr(added, "url")
    # The same URL twice: refused, not stored twice.
    assert await notify_channels.add(db_sessions, kind="apprise", url=url, label="x") is None
    assert [c.id for c in await notify_channels.listed(db_sessions)] == [added.id]
    # Only the Notifier's view carries it.
    (target,) = await notify_channels.enabled_targets(db_sessions)
    assert (target.id, target.kind, target.url) == (added.id, "apprise", url)
    assert (await notify_channels.get(db_sessions, added.id)).label == "Telegram"

    gone = await notify_channels.remove(db_sessions, added.id)
    assert gone is not None and gone.id == added.id
    assert await notify_channels.remove(db_sessions, added.id) is None
    assert await notify_channels.listed(db_sessions) == []
    assert await notify_channels.enabled_targets(db_sessions) == []


async def test_a_removed_channels_pending_alerts_are_given_up_and_others_kept(db_sessions):
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    async with db_sessions.begin() as session:
        gone, kept, done = await alerts.add(session, [
            NewAlert(channel="webhook:page-4", status=AlertStatus.PENDING, idempotency_key="a"),
            NewAlert(channel="webhook:page-5", status=AlertStatus.PENDING, idempotency_key="b"),
            NewAlert(channel="webhook:page-4", status=AlertStatus.SENT, idempotency_key="c"),
        ], now)  # fmt: skip
    assert await alerts.fail_pending_of_channel(db_sessions, "webhook:page-4", "removed") == 1
    statuses = {row.id: row.status for row in await alerts.by_ids(db_sessions, [gone, kept, done])}
    assert statuses == {gone: "failed", kept: "pending", done: "sent"}


async def test_alerts_are_grouped_one_per_event_with_every_channel(db_sessions, rows):
    import datetime as dt

    await rows.camera("porch", "Porch")
    first = await rows.event("porch", [await rows.detection("porch")], score=70, level="high",
                             fast_path=True)  # fmt: skip
    second = await rows.event("porch", [await rows.detection("porch")], score=90,
                              level="critical", fast_path=True)  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    async with db_sessions.begin() as session:
        await alerts.add(session, [
            NewAlert(channel=channel, status=status, event_id=event, camera_id="porch",
                     idempotency_key=f"event:{event}:{channel}")
            for event, status in ((first, AlertStatus.SENT), (second, AlertStatus.PENDING))
            for channel in ("mqtt", "apprise:page-1")
        ], now)  # fmt: skip
    await alerts.add_test_alerts(db_sessions, ["mqtt", "apprise:page-1"], "tok")
    groups = await alerts.recent_grouped(db_sessions, 10)
    assert [[row.kind for row in group] for group in groups] == [
        ["test", "test"], ["alert", "alert"], ["alert", "alert"]]  # fmt: skip
    assert [group[0].event_id for group in groups[1:]] == [second, first]
    assert {row.channel for row in groups[1]} == {"mqtt", "apprise:page-1"}
    # Paging by the newest row of the last alert shown; a filter picks whole alerts.
    (older,) = await alerts.recent_grouped(db_sessions, 10,
                                           before_id=alerts.group_id(groups[1]))  # fmt: skip
    assert older[0].event_id == first and len(older) == 2
    (sent,) = await alerts.recent_grouped(db_sessions, 10, status=AlertStatus.SENT)
    assert sent[0].event_id == first
    assert len(await alerts.recent_grouped(db_sessions, 1)) == 1


@pytest.mark.parametrize(
    ("kind", "url", "label", "masked"),
    [
        ("apprise", "ntfys://ntfy.sh/my-secret-topic", "ntfy \u00b7 ntfy.sh",
         "ntfys://ntfy.sh/\u2022\u2022\u2022"),
        ("apprise", "ntfy://my-secret-topic", "ntfy \u00b7 ntfy.sh", "ntfy://\u2022\u2022\u2022"),
        ("apprise", "pover://user-secret@token-secret", "Pushover", "pover://\u2022\u2022\u2022"),
        ("apprise", "mailtos://me:pass-secret@mail.example.org", "E-mail \u00b7 mail.example.org",
         "mailtos://\u2022\u2022\u2022@mail.example.org"),
        ("apprise", "json://192.168.1.9:8080/secret-path", "JSON \u00b7 192.168.1.9:8080",
         "json://192.168.1.9:8080/\u2022\u2022\u2022"),
        ("apprise", "madeup://secret-token", "madeup", "madeup://\u2022\u2022\u2022"),
        ("webhook", "http://192.168.1.5:8123/api/webhook/secret-id",
         "Webhook \u00b7 192.168.1.5:8123", "http://192.168.1.5:8123/\u2022\u2022\u2022"),
        ("webhook", "https://user:pw-secret@[::1]:8443/h?token=secret",
         "Webhook \u00b7 [::1]:8443", "https://\u2022\u2022\u2022@[::1]:8443/\u2022\u2022\u2022"),
        ("mqtt", "mqtt://ha:pw-secret@broker.lan:1883", "MQTT \u00b7 broker.lan:1883",
         "mqtt://\u2022\u2022\u2022@broker.lan:1883"),
    ],
)  # fmt: skip
def test_labels_and_masks_name_the_service_and_host_and_never_a_secret(kind, url, label, masked):
    assert channel_label(kind, url) == label
    assert masked_url(kind, url) == masked
    for shown in (label, masked):
        assert "secret" not in shown


def test_page_channel_names_round_trip():
    assert page_channel("webhook", 12) == "webhook:page-12"
    assert page_channel_id("webhook:page-12") == 12
    assert page_channel_id("webhook:1a2b3c4d") is None and page_channel_id("mqtt") is None
