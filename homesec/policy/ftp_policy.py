"""What a camera's FTP account may do: the pure core of the built-in FTP server.

A camera's account is write-only and confined to its camera's folder. The server
(:mod:`homesec.files.ftp_server`) asks these functions before it acts, and only does the I/O:

- **Paths** (:func:`confine`): the account sees its folder as ``/``. A path is resolved
  against the working directory; one that climbs above ``/`` (``CWD ..`` at the top,
  ``STOR ../x.jpg``) is refused, never clamped, so a camera misconfigured to write elsewhere
  hears why. An absolute path names a place inside the folder (``/snap/x.jpg``), so ``/etc/x``
  is ``<folder>/etc/x``, whose missing parent refuses it. Symlinks are the shell's to check:
  the real path of every file it touches must stay inside the folder's real path
  (:func:`inside`).
- **Commands** (:func:`command_refusal`): uploading, making folders, moving around and listing
  are allowed; reading back (``RETR``), deleting, appending, resuming and changing modes are
  not. A rename is allowed only for a file this session uploaded, onto a name not taken
  (:func:`rename_refusal`): some cameras upload under a temporary name and rename it into place.
- **Failed logins** (:class:`LoginBans`): ``attempts`` failures from one address within
  ``window_seconds`` ban it for ``ban_seconds``.
- **Connections that have not logged in** (:class:`UnauthenticatedConnections`): a budget of
  their own, small in all and per address, apart from the logged-in sessions (which only the
  per-account cap bounds), and a login deadline from connect. When the budget is full, a
  newcomer from an address holding fewer of them than the busiest one takes the place of that
  address's oldest (:func:`admit_unauthenticated`): a flood from a few addresses can neither
  keep a camera from connecting nor hold a slot past the deadline. Refusals and evictions within
  :data:`PRESSURE_WINDOW_SECONDS` are the flood health reports (:meth:`pressure`).
- **Names** a camera may store: what the watcher takes (:func:`homesec.policy.uploads
  .upload_name_refusal`, the watcher's own rule), refused before a byte is written.
- **Quota** per camera folder (:func:`quota_refusal`), connections per account and the
  **upload size** cap: plain comparisons, here so the replies are worded in one place.
"""

from __future__ import annotations

import posixpath
from collections import Counter, deque
from collections.abc import Iterable

import msgspec

from homesec.contract.reports import FtpBan
from homesec.policy.uploads import folder_name_refusal, upload_name_refusal
from homesec.settings import Settings

# Commands a camera needs: log in, negotiate, move around, list, make folders, upload.
ALLOWED_COMMANDS = frozenset(
    {
        "USER", "PASS", "ACCT", "QUIT", "REIN", "NOOP", "SYST", "FEAT", "OPTS", "HELP", "SITE",
        "SITE HELP", "TYPE", "MODE", "STRU", "ALLO", "PASV", "EPSV", "PORT", "EPRT", "ABOR",
        "STAT", "PWD", "XPWD", "CWD", "XCWD", "CDUP", "XCUP", "MKD", "XMKD", "LIST", "NLST",
        "MLSD", "MLST", "SIZE", "MDTM", "STOR", "RNFR", "RNTO", "AUTH", "PBSZ", "PROT", "CCC",
    }
)  # fmt: skip
WRITE_ONLY = "this account is write-only (upload, make folders, list)"
REFUSED_COMMANDS = {
    "RETR": f"reading files back is not allowed: {WRITE_ONLY}",
    "DELE": f"deleting files is not allowed: {WRITE_ONLY}",
    "RMD": f"removing folders is not allowed: {WRITE_ONLY}",
    "XRMD": f"removing folders is not allowed: {WRITE_ONLY}",
    "APPE": f"appending to files is not allowed: {WRITE_ONLY}",
    "REST": f"resuming transfers is not allowed: {WRITE_ONLY}; upload the file again",
    "STOU": "unique names are not offered: STOR the file under its own name",
    "SITE CHMOD": f"changing modes is not allowed: {WRITE_ONLY}",
    "MFMT": f"changing file times is not allowed: {WRITE_ONLY}",
}
# Commands whose argument is a path inside the account's folder.
PATH_COMMANDS = frozenset(
    {"CWD", "XCWD", "MKD", "XMKD", "LIST", "NLST", "MLSD", "MLST", "SIZE", "MDTM", "STOR",
     "RNFR", "RNTO", "STAT"}
)  # fmt: skip


def command_refusal(command: str) -> str | None:
    """The reply refusing ``command`` (upper case; ``SITE X`` for site commands), or None."""
    if command in REFUSED_COMMANDS:
        return f"550 {REFUSED_COMMANDS[command]}."
    if command not in ALLOWED_COMMANDS:
        return f"502 {command} is not offered: {WRITE_ONLY}."
    return None


def rename_refusal(*, uploaded_here: bool, target_exists: bool) -> str | None:
    """The reply refusing a rename, or None: only this session's uploads, never over a file."""
    if not uploaded_here:
        return f"550 Only a file uploaded in this session may be renamed: {WRITE_ONLY}."
    if target_exists:
        return "550 The new name is taken: files are never renamed over."
    return None


def list_target(argument: str) -> str:
    """The path of a LIST/NLST argument without its ``ls`` options (``-la dir`` -> ``dir``)."""
    words = [word for word in argument.split(" ") if word]
    while words and words[0].startswith("-"):
        words.pop(0)
    return " ".join(words)


def confine(cwd: str, argument: str) -> str | None:
    """The virtual path (``/``-rooted, normalised) that ``argument`` names from ``cwd``; None
    when it climbs above the account's folder or holds a NUL."""
    if "\x00" in argument:
        return None
    joined = argument if argument.startswith("/") else posixpath.join(cwd or "/", argument)
    parts: list[str] = []
    for part in joined.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/" + "/".join(parts)


def inside(root_real: str, candidate_real: str) -> bool:
    """Is the real path ``candidate_real`` the folder ``root_real`` or below it?"""
    root = root_real.rstrip("/") or "/"
    return candidate_real == root or candidate_real.startswith(root + "/")


def store_name_refusal(virtual: str, *, temporary_allowed: bool = True) -> str | None:
    """The reply refusing to store a file at ``virtual`` (a :func:`confine` path), or None:
    only the names the watcher takes."""
    reason = upload_name_refusal(virtual.lstrip("/"), temporary_allowed=temporary_allowed)
    return None if reason is None else f"550 Not stored: {reason}."


def folder_refusal(virtual: str) -> str | None:
    """The reply refusing to make a folder at ``virtual``, or None: only folders it watches."""
    reason = folder_name_refusal(virtual.lstrip("/"))
    return None if reason is None else f"550 Folder not made: {reason}."


def quota_refusal(used_bytes: int, quota_bytes: int) -> str | None:
    """The reply refusing an upload into a folder holding ``used_bytes``, or None; a quota of 0
    is none. A folder at or over its quota takes nothing more until retention frees room."""
    if quota_bytes <= 0 or used_bytes < quota_bytes:
        return None
    return (
        f"552 This camera's folder holds {used_bytes} bytes, at or over its quota of "
        f"{quota_bytes} (FTP_CAMERA_QUOTA_BYTES); nothing more is stored until room is freed."
    )


def over_connection_cap(active: int, maximum: int) -> bool:
    return active >= maximum


def too_many_connections_reply(maximum: int) -> str:
    return (
        f"421 Too many connections for this account (at most {maximum}: "
        "FTP_MAX_CONNECTIONS_PER_ACCOUNT); try again later."
    )


def upload_too_large_reply(limit: int) -> str:
    return (
        f"552 Upload refused: larger than {limit} bytes (MAX_UPLOAD_BYTES); "
        "the rest was read and discarded, and the partial file deleted."
    )


# Past the size cap a transfer is read on and thrown away, so the client finishes sending and
# reads the 552 (cut off at once, its socket is reset and it never hears why); past this much
# more it is cut off all the same.
OVERSIZE_DRAIN_BYTES = 256 * 1024 * 1024


def must_cut_off(discarded_bytes: int) -> bool:
    """Has an upload over the cap sent so much more that it is cut off without draining?"""
    return discarded_bytes > OVERSIZE_DRAIN_BYTES


def not_an_image_reply(reason: str, message: str) -> str:
    """The answer to a transfer whose bytes the watcher would reject (:func:`homesec.policy
    .validation.check_start`): it is set aside, not ingested."""
    return (
        f"550 Rejected ({reason}): {message}; homesec takes only JPEG and PNG images. "
        "The file was set aside, not ingested."
    )


# --- failed logins ----------------------------------------------------------------------


class BanPolicy(msgspec.Struct, frozen=True):
    attempts: int = 5
    window_seconds: float = 600.0
    ban_seconds: float = 900.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BanPolicy:
        return cls(
            settings.ftp_ban_attempts, settings.ftp_ban_window_seconds, settings.ftp_ban_seconds
        )


class AddressRecord(msgspec.Struct, frozen=True):
    failures: tuple[float, ...] = ()  # times of the failures still inside the window
    banned_until: float | None = None
    banned_since: float | None = None
    accounts: tuple[str, ...] = ()  # the user names tried, the last one last (a few only)


# User names remembered per address: enough to tell a camera with an old password from a guesser.
MAX_ACCOUNTS_REMEMBERED = 5


def record_failure(
    record: AddressRecord, now: float, policy: BanPolicy, account: str = ""
) -> AddressRecord:
    """One more failed login from this address (as ``account``); a ban starts at the
    ``attempts``-th failure within the window (and the count starts afresh after it)."""
    accounts = record.accounts
    if account:
        accounts = (*(a for a in accounts if a != account), account)[-MAX_ACCOUNTS_REMEMBERED:]
    recent = (*(at for at in record.failures if now - at < policy.window_seconds), now)
    if len(recent) >= policy.attempts:
        return AddressRecord((), now + policy.ban_seconds, now, accounts)
    running = banned_for(record, now) > 0
    return AddressRecord(
        recent,
        record.banned_until if running else None,
        record.banned_since if running else None,
        accounts,
    )


def banned_for(record: AddressRecord, now: float) -> float:
    """Seconds the address stays banned; 0 when it is not."""
    if record.banned_until is None:
        return 0.0
    return max(0.0, record.banned_until - now)


def is_stale(record: AddressRecord, now: float, policy: BanPolicy) -> bool:
    """Nothing left to remember: no ban running, no failure inside the window."""
    return banned_for(record, now) == 0 and all(
        now - at >= policy.window_seconds for at in record.failures
    )


class LoginBans:
    """Failed logins by address. Pure bookkeeping: the caller passes ``now``."""

    def __init__(self, policy: BanPolicy) -> None:
        self.policy = policy
        self._records: dict[str, AddressRecord] = {}
        self.bans = 0  # bans started, for health()

    def failed(self, address: str, now: float, account: str = "") -> float:
        """Record a failure; the seconds of the ban it started, else 0."""
        before = self._records.get(address, AddressRecord())
        after = record_failure(before, now, self.policy, account)
        self._records[address] = after
        started = banned_for(after, now) > 0 and after.banned_until != before.banned_until
        if started:
            self.bans += 1
        self._forget_stale(now)
        return banned_for(after, now) if started else 0.0

    def banned_for(self, address: str, now: float) -> float:
        return banned_for(self._records.get(address, AddressRecord()), now)

    def active(self, now: float) -> int:
        return sum(1 for record in self._records.values() if banned_for(record, now) > 0)

    def active_bans(self, now: float) -> list[FtpBan]:
        """The bans running at ``now``, the one that ends first first."""
        bans = [
            FtpBan(
                address=address,
                accounts=list(record.accounts),
                since=record.banned_since if record.banned_since is not None else now,
                until=record.banned_until,
            )
            for address, record in self._records.items()
            if record.banned_until is not None and banned_for(record, now) > 0
        ]
        return sorted(bans, key=lambda ban: (ban.until, ban.address))

    def unban(self, address: str, now: float) -> bool:
        """Lift the address's ban and forget its failures; False when it was not banned."""
        record = self._records.pop(address, None)
        return record is not None and banned_for(record, now) > 0

    def _forget_stale(self, now: float) -> None:
        if len(self._records) > 1000:  # bounded memory under a scan from many addresses
            for address in [a for a, r in self._records.items() if is_stale(r, now, self.policy)]:
                del self._records[address]


def banned_reply(address: str, seconds: float) -> str:
    return (
        f"530 Too many failed logins from {address}: refused for another {seconds:.0f} s "
        "(FTP_BAN_SECONDS)."
    )


# --- connections that have not logged in -------------------------------------------------

# A refusal or an eviction within this long means a flood is going on (for health).
PRESSURE_WINDOW_SECONDS = 60.0


DEFAULT_LOGIN_TIMEOUT_SECONDS = 10.0
DEFAULT_MAX_UNAUTHENTICATED = 32
DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS = 4


class UnauthenticatedPolicy(msgspec.Struct, frozen=True):
    # From connect to a successful login.
    login_timeout_seconds: float = DEFAULT_LOGIN_TIMEOUT_SECONDS
    # Connections not logged in, from all addresses together, and from one address.
    max_total: int = DEFAULT_MAX_UNAUTHENTICATED
    max_per_address: int = DEFAULT_MAX_UNAUTHENTICATED_PER_ADDRESS

    @classmethod
    def from_settings(cls, settings: Settings) -> UnauthenticatedPolicy:
        return cls(
            settings.ftp_login_timeout_seconds,
            settings.ftp_max_unauthenticated,
            settings.ftp_max_unauthenticated_per_address,
        )


class Pending(msgspec.Struct, frozen=True):
    """A connection that has not logged in yet."""

    key: int
    address: str
    since: float


class Admission(msgspec.Struct, frozen=True):
    admit: bool
    evict: int | None = None  # the key of the pending connection to close to make room
    reason: str = ""  # when refused: why, for the reply


def admit_unauthenticated(
    pending: Iterable[Pending], address: str, policy: UnauthenticatedPolicy
) -> Admission:
    """May a new connection from ``address`` wait for its login, next to ``pending``?

    Refused when its address already holds ``max_per_address``. When all ``max_total`` places
    are taken it gets one only by evicting: the oldest connection of the address holding the
    most, and only when that address holds more than the newcomer's does (so no address can
    push out an address holding fewer, and a flood's sockets make room for a camera's).
    """
    pending = list(pending)
    by_address = Counter(entry.address for entry in pending)
    mine = by_address[address]
    if mine >= policy.max_per_address:
        return Admission(False, reason=f"{mine} connections from {address} have not logged in yet")
    if len(pending) < policy.max_total:
        return Admission(True)
    busiest = max(by_address.values(), default=0)
    if busiest <= mine:
        return Admission(
            False, reason=f"{len(pending)} connections have not logged in yet, from all addresses"
        )
    victims = [entry for entry in pending if by_address[entry.address] == busiest]
    oldest = min(victims, key=lambda entry: (entry.since, entry.key))
    return Admission(True, evict=oldest.key)


def not_logged_in_reply(reason: str) -> str:
    return (
        f"421 Too many connections that have not logged in ({reason}; "
        "FTP_MAX_UNAUTHENTICATED, FTP_MAX_UNAUTHENTICATED_PER_ADDRESS); try again later."
    )


def login_timeout_reply(seconds: float) -> str:
    return f"421 No login within {seconds:g} s of connecting (FTP_LOGIN_TIMEOUT_SECONDS); closing."


EVICTED_REPLY = (
    "421 Closed to make room: too many connections that have not logged in from this address."
)


class Pressure(msgspec.Struct, frozen=True):
    """Connections refused or evicted before their login within the window: a flood."""

    refused: int
    evicted: int
    addresses: tuple[str, ...]  # the most frequent first
    since: float  # the first refusal or eviction inside the window


class UnauthenticatedConnections:
    """The connections waiting for their login, and the refusals of the window. Pure
    bookkeeping: the caller passes ``now`` and closes what it is told to."""

    def __init__(self, policy: UnauthenticatedPolicy) -> None:
        self.policy = policy
        self._pending: dict[int, Pending] = {}
        self._turned_away: deque[tuple[float, str, bool]] = deque()  # (when, address, evicted)

    def admit(self, key: int, address: str, now: float) -> Admission:
        decision = admit_unauthenticated(self._pending.values(), address, self.policy)
        if decision.admit:
            self._pending[key] = Pending(key, address, now)
            if decision.evict is not None:
                evicted = self._pending.pop(decision.evict)
                self._note(now, evicted.address, evicted=True)
        else:
            self._note(now, address, evicted=False)
        return decision

    def settled(self, key: int) -> None:
        """Logged in, or closed: no longer waiting."""
        self._pending.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._pending

    def __len__(self) -> int:
        return len(self._pending)

    def _note(self, now: float, address: str, *, evicted: bool) -> None:
        self._turned_away.append((now, address, evicted))
        self._forget_before(now - PRESSURE_WINDOW_SECONDS)
        while len(self._turned_away) > 10_000:  # bounded, whatever the rate
            self._turned_away.popleft()

    def _forget_before(self, instant: float) -> None:
        while self._turned_away and self._turned_away[0][0] < instant:
            self._turned_away.popleft()

    def pressure(self, now: float) -> Pressure | None:
        """The refusals and evictions of the last :data:`PRESSURE_WINDOW_SECONDS`; None when
        there were none (no flood)."""
        self._forget_before(now - PRESSURE_WINDOW_SECONDS)
        if not self._turned_away:
            return None
        evicted = sum(1 for _, _, was_evicted in self._turned_away if was_evicted)
        addresses = Counter(address for _, address, _ in self._turned_away)
        return Pressure(
            refused=len(self._turned_away) - evicted,
            evicted=evicted,
            addresses=tuple(address for address, _ in addresses.most_common(5)),
            since=self._turned_away[0][0],
        )
