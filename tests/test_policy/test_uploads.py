"""Upload completeness: only finished files are ever reported, each exactly once."""

from __future__ import annotations

import pytest

from homesec.policy.uploads import (
    JPEG_END,
    PNG_END,
    IngestedFiles,
    UploadTracker,
    tail_looks_complete,
)

T0 = 1_700_000_000.0
PATH = "/cams/front/a.jpg"


def test_file_unchanged_for_settle_time_is_ready_at_the_boundary() -> None:
    tracker = UploadTracker(settle_seconds=2.0)
    tracker.observe(PATH, 5000, T0, T0)
    tracker.observe(PATH, 5000, T0, T0 + 1.999)
    assert tracker.ready() == []
    tracker.observe(PATH, 5000, T0, T0 + 2.0)
    assert tracker.ready() == [PATH]


def test_slow_chunked_write_is_never_ready_while_it_grows() -> None:
    tracker = UploadTracker(settle_seconds=2.0)
    now, size, mtime = T0, 0, T0
    # A writer adding 4 KiB every 1.5 s, polled every 0.5 s: unchanged for at most 1 s.
    for step in range(40):
        if step % 3 == 0:
            size, mtime = size + 4096, now
        tracker.observe(PATH, size, mtime, now)
        assert tracker.ready() == [], f"reported half-written at step {step}"
        now += 0.5
    # The writer stops; once it has been seen unchanged for two seconds it is done.
    tracker.observe(PATH, size, mtime, mtime + 2.0)
    assert tracker.ready() == [PATH]


def test_time_alone_never_makes_a_file_ready() -> None:
    tracker = UploadTracker(settle_seconds=2.0)
    tracker.observe(PATH, 5000, T0, T0)
    # No further observation: the tracker has no evidence the size stayed the same.
    assert tracker.ready() == []
    assert tracker.pending() == [PATH]


def test_mtime_change_with_same_size_restarts_the_settle_clock() -> None:
    tracker = UploadTracker(settle_seconds=2.0)
    tracker.observe(PATH, 5000, T0, T0)
    tracker.observe(PATH, 5000, T0 + 1.5, T0 + 1.5)  # rewritten in place, same length
    tracker.observe(PATH, 5000, T0 + 1.5, T0 + 3.0)
    assert tracker.ready() == []
    tracker.observe(PATH, 5000, T0 + 1.5, T0 + 3.5)
    assert tracker.ready() == [PATH]


def test_close_write_makes_a_file_ready_at_once() -> None:
    tracker = UploadTracker(settle_seconds=2.0)
    tracker.observe(PATH, 100, T0, T0)
    tracker.observe(PATH, 5000, T0 + 0.1, T0 + 0.1)
    tracker.closed(PATH, T0 + 0.1)
    assert tracker.ready() == [PATH]


def test_close_then_first_stat_keeps_the_close() -> None:
    tracker = UploadTracker(settle_seconds=2.0)
    tracker.closed(PATH, T0)
    tracker.observe(PATH, 5000, T0, T0 + 0.01)
    assert tracker.ready() == [PATH]


def test_growth_after_close_cancels_the_close() -> None:
    tracker = UploadTracker(settle_seconds=2.0)
    tracker.observe(PATH, 1000, T0, T0)
    tracker.closed(PATH, T0 + 0.1)
    tracker.observe(PATH, 3000, T0 + 0.2, T0 + 0.2)  # reopened and appended (FTP resume)
    assert tracker.ready() == []
    tracker.closed(PATH, T0 + 0.5)
    assert tracker.ready() == [PATH]


def test_each_path_is_reported_once_until_it_changes() -> None:
    tracker = UploadTracker(settle_seconds=1.0)
    tracker.observe(PATH, 5000, T0, T0)
    tracker.observe(PATH, 5000, T0, T0 + 1.0)
    assert tracker.ready() == [PATH]
    # A polling rescan sees the same file again: nothing new.
    tracker.observe(PATH, 5000, T0, T0 + 10.0)
    assert tracker.ready() == []
    assert tracker.pending() == []
    # The camera overwrites it: a new upload, reported once it settles.
    tracker.observe(PATH, 6000, T0 + 20.0, T0 + 20.0)
    assert tracker.ready() == []
    tracker.observe(PATH, 6000, T0 + 20.0, T0 + 21.0)
    assert tracker.ready() == [PATH]


def test_close_write_on_a_reported_path_reports_it_again() -> None:
    tracker = UploadTracker(settle_seconds=1.0)
    tracker.closed(PATH, T0)
    assert tracker.ready() == [PATH]
    tracker.closed(PATH, T0 + 5)
    assert tracker.ready() == [PATH]


def test_incomplete_tail_needs_the_longer_settle_time_then_is_released() -> None:
    tracker = UploadTracker(settle_seconds=2.0, incomplete_settle_seconds=30.0)
    tracker.observe(PATH, 5000, T0, T0, tail_complete=False)
    tracker.observe(PATH, 5000, T0, T0 + 10.0, tail_complete=False)
    assert tracker.ready() == []  # a slow writer pausing longer than settle_seconds
    tracker.observe(PATH, 5000, T0, T0 + 30.0, tail_complete=False)
    # A writer that died: released, so validation records it as truncated.
    assert tracker.ready() == [PATH]


def test_complete_tail_uses_the_normal_settle_time() -> None:
    tracker = UploadTracker(settle_seconds=2.0, incomplete_settle_seconds=30.0)
    tracker.observe(PATH, 5000, T0, T0, tail_complete=True)
    tracker.observe(PATH, 5000, T0, T0 + 2.0)  # tail not re-read: the earlier answer stands
    assert tracker.ready() == [PATH]


def test_ready_keeps_first_seen_order_and_only_complete_paths() -> None:
    tracker = UploadTracker(settle_seconds=1.0)
    for name in ("c.jpg", "a.jpg", "b.jpg"):
        tracker.observe(name, 2000, T0, T0)
    for name in ("c.jpg", "b.jpg"):
        tracker.observe(name, 2000, T0, T0 + 1.0)
    assert tracker.ready() == ["c.jpg", "b.jpg"]
    assert tracker.pending() == ["a.jpg"]


def test_forget_and_forget_all_but() -> None:
    tracker = UploadTracker(settle_seconds=1.0)
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        tracker.observe(name, 2000, T0, T0)
    tracker.forget("a.jpg")
    tracker.forget("never-seen.jpg")
    tracker.forget_all_but(["c.jpg", "d.jpg"])
    assert "c.jpg" in tracker
    assert "b.jpg" not in tracker
    assert len(tracker) == 1


def test_zero_settle_time_needs_only_one_observation() -> None:
    tracker = UploadTracker(settle_seconds=0.0)
    tracker.observe(PATH, 5000, T0, T0)
    assert tracker.ready() == [PATH]


def test_negative_settle_time_is_refused() -> None:
    with pytest.raises(ValueError):
        UploadTracker(settle_seconds=-1)


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (b"\x12\x34" + JPEG_END, True),
        (b"\x12" + JPEG_END + b"\x00" * 20, True),  # NUL padding after the marker
        (b"\x00\x00IEND" + PNG_END[4:], True),
        (b"\xff\xd8\xff\xe0\x00\x10", False),  # a JPEG that stopped mid-stream
        (b"\x12\x34\xff", False),
        (b"", False),
        (b"\x00" * 64, False),  # pre-allocated, nothing written at the end yet
    ],
)
def test_tail_looks_complete(tail: bytes, expected: bool) -> None:
    assert tail_looks_complete(tail) is expected


def test_a_file_taken_in_is_known_by_its_content_until_it_changes() -> None:
    taken = IngestedFiles(capacity=2)
    taken.took("/c/a.jpg", 100, 1.0)
    assert taken.already_taken("/c/a.jpg", 100, 1.0)  # the second report of one upload
    assert taken.already_taken("/c/a.jpg", 100, 1.0)  # and any later one
    assert not taken.already_taken("/c/b.jpg", 100, 1.0)
    # Written again: a new upload, and the old content is forgotten.
    assert not taken.already_taken("/c/a.jpg", 120, 2.0)
    assert not taken.already_taken("/c/a.jpg", 100, 1.0)


def test_the_memory_of_taken_files_keeps_the_most_recent() -> None:
    taken = IngestedFiles(capacity=2)
    taken.took("/c/a.jpg", 1, 1.0)
    taken.took("/c/b.jpg", 1, 1.0)
    taken.took("/c/a.jpg", 1, 1.0)  # taken again: now the most recent
    taken.took("/c/c.jpg", 1, 1.0)
    assert len(taken) == 2
    assert not taken.already_taken("/c/b.jpg", 1, 1.0)
    assert taken.already_taken("/c/a.jpg", 1, 1.0) and taken.already_taken("/c/c.jpg", 1, 1.0)
    taken.forget("/c/a.jpg")
    assert not taken.already_taken("/c/a.jpg", 1, 1.0)


def test_ready_files_come_oldest_upload_first() -> None:
    tracker = UploadTracker(settle_seconds=1.0)
    tracker.observe("/c/later.jpg", 100, T0 + 60, T0 + 100)
    tracker.observe("/c/earlier.jpg", 100, T0, T0 + 100)  # found second, uploaded first
    assert tracker.ready() == []  # the settle clock runs
    tracker.observe("/c/later.jpg", 100, T0 + 60, T0 + 102)
    tracker.observe("/c/earlier.jpg", 100, T0, T0 + 102)
    assert tracker.ready() == ["/c/earlier.jpg", "/c/later.jpg"]
