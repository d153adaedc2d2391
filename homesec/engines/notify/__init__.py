"""The channels alerts go out on: Apprise, MQTT (with Home Assistant discovery), webhooks.

Each channel has a ``name`` (:mod:`homesec.policy.alert_channels`), ``send(message)`` that
returns once the far side took the message or raises :class:`ChannelError` saying why, and
``close()``. They do outside I/O and nothing else: what to send and when is the Notifier's and
:mod:`homesec.policy.alert_rules`'.
"""

from __future__ import annotations

from typing import Protocol

from homesec.contract.alerts import AlertMessage
from homesec.settings import Settings


class ChannelError(RuntimeError):
    """The channel did not take the message; the text says why (stored as ``last_error``)."""


class Channel(Protocol):
    name: str

    async def send(self, message: AlertMessage) -> None: ...

    async def close(self) -> None: ...


def build_channel(name: str, url: str, settings: Settings) -> Channel:
    """The Apprise or webhook channel ``name`` (``apprise:...``, ``webhook:...``) sending to
    ``url``."""
    from homesec.contract.alerts import ChannelKind, channel_kind
    from homesec.engines.notify.apprise_channel import AppriseChannel
    from homesec.engines.notify.webhook_channel import WebhookChannel

    if channel_kind(name) == ChannelKind.APPRISE:
        return AppriseChannel(name, url, settings.notify_timeout_seconds)
    return WebhookChannel(name, url, settings.webhook_secret, settings.notify_timeout_seconds)


def build_channels(settings: Settings, *, client_id: str) -> dict[str, Channel]:
    """Every channel of the environment by name. MQTT connects in the background."""
    from homesec.contract.alerts import ChannelKind
    from homesec.engines.notify.mqtt_channel import MqttChannel
    from homesec.policy.alert_channels import configured_channels

    channels: dict[str, Channel] = {}
    for name, url in configured_channels(settings).items():
        if name == ChannelKind.MQTT:
            channels[name] = MqttChannel(settings, client_id=client_id)
        else:
            channels[name] = build_channel(name, url or "", settings)
    return channels
