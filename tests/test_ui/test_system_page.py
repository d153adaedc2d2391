"""The System page and the header's badge read right in a real browser: "starting" until every
actor has reported, a past error marked resolved, "no GPU" as information, and actor names that
break only at their colon or a hyphen on a phone."""

from __future__ import annotations

import datetime as dt

from homesec.contract.reports import ActorStatus, SupervisorReport
from homesec.models import Log
from tests.support.browser import DESKTOP, PHONE, no_horizontal_scroll, shoot

T0 = dt.datetime.now(dt.UTC).replace(microsecond=0)
OLD_ERROR_AT = (T0 - dt.timedelta(minutes=20)).timestamp()
BATCHER = "batcher:garden-gate-behind-the-greenhouse-2"
ERROR = "ConnectionError: Redis at 127.0.0.1:6379 did not answer within 5 s"


class SteppingDirectory:
    """The Supervisor's reports, one round after another, as the test moves it on."""

    def __init__(self, rounds: list[list[ActorStatus]]) -> None:
        self.rounds = rounds
        self.round = 0

    async def supervisor_report(self) -> SupervisorReport | None:
        return SupervisorReport(
            actors=self.rounds[self.round], checked_at=T0 + dt.timedelta(seconds=5 * self.round)
        )


def actors(*, janitor: str) -> list[ActorStatus]:
    return [
        ActorStatus(name="detector:0", kind="detector", state="ALIVE"),
        ActorStatus(
            name=BATCHER,
            kind="batcher",
            state="ALIVE",
            restarts=1,
            last_error=ERROR,
            last_error_at=OLD_ERROR_AT,
        ),
        ActorStatus(name="gpu_monitor:0123456789ab", kind="gpu_monitor", state="ALIVE"),
        ActorStatus(name="janitor", kind="janitor", state=janitor),
    ]


NAME_LINES = """(cell) => {
  const lines = []; let current = ""; let top = null;
  const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i += 1) {
      const range = document.createRange(); range.setStart(node, i); range.setEnd(node, i + 1);
      const y = Math.round(range.getBoundingClientRect().top);
      if (top !== null && y > top + 2) { lines.push(current); current = ""; }
      top = y; current += node.data[i];
    }
  }
  lines.push(current);
  return lines;
}"""


async def test_the_badge_starts_then_reports_and_old_errors_read_resolved(
    make_app, serve, watched, db_sessions, settings, screenshots
) -> None:
    async with db_sessions.begin() as session:
        session.add(
            Log(
                level="WARNING", component="homesec.gpu_monitor",
                message="gpu_monitor:0123456789ab: no GPU (NVML sees no GPU); GPU statistics are "
                "not recorded",
            )
        )  # fmt: skip
        session.add(Log(level="WARNING", component="analyst", message="camera garage is slow"))
    directory = SteppingDirectory(
        [actors(janitor="STARTING"), actors(janitor="ALIVE"), actors(janitor="ALIVE")]
    )
    base = serve(make_app(actors=directory))
    browser = await watched(base)

    # The first round: the janitor has not answered and the others answered once.
    page = await browser.page(DESKTOP)
    await page.goto(base + "/system")
    assert await page.inner_text("#system-status") == "starting"
    await page.locator("#health.status-starting", has_text="starting").wait_for()
    assert "janitor" in await page.get_attribute("#health", "title")
    assert "janitor" in await page.inner_text("#starting")
    # While the batcher has not reported twice, its old error is not called resolved.
    row = page.locator(f'tr[data-actor="{BATCHER}"] .last-error')
    assert "resolved" not in await row.inner_text()

    # Two rounds later every actor has reported: healthy, and the old error is behind it.
    directory.round = 1
    await page.reload()
    assert await page.inner_text("#system-status") == "starting"  # the janitor's first answer
    directory.round = 2
    await page.reload()
    assert await page.inner_text("#system-status") == "healthy"
    assert await page.locator("#starting").count() == 0
    said = await row.inner_text()
    when = dt.datetime.fromtimestamp(OLD_ERROR_AT).strftime("%H:%M")  # the machine's zone
    assert said.startswith(f"last error {when}, resolved: ConnectionError"), said
    assert "resolved" in (await row.get_attribute("class")).split()
    await page.locator("#health.status-healthy", has_text="healthy").wait_for()

    # No GPU is information about the machine, not one of the warnings.
    assert "No GPU (NVML sees no GPU)" in await page.inner_text("#no-gpu")
    logged = await page.locator("ol.logs li").all_inner_texts()
    assert len(logged) == 1 and "camera garage is slow" in logged[0]
    await shoot(page, screenshots, "system-resolved")

    # On a phone the actor names break only after their colon or a hyphen.
    phone = await browser.page(PHONE)
    await phone.goto(base + "/system")
    await no_horizontal_scroll(phone)
    for name in (BATCHER, "gpu_monitor:0123456789ab"):
        lines = await phone.locator(f'tr[data-actor="{name}"] td.name').evaluate(NAME_LINES)
        assert "".join(lines) == name
        assert all(line.endswith((":", "-", "_")) for line in lines[:-1]), lines
    lines = await phone.locator(f'tr[data-actor="{BATCHER}"] td.name').evaluate(NAME_LINES)
    assert len(lines) > 1, "the name fits on one line: the test shows nothing about breaking"
    await shoot(phone, screenshots, "system-resolved")
