"""Webhooks: a JSON POST of the alert and its event, signed with HMAC-SHA256.

Headers: ``X-Homesec-Signature: sha256=<hex>`` (HMAC-SHA256 of the exact body with
``WEBHOOK_SECRET``; absent without a secret), ``Idempotency-Key`` (the same on a repeat of the
same alert on the same channel), ``X-Homesec-Alert-Id``. A 2xx answer is delivery; anything
else, or no answer within ``NOTIFY_TIMEOUT_SECONDS``, is a failed attempt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import httpx
import msgspec

from homesec.contract.alerts import AlertMessage
from homesec.engines.notify import ChannelError

SIGNATURE_HEADER = "X-Homesec-Signature"


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def payload(message: AlertMessage) -> dict:
    """The POSTed document: the alert, and its event as far as the message knows it."""
    return {
        "alert_id": message.alert_id,
        "update": message.update,
        "kind": message.kind,
        "title": message.title,
        "body": message.body,
        "link": message.link,
        "idempotency_key": message.idempotency_key,
        "sent_at": dt.datetime.now(dt.UTC).isoformat(),
        "event": {
            "id": message.event_id,
            "camera_id": message.camera_id,
            "camera_name": message.camera_name,
            "local_time": message.local_time,
            "risk_level": message.risk_level,
            "risk_score": message.risk_score,
            "summary": message.summary,
            "object_types": list(message.object_types),
        },
        # One incident across cameras (issue 23): its id and story so far; null for a visit
        # alone.
        "incident": (
            {"id": message.incident_id, "story": message.story}
            if message.incident_id is not None
            else None
        ),
    }


class WebhookChannel:
    def __init__(self, name: str, url: str, secret: str | None, timeout: float) -> None:
        self.name = name
        self.url = url
        self.secret = secret
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def send(self, message: AlertMessage) -> None:
        body = msgspec.json.encode(payload(message))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.idempotency_key,
            "X-Homesec-Alert-Id": str(message.alert_id),
        }
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, body)
        try:
            response = await self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ChannelError(f"{type(exc).__name__}: {exc}"[:300] or type(exc).__name__) from None
        if not response.is_success:
            raise ChannelError(f"HTTP {response.status_code} {response.reason_phrase}")

    async def close(self) -> None:
        await self._client.aclose()
