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


def _anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the headings: lower case, punctuation dropped, spaces to dashes."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.M)
    return {
        re.sub(r"[^\w\- ]", "", heading).strip().lower().replace(" ", "-") for heading in headings
    }


def test_every_link_of_the_readme_and_the_docs_resolves_inside_the_repository():
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+://", target):
                broken.append(f"{page.name}: {target} leaves the repository")
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.is_file() or ROOT not in linked.parents:
                broken.append(f"{page.name}: {target} names no file of the repository")
            elif anchor and anchor not in _anchors(linked.read_text()):
                broken.append(f"{page.name}: {target} names no heading of {linked.name}")
    assert broken == []
