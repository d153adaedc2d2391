"""The watcher's filesystem side: the name rules, looks at files, folder listings, and the
watchdog events as the loop receives them."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest
from watchdog.events import (
    DirCreatedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileOpenedEvent,
)

from homesec.files.uploads import (
    ChangeKind,
    FileChange,
    FolderEvents,
    is_ignored,
    list_files,
    look_at,
)
from homesec.policy.uploads import is_storable, ledger_path

JPEG_TAIL = b"\xff\xd9"


@pytest.mark.parametrize(
    ("relative", "ignored"),
    [
        ("MDAlarm_20251223-103005.jpg", False),
        ("2025-12-23/MDAlarm_1.jpg", False),
        ("notes.txt", False),  # not ignored: rejected once as bad_extension
        (".hidden.jpg", True),
        (".sync/inner.jpg", True),
        ("2025-12-23/.partial/inner.jpg", True),
        ("upload.jpg.tmp", True),
        ("upload.JPG.PART", True),
        ("upload.jpg.filepart", True),
        ("front door ünï\ncode.jpg", False),
    ],
)
def test_which_names_are_ignored(relative, ignored):
    assert is_ignored(f"/cams/front/{relative}", "/cams/front") is ignored


def test_undecodable_names_have_an_escaped_ledger_path():
    name = os.fsdecode(b"/cams/front/bad\xffname.jpg")
    assert not is_storable(name)
    assert ledger_path(name) == "/cams/front/bad\\xffname.jpg"
    assert ledger_path(name).encode("utf-8")  # PostgreSQL, JSON and Redis take it
    odd = "/cams/front/front door ünï\ncode 📷.jpg"
    assert is_storable(odd) and ledger_path(odd) == odd


def test_look_at_reads_the_tail_and_never_follows_a_symlink(tmp_path: Path):
    done = tmp_path / "done.jpg"
    done.write_bytes(b"\xff\xd8" + b"x" * 200 + JPEG_TAIL)
    partial = tmp_path / "partial.jpg"
    partial.write_bytes(b"\xff\xd8" + b"x" * 200)
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"y" * 5000)
    link = tmp_path / "link.jpg"
    link.symlink_to(outside)

    assert look_at(str(done)).tail_complete is True
    assert look_at(str(partial)).tail_complete is False
    assert look_at(str(done), read_tail=False).tail_complete is None
    linked = look_at(str(link))
    assert linked.tail_complete is None and linked.size == os.lstat(link).st_size != 5000
    assert look_at(str(tmp_path / "gone.jpg")) is None
    assert look_at(str(tmp_path)) is None


def test_list_files_descends_into_subfolders_but_not_hidden_or_linked_ones(tmp_path: Path):
    camera = tmp_path / "front"
    for relative in ("a.jpg", "2025-12-23/b.jpg", ".sync/c.jpg", "d.jpg.tmp", "2025-12-23/e.txt"):
        (camera / relative).parent.mkdir(parents=True, exist_ok=True)
        (camera / relative).write_bytes(b"z")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "f.jpg").write_bytes(b"z")
    (camera / "linked").symlink_to(elsewhere, target_is_directory=True)

    found = sorted(os.path.relpath(seen.path, camera) for seen in list_files(str(camera)))
    assert found == ["2025-12-23/b.jpg", "2025-12-23/e.txt", "a.jpg"]
    below = list_files(str(camera / ".sync"), str(camera))
    assert below == []  # a listing below a hidden folder keeps the camera's ignore rule


class _Loop:
    """Stands in for the event loop: records what the handler schedules."""

    def __init__(self) -> None:
        self.changes: list[FileChange] = []

    def call_soon_threadsafe(self, callback, change):
        callback(change)


def _changes(folder: Path, event) -> list[FileChange]:
    loop = _Loop()
    handler = FolderEvents(str(folder), loop, loop.changes.append, clock=lambda: 42.0)
    handler.on_any_event(event)
    return loop.changes


def test_events_become_changes(tmp_path: Path):
    upload = tmp_path / "a.jpg"
    upload.write_bytes(b"q" * 10)

    (closed,) = _changes(tmp_path, FileClosedEvent(str(upload)))
    assert closed.kind is ChangeKind.CLOSED and closed.at == 42.0
    assert closed.seen is not None and closed.seen.size == 10  # stat taken at the close
    assert [c.kind for c in _changes(tmp_path, FileCreatedEvent(str(upload)))] == [
        ChangeKind.TOUCHED
    ]
    assert [c.kind for c in _changes(tmp_path, FileDeletedEvent(str(upload)))] == [ChangeKind.GONE]
    # A rename into place (an FTP server's temp name) finishes an upload.
    moved = _changes(tmp_path, FileMovedEvent(str(tmp_path / "a.jpg.tmp"), str(upload)))
    assert [(c.kind, c.path) for c in moved] == [
        (ChangeKind.GONE, str(tmp_path / "a.jpg.tmp")),
        (ChangeKind.CLOSED, str(upload)),
    ]
    assert [c.kind for c in _changes(tmp_path, DirCreatedEvent(str(tmp_path / "d")))] == [
        ChangeKind.FOLDER
    ]
    assert _changes(tmp_path, FileCreatedEvent(str(tmp_path / ".hidden.jpg"))) == []
    assert _changes(tmp_path, FileClosedEvent(str(tmp_path / "x.jpg.part"))) == []
    assert _changes(tmp_path, FileOpenedEvent(str(upload))) == []


def test_the_handler_hands_changes_to_the_loop_thread(tmp_path: Path):
    """Watchdog calls back in its own thread; the change is delivered in the loop's thread."""
    loop = asyncio.new_event_loop()
    delivered: list[tuple[str, int]] = []
    try:
        handler = FolderEvents(
            str(tmp_path),
            loop,
            lambda change: delivered.append((change.path, threading.get_ident())),
            clock=lambda: 0.0,
        )
        event = FileCreatedEvent(str(tmp_path / "x.jpg"))
        observer_thread = threading.Thread(target=handler.on_any_event, args=(event,))
        observer_thread.start()
        observer_thread.join()
        assert delivered == []  # nothing ran in the observer's thread
        loop.run_until_complete(asyncio.sleep(0))
        assert delivered == [(str(tmp_path / "x.jpg"), threading.get_ident())]
    finally:
        loop.close()
