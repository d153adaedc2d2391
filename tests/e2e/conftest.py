"""The browser tests' fixtures (a uvicorn server, headless Chromium, screenshots), for the
dashboard's test against the running pipeline."""

from tests.support.browser import (  # noqa: F401
    browser,
    chromium,
    screenshots,
    serve,
    watched,
)
