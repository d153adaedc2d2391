"""MQTT: events, alerts and Home Assistant discovery on the owner's broker (paho-mqtt).

paho runs its own network thread: it connects in the background, reconnects on its own (1 s to
30 s apart) and keeps the session alive. On every (re)connection the channel says ``online`` on
``<prefix>/available`` (retained), subscribes to ``homeassistant/status`` and publishes the
retained discovery configs of every camera it knows; a last will says ``offline`` when the
connection drops without a goodbye (the Notifier killed). When Home Assistant announces itself
``online`` the configs are published again, as its documentation asks.

Topics and configs are :mod:`homesec.policy.home_assistant`'s. An alert counts as sent once
the broker acknowledged it (QoS 1); while the broker is away :meth:`MqttChannel.send` fails at
once and the outbox retries later.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import ssl
import sys
import threading
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from homesec.contract.alerts import AlertMessage
from homesec.engines.notify import ChannelError
from homesec.policy.camera_problem_sensor import (
    problem_attributes_topic,
    problem_payloads,
    problem_topic,
)
from homesec.policy.home_assistant import (
    OFFLINE,
    ONLINE,
    STATUS_TOPIC,
    Topics,
    discovery_configs,
    event_type,
)
from homesec.policy.house_mode import select_discovery_config
from homesec.settings import Settings

log = logging.getLogger("homesec.notifier.mqtt")
KEEPALIVE_SECONDS = 30


class MqttChannel:
    name = "mqtt"

    def __init__(self, settings: Settings, *, client_id: str) -> None:
        import paho.mqtt.client as mqtt

        self.topics = Topics(settings.mqtt_topic_prefix)
        self.discovery = settings.homeassistant_discovery_on
        self.timeout = settings.notify_timeout_seconds
        self._cameras: dict[str, str] = {}  # camera id -> name, announced on each connection
        # Each camera's problems as last published (issue 23); emptied on each connection, so
        # the states go out again.
        self._problems_sent: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.connections = 0
        # Why the last connection attempt failed (a refused certificate, a closed port); None
        # once connected. Each failed send says it, so it lands in the alert's last_error.
        self.last_error: str | None = None
        # The house's mode: commands heard on its command topic (raw payloads, for the Notifier
        # to judge and apply), a callback that tells it one came, and the mode last reported.
        self.mode_commands: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self.on_mode_command: Callable[[], None] | None = None
        self._mode: str | None = None
        url = urlsplit(settings.mqtt_url or "")
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
        )
        if url.username:
            client.username_pw_set(unquote(url.username), unquote(url.password or ""))
        if url.scheme == "mqtts":
            ca_file = settings.mqtt_ca_file
            client.tls_set(ca_certs=str(ca_file) if ca_file else None, cert_reqs=ssl.CERT_REQUIRED)
        client.will_set(self.topics.available, OFFLINE, qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        default_port = 8883 if url.scheme == "mqtts" else 1883
        client.connect_async(url.hostname or "", url.port or default_port, KEEPALIVE_SECONDS)
        client.loop_start()

    # --- paho's thread --------------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._failed(f"the broker refused the connection: {reason_code}")
            return
        self.last_error = None
        self.connections += 1
        self._problems_sent = {}
        self.connected.set()
        client.publish(self.topics.available, ONLINE, qos=1, retain=True)
        client.subscribe(self.topics.house_mode_set, qos=1)
        if self._mode is not None:
            client.publish(self.topics.house_mode, self._mode, qos=1, retain=True)
        if self.discovery:
            client.subscribe(STATUS_TOPIC, qos=1)
            self._announce_all()

    def _on_connect_fail(self, client, userdata) -> None:
        # paho calls this inside its `except OSError` around the attempt and passes no
        # exception: sys.exc_info() is the only way to the reason (the TLS error among them).
        error = sys.exc_info()[1]
        self._failed(f"{type(error).__name__}: {error}" if error else "connection failed")

    def _failed(self, reason: str) -> None:
        if reason != self.last_error:  # once per reason, not on every retry
            log.warning("MQTT connection failed: %s; retrying", reason)
        self.last_error = reason

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        log.warning("MQTT connection lost (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, message) -> None:
        if message.topic == self.topics.house_mode_set:
            self.mode_commands.put(bytes(message.payload[:64]))
            if self.on_mode_command is not None:
                self.on_mode_command()
            return
        if message.topic == STATUS_TOPIC and message.payload.decode(errors="replace") == ONLINE:
            self._announce_all()

    def _announce_all(self) -> None:
        topic, config = select_discovery_config(self.topics)
        self._client.publish(topic, json.dumps(config), qos=1, retain=True)
        with self._lock:
            cameras = dict(self._cameras)
        for camera_id, name in cameras.items():
            self._announce(camera_id, name)

    def _announce(self, camera_id: str, name: str) -> None:
        for topic, config in discovery_configs(self.topics, camera_id, name):
            self._client.publish(topic, json.dumps(config), qos=1, retain=True)

    # --- the Notifier's side -------------------------------------------------------------------
    def know_cameras(self, cameras: dict[str, str]) -> None:
        """Announce cameras not announced yet (and a camera renamed); all of them again on
        each reconnection."""
        with self._lock:
            new = {cid: name for cid, name in cameras.items() if self._cameras.get(cid) != name}
            self._cameras.update(new)
        if self.discovery and self.connected.is_set():
            for camera_id, name in new.items():
                self._announce(camera_id, name)

    def report_mode(self, mode: str) -> None:
        """The house's mode as Home Assistant's select shows it (retained); sent when it
        changes and again on each (re)connection."""
        if mode == self._mode:
            return
        self._mode = mode
        if self.connected.is_set():
            self._client.publish(self.topics.house_mode, mode, qos=1, retain=True)

    def publish_event(self, event: dict, object_types: list[str], snapshot: bytes | None) -> None:
        """An event's state: fire and forget (the next event supersedes it)."""
        if not self.connected.is_set():
            return
        camera_id = event["camera_id"]
        document = {**event, "event_type": event_type(object_types), "object_types": object_types}
        text = json.dumps(document)
        publish = self._client.publish
        publish(self.topics.events, text, qos=0)
        publish(self.topics.camera(camera_id, "event"), text, qos=1, retain=True)
        publish(self.topics.camera(camera_id, "person"),
                "ON" if "person" in object_types else "OFF", qos=1)  # fmt: skip
        if event.get("risk_score") is not None:
            publish(self.topics.camera(camera_id, "risk"), str(event["risk_score"]),
                    qos=1, retain=True)  # fmt: skip
        if snapshot:
            publish(self.topics.camera(camera_id, "snapshot"), snapshot, qos=1, retain=True)

    def publish_problems(self, problems: dict[str, list[str]]) -> None:
        """Each known camera's problem sensor (retained), where it changed since last sent."""
        if not self.connected.is_set():
            return
        with self._lock:
            cameras = list(self._cameras)
        prefix = self.topics.prefix
        for camera_id in cameras:
            now = problems.get(camera_id, [])
            if self._problems_sent.get(camera_id) == now:
                continue
            state, attributes = problem_payloads(now)
            publish = self._client.publish
            publish(problem_attributes_topic(prefix, camera_id), attributes, qos=1, retain=True)
            publish(problem_topic(prefix, camera_id), state, qos=1, retain=True)
            self._problems_sent[camera_id] = now

    async def send(self, message: AlertMessage) -> None:
        if not self.connected.is_set():
            reason = f": {self.last_error}" if self.last_error else ""
            raise ChannelError(f"not connected to the MQTT broker (reconnecting){reason}")
        text = json.dumps(_alert_document(message))
        infos = [self._client.publish(self.topics.alerts, text, qos=1)]
        if message.camera_id:
            topic = self.topics.camera(message.camera_id, "alert")
            infos.append(self._client.publish(topic, text, qos=1, retain=True))
        await asyncio.to_thread(self._wait_acknowledged, infos)

    def _wait_acknowledged(self, infos) -> None:
        for info in infos:
            try:
                info.wait_for_publish(timeout=self.timeout)
            except (RuntimeError, ValueError) as exc:  # not queued: the connection dropped
                raise ChannelError(f"MQTT publish failed: {exc}") from None
            if not info.is_published():
                raise ChannelError(f"the broker did not acknowledge within {self.timeout:g} s")

    async def close(self) -> None:
        """Say offline (a clean goodbye: the last will is for crashes) and disconnect."""
        if self.connected.is_set():
            info = self._client.publish(self.topics.available, OFFLINE, qos=1, retain=True)
            await asyncio.to_thread(info.wait_for_publish, 2.0)
        self._client.disconnect()
        self._client.loop_stop()


def _alert_document(message: AlertMessage) -> dict:
    return {
        "alert_id": message.alert_id,
        "update": message.update,
        "kind": message.kind,
        "title": message.title,
        "body": message.body,
        "camera_id": message.camera_id,
        "camera_name": message.camera_name,
        "local_time": message.local_time,
        "risk_level": message.risk_level,
        "risk_score": message.risk_score,
        "summary": message.summary,
        "event_id": message.event_id,
        "link": message.link,
        "idempotency_key": message.idempotency_key,
        "object_types": list(message.object_types),
        "incident_id": message.incident_id,
        "story": message.story,
    }
