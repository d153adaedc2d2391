"""Dead-letter queues: jobs that failed ``MAX_RETRIES`` times, kept for a person to look at."""

from __future__ import annotations

import msgspec

from homesec.contract.jobs import DlqEntry


class DlqStats(msgspec.Struct, kw_only=True):
    detection_queue: int
    analysis_queue: int
    total: int


class DlqItem(msgspec.Struct, kw_only=True):
    """One entry; ``raw`` holds its text instead of ``entry`` when it is not a valid entry."""

    position: int  # 0 is the oldest, the next one a requeue takes
    entry: DlqEntry | None = None
    raw: str | None = None


class DlqPage(msgspec.Struct, kw_only=True):
    queue: str
    items: list[DlqItem]
    start: int
    limit: int
    total: int


class RequeueResult(msgspec.Struct, kw_only=True):
    queue: str
    requeued: int
    remaining: int


class ClearResult(msgspec.Struct, kw_only=True):
    queue: str
    deleted: int
