"""The channels alerts go out on, by name, and how each reads to the owner. Pure.

Channels come from two places. The environment: ``mqtt``, and each ``NOTIFY_URLS`` (Apprise) or
``WEBHOOK_URLS`` URL as a channel of its own, named by a short hash of its URL (``apprise:<hash>``)
so the name stays the same when the list is reordered. The Alerts page: each URL the owner added
(the ``notify_channels`` table) is ``<kind>:page-<id>``. An alert row belongs to one channel; a
failing URL is retried alone, never making another URL send twice.

Names are identifiers, not for people: the owner reads a channel by its **label**, the service
and its host (``ntfy · ntfy.sh``, ``Webhook · 192.168.1.5:8123``), and a **masked** form of its URL
(``ntfys://ntfy.sh/•••``). Neither ever holds what makes the URL a secret (a password, a token, a
topic): many Apprise services carry their token where a host would be (``tgram://<bot token>/``),
so only the services listed in :data:`APPRISE_SERVICES` as having a real host show it.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import msgspec

from homesec.contract.alerts import ChannelKind
from homesec.settings import Settings

PAGE_PREFIX = "page-"
HIDDEN = "\u2022\u2022\u2022"  # •••
DOT = " \u00b7 "  # " · "
MAX_URL_LENGTH = 2000

# Apprise URL scheme -> (the service's name, whether the URL's host is a real host). Where it is
# not (a bot token, a webhook id, a topic), the label says the service only. Schemes missing
# here are shown by their scheme, without a host.
APPRISE_SERVICES: dict[str, tuple[str, bool]] = {
    "ntfy": ("ntfy", True), "ntfys": ("ntfy", True),
    "gotify": ("Gotify", True), "gotifys": ("Gotify", True),
    "json": ("JSON", True), "jsons": ("JSON", True),
    "xml": ("XML", True), "xmls": ("XML", True),
    "form": ("Form", True), "forms": ("Form", True),
    "mailto": ("E-mail", True), "mailtos": ("E-mail", True),
    "hassio": ("Home Assistant", True), "hassios": ("Home Assistant", True),
    "matrix": ("Matrix", True), "matrixs": ("Matrix", True),
    "mmost": ("Mattermost", True), "mmosts": ("Mattermost", True),
    "rocket": ("Rocket.Chat", True), "rockets": ("Rocket.Chat", True),
    "ncloud": ("Nextcloud", True), "nclouds": ("Nextcloud", True),
    "apprise": ("Apprise API", True), "apprises": ("Apprise API", True),
    "signal": ("Signal", True), "signals": ("Signal", True),
    "mqtt": ("MQTT", True), "mqtts": ("MQTT", True),
    "kodi": ("Kodi", True), "kodis": ("Kodi", True),
    "pover": ("Pushover", False), "pbul": ("Pushbullet", False),
    "tgram": ("Telegram", False), "discord": ("Discord", False), "slack": ("Slack", False),
    "msteams": ("Microsoft Teams", False), "gchat": ("Google Chat", False),
    "pushed": ("Pushed", False), "ifttt": ("IFTTT", False), "join": ("Join", False),
    "twilio": ("Twilio", False), "sns": ("Amazon SNS", False), "ses": ("Amazon SES", False),
    "whatsapp": ("WhatsApp", False), "line": ("LINE", False), "threema": ("Threema", False),
    "zulip": ("Zulip", False), "pjet": ("Pushjet", False), "prowl": ("Prowl", False),
    "spush": ("Pushsafer", False), "psafer": ("Pushsafer", False), "psafers": ("Pushsafer", False),
    "opsgenie": ("Opsgenie", False), "pagerduty": ("PagerDuty", False),
    "ses+": ("Amazon SES", False),
}  # fmt: skip
KIND_NAMES = {
    ChannelKind.APPRISE: "Apprise",
    ChannelKind.WEBHOOK: "Webhook",
    ChannelKind.MQTT: "MQTT",
}


class ChannelView(msgspec.Struct, frozen=True, kw_only=True):
    """A channel as the owner sees it: never its URL."""

    name: str  # the channel's identifier in alert rows: apprise:1a2b3c4d, webhook:page-3, mqtt
    kind: str  # ChannelKind
    label: str
    masked: str
    source: str  # "environment" or "page"
    page_id: int | None = None  # the notify_channels row of a page channel


def url_channel(kind: str, url: str) -> str:
    return f"{kind}:{hashlib.sha256(url.encode()).hexdigest()[:8]}"


def page_channel(kind: str, page_id: int) -> str:
    """The name of a channel added on the Alerts page: ``webhook:page-3``."""
    return f"{kind}:{PAGE_PREFIX}{page_id}"


def page_channel_id(name: str) -> int | None:
    """``webhook:page-3`` -> 3; None for a channel of the environment."""
    _, _, rest = name.partition(":")
    number = rest.removeprefix(PAGE_PREFIX)
    return int(number) if rest.startswith(PAGE_PREFIX) and number.isdigit() else None


def configured_channels(settings: Settings) -> dict[str, str | None]:
    """The environment's channels: name -> its URL (None for MQTT, which is one connection)."""
    channels: dict[str, str | None] = {}
    if settings.mqtt_url:
        channels[ChannelKind.MQTT.value] = None
    for url in settings.notify_urls:
        channels[url_channel(ChannelKind.APPRISE, url)] = url
    for url in settings.webhook_urls:
        channels[url_channel(ChannelKind.WEBHOOK, url)] = url
    return channels


def _host(url: str) -> str:
    """``host`` or ``host:port`` of ``url`` without its user and password; empty if none."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"{host}:{port}" if host and port else host


def _apprise_service(url: str) -> tuple[str, str]:
    """(the service's name, its host or "")."""
    scheme = url.partition("://")[0].lower()
    service, real_host = APPRISE_SERVICES.get(scheme, (scheme or "Apprise", False))
    if not real_host:
        return service, ""
    host = _host(url)
    if scheme in ("ntfy", "ntfys") and not urlsplit(url).path.strip("/"):
        return service, "ntfy.sh"  # ntfy://<topic>: the topic on ntfy.sh, and the topic is secret
    return service, host


def channel_label(kind: str, url: str | None) -> str:
    """``ntfy · ntfy.sh``, ``Telegram``, ``Webhook · 192.168.1.5:8123``, ``MQTT · broker:1883``."""
    if kind == ChannelKind.APPRISE:
        service, host = _apprise_service(url or "")
    else:
        service, host = KIND_NAMES.get(kind, kind), _host(url or "")
    return f"{service}{DOT}{host}" if host else service


def masked_url(kind: str, url: str | None) -> str:
    """The URL with everything that may be secret hidden: ``https://hooks.example:8443/•••``,
    ``mqtt://•••@broker:1883``, ``tgram://•••``. Its scheme and (where it is a real host) its
    host stay."""
    text = url or ""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return HIDDEN
    host = _host(text)
    if kind == ChannelKind.APPRISE and _apprise_service(text)[1] != host:
        host = ""  # a token or a topic where the host would be
    if not host:
        return f"{scheme}://{HIDDEN}"
    netloc, _, after = rest.partition("/")
    user = f"{HIDDEN}@" if "@" in netloc else ""
    more = bool(after.strip("/")) or "?" in rest or "#" in rest
    return f"{scheme}://{user}{host}{'/' + HIDDEN if more else ''}"


def _trimmed_url(url: str) -> str:
    """The URL, trimmed; ValueError when it is empty, too long or has spaces (any kind)."""
    text = url.strip()
    if not text:
        raise ValueError("the URL is empty")
    if len(text) > MAX_URL_LENGTH:
        raise ValueError(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(char.isspace() for char in text):
        raise ValueError("a URL has no spaces")
    return text


def check_webhook_url(url: str) -> str:
    """The URL, trimmed; ValueError saying what is wrong with it."""
    text = _trimmed_url(url)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("a webhook is an http:// or https:// URL with a host, such as "
                         "http://192.168.1.5:8123/api/webhook/homesec")  # fmt: skip
    return text


def check_apprise_shape(url: str) -> str:
    """The URL, trimmed, if it has the shape of an Apprise URL (``service://...``); ValueError
    otherwise. Whether Apprise knows the service is for Apprise to say."""
    text = _trimmed_url(url)
    scheme, sep, rest = text.partition("://")
    if not sep or not scheme or not rest.strip("/"):
        raise ValueError("an Apprise URL is service://..., such as ntfys://ntfy.sh/my-topic or "
                         "tgram://bottoken/ChatID")  # fmt: skip
    return text


def environment_views(settings: Settings) -> list[ChannelView]:
    """The environment's channels as the owner reads them."""
    views = []
    for name, url in configured_channels(settings).items():
        kind = name.split(":", 1)[0]
        address = url if url is not None else settings.mqtt_url
        label, masked = channel_label(kind, address), masked_url(kind, address)
        views.append(
            ChannelView(name=name, kind=kind, label=label, masked=masked, source="environment")
        )
    return views


def fallback_label(name: str) -> str:
    """How an alert row names a channel that is configured no more."""
    kind = name.split(":", 1)[0]
    return f"{KIND_NAMES.get(kind, kind)} (removed)"
