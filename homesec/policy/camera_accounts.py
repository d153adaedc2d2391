"""A camera's FTP account: who it is, and the rules for its password.

One account per camera; its user name is the camera's id, so what a camera's settings page
shows is what homesec's logs and API show. Passwords are stored only as scrypt hashes
(:func:`hash_password`), in a self-describing string ``scrypt$n=..,r=..,p=..$salt$hash`` so
stronger parameters later still verify the hashes made today. Generated passwords use letters
and digits only: camera web pages refuse many symbols, and the password ends up in an
``ftp://user:password@host`` URL when a person tests it with curl.

Pure computation (hashing is CPU work, not I/O): the store keeps the hashes, the FTP server
verifies against them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string

import msgspec

from homesec.settings import Settings

GENERATED_LENGTH = 20  # about 119 bits: letters and digits
MIN_LENGTH = 8
MAX_LENGTH = 64  # camera firmware commonly caps the field around 64
# Letters and digits without the look-alikes (0/O, 1/l/I): it is read off a screen and typed
# into a camera's settings page.
_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")
_PRINTABLE = set(string.ascii_letters + string.digits + string.punctuation)

# scrypt's cost: 16 MiB and some 50 ms per hash on one core.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32


class FtpAccount(msgspec.Struct, frozen=True, kw_only=True):
    """One camera's account, as the FTP server needs it (the hash, never the password)."""

    username: str
    camera_id: str
    folder_path: str
    password_hash: str


class AccountInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What may be shown of an account: never its hash."""

    username: str
    camera_id: str
    folder_path: str
    created_at: float  # epoch seconds
    updated_at: float


# FTP_HOST values that mean every interface: no address a camera could be given.
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


class FtpServerFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What a camera's FTP settings page asks for besides its user and password: the same facts
    for ``homesec camera add`` and the dashboard."""

    server: str  # the address a camera on the network reaches homesec by
    port: int
    tls: bool  # explicit FTPS (AUTH TLS) is required
    self_signed: bool  # with TLS: homesec's own certificate
    passive_ports: tuple[int, int]  # first and last, inclusive
    enabled: bool  # FTP_ENABLED: false means the server is off
    folder: str = "/"  # the account's own folder; subfolders are fine

    @property
    def tls_words(self) -> str:
        if not self.tls:
            return "no (plain FTP)"
        words = "yes: explicit FTPS (FTP over TLS, AUTH TLS)"
        return words + ", self-signed certificate" if self.self_signed else words

    @property
    def passive_words(self) -> str:
        return f"{self.passive_ports[0]}-{self.passive_ports[1]}"


def ftp_server_facts(settings: Settings, lan_address: str) -> FtpServerFacts:
    """The server's facts; ``lan_address`` is this machine's address on the network (asked by
    the caller, who does the I/O), used when ``FTP_HOST`` binds every interface. Behind NAT,
    ``FTP_MASQUERADE_ADDRESS`` is the address the cameras reach, so it wins."""
    server = settings.ftp_masquerade_address or settings.ftp_host
    if server in WILDCARD_HOSTS:
        server = lan_address
    return FtpServerFacts(
        server=server,
        port=settings.ftp_port,
        tls=settings.ftp_tls,
        self_signed=settings.ftp_tls and settings.ftp_certfile is None,
        passive_ports=settings.ftp_passive_ports,
        enabled=settings.ftp_enabled,
    )


def generate_password(length: int = GENERATED_LENGTH) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be a camera's password, or None."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return f"a password needs {MIN_LENGTH} to {MAX_LENGTH} characters"
    if not set(password) <= _PRINTABLE:
        return "a password may hold printable ASCII letters, digits and symbols only, no spaces"
    return None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024,
        dklen=length,
    )  # fmt: skip


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES)
    return f"scrypt$n={SCRYPT_N},r={SCRYPT_R},p={SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """Does ``password`` match the stored hash? Constant-time in the comparison; a malformed
    stored string matches nothing."""
    try:
        scheme, params, salt, key = stored.split("$")
        cost = dict(item.split("=") for item in params.split(","))
        n, r, p = int(cost["n"]), int(cost["r"]), int(cost["p"])
        expected = _unb64(key)
        if scheme != "scrypt" or not 2 <= n <= 2**20 or not 1 <= r * p <= 64:
            return False
        if len(expected) != KEY_BYTES:  # a truncated hash would accept far too much
            return False
        actual = _scrypt(password, _unb64(salt), n, r, p, KEY_BYTES)
    except (ValueError, KeyError):
        return False
    return hmac.compare_digest(actual, expected)
