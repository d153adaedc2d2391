"""The one way tests build ``Settings``: homesec's own loader, then the fields a test names.

Going through ``load_settings`` (not ``Settings(...)``) keeps test settings what a real install
would get: the same defaults, ``FOSCAM_BASE_PATH`` under the data directory unless a test says
otherwise, and the loader's own checks on any environment variable a test passes in ``env``.
A package's own defaults (alert tests in UTC, the Analyst's quick retries) are overrides passed
through here, not factories of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from homesec.settings import Settings, load_settings

# For tests of pure code that never touch the disk: a data directory that does not exist, so a
# test that did write there would fail loudly instead of littering the machine.
NO_DATA_DIR = Path("/nonexistent/homesec-test-data")


def make_settings(
    data_dir: Path = NO_DATA_DIR, *, env: Mapping[str, str] | None = None, **fields: Any
) -> Settings:
    """Settings for a test: ``HOMESEC_DATA_DIR=data_dir`` and the variables in ``env``, parsed
    as homesec parses its environment, then ``fields`` (attribute names of ``Settings``, typed
    values) set as given."""
    settings = load_settings({"HOMESEC_DATA_DIR": str(data_dir), **(env or {})})
    return msgspec.structs.replace(settings, **fields) if fields else settings
