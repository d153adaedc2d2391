"""The morning digest, pure: when it is due, the night it covers (the nights the clocks change
included), its channels and keys, and what it says (and does not)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from homesec.contract.alerts import AlertKind
from homesec.policy.digest import (
    DigestProblem,
    DigestVisit,
    compose_digest,
    digest_channels,
    digest_day,
    digest_key,
    digest_message,
    due_day,
    night_window,
)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
SEVEN, SIX_PM = dt.time(7, 0), dt.time(18, 0)
BASE = "https://homesec.example.org"


def local(day: int, hour: int, minute: int = 0, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def visit(event_id, hour, level, score=None, day=8, camera="Porch", summary=None):
    return DigestVisit(event_id=event_id, camera_name=camera, started_at=local(day, hour),
                       risk_level=level, risk_score=score, summary=summary)  # fmt: skip


def test_last_night_is_the_evening_before_to_the_digest_time():
    start, end = night_window(dt.date(2026, 12, 8), SEVEN, SIX_PM, BERLIN)
    assert (start, end) == (local(7, 18), local(8, 7))
    assert end - start == dt.timedelta(hours=13)
    # A digest later than the night's start covers the same day's evening.
    start, end = night_window(dt.date(2026, 12, 8), dt.time(22, 0), SIX_PM, BERLIN)
    assert (start, end) == (local(8, 18), local(8, 22))


def test_the_nights_the_clocks_change_are_an_hour_shorter_or_longer():
    spring = night_window(dt.date(2026, 3, 29), SEVEN, SIX_PM, BERLIN)
    autumn = night_window(dt.date(2026, 10, 25), SEVEN, SIX_PM, BERLIN)
    assert spring[1] - spring[0] == dt.timedelta(hours=12)
    assert autumn[1] - autumn[0] == dt.timedelta(hours=14)
    assert spring[1].astimezone(BERLIN).time() == SEVEN  # 07:00 summer time, 05:00 UTC
    assert spring[1] == dt.datetime(2026, 3, 29, 5, tzinfo=dt.UTC)
    # Due at 07:00 local on either side of the change.
    utc = dt.UTC
    assert due_day(dt.datetime(2026, 3, 29, 5, tzinfo=utc), SEVEN, BERLIN) == dt.date(2026, 3, 29)
    assert due_day(dt.datetime(2026, 3, 29, 4, 59, tzinfo=utc), SEVEN, BERLIN) is None
    autumn_day = dt.date(2026, 10, 25)
    assert due_day(dt.datetime(2026, 10, 25, 6, tzinfo=utc), SEVEN, BERLIN) == autumn_day


def test_due_from_the_digest_time_for_twelve_hours_and_off_without_one():
    assert due_day(local(8, 6, 59), SEVEN, BERLIN) is None
    assert due_day(local(8, 7), SEVEN, BERLIN) == dt.date(2026, 12, 8)
    assert due_day(local(8, 18, 59), SEVEN, BERLIN) == dt.date(2026, 12, 8)
    assert due_day(local(8, 19), SEVEN, BERLIN) is None  # stale: skipped
    assert due_day(local(8, 7), None, BERLIN) is None
    # A late digest time is still due after midnight, for the day it was due.
    assert due_day(local(9, 1), dt.time(22, 0), BERLIN) == dt.date(2026, 12, 8)


def test_only_apprise_channels_and_one_key_per_day_and_channel():
    channels = ["mqtt", "apprise:1a2b3c4d", "webhook:00ff00ff", "apprise:page-3"]
    assert digest_channels(channels) == ["apprise:1a2b3c4d", "apprise:page-3"]
    key = digest_key(dt.date(2026, 12, 8), "apprise:1a2b3c4d")
    assert key == "digest:2026-12-08:apprise:1a2b3c4d"
    assert digest_day(key) == dt.date(2026, 12, 8)
    assert digest_day("camera:4:apprise:1a2b3c4d") is None
    assert digest_day("digest:tomorrow:apprise:1") is None


def test_the_digest_says_the_bands_the_ones_worth_a_look_and_the_cameras():
    window = night_window(dt.date(2026, 12, 8), SEVEN, SIX_PM, BERLIN)
    visits = [
        visit(1, 2, "low", 5, summary="A cat"),
        visit(2, 3, "high", 70, summary="A person at the door."),
        visit(3, 4, "critical", 95, camera="Garden", summary="A person with a knife."),
        visit(4, 5, None),
        visit(5, 22, "medium", 40, day=7),
    ]
    garage = DigestProblem(camera_name="Garage", problem="offline", started_at=local(8, 1),
                           cleared_at=local(8, 3, 30))  # fmt: skip
    shed = DigestProblem(camera_name="Shed", problem="lens covered", started_at=local(7, 23),
                         cleared_at=None)  # fmt: skip
    problems = [garage, shed]
    title, body = compose_digest(day=dt.date(2026, 12, 8), window=window, visits=visits,
                                 problems=problems, link_base=BASE + "/", zone=BERLIN)  # fmt: skip
    assert title == "Last night: 5 visits, 2 worth a look; 2 cameras with problems"
    assert body == "\n".join([
        "Mon 18:00 to Tue 07:00: 5 visits: 1 critical, 1 high, 1 medium, 1 low, 1 unscored.",
        "",
        "Worth a look:",
        f"- 04:00 Garden, critical 95. A person with a knife. {BASE}/events/3",
        f"- 03:00 Porch, high 70. A person at the door. {BASE}/events/2",
        "",
        "Cameras:",
        "- Garage: offline 01:00 to 03:30",
        "- Shed: lens covered since Mon 23:00, still",
    ])  # fmt: skip
    # Nothing else: no low visit is named, no cat, no link but the events'.
    assert "cat" not in body and body.count("http") == 2


def test_a_quiet_night_and_a_busy_one():
    window = night_window(dt.date(2026, 12, 8), SEVEN, SIX_PM, BERLIN)
    title, body = compose_digest(day=dt.date(2026, 12, 8), window=window, visits=[], problems=[],
                                 link_base=BASE, zone=BERLIN)  # fmt: skip
    assert (title, body) == ("Last night: no visits", "Mon 18:00 to Tue 07:00: 0 visits.")
    busy = [visit(i, 2, "high", 60) for i in range(1, 14)]
    title, body = compose_digest(day=dt.date(2026, 12, 8), window=window, visits=busy,
                                 problems=[], link_base=BASE, zone=BERLIN)  # fmt: skip
    assert title == "Last night: 13 visits, 13 worth a look"
    assert body.count("/events/") == 10
    assert body.endswith(f"- and 3 more: {BASE}/timeline?day=2026-12-08")


def test_the_message_is_a_calm_digest_without_an_event():
    message = digest_message(alert_id=7, idempotency_key="digest:2026-12-08:apprise:1",
                             title="t", body="b", now=local(8, 7))  # fmt: skip
    assert message.kind == AlertKind.DIGEST
    assert (message.event_id, message.risk_level, message.thumbnail_path) == (None, None, None)
