"""The timeline's layout, pure: a day's window in real time (23 and 25 hour days), marks placed
by their share of it, marks that would cover each other side by side, lanes per camera, the time
axis's labels."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from homesec.policy.timeline import (
    TimelineVisit,
    day_window,
    lay_out,
    position,
    stack_slots,
    ticks,
)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def visit(event_id: int, camera: str, at: dt.datetime, level: str | None = "low") -> TimelineVisit:
    return TimelineVisit(event_id=event_id, camera_id=camera, started_at=at, risk_level=level,
                         risk_score=10 if level else None, summary="A person")  # fmt: skip


def test_a_day_is_local_midnight_to_local_midnight_in_real_time():
    start, end = day_window(dt.date(2026, 6, 1), BERLIN)
    assert start == dt.datetime(2026, 5, 31, 22, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(hours=24)
    spring = day_window(dt.date(2026, 3, 29), BERLIN)  # the clocks go forward
    autumn = day_window(dt.date(2026, 10, 25), BERLIN)  # and back
    assert spring[1] - spring[0] == dt.timedelta(hours=23)
    assert autumn[1] - autumn[0] == dt.timedelta(hours=25)


def test_a_mark_sits_at_its_share_of_the_real_day():
    start, end = day_window(dt.date(2026, 10, 25), BERLIN)
    noon = dt.datetime(2026, 10, 25, 12, tzinfo=BERLIN)
    # 13 real hours after midnight (01:00-02:00 came twice) of 25.
    assert position(noon, start, end) == round(13 / 25 * 100, 3)
    assert position(start - dt.timedelta(hours=1), start, end) == 0.0
    assert position(end + dt.timedelta(hours=1), start, end) == 100.0
    assert position(start, start, start) == 0.0


def test_marks_that_would_cover_each_other_go_side_by_side():
    assert stack_slots([10.0, 11.0, 11.5, 30.0, 40.0]) == [0, 1, 2, 0, 0]
    # Slot 0 is free again once its last mark is far enough behind.
    assert stack_slots([10.0, 11.0, 13.0]) == [0, 1, 0]
    # More than three at once: the slot whose mark is furthest behind takes the fourth.
    assert stack_slots([10.0, 10.5, 11.0, 11.2]) == [0, 1, 2, 0]
    assert stack_slots([]) == []


def test_lanes_follow_the_cameras_and_hold_their_visits_in_the_window():
    start, end = day_window(dt.date(2026, 6, 1), BERLIN)
    at = dt.datetime(2026, 6, 1, 6, tzinfo=BERLIN)
    visits = [
        visit(3, "porch", at + dt.timedelta(hours=12), "high"),
        visit(1, "porch", at, None),
        visit(2, "garden", at, "critical"),
        visit(4, "porch", end + dt.timedelta(seconds=1)),  # tomorrow's
        visit(5, "shed", at),  # a camera no longer listed keeps its lane
    ]
    lanes = lay_out([("porch", "Porch"), ("garden", "Garden"), ("attic", "Attic")], visits,
                    start, end, BERLIN)  # fmt: skip
    assert [lane.camera_name for lane in lanes] == ["Porch", "Garden", "Attic", "shed"]
    porch = lanes[0]
    assert [(m.event_id, m.band, m.time_label, m.at_percent) for m in porch.marks] == [
        (1, "unscored", "06:00", 25.0),
        (3, "high", "18:00", 75.0),
    ]
    assert porch.counts == {"unscored": 1, "high": 1}
    assert porch.marks[1].title == "Porch Mon 18:00: high 10. A person"
    assert lanes[2].marks == [] and lanes[2].counts == {}


def test_the_axis_says_local_hours_and_the_clock_changes():
    start, end = day_window(dt.date(2026, 6, 1), BERLIN)
    labels = [(tick.label, tick.at_percent) for tick in ticks(start, end, BERLIN)]
    assert labels[0] == ("00:00", 0.0) and labels[-1] == ("00:00", 100.0)
    assert [label for label, _ in labels] == [f"{h:02d}:00" for h in range(0, 24, 3)] + ["00:00"]
    # The day the clocks go back: 25 hours, every third local hour, in real time.
    start, end = day_window(dt.date(2026, 10, 25), BERLIN)
    autumn = ticks(start, end, BERLIN)
    assert [tick.label for tick in autumn][:3] == ["00:00", "03:00", "06:00"]
    assert autumn[1].at_percent == round(4 / 25 * 100, 3)  # 03:00 is four real hours in
    # Short windows get hourly labels, long ones daily.
    now = dt.datetime(2026, 6, 1, 10, 30, tzinfo=dt.UTC)
    hourly = ticks(now - dt.timedelta(hours=5), now, dt.UTC)
    assert [tick.label for tick in hourly] == ["06:00", "07:00", "08:00", "09:00", "10:00"]
    daily = ticks(now - dt.timedelta(days=6), now, dt.UTC)
    assert daily[0].label == "Wed 27"


def test_a_zone_half_an_hour_off_utc_gets_its_local_hours():
    kolkata = zoneinfo.ZoneInfo("Asia/Kolkata")
    start, end = day_window(dt.date(2026, 6, 1), kolkata)
    labels = [tick.label for tick in ticks(start, end, kolkata)]
    assert labels == [f"{h:02d}:00" for h in range(0, 24, 3)] + ["00:00"]
