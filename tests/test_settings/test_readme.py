"""The README stays true: its two commands exist and every setting is documented."""

from __future__ import annotations

import os
import re
from pathlib import Path

from homesec.settings import ENV_VARS

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_readme_opens_with_the_run_and_test_commands():
    blocks = re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)
    assert blocks[:2] == ["scripts/bootstrap && .venv/bin/homesec up", "scripts/test"]
    for script in ("scripts/bootstrap", "scripts/test"):
        assert os.access(ROOT / script, os.X_OK), script
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_every_setting_is_documented():
    missing = [name for name in ENV_VARS if f"`{name}`" not in README]
    assert missing == []
