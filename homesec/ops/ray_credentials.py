"""The Ray token: homesec owns the credentials of the cluster it starts.

Ray 2.60 checks a token on every connection. Left to itself, Ray keeps it in ``~/.ray/auth_token``
and a client finds it only if something (a ``ray.init()`` of another program) left one there: on
a machine that never ran Ray, `homesec up` would die with Ray's ``AuthenticationError``. So:

- **A cluster homesec starts** (no ``RAY_ADDRESS``): the token is made on first start under the
  data dir (``<data dir>/ray/auth_token``, 0600 in a 0700 folder) and handed to the head, its
  workers, `homesec status`, `homesec backfill` and the job submission through Ray's own
  ``RAY_AUTH_TOKEN_PATH``. A ``RAY_AUTH_TOKEN`` in the environment is not ours and is dropped.
- **A cluster homesec joins** (``RAY_ADDRESS``): the cluster's token, from ``RAY_AUTH_TOKEN``
  or ``RAY_AUTH_TOKEN_PATH``, else a copy of it at ``<data dir>/ray/auth_token``. None of these
  is one clear line saying what to set.
- ``RAY_AUTH_MODE=disabled`` in the environment is the owner's choice for a cluster without
  token auth, and is respected.

Ray's default path is never used: ``RAY_AUTH_TOKEN_PATH`` is always set explicitly, so nothing of
homesec reads or writes ``~/.ray``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from homesec.contract.errors import HomesecError
from homesec.ops.embedded_common import write_private

MODE_VARIABLE = "RAY_AUTH_MODE"
TOKEN_VARIABLE = "RAY_AUTH_TOKEN"
TOKEN_PATH_VARIABLE = "RAY_AUTH_TOKEN_PATH"


class RayCredentialsError(HomesecError):
    """No usable token for the Ray cluster."""


def token_path(data_dir: Path) -> Path:
    """Where homesec keeps the token of the cluster it starts (or a copy of a joined one's)."""
    return data_dir / "ray" / "auth_token"


def ensure_token(data_dir: Path) -> Path:
    """The token file of homesec's own cluster, made on first use: 256 random bits in hex, as
    `ray get-auth-token --generate` makes them, readable by this user only."""
    path = token_path(data_dir)
    if _readable_token(path):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    write_private(path, secrets.token_hex(32).encode())
    return path


def use_own_cluster_token(data_dir: Path) -> Path | None:
    """Point this process, and every process it starts (the Ray head and its workers), at the
    token of the cluster homesec starts; returns its path (None with token auth disabled)."""
    if _auth_disabled():
        return None
    path = ensure_token(data_dir)
    os.environ[MODE_VARIABLE] = "token"
    os.environ.pop(TOKEN_VARIABLE, None)
    os.environ[TOKEN_PATH_VARIABLE] = str(path)
    return path


def use_joined_cluster_token(data_dir: Path, address: str) -> Path | None:
    """Point this process at the token of the cluster at ``address``, which homesec did not
    start; returns the token file (None when the token is in ``RAY_AUTH_TOKEN`` or token auth
    is disabled)."""
    if _auth_disabled():
        return None
    os.environ[MODE_VARIABLE] = "token"
    if os.environ.get(TOKEN_VARIABLE, "").strip():
        return None
    configured = os.environ.get(TOKEN_PATH_VARIABLE, "").strip()
    if configured:
        path = Path(configured).expanduser()
        if not _readable_token(path):
            raise RayCredentialsError(
                f"{TOKEN_PATH_VARIABLE}={configured} is not a readable token file: point it at "
                f"a copy of the Ray cluster's token (on the head: `ray get-auth-token`)"
            )
        os.environ[TOKEN_PATH_VARIABLE] = str(path)
        return path
    path = token_path(data_dir)
    if not _readable_token(path):
        raise RayCredentialsError(
            f"the Ray cluster at {address} needs its token: set {TOKEN_PATH_VARIABLE} to a copy "
            f"of its token file (or {TOKEN_VARIABLE} to the token; on the head `ray "
            f"get-auth-token` prints it), or copy it to {path}"
        )
    os.environ[TOKEN_PATH_VARIABLE] = str(path)
    return path


def use_token_file(path: Path | None) -> None:
    """Point this process at a token file a running homesec named (its run file)."""
    if path is None or _auth_disabled():
        return
    if not _readable_token(path):
        raise RayCredentialsError(
            f"the running homesec's Ray token {path} cannot be read: run this command as the "
            "user who started homesec"
        )
    os.environ[MODE_VARIABLE] = "token"
    os.environ.pop(TOKEN_VARIABLE, None)
    os.environ[TOKEN_PATH_VARIABLE] = str(path)


def _auth_disabled() -> bool:
    return os.environ.get(MODE_VARIABLE, "").strip().lower() == "disabled"


def _readable_token(path: Path) -> bool:
    try:
        return bool(path.read_text().strip())
    except (OSError, UnicodeDecodeError):
        return False
