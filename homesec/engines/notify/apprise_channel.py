"""Apprise: one library for the owner's push app (ntfy, Pushover, Telegram, Discord, Gotify,
e-mail, Home Assistant, ``json://`` for any HTTP endpoint ...).

Apprise blocks: each send runs on a worker thread, bounded by ``NOTIFY_TIMEOUT_SECONDS``. A send
that overruns is reported as failed (and retried later); the thread itself cannot be cancelled
and ends when Apprise's own socket timeouts fire. What Apprise logged about a failure becomes
the error, so the owner sees "401 Unauthorized", not just "failed".
"""

from __future__ import annotations

import asyncio
import logging
import os

from homesec.contract.alerts import AlertMessage
from homesec.engines.notify import ChannelError


class AppriseChannel:
    def __init__(self, name: str, url: str, timeout: float) -> None:
        self.name = name
        self.url = url
        self.timeout = timeout

    async def send(self, message: AlertMessage) -> None:
        try:
            await asyncio.wait_for(asyncio.to_thread(self._notify, message), self.timeout)
        except TimeoutError:
            raise ChannelError(f"no answer within {self.timeout:g} s") from None

    def _notify(self, message: AlertMessage) -> None:
        import apprise

        notifier = apprise.Apprise()
        if not notifier.add(self.url):
            raise ChannelError(
                "Apprise does not understand this URL; see "
                "https://github.com/caronc/apprise/wiki for the URL of your service"
            )
        attachment = None
        if message.thumbnail_path and os.path.isfile(message.thumbnail_path):
            attachment = apprise.AppriseAttachment(message.thumbnail_path)
        with apprise.LogCapture(level=logging.WARNING) as captured:
            ok = notifier.notify(
                title=message.title,
                body=message.body,
                notify_type=_notify_type(message),
                attach=attachment,
            )
            log = captured.getvalue().strip()
        if not ok:
            raise ChannelError(log.splitlines()[-1] if log else "Apprise reported a failure")

    async def close(self) -> None:
        return None


def _notify_type(message: AlertMessage) -> str:
    import apprise

    if message.risk_level == "critical":
        return apprise.NotifyType.FAILURE
    if message.risk_level == "high":
        return apprise.NotifyType.WARNING
    return apprise.NotifyType.INFO
