"""The Janitor's pure decisions: cutoffs, the schedule across DST, disk relief, Ray sessions."""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo

import pytest

from homesec.policy.retention import (
    DiskUsage,
    FileFacts,
    FolderFile,
    RaySession,
    files_to_free,
    free_percent,
    next_cleanup_at,
    ray_sessions_to_prune,
    retention_cutoffs,
    stray_files,
    under_pressure,
    wake_delay,
)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
UTC = dt.UTC
DAY = 86_400


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_cutoffs_count_back_from_now():
    now = utc(2025, 12, 27, 10, 30)
    cutoffs = retention_cutoffs(now, retention_days=30, log_retention_days=7)
    assert cutoffs.data == utc(2025, 11, 27, 10, 30)
    assert cutoffs.logs == utc(2025, 12, 20, 10, 30)


# --- the schedule ------------------------------------------------------------------------------


def test_next_run_is_today_before_the_time_and_tomorrow_from_it_on():
    three = dt.time(3, 0)
    # 27 Dec: Berlin is UTC+1, so 03:00 local is 02:00 UTC.
    assert next_cleanup_at(utc(2025, 12, 27, 1, 0), three, BERLIN) == utc(2025, 12, 27, 2, 0)
    assert next_cleanup_at(utc(2025, 12, 27, 2, 0), three, BERLIN) == utc(2025, 12, 28, 2, 0)
    assert next_cleanup_at(utc(2025, 12, 27, 22, 0), three, BERLIN) == utc(2025, 12, 28, 2, 0)


def test_local_date_decides_the_day_not_utcs():
    # 23:30 UTC on the 27th is already 00:30 on the 28th in Berlin: today's 03:00 is still ahead.
    assert next_cleanup_at(utc(2025, 12, 27, 23, 30), dt.time(3, 0), BERLIN) == utc(
        2025, 12, 28, 2, 0
    )


def test_summer_time_moves_the_utc_instant_with_the_wall_clock():
    # 15 Jul: Berlin is UTC+2.
    assert next_cleanup_at(utc(2025, 7, 15, 0, 0), dt.time(3, 0), BERLIN) == utc(2025, 7, 15, 1, 0)


def _runs(start: dt.datetime, until: dt.datetime, at: dt.time, zone) -> list[dt.datetime]:
    """Every run a Janitor that always runs on time makes between ``start`` and ``until``."""
    runs = []
    moment = next_cleanup_at(start, at, zone)
    while moment < until:
        runs.append(moment)
        moment = next_cleanup_at(moment, at, zone)
    return runs


@pytest.mark.parametrize(
    ("start", "until"),
    [
        (utc(2025, 3, 27), utc(2025, 4, 3)),  # spring: 30 Mar, 02:00 -> 03:00
        (utc(2025, 10, 23), utc(2025, 10, 30)),  # autumn: 26 Oct, 03:00 -> 02:00
    ],
)
@pytest.mark.parametrize("at", [dt.time(3, 0), dt.time(2, 30), dt.time(0, 0), dt.time(23, 59)])
def test_one_run_per_local_day_across_a_dst_change(start, until, at):
    runs = _runs(start, until, at, BERLIN)
    local_days = [run.astimezone(BERLIN).date() for run in runs]
    assert len(runs) == 7
    assert local_days == sorted(set(local_days))
    assert all(b - a > dt.timedelta(hours=22) for a, b in itertools.pairwise(runs))


def test_a_time_the_spring_change_skips_runs_once_after_the_gap():
    # 30 Mar 2025: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
    run = next_cleanup_at(utc(2025, 3, 29, 12, 0), dt.time(2, 30), BERLIN)
    assert run == utc(2025, 3, 30, 1, 30)  # 03:30 CEST
    assert run.astimezone(BERLIN).isoformat() == "2025-03-30T03:30:00+02:00"
    assert next_cleanup_at(run, dt.time(2, 30), BERLIN) == utc(2025, 3, 31, 0, 30)


def test_a_time_the_autumn_change_repeats_runs_once_at_its_first_occurrence():
    # 26 Oct 2025: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
    run = next_cleanup_at(utc(2025, 10, 25, 12, 0), dt.time(2, 30), BERLIN)
    assert run == utc(2025, 10, 26, 0, 30)  # 02:30 CEST, the first
    # Woken at the second 02:30 (01:30 UTC), it does not run again that day.
    assert next_cleanup_at(run, dt.time(2, 30), BERLIN) == utc(2025, 10, 27, 1, 30)
    assert next_cleanup_at(utc(2025, 10, 26, 1, 30), dt.time(2, 30), BERLIN) == utc(
        2025, 10, 27, 1, 30
    )


def test_a_late_janitor_runs_once_not_once_per_missed_day():
    last_run = utc(2025, 12, 20, 2, 0)
    due = next_cleanup_at(last_run, dt.time(3, 0), BERLIN)
    woken = utc(2025, 12, 27, 12, 0)  # a week later
    assert due <= woken
    # After the one catch-up run at `woken`, the next is the following night.
    assert next_cleanup_at(woken, dt.time(3, 0), BERLIN) == utc(2025, 12, 28, 2, 0)


def test_wake_delay_never_exceeds_the_cap_and_is_never_negative():
    now = utc(2025, 12, 27, 10, 0)
    assert wake_delay(now, now + dt.timedelta(hours=5), 300) == 300
    assert wake_delay(now, now + dt.timedelta(seconds=42), 300) == 42
    assert wake_delay(now, now - dt.timedelta(seconds=42), 300) == 0


# --- disk pressure ------------------------------------------------------------------------------


def usage(total: int, free: int) -> DiskUsage:
    return DiskUsage(total=total, used=total - free, free=free)


def test_pressure_is_free_space_under_the_threshold():
    assert free_percent(usage(1000, 40)) == 4.0
    assert under_pressure(usage(1000, 40), 5.0)
    assert not under_pressure(usage(1000, 50), 5.0)
    assert not under_pressure(usage(1000, 0), 0.0)  # 0 disables the guard


def test_no_file_goes_when_there_is_room():
    files = [FileFacts("/t/a.jpg", 100, 1.0)]
    assert files_to_free(files, usage(1000, 50), 5.0) == []


def test_oldest_files_go_first_until_threshold_plus_margin():
    files = [
        FileFacts("/t/new.jpg", 30, 300.0),
        FileFacts("/t/oldest.jpg", 10, 100.0),
        FileFacts("/t/middle.jpg", 10, 200.0),
        FileFacts("/t/b-tie.jpg", 10, 150.0),
        FileFacts("/t/a-tie.jpg", 10, 150.0),
    ]
    # 1000 bytes, 30 free (3%); 5% + 1% margin means 60 free: 30 more bytes, three 10-byte files.
    chosen = files_to_free(files, usage(1000, 30), 5.0, margin_percent=1.0)
    assert [f.path for f in chosen] == ["/t/oldest.jpg", "/t/a-tie.jpg", "/t/b-tie.jpg"]


def test_everything_goes_when_even_that_is_not_enough():
    files = [FileFacts("/t/a.jpg", 5, 2.0), FileFacts("/t/b.jpg", 5, 1.0)]
    chosen = files_to_free(files, usage(1000, 0), 5.0)
    assert [f.path for f in chosen] == ["/t/b.jpg", "/t/a.jpg"]


def test_the_target_never_exceeds_the_whole_disk():
    files = [FileFacts("/t/a.jpg", 500, 1.0), FileFacts("/t/b.jpg", 500, 2.0)]
    chosen = files_to_free(files, usage(1000, 0), 99.5, margin_percent=1.0)
    assert len(chosen) == 2


# --- Ray sessions -------------------------------------------------------------------------------


def test_idle_ray_sessions_go_but_never_the_current_one():
    now = 100 * DAY
    sessions = [
        RaySession("session_old", now - 8 * DAY),
        RaySession("session_recent", now - 6 * DAY),
        RaySession("session_current_but_old", now - 30 * DAY),
        RaySession("session_older", now - 20 * DAY),
    ]
    chosen = ray_sessions_to_prune(sessions, "session_current_but_old", now, max_age_days=7)
    assert chosen == ["session_old", "session_older"]


def test_without_a_current_session_only_age_decides():
    now = 100 * DAY
    sessions = [RaySession("session_a", now - 8 * DAY)]
    assert ray_sessions_to_prune(sessions, None, now, max_age_days=7) == ["session_a"]


def test_stray_files_are_unexplained_never_taken_and_past_the_grace():
    now, grace = 100_000.0, 3600.0
    old, young = now - 2 * grace, now - 10.0

    def file(relative: str, mtime: float) -> FolderFile:
        return FolderFile(f"/cams/porch/{relative}", relative, 10, mtime)

    files = [
        file("data.bin", old),
        file(".stash/blob.bin", old),
        file(".hidden.jpg", old),
        file("snap/x.jpg.part", old),  # never renamed into place
        file("snap/y.jpg.part", young),  # being uploaded
        file("movie.mp4", young),
        file("not_yet.jpg", old),  # an image: the watcher records it, swept never
        file("rejected.bin", old),  # a row explains it
    ]
    chosen = stray_files(files, {"/cams/porch/rejected.bin"}, now, grace)
    assert [f.relative for f in chosen] == [
        "data.bin",
        ".stash/blob.bin",
        ".hidden.jpg",
        "snap/x.jpg.part",
    ]
