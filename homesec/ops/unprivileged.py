"""The unprivileged account the embedded PostgreSQL runs as when homesec runs as root.

PostgreSQL's initdb, pg_ctl and postgres refuse to run as root, so as root we run them as the
system user ``homesec``, created on first use. That user must reach the binaries and the
cluster: every directory above them needs its search bit for it. Root's own trees (``/root``,
pytest's ``/tmp/pytest-of-root``) lack it, and widening them would weaken root's privacy, so what
the user cannot reach is kept under :data:`SYSTEM_STATE_DIR` instead.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import msgspec

from homesec.ops.errors import EmbeddedServerError

ACCOUNT_NAME = "homesec"
# Where system services keep their state (FHS); reachable by every user.
SYSTEM_STATE_DIR = Path("/var/lib/homesec")


class Account(msgspec.Struct, frozen=True):
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]

    def subprocess_options(self) -> dict[str, Any]:
        """``subprocess`` arguments that switch the child to this account and its groups,
        keeping none of root's."""
        return {"user": self.uid, "group": self.gid, "extra_groups": list(self.groups)}


def service_account() -> Account | None:
    """The account to run PostgreSQL as: ``None`` (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(ACCOUNT_NAME)
    except KeyError:
        entry = _create_account()
    groups = os.getgrouplist(entry.pw_name, entry.pw_gid)
    return Account(entry.pw_name, entry.pw_uid, entry.pw_gid, tuple(groups))


def _create_account() -> pwd.struct_passwd:
    command = [
        "useradd", "--system", "--user-group", "--no-create-home",
        "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
        "--comment", "homesec embedded PostgreSQL", ACCOUNT_NAME,
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        reason = result.stderr.strip() or f"useradd exited with {result.returncode}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        reason = str(exc)
    try:  # also when another homesec created it at the same moment
        return pwd.getpwnam(ACCOUNT_NAME)
    except KeyError:
        raise EmbeddedServerError(
            "PostgreSQL refuses to run as root, and the system user "
            f"{ACCOUNT_NAME!r} to run it as could not be created ({reason}); create it "
            f"(useradd --system {ACCOUNT_NAME}), run homesec as a regular user, "
            "or set DATABASE_URL to a PostgreSQL of your own"
        ) from None


def first_unreachable(path: Path, account: Account) -> Path | None:
    """The highest directory on ``path`` (itself included) that ``account`` cannot search.

    Judged by mode bits, as the kernel does without ACLs; a directory an ACL opens is taken as
    closed, which costs at most a needless move to :data:`SYSTEM_STATE_DIR`.
    """
    path = path.resolve()
    for directory in reversed([path, *path.parents]):
        info = directory.stat()
        if info.st_uid == account.uid:
            bit = stat.S_IXUSR
        elif info.st_gid in account.groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return directory
    return None


def system_state_dir() -> Path:
    SYSTEM_STATE_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    return SYSTEM_STATE_DIR


def relocated_dir(path: Path, kind: str) -> Path:
    """A directory of its own under :data:`SYSTEM_STATE_DIR` for ``path``: one per data dir."""
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    return system_state_dir() / f"{kind}-{digest}"


def reachable_copy(tree: Path, parts: list[str], destination: Path) -> Path:
    """``tree``'s ``parts`` copied once to ``destination``, their relative layout kept (the
    binaries find their libraries by relative RPATH). Built aside and renamed into place, so
    a half copy is never used and two homesec starting together both end up with a whole one."""
    if destination.exists():
        return destination
    building = destination.with_name(f"{destination.name}.{os.getpid()}.partial")
    shutil.rmtree(building, ignore_errors=True)
    for part in parts:
        shutil.copytree(tree / part, building / part, symlinks=True)
    _open_to_all(building)
    try:
        building.rename(destination)
    except OSError:  # another process renamed its copy first
        shutil.rmtree(building, ignore_errors=True)
        if not destination.exists():
            raise
    return destination


def _open_to_all(tree: Path) -> None:
    """Readable (and, where executable, runnable) by every user: the copy exists for one."""
    tree.chmod(0o755)
    for root, directories, files in os.walk(tree):
        for name in directories:
            os.chmod(os.path.join(root, name), 0o755)
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                mode = os.stat(path).st_mode
                os.chmod(path, mode | 0o444 | (0o111 if mode & stat.S_IXUSR else 0))
