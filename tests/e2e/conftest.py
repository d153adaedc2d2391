"""The browser tests' fixtures (a uvicorn server, headless Chromium, screenshots), for the
dashboard's test against the running pipeline."""

from tests.test_ui.conftest import (  # noqa: F401
    browser,
    chromium,
    screenshots,
    serve,
    watched,
)
