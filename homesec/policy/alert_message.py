"""The words of an alert: title, body and link, from the event's facts. Pure.

Every channel sends the same :class:`AlertMessage`; a channel only chooses how (a push with a
title and an attachment, a JSON POST, MQTT topics).
"""

from __future__ import annotations

import datetime as dt

from homesec.contract.alerts import AlertKind, AlertMessage


def dashboard_link(base_url: str, event_id: int | None) -> str:
    """Where the dashboard shows the event (``HOMESEC_PUBLIC_URL``, else the API's address)."""
    base = base_url.rstrip("/")
    return f"{base}/events/{event_id}" if event_id is not None else f"{base}/"


def base_url(public_url: str | None, host: str, port: int) -> str:
    if public_url:
        return public_url
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    return f"http://{shown}:{port}"


def describe_objects(object_types: tuple[str, ...]) -> str:
    if not object_types:
        return "Activity"
    return " and ".join(kind.capitalize() for kind in object_types[:2])


def compose(
    *,
    alert_id: int,
    kind: str,
    idempotency_key: str,
    event_id: int | None,
    camera_id: str,
    camera_name: str,
    started_at: dt.datetime,
    risk_level: str | None,
    risk_score: int | None,
    summary: str | None,
    object_types: tuple[str, ...],
    thumbnail_path: str | None,
    link_base: str,
    zone: dt.tzinfo | None,
) -> AlertMessage:
    """The message of one alert row. ``alert_id``: the conversation's (for an update, the
    alert it updates)."""
    local = started_at.astimezone(zone)
    band = f"{risk_level or 'unscored'}" + (f" {risk_score}" if risk_score is not None else "")
    what = describe_objects(object_types)
    update = kind == AlertKind.UPDATE
    title = f"{what} at {camera_name} ({band})"
    if update:
        title = f"Update: {title}"
    link = dashboard_link(link_base, event_id)
    lines = [
        f"{camera_name}, {local:%a %d %b %H:%M:%S}: risk {band}.",
        summary or "",
        link,
    ]
    return AlertMessage(
        alert_id=alert_id,
        kind=kind,
        title=title,
        body="\n".join(line for line in lines if line),
        camera_id=camera_id,
        camera_name=camera_name,
        local_time=local.isoformat(),
        risk_level=risk_level,
        risk_score=risk_score,
        summary=summary,
        event_id=event_id,
        link=link,
        idempotency_key=idempotency_key,
        thumbnail_path=thumbnail_path,
        update=update,
        object_types=object_types,
    )


def trial_message(*, alert_id: int, idempotency_key: str, link_base: str, now: dt.datetime):
    """What ``POST /api/alerts/test`` sends: plainly a test, on every channel."""
    return AlertMessage(
        alert_id=alert_id,
        kind=AlertKind.TEST,
        title="homesec test message",
        body=f"This is a test of homesec's alerts, sent {now:%Y-%m-%d %H:%M:%S %Z}.",
        camera_id="",
        camera_name="",
        local_time=now.isoformat(),
        risk_level=None,
        risk_score=None,
        summary=None,
        event_id=None,
        link=dashboard_link(link_base, None),
        idempotency_key=idempotency_key,
    )
