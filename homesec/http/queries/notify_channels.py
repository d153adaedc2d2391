"""Alert channels: what ``/api/alerts/channels`` and the Alerts page read and change.

The environment's channels (``NOTIFY_URLS``, ``WEBHOOK_URLS``, ``MQTT_URL``) are listed and can
be tested, never removed here; the page's are stored in ``notify_channels``
(:mod:`homesec.store.notify_channels`), and the Notifier is woken to take each change at once.
No answer ever carries a channel's URL: its label (service and host) and a masked form only.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.alerts import ChannelKind
from homesec.http.errors import BadRequest, Conflict, NotFound
from homesec.http.schemas import alerts as schemas
from homesec.policy.alert_channels import (
    ChannelView,
    channel_label,
    check_apprise_shape,
    check_webhook_url,
    environment_views,
    fallback_label,
    page_channel,
)
from homesec.settings import Settings
from homesec.store import alerts, notifier_wake, notify_channels
from homesec.store.notify_channels import ChannelListing

REMOVED_ERROR = "the channel was removed on the Alerts page before this alert went out"


def _page_view(row: ChannelListing) -> ChannelView:
    return ChannelView(name=page_channel(row.kind, row.id), kind=row.kind, label=row.label,
                       masked=row.masked, source="page", page_id=row.id)  # fmt: skip


async def views(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> list[ChannelView]:
    """Every channel alerts go to now: the environment's, then the page's (enabled ones)."""
    stored = await notify_channels.listed(sessions)
    return environment_views(settings) + [_page_view(row) for row in stored if row.enabled]


async def labels(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> dict[str, str]:
    """Channel name -> label, for the channels configured now."""
    return {view.name: view.label for view in await views(sessions, settings)}


def label_of(name: str, known: dict[str, str]) -> str:
    return known.get(name) or fallback_label(name)


def to_channel(view: ChannelView, listing: ChannelListing | None = None) -> schemas.NotifyChannel:
    return schemas.NotifyChannel(
        name=view.name,
        id=view.page_id,
        kind=ChannelKind(view.kind),
        label=view.label,
        masked_url=view.masked,
        source=schemas.ChannelSource(view.source),
        removable=view.source == "page",
        created_at=listing.created_at if listing is not None else None,
    )


async def list_channels(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> schemas.NotifyChannelList:
    stored = await notify_channels.listed(sessions)
    items = [to_channel(view) for view in environment_views(settings)]
    items += [to_channel(_page_view(row), row) for row in stored if row.enabled]
    return schemas.NotifyChannelList(items=items, count=len(items))


def _apprise_understands(url: str) -> bool:
    import apprise  # only here: parsing an Apprise URL is Apprise's to do

    return apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None


async def checked_url(kind: schemas.AddableKind, url: str) -> str:
    """The URL as it will be stored; BadRequest saying what is wrong (never echoing it)."""
    try:
        text = check_webhook_url(url) if kind == schemas.AddableKind.WEBHOOK else (
            check_apprise_shape(url))  # fmt: skip
    except ValueError as exc:
        raise BadRequest(f"url: {exc}") from None
    if kind == schemas.AddableKind.APPRISE and not await asyncio.to_thread(
        _apprise_understands, text
    ):
        scheme = text.partition("://")[0][:40]
        raise BadRequest(
            f"url: Apprise does not understand this {scheme}:// URL (an unknown service, or a "
            "token, host or topic missing); https://github.com/caronc/apprise/wiki lists each "
            "service's URL"
        )
    return text


async def add_channel(
    sessions: async_sessionmaker[AsyncSession],
    redis,
    settings: Settings,
    data: schemas.NotifyChannelCreate,
) -> schemas.NotifyChannel:
    url = await checked_url(data.kind, data.url)
    from_environment = settings.notify_urls if data.kind == "apprise" else settings.webhook_urls
    if url in from_environment:
        setting = "NOTIFY_URLS" if data.kind == "apprise" else "WEBHOOK_URLS"
        raise Conflict(f"this URL is configured already, by {setting}")
    added = await notify_channels.add(sessions, kind=data.kind.value, url=url,
                                      label=channel_label(data.kind, url))  # fmt: skip
    if added is None:
        raise Conflict("this URL was added already")
    await notifier_wake.wake(redis, "channels")
    return to_channel(_page_view(added), added)


async def remove_channel(
    sessions: async_sessionmaker[AsyncSession], redis, channel_id: int
) -> None:
    """Delete the channel (its URL with it); its alerts not sent yet are given up, so they do
    not wait for a channel that is gone."""
    gone = await notify_channels.remove(sessions, channel_id)
    if gone is None:
        raise NotFound(f"no channel {channel_id} added on the Alerts page")
    await alerts.fail_pending_of_channel(sessions, page_channel(gone.kind, gone.id), REMOVED_ERROR)
    await notifier_wake.wake(redis, "channels")


async def page_channel_name(sessions: async_sessionmaker[AsyncSession], channel_id: int) -> str:
    found = await notify_channels.get(sessions, channel_id)
    if found is None or not found.enabled:
        raise NotFound(f"no channel {channel_id} added on the Alerts page")
    return page_channel(found.kind, found.id)
