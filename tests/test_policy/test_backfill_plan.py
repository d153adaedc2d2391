"""The backfill's decisions from plain facts: the window, each file's fate, reanalysis jobs,
progress and time left."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from homesec.policy.backfill_plan import (
    RECENT_SECONDS,
    BackfillInputError,
    FileAction,
    FileFacts,
    OriginalEvent,
    ProgressMeter,
    ReanalysisSkip,
    SkipReason,
    TimeWindow,
    check_run_id,
    decide_file,
    format_duration,
    is_reanalysis_batch,
    parse_local_time,
    plan_files,
    plan_reanalysis,
    reanalysis_batch_id,
    time_window,
)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NOW = 1_800_000_000.0


def _at(*args: int, zone: dt.tzinfo = BERLIN) -> float:
    return dt.datetime(*args, tzinfo=zone).timestamp()


# --- the window -----------------------------------------------------------------------------


def test_dates_and_times_are_local_and_a_bare_until_date_includes_its_day():
    assert parse_local_time("2025-12-23", BERLIN) == _at(2025, 12, 23)
    assert parse_local_time("2025-12-23", BERLIN, end_of_day=True) == _at(2025, 12, 24)
    assert parse_local_time("2025-12-23T08:30", BERLIN) == _at(2025, 12, 23, 8, 30)
    assert parse_local_time("2025-12-23 08:30:15", BERLIN) == _at(2025, 12, 23, 8, 30, 15)
    # A time with an offset says where it is; end_of_day leaves a time alone.
    assert parse_local_time("2025-12-23T08:30+00:00", BERLIN, end_of_day=True) == _at(
        2025, 12, 23, 8, 30, zone=dt.UTC
    )
    local = dt.datetime(2025, 12, 23, 8, 30).astimezone().timestamp()
    assert parse_local_time("2025-12-23T08:30", None) == local


@pytest.mark.parametrize("text", ["yesterday", "2025-13-01", "23.12.2025", ""])
def test_a_bad_date_names_itself(text):
    with pytest.raises(BackfillInputError, match="is not a date or time"):
        parse_local_time(text, BERLIN)


def test_the_window_includes_since_and_excludes_until():
    window = time_window("2025-12-23", "2025-12-23", BERLIN)
    assert window == TimeWindow(_at(2025, 12, 23), _at(2025, 12, 24))
    assert window.contains(_at(2025, 12, 23))
    assert window.contains(_at(2025, 12, 23, 23, 59, 59))
    assert not window.contains(_at(2025, 12, 24))
    assert not window.contains(_at(2025, 12, 22, 23, 59, 59))
    assert TimeWindow().contains(0) and TimeWindow().bounds() == (None, None)
    with pytest.raises(BackfillInputError, match="is not before"):
        time_window("2025-12-24T10:00", "2025-12-24T09:00", BERLIN)


def test_run_ids_cannot_make_batch_ids_ambiguous():
    assert check_run_id("llm2.v1_b") == "llm2.v1_b"
    for bad in ("", "a-b", "x" * 33, "with space"):
        with pytest.raises(BackfillInputError, match="--run-id"):
            check_run_id(bad)


# --- files ----------------------------------------------------------------------------------


def _file(path="/c/a.jpg", *, mtime=NOW - 3600, size=2000, **facts) -> FileFacts:
    return FileFacts(camera_id="c", path=path, size=size, mtime=mtime, **facts)


@pytest.mark.parametrize(
    ("facts", "plain", "with_reprocess"),
    [
        (_file(), FileAction.INGEST, FileAction.INGEST),
        (
            _file(has_detections=True),
            SkipReason.DETECTED_WITHOUT_LEDGER,
            FileAction.REPROCESS,
        ),
        (_file(status="done", ledger_size=2000), SkipReason.DONE, FileAction.REPROCESS),
        (_file(status="failed", ledger_size=2000), SkipReason.FAILED, FileAction.REPROCESS),
        (_file(status="queued"), SkipReason.IN_PROGRESS, SkipReason.IN_PROGRESS),
        (_file(status="processing"), SkipReason.IN_PROGRESS, SkipReason.IN_PROGRESS),
        (_file(status="duplicate"), SkipReason.DUPLICATE, SkipReason.DUPLICATE),
        (_file(status="rejected", ledger_size=2000), SkipReason.REJECTED, SkipReason.REJECTED),
        (_file(status="rejected", ledger_size=10), FileAction.INGEST, FileAction.INGEST),
        (_file(mtime=NOW - 5), SkipReason.RECENT, SkipReason.RECENT),
        (_file(status="done", mtime=NOW - 5), SkipReason.RECENT, SkipReason.RECENT),
    ],
)
def test_each_file_gets_one_action_or_a_reason(facts, plain, with_reprocess):
    recent_after = NOW - RECENT_SECONDS
    assert decide_file(facts, reprocess=False, recent_after=recent_after) is plain
    assert decide_file(facts, reprocess=True, recent_after=recent_after) is with_reprocess


def test_a_plan_holds_the_window_oldest_first_and_counts_the_skipped():
    window = TimeWindow(since=NOW - 10_000, until=NOW - 100)
    files = [
        _file("/c/new.jpg", mtime=NOW - 2000),
        _file("/c/old.jpg", mtime=NOW - 9000),
        _file("/c/done.jpg", mtime=NOW - 5000, status="done", ledger_size=2000),
        _file("/c/dup.jpg", mtime=NOW - 4000, status="duplicate"),
        _file("/c/too-old.jpg", mtime=NOW - 20_000),
        _file("/c/too-new.jpg", mtime=NOW - 50),
    ]
    plan = plan_files(files, window, reprocess=False, now=NOW)
    assert [(w.action, w.path) for w in plan.work] == [
        (FileAction.INGEST, "/c/old.jpg"),
        (FileAction.INGEST, "/c/new.jpg"),
    ]
    assert plan.skipped == {SkipReason.DONE.value: 1, SkipReason.DUPLICATE.value: 1}
    again = plan_files(files, window, reprocess=True, now=NOW)
    assert [w.path for w in again.work] == ["/c/old.jpg", "/c/done.jpg", "/c/new.jpg"]
    assert again.work[1].action is FileAction.REPROCESS


# --- events ---------------------------------------------------------------------------------


def _event(batch_id: str, ids: list[int], started_at: float = NOW, **facts) -> OriginalEvent:
    return OriginalEvent(
        batch_id=batch_id,
        camera_id="c",
        is_fast_path=facts.get("is_fast_path", False),
        detection_ids=ids,
        started_at=started_at,
        ended_at=facts.get("ended_at"),
    )


def test_reanalysis_makes_one_job_per_original_event_with_its_remaining_detections():
    events = [
        _event("b2", [5, 6, 7], started_at=NOW + 10, ended_at=NOW + 40),
        _event("fast-3", [3], is_fast_path=True),
        _event("b-gone", [1, 2]),
        _event("b-done", [8]),
        _event(reanalysis_batch_id("b0", "1"), [9]),  # a reanalysis is never reanalysed
    ]
    plan = plan_reanalysis(
        events,
        remaining_detection_ids={3, 5, 7, 8, 9},
        existing_batch_ids={reanalysis_batch_id("b-done", "1")},
        run_id="1",
    )
    assert [(job.batch_id, job.detection_ids, job.is_fast_path) for job in plan.jobs] == [
        ("reanalysis-fast-3-1", [3], True),
        ("reanalysis-b2-1", [5, 7], False),
    ]
    assert (plan.jobs[1].started_at, plan.jobs[1].ended_at) == (NOW + 10, NOW + 40)
    assert plan.skipped == {ReanalysisSkip.ALREADY.value: 1, ReanalysisSkip.NO_DETECTIONS.value: 1}
    assert is_reanalysis_batch("reanalysis-b2-1") and not is_reanalysis_batch("fast-3")
    # Another run id is another pass.
    second = plan_reanalysis(events, {3, 5, 7, 8, 9}, {"reanalysis-b-done-1"}, "2")
    assert "reanalysis-b-done-2" in [job.batch_id for job in second.jobs]


# --- progress -------------------------------------------------------------------------------


def test_progress_rate_and_time_left_follow_the_recent_window():
    meter = ProgressMeter(total=100, started_at=0.0, window_seconds=60.0)
    assert meter.rate() is None and meter.seconds_left() is None
    assert meter.line("backfill", 5.0) == (
        "backfill: 0/100 done (0%), rate not known yet, time left unknown, 5 s elapsed"
    )
    for second in range(1, 61):  # 1 per second for a minute
        meter.update(second, float(second))
    assert meter.rate() == pytest.approx(1.0)
    assert meter.seconds_left() == pytest.approx(40.0)
    for second in range(61, 121):  # then one every 2 s: the rate follows within the window
        meter.update(60 + (second - 60) // 2, float(second))
    assert meter.rate() == pytest.approx(0.5, abs=0.02)
    assert meter.line("backfill", 120.0) == (
        "backfill: 90/100 done (90%), 0.50/s, about 20 s left, 2 min 00 s elapsed"
    )
    meter.update(100, 125.0)
    assert meter.finished and meter.seconds_left() == 0.0
    assert "left" not in meter.line("backfill", 125.0)


def test_a_stalled_meter_knows_no_time_left():
    meter = ProgressMeter(total=10, started_at=0.0, window_seconds=10.0)
    meter.update(3, 5.0)
    meter.update(3, 30.0)
    assert meter.rate() == 0.0 and meter.seconds_left() is None


def test_durations_read_like_people_write_them():
    assert format_duration(0.4) == "0 s"
    assert format_duration(59) == "59 s"
    assert format_duration(65) == "1 min 05 s"
    assert format_duration(7800) == "2 h 10 min"
