"""The words of an alert: title, body and link, from the event as an alert tells it. Pure.

Every channel sends the same :class:`AlertMessage`; a channel only chooses how (a push with a
title and an attachment, a JSON POST, MQTT topics).
"""

from __future__ import annotations

import datetime as dt

from homesec.contract.alerts import AlertKind, AlertMessage, AnnouncedEvent


def dashboard_link(base_url: str, event_id: int | None) -> str:
    """Where the dashboard shows the event (``HOMESEC_PUBLIC_URL``, else the API's address)."""
    base = base_url.rstrip("/")
    return f"{base}/events/{event_id}" if event_id is not None else f"{base}/"


def incident_link(base_url: str, incident_id: int) -> str:
    """Where the dashboard shows the incident: its story and its visits."""
    return f"{base_url.rstrip('/')}/incidents/{incident_id}"


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
    event: AnnouncedEvent,
    link_base: str,
    zone: dt.tzinfo | None,
) -> AlertMessage:
    """The message of one alert row about ``event``. ``alert_id``: the conversation's (for an
    update, the alert it updates)."""
    local = event.started_at.astimezone(zone)
    risk_level, risk_score = event.risk_level, event.risk_score
    if event.incident_id is not None and event.incident_risk_level is not None:
        # One incident, one alert: its band is the incident's, on the whole story.
        risk_level, risk_score = event.incident_risk_level, event.incident_risk_score
    band = f"{risk_level or 'unscored'}" + (f" {risk_score}" if risk_score is not None else "")
    what = describe_objects(event.object_types)
    update = kind == AlertKind.UPDATE
    title = f"{what} at {event.camera_name} ({band})"
    if update:
        title = f"Update: {title}"
    link = dashboard_link(link_base, event.event_id)
    if event.incident_id is not None:
        link = incident_link(link_base, event.incident_id)
    lines = [
        f"{event.camera_name}, {local:%a %d %b %H:%M:%S}: risk {band}.",
        event.story or "",
        event.summary or "",
        link,
    ]
    return AlertMessage(
        alert_id=alert_id,
        kind=kind,
        title=title,
        body="\n".join(line for line in lines if line),
        camera_id=event.camera_id,
        camera_name=event.camera_name,
        local_time=local.isoformat(),
        risk_level=risk_level,
        risk_score=risk_score,
        summary=event.summary,
        event_id=event.event_id,
        link=link,
        idempotency_key=idempotency_key,
        thumbnail_path=event.thumbnail_path,
        update=update,
        object_types=event.object_types,
        incident_id=event.incident_id,
        story=event.story,
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
