"""The FTPS certificate: the operator's (``FTP_CERTFILE``/``FTP_KEYFILE``) or one homesec makes.

Cameras rarely check a certificate against a CA (most cannot be given one), so a self-signed
certificate still buys what matters at home: the password and the images are encrypted on the
wire. It is made once under ``<data dir>/ftp/`` and kept, so a camera that pins it keeps
working across restarts. Its SHA-256 fingerprint is printed for those that show it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from homesec.settings import Settings

VALID_DAYS = 3650


def self_signed_paths(settings: Settings) -> tuple[Path, Path]:
    folder = settings.data_dir / "ftp"
    return folder / "selfsigned.crt", folder / "selfsigned.key"


def certificate_files(settings: Settings) -> tuple[Path, Path]:
    """(certificate, key) for FTPS: the configured files, checked, else the self-signed pair,
    made when missing. Raises ``FileNotFoundError`` naming the variable."""
    if settings.ftp_certfile is not None:
        keyfile = settings.ftp_keyfile or settings.ftp_certfile
        for variable, path in (("FTP_CERTFILE", settings.ftp_certfile), ("FTP_KEYFILE", keyfile)):
            if not path.is_file():
                raise FileNotFoundError(f"{variable}: {path} is not a readable file")
        return settings.ftp_certfile, keyfile
    certfile, keyfile = self_signed_paths(settings)
    if not (certfile.is_file() and keyfile.is_file()):
        make_self_signed(certfile, keyfile)
    return certfile, keyfile


def make_self_signed(certfile: Path, keyfile: Path) -> None:
    """An RSA-2048 certificate (what old camera TLS stacks all speak) for this host's name,
    ``localhost`` and ``127.0.0.1``; the key readable by its owner only."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    host = socket.gethostname() or "homesec"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"homesec FTPS ({host})"[:64])])
    now = dt.datetime.now(dt.UTC)
    alternatives = x509.SubjectAlternativeName(
        [
            x509.DNSName(host),
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(alternatives, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certfile.parent.mkdir(parents=True, exist_ok=True)
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    descriptor = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key_bytes)
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def fingerprint(certfile: Path) -> str:
    """The certificate's SHA-256 fingerprint, ``AB:CD:...``, as camera pages show it."""
    certificate = x509.load_pem_x509_certificate(certfile.read_bytes())
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()
