"""Browser tests' tools: the app on a real uvicorn server, Debian's headless Chromium driven by
Playwright, pages watched for foreign requests and errors, screenshots. The fixtures here are
shared by two packages (tests/test_ui, and tests/e2e's dashboard test): each package's
conftest.py imports them.

Every page a test opens is watched: a request to any other origin, a console error or an
uncaught script error fails the test. Screenshots go to ``out/ui-screenshots/`` (git-ignored;
``HOMESEC_SCREENSHOTS`` to choose another folder).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from homesec.http.server import build_server
from tests.support.waiting import eventually_blocking

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1400, "height": 900}
SCREENSHOTS = Path(os.environ.get("HOMESEC_SCREENSHOTS", "out/ui-screenshots")).resolve()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    # Overwritten, not emptied: tests/e2e's dashboard test shares this folder.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Servers:
    """``servers(app)``: run ``app`` on uvicorn in a thread of its own and return its base URL;
    ``servers.stop(url)`` stops it (a test of reconnection starts one again on its port)."""

    def __init__(self) -> None:
        self.running: dict[str, tuple] = {}

    def __call__(self, app, port: int | None = None) -> str:
        port = port or _free_port()
        server = build_server(app, "127.0.0.1", port, log_level="warning")
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        eventually_blocking(
            lambda: server.started or not thread.is_alive(), 15, f"uvicorn to start on {port}"
        )
        if not server.started:
            raise RuntimeError(f"uvicorn stopped while starting on port {port}")
        base = f"http://127.0.0.1:{port}"
        self.running[base] = (server, thread)
        return base

    def stop(self, base: str) -> None:
        server, thread = self.running.pop(base)
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def serve() -> Servers:
    servers = Servers()
    yield servers
    for base in list(servers.running):
        servers.stop(base)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path):
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


class Watched:
    """A browser context whose pages may talk only to ``origin`` and log no errors."""

    def __init__(self, context, origin: str) -> None:
        self.context = context
        self.origin = origin
        self.foreign: list[str] = []
        self.errors: list[str] = []

    async def page(self, viewport: dict[str, int] = DESKTOP):
        page = await self.context.new_page()
        await page.set_viewport_size(viewport)
        page.on("request", self._request)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        return page

    def _request(self, request) -> None:
        url = request.url
        if not (url.startswith(self.origin + "/") or url.startswith(("data:", "blob:"))):
            self.foreign.append(url)

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} at {message.location}")

    def check(self) -> None:
        assert not self.foreign, f"requests left the origin: {self.foreign}"
        assert not self.errors, f"errors in the browser: {self.errors}"


@pytest.fixture
async def watched(browser) -> AsyncIterator[Callable[[str], Watched]]:
    contexts: list[Watched] = []

    async def open_context(origin: str) -> Watched:
        context = await browser.new_context()
        context.set_default_timeout(20_000)
        found = Watched(context, origin)
        contexts.append(found)
        return found

    yield open_context
    for found in contexts:
        await found.context.close()
    for found in contexts:
        found.check()


async def no_horizontal_scroll(page) -> None:
    widths = await page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if widths[0] > widths[1]:
        wide = await page.evaluate(
            """(limit) => [...document.querySelectorAll("body *")]
              .filter((e) => e.getBoundingClientRect().right > limit)
              .slice(0, 5).map((e) => `${e.tagName}.${e.className}`)""",
            widths[1],
        )
        raise AssertionError(
            f"{page.url}: {widths[0]} px wide in a {widths[1]} px window; too wide: {wide}"
        )


async def shoot(page, folder: Path, name: str) -> None:
    """A full-page screenshot at the page's width, after its images have loaded."""
    await page.wait_for_load_state("networkidle")
    await asyncio.sleep(0.2)
    width = page.viewport_size["width"]
    await page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
