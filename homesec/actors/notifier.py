"""The Notifier: decides alerts for new events and delivers the outbox (docs/alerts.md).

One actor (``num_cpus=0``: it waits on I/O). Its loop:

1. **Decide** (:func:`homesec.workflows.alert_decisions.decide_new_events`): the events stored
   since the durable cursor are judged against the rules, and the alert rows are written in the
   same transaction that moves the cursor. Woken by each ``event`` message on
   ``security_events``; a sweep every ``sweep_seconds`` is the safety net for a missed message
   (pub/sub forgets what nobody heard).
2. **Deliver**: the due pending rows, each channel's in order, channels side by side. Each send
   is counted (``attempts``, committed) before it starts and marked ``sent`` once the channel
   took it; a failure is retried with capped exponential backoff
   (:func:`homesec.policy.alert_rules.retry_delay`) until ``NOTIFY_MAX_ATTEMPTS``, then
   ``failed`` with its last error. An update waits until its alert went out.

A Notifier that dies (killed, its node gone) loses nothing: undecided events stay after the
cursor and pending rows stay pending. A row is sent twice only if the process dies after the
channel took it and before ``sent`` committed; it then goes out again with the same
idempotency key (webhook header and body, MQTT payload, the same retained topic) so a receiver
can tell.

Channels: the environment's (``NOTIFY_URLS``, ``WEBHOOK_URLS``, ``MQTT_URL``), built once, and the
ones the owner added on the Alerts page (``notify_channels``), read again at the start of every
cycle: a channel added there takes the next alert without a restart, and one removed sends no
more. The page wakes the Notifier (``notifier:wake``) when it adds or removes one.

With MQTT it also publishes each event's state for Home Assistant (person, risk, snapshot,
event) as it hears it: state, not alerts, so it goes out whatever the rules say.

The house's mode (:mod:`homesec.workflows.house_mode`): each cycle applies the commands Home
Assistant's select sent on the mode's command topic (logged as ``mqtt``) and, with
``HOUSE_MODE_SCHEDULE``, the schedule's edges (logged as ``schedule``), then reports the mode in
force on the state topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from pathlib import Path

import msgspec

from homesec.actors.base import ServiceActor
from homesec.contract import keys
from homesec.contract.alerts import AlertKind, AlertMessage, AlertStatus
from homesec.contract.messages import SecurityEventMessage, message_type
from homesec.engines.notify import Channel, ChannelError, build_channel, build_channels
from homesec.engines.notify.mqtt_channel import MqttChannel
from homesec.policy.alert_channels import page_channel, page_channel_id
from homesec.policy.alert_message import base_url, compose, trial_message
from homesec.policy.alert_rules import after_failure, retry_delay
from homesec.policy.digest import due_day
from homesec.policy.retry import describe_error
from homesec.settings import Settings, local_zone
from homesec.store import alert_facts, alerts, house_modes, notifier_wake, notify_channels
from homesec.store.alerts import StoredAlert
from homesec.store.outages import as_outage
from homesec.workflows.alert_decisions import decide_new_events
from homesec.workflows.camera_alert_decisions import decide_camera_problems
from homesec.workflows.camera_alerts_out import camera_alert_message, publish_camera_problems
from homesec.workflows.digest import decide_digest, digest_alert_message
from homesec.workflows.house_mode import apply_mqtt_commands, apply_schedule

SWEEP_SECONDS = 5.0
CAMERAS_EVERY_SECONDS = 30.0
DELIVERY_BATCH = 50
MIN_SLEEP_SECONDS = 0.05
# Larger camera frames go to MQTT as their detection's thumbnail instead.
MAX_SNAPSHOT_BYTES = 4 * 1024 * 1024


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Notifier(ServiceActor):
    kind = "notifier"

    def __init__(
        self,
        name: str,
        settings: Settings,
        database_url: str,
        redis_url: str,
        sweep_seconds: float = SWEEP_SECONDS,
        retry_base_seconds: float | None = None,
        events_channel: str = keys.SECURITY_EVENTS,
    ) -> None:
        super().__init__(name, settings, database_url, redis_url)
        self.sweep_seconds = sweep_seconds
        self.retry_base_seconds = retry_base_seconds
        self.events_channel = events_channel
        self.zone = local_zone(settings)
        self.link_base = base_url(settings.public_url, settings.host, settings.port)
        self.channels: dict[str, Channel] = {}
        self._page_urls: dict[str, str] = {}  # page channel name -> the URL it was built with
        self._wake = asyncio.Event()
        self._cameras_at = 0.0
        self._digest_queued: tuple[dt.date, frozenset[str]] | None = None

    @property
    def mqtt(self) -> MqttChannel | None:
        channel = self.channels.get("mqtt")
        return channel if isinstance(channel, MqttChannel) else None

    async def main(self) -> None:
        if not self.channels:
            prefix = self.settings.mqtt_topic_prefix.replace("/", "-")
            self.channels = build_channels(self.settings, client_id=f"homesec-{prefix}-notifier")
        listener = asyncio.create_task(self._listen(), name=f"{self.name}-listen")
        try:
            while not self.stopping:
                try:
                    await self.cycle()
                except Exception as exc:
                    outage = as_outage(exc)
                    if outage is None:
                        self.record_error(exc)
                        self.log.warning("notifier cycle failed: %s", describe_error(exc))
                    else:
                        await self.wait_out(outage)
                        continue
                await self._sleep()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener

    async def cycle(self) -> None:
        """One round: the page's channels, cameras for Home Assistant now and then, decide,
        deliver."""
        await self.refresh_page_channels()
        await self._refresh_cameras()
        await self.house_mode()
        while await decide_new_events(
            self.sessions,
            list(self.channels),
            _now(),
            quiet_hours=self.settings.notify_quiet_hours,
            zone=self.zone,
            update_min_score_change=self.settings.notify_update_min_score_change,
        ):
            self.counters["decided_batches"] += 1
        await self._decide_camera_problems()
        await self.decide_digest(_now())
        await self.deliver_due()

    async def _decide_camera_problems(self) -> None:
        """Camera alerts (issue 23): the undecided problems against the rules; then each
        camera's problem state for Home Assistant."""
        while await decide_camera_problems(
            self.sessions,
            list(self.channels),
            _now(),
            quiet_hours=self.settings.notify_quiet_hours,
            zone=self.zone,
        ):
            self.counters["camera_problems_decided"] += 1
        mqtt = self.mqtt
        if mqtt is not None:
            await publish_camera_problems(self.sessions, mqtt)

    async def decide_digest(self, now: dt.datetime) -> None:
        """The morning digest (``DIGEST_AT``) into the outbox, once a day per Apprise channel;
        a day already queued on these channels asks the database nothing."""
        channels = frozenset(self.channels)
        day = due_day(now, self.settings.digest_at, self.zone)
        if day is None or self._digest_queued == (day, channels):
            return
        _, written = await decide_digest(
            self.sessions, sorted(channels), now, digest_at=self.settings.digest_at, zone=self.zone
        )
        self._digest_queued = (day, channels)
        if written:
            self.counters["digests_queued"] += written
            self.log.info("morning digest of %s queued on %d channel(s)", day, written)

    async def _sleep(self) -> None:
        """Until woken, the next row is due, or the sweep; PostgreSQL away: the sweep."""
        delay = self.sweep_seconds
        try:
            next_due = await alerts.next_due_at(self.sessions)
        except Exception:  # the next cycle meets the outage and waits it out
            next_due = None
        if next_due is not None:
            delay = max(MIN_SLEEP_SECONDS, min(delay, (next_due - _now()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)
        self._wake.clear()

    def wake(self) -> None:
        self._wake.set()

    async def refresh_page_channels(self) -> None:
        """Build the channels added on the Alerts page since the last cycle and close those
        removed (or turned off); the environment's stay as they are."""
        targets = await notify_channels.enabled_targets(self.sessions)
        wanted = {page_channel(target.kind, target.id): target.url for target in targets}
        for name in [n for n in self.channels if page_channel_id(n) is not None]:
            if wanted.get(name) != self._page_urls.get(name):
                channel = self.channels.pop(name)
                self._page_urls.pop(name, None)
                with contextlib.suppress(Exception):
                    await channel.close()
                self.log.info("alert channel %s removed", name)
        for name, url in wanted.items():
            if name not in self.channels:
                self.channels[name] = build_channel(name, url, self.settings)
                self._page_urls[name] = url
                self.log.info("alert channel %s added", name)

    # --- listening --------------------------------------------------------------------------
    async def _listen(self) -> None:
        """Each ``event`` message wakes the loop (and goes to MQTT as state); so does anything
        on ``notifier:wake``."""
        while not self.stopping:
            try:
                async for channel, text in notifier_wake.listen(self.redis, self.events_channel):
                    if channel == keys.NOTIFIER_WAKE:
                        self.wake()
                        continue
                    if message_type(text) != "event":
                        continue
                    self.wake()
                    await self._publish_state(text)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis away: the sweep carries on; listen again soon
                self.log.debug("security_events subscription lost: %s", exc)
                await asyncio.sleep(1.0)

    async def _publish_state(self, text: str) -> None:
        mqtt = self.mqtt
        if mqtt is None:
            return
        try:
            event = msgspec.json.decode(text, type=SecurityEventMessage).data
            async with self.sessions() as session:
                announced = await alert_facts.announced_event(session, event.event_id)
            if announced is None:
                return
            mqtt.know_cameras({announced.camera_id: announced.camera_name})
            # The whole frame the camera uploaded; its thumbnail when the image is gone.
            snapshot = await _read(announced.image_path) or await _read(announced.thumbnail_path)
            document = {
                **msgspec.to_builtins(event),
                "camera_name": announced.camera_name,
                "local_time": announced.started_at.astimezone(self.zone).isoformat(),
            }
            mqtt.publish_event(document, list(announced.object_types), snapshot)
            self.counters["mqtt_events"] += 1
        except Exception as exc:  # state is best effort: the next event brings it up to date
            self.record_error(exc)

    async def house_mode(self) -> None:
        """The house's mode: apply Home Assistant's commands and the schedule's edges, then
        report the mode in force on MQTT (whoever set it: the dashboard wakes us)."""
        mqtt = self.mqtt
        if mqtt is not None:
            if mqtt.on_mode_command is None:
                loop = asyncio.get_running_loop()
                mqtt.on_mode_command = lambda: loop.call_soon_threadsafe(self.wake)
            commands = []
            while not mqtt.mode_commands.empty():
                commands.append(mqtt.mode_commands.get_nowait())
            await apply_mqtt_commands(self.sessions, commands)
        if self.settings.house_mode_schedule:
            night = self.settings.house_mode_night_hours
            await apply_schedule(self.sessions, night, _now(), self.zone)
        if mqtt is not None:
            mqtt.report_mode((await house_modes.current(self.sessions)).mode)

    async def _refresh_cameras(self) -> None:
        mqtt = self.mqtt
        loop_time = asyncio.get_running_loop().time()
        if mqtt is None or loop_time < self._cameras_at:
            return
        self._cameras_at = loop_time + CAMERAS_EVERY_SECONDS
        async with self.sessions() as session:
            mqtt.know_cameras(await alert_facts.camera_names(session))

    # --- delivery ---------------------------------------------------------------------------
    async def deliver_due(self) -> int:
        """Send every due row; channels side by side, each channel's rows in order."""
        rows = await alerts.due(self.sessions, _now(), DELIVERY_BATCH)
        by_channel: dict[str, list[StoredAlert]] = {}
        for row in rows:
            by_channel.setdefault(row.channel, []).append(row)
        results = await asyncio.gather(
            *(self._deliver_channel(channel, queue) for channel, queue in by_channel.items())
        )
        return sum(results)

    async def _deliver_channel(self, name: str, queue: list[StoredAlert]) -> int:
        sent = 0
        for row in queue:
            ok = await self._deliver(name, row)
            sent += ok
            if not ok:
                break  # the channel is failing: its later rows wait, in order
        return sent

    async def _deliver(self, name: str, row: StoredAlert) -> bool:
        channel = self.channels.get(name)
        attempts = await alerts.claim(self.sessions, row.id)
        if attempts is None:
            return True  # no longer pending
        try:
            if channel is None:
                raise ChannelError(f"channel {name} is not configured any more")
            message = await self._message(row)
            if message is None:
                await alerts.mark_failed(self.sessions, row.id, "its event is gone",
                                         AlertStatus.FAILED, _now())  # fmt: skip
                return True
            await channel.send(message)
        except Exception as exc:
            # The channel's own failure is never an outage of ours (its text may look like one).
            if not isinstance(exc, ChannelError) and as_outage(exc) is not None:
                raise
            error = describe_error(exc)
            max_attempts = 1 if row.kind == AlertKind.TEST else self.settings.notify_max_attempts
            status = after_failure(attempts, max_attempts)
            delay = retry_delay(attempts, **self._retry_base())
            await alerts.mark_failed(
                self.sessions, row.id, error, status, _now() + dt.timedelta(seconds=delay)
            )
            self.counters["send_failures"] += 1
            self.log.warning(
                "alert %d to %s failed (attempt %d): %s", row.id, name, attempts, error
            )
            return False
        await alerts.mark_sent(self.sessions, row.id, _now())
        self.counters["sent"] += 1
        return True

    def _retry_base(self) -> dict[str, float]:
        return {} if self.retry_base_seconds is None else {"base": self.retry_base_seconds}

    async def _message(self, row: StoredAlert) -> AlertMessage | None:
        if row.kind == AlertKind.CAMERA:
            return await camera_alert_message(self.sessions, row, self.link_base, self.zone)
        if row.kind == AlertKind.DIGEST:
            return await digest_alert_message(
                self.sessions, row, digest_at=self.settings.digest_at,
                night_starts=self.settings.digest_night_starts, link_base=self.link_base,
                zone=self.zone, now=_now(),
            )  # fmt: skip
        if row.kind == AlertKind.TEST or row.event_id is None:
            return trial_message(
                alert_id=row.id,
                idempotency_key=row.idempotency_key,
                link_base=self.link_base,
                now=_now().astimezone(self.zone),
            )
        async with self.sessions() as session:
            event = await alert_facts.announced_event(session, row.event_id)
        if event is None:
            return None
        return compose(
            alert_id=row.updates_alert_id or row.id,
            kind=row.kind,
            idempotency_key=row.idempotency_key,
            event=event,
            link_base=self.link_base,
            zone=self.zone,
        )

    # --- lifecycle and reporting ------------------------------------------------------------
    async def close(self) -> None:
        for channel in self.channels.values():
            with contextlib.suppress(Exception):
                await channel.close()
        self.channels = {}
        self._page_urls = {}
        await super().close()

    def health_detail(self) -> dict[str, str]:
        detail = {"channels": ", ".join(sorted(self.channels)) or "none configured"}
        mqtt = self.mqtt
        if mqtt is not None:
            detail["mqtt"] = "connected" if mqtt.connected.is_set() else "reconnecting"
        return detail


async def _read(path: str | None) -> bytes | None:
    """The file's bytes; None without one (deleted by retention meanwhile) or when it is too
    large for a sensor's snapshot."""
    if not path:
        return None
    try:
        data = await asyncio.to_thread(Path(path).read_bytes)
    except OSError:
        return None
    return data if len(data) <= MAX_SNAPSHOT_BYTES else None
