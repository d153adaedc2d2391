"""The box's evidence signing key (issue 24): an Ed25519 key pair made on first use under the
data dir, ``<data dir>/evidence/signing_key.pem`` (mode 0600, its folder 0700). The private half
never leaves that file: no command or route returns it; archives carry the public half.

Losing the file only means that later archives are signed by a new key; archives already
exported still verify on their own (they carry their public key), but ``verify`` on the box then
says they were signed by another key than this box's.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

KEY_FOLDER = "evidence"
KEY_FILE = "signing_key.pem"


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FOLDER / KEY_FILE


def signing_key(data_dir: Path) -> Ed25519PrivateKey:
    """This box's key; made (and written with mode 0600) when there is none yet. Two exports at
    once make one key: the file is created exclusively, and the loser reads the winner's."""
    path = key_path(data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
                out.flush()
                os.fsync(out.fileno())
            return key
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 key")
    return loaded


def box_public_key(data_dir: Path) -> bytes | None:
    """The PEM of this box's public key, when the box has made one (never makes one)."""
    path = key_path(data_dir)
    if not path.is_file():
        return None
    try:
        return public_pem(signing_key(data_dir))
    except (OSError, ValueError):
        return None


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def _public_key(pem: bytes) -> Ed25519PublicKey | None:
    try:
        loaded = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        return None
    return loaded if isinstance(loaded, Ed25519PublicKey) else None


def signature_valid(pem: bytes, signature: bytes, data: bytes) -> bool:
    key = _public_key(pem)
    if key is None:
        return False
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def fingerprint(pem: bytes) -> str | None:
    """``SHA256:`` and the base64 of the raw public key's SHA-256 (as ssh-keygen writes
    fingerprints); None when ``pem`` is no Ed25519 public key."""
    key = _public_key(pem)
    if key is None:
        return None
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
