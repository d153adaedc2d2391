"""MQTT over TLS (``mqtts://``) to a broker whose certificate a private CA signed, as a home
broker's usually is: a mosquitto of the test's own with a TLS-only listener, a CA and a server
certificate for 127.0.0.1/localhost made here. With ``MQTT_CA_FILE`` the alert and the
availability reach a real subscriber (over TLS too); without it the certificate is refused, the
alert waits with that reason as its error, and nothing is published."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from homesec.actors.notifier import Notifier
from homesec.contract.alerts import AlertRule, AlertStatus
from homesec.engines.notify import build_channels
from homesec.store import alert_rules, alerts
from tests.support.alerts import Broker, Subscriber, alert_settings
from tests.support.waiting import eventually

CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True, key_cert_sign=True, crl_sign=True,
    content_commitment=False, key_encipherment=False, data_encipherment=False,
    key_agreement=False, encipher_only=False, decipher_only=False,
)  # fmt: skip


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def make_ca_and_server(folder: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key): a private CA, and a certificate it
    signed for 127.0.0.1 and localhost, with the extensions a strict verifier wants."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("homesec test CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(CA_KEY_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_file, server_key)
    return ca_file, cert_file, key_file


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    folder = tmp_path / "tls"
    folder.mkdir()
    return make_ca_and_server(folder)


@pytest.fixture
def tls_broker(tmp_path: Path, tls_files) -> Iterator[Broker]:
    folder = tmp_path / "broker"
    folder.mkdir()
    server = Broker(folder, tls=tls_files)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tls_subscriber(tls_broker: Broker, tls_files) -> Iterator[Subscriber]:
    client = Subscriber(tls_broker.port, ca_file=tls_files[0])
    yield client
    client.close()


async def _notifier(tmp_path, port, database_url, redis_url, **env) -> Notifier:
    settings = alert_settings(
        tmp_path, MQTT_URL=f"mqtts://127.0.0.1:{port}", MQTT_TOPIC_PREFIX="hs",
        NOTIFY_TIMEOUT_SECONDS="10", **env,
    )  # fmt: skip
    actor = Notifier("notifier", settings, database_url, redis_url, retry_base_seconds=0.2)
    actor.channels = build_channels(settings, client_id=f"test-notifier-tls-{port}")
    return actor


async def _an_alert_due(rows, db_sessions) -> None:
    await alert_rules.create_rule(db_sessions, AlertRule(name="m", min_risk_level="high",
                                                         channels=("mqtt",)))  # fmt: skip
    await rows.camera("porch", "Porch")
    await rows.event("porch", [await rows.detection("porch")], score=70, level="high",
                     fast_path=True)  # fmt: skip


async def test_with_the_ca_file_alerts_go_out_over_tls(
    tmp_path, tls_broker, tls_files, tls_subscriber, rows, db_sessions, migrated_database_url,
    redis_url,
):  # fmt: skip
    notifier = await _notifier(tmp_path, tls_broker.port, migrated_database_url, redis_url,
                               MQTT_CA_FILE=str(tls_files[0]))  # fmt: skip
    try:
        mqtt = notifier.mqtt
        await eventually(mqtt.connected.is_set, 30, "the TLS connection")
        assert mqtt.last_error is None
        # The subscriber holds its subscription once the retained availability reached it.
        await eventually(
            lambda: tls_subscriber.on("hs/available") == [b"online"],
            30,
            "the availability at the TLS subscriber",
        )

        await _an_alert_due(rows, db_sessions)
        await notifier.cycle()
        (sent,) = await alerts.recent(db_sessions, 5)
        assert sent.channel == "mqtt" and sent.status == AlertStatus.SENT, sent.last_error
        (alert,) = await eventually(
            lambda: tls_subscriber.json_on("hs/alerts"), 30, "the alert at the TLS subscriber"
        )
        assert alert["alert_id"] == sent.id and alert["camera_id"] == "porch"
        assert alert["risk_level"] == "high"
    finally:
        await notifier.close()


async def test_without_the_ca_file_the_certificate_is_refused(
    tmp_path, tls_broker, tls_subscriber, rows, db_sessions, migrated_database_url, redis_url,
):  # fmt: skip
    notifier = await _notifier(tmp_path, tls_broker.port, migrated_database_url, redis_url)
    try:
        mqtt = notifier.mqtt
        # The system's CAs do not know the test's CA: the handshake fails, and says so.
        await eventually(
            lambda: mqtt.last_error and "certificate verify failed" in mqtt.last_error,
            30,
            "the refused certificate",
        )
        assert not mqtt.connected.is_set()

        await _an_alert_due(rows, db_sessions)
        await notifier.cycle()
        (waiting,) = await alerts.recent(db_sessions, 5)
        assert waiting.status == AlertStatus.PENDING
        assert "not connected" in waiting.last_error
        assert "certificate verify failed" in waiting.last_error

        # The subscriber (which trusts the CA) is connected and subscribed: a message of its own
        # comes back to it, while not one of homesec's reached the broker.
        tls_subscriber.client.publish("probe", b"here", qos=1)
        await eventually(lambda: tls_subscriber.on("probe"), 30, "the probe")
        assert [t for t, _, _ in tls_subscriber.messages if t.startswith("hs/")] == []
    finally:
        await notifier.close()
