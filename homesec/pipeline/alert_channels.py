"""The configured channels, by name: ``mqtt``, ``apprise:<hash>``, ``webhook:<hash>``. Pure.

Each Apprise or webhook URL is a channel of its own, named by a short hash of its URL, so the
name stays the same when the list is reordered and never shows the URL's secrets. An alert row
belongs to one channel; a failing URL is retried alone, never making another URL send twice.
"""

from __future__ import annotations

import hashlib

from homesec.contract.alerts import ChannelKind
from homesec.settings import Settings


def url_channel(kind: str, url: str) -> str:
    return f"{kind}:{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def configured_channels(settings: Settings) -> dict[str, str | None]:
    """Channel name -> its URL (None for MQTT, which is one connection)."""
    channels: dict[str, str | None] = {}
    if settings.mqtt_url:
        channels[ChannelKind.MQTT.value] = None
    for url in settings.notify_urls:
        channels[url_channel(ChannelKind.APPRISE, url)] = url
    for url in settings.webhook_urls:
        channels[url_channel(ChannelKind.WEBHOOK, url)] = url
    return channels
