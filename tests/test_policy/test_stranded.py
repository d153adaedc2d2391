"""The reconciler's rule: a waiting row is stranded when no queue holds its job."""

from __future__ import annotations

import msgspec

from homesec.policy.stranded import stranded


class Row(msgspec.Struct, frozen=True):
    file_path: str


def test_only_rows_in_no_queue_are_stranded():
    rows = [Row("/a.jpg"), Row("/b.jpg"), Row("/c.jpg")]
    assert stranded(rows, queued={"/a.jpg"}, dead_letters={"/c.jpg"}) == [Row("/b.jpg")]
    assert stranded(rows, queued=set(), dead_letters=set()) == rows
    assert stranded([], queued={"/a.jpg"}, dead_letters=set()) == []
