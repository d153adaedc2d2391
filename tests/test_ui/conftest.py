"""Browser tests: the app on a real uvicorn server (real PostgreSQL and Redis), driven in
Debian's headless Chromium by Playwright (tests/support/browser.py). The screenshots' folder is
printed at the end of the run.
"""

from __future__ import annotations

# The browser fixtures, shared with tests/e2e; the session's database, Redis and app factory, as
# the HTTP tests have them.
from tests.support.browser import (  # noqa: F401
    SCREENSHOTS,
    browser,
    chromium,
    screenshots,
    serve,
    watched,
)
from tests.support.http_app import events_channel, make_app, settings  # noqa: F401


def pytest_terminal_summary(terminalreporter) -> None:
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"dashboard screenshots: {SCREENSHOTS}")
