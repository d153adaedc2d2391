"""The database log handler: backend log records into the ``logs`` table, off the caller's thread.

``emit`` only turns the record into a row (:mod:`.log_rows`) and puts it on a bounded queue: it
never waits for PostgreSQL. When the queue is full the record is dropped and counted, and the
count is written later as one WARNING row. A writer thread with its own event loop and asyncpg
engine takes the rows out in batches (every ``flush_seconds`` or ``batch_size`` rows) and stores
each batch with one INSERT statement (an executemany, which asyncpg sends in one round trip).

It never feeds on itself: records from the writer thread and from the database libraries are
ignored, and the writer's own failures go to stderr (at most once a minute), never to logging
and never to the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sys
import threading
import time

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from homesec.models import Log
from homesec.policy.log_repeats import collapse_repeats
from homesec.policy.retry import describe_error
from homesec.store.log_rows import COMPONENT, LogRow, drop_report_row, record_to_row

QUEUE_SIZE = 10_000
BATCH_SIZE = 500
FLUSH_SECONDS = 0.5
CONNECT_TIMEOUT_SECONDS = 5.0
# close() waits this long for the last rows; the writer is a daemon, so exit never hangs on it.
CLOSE_TIMEOUT_SECONDS = 10.0
COMPLAINT_INTERVAL_SECONDS = 60.0

# Their records may come from our own INSERTs: storing them could loop forever.
IGNORED_LOGGERS = (COMPONENT, "sqlalchemy", "asyncpg")

_WAKE_UP = None  # put on the queue by close() so a waiting writer drains at once


class DatabaseLogHandler(logging.Handler):
    """Stores log records in ``logs`` in the background; see the module docstring.

    ``written``, ``dropped`` (queue full) and ``lost`` (the database refused a batch) count
    records since the handler was made.
    """

    def __init__(
        self,
        database_url: str,
        level: int | str = logging.NOTSET,
        *,
        queue_size: int = QUEUE_SIZE,
        batch_size: int = BATCH_SIZE,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        super().__init__(level)
        self.database_url = database_url
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.written = 0
        self.dropped = 0
        self.lost = 0
        self._rows: queue.Queue[LogRow | None] = queue.Queue(maxsize=queue_size)
        self._drop_lock = threading.Lock()
        self._unreported_drops = 0
        self._unreported_losses = 0
        self._last_complaint: float | None = None
        self._closing = threading.Event()
        self._engine: AsyncEngine | None = None
        self._writer = threading.Thread(
            target=self._run_writer, name="homesec-db-log-writer", daemon=True
        )
        self._writer.start()

    # --- the caller's side: never blocks, never raises -------------------------------------
    def emit(self, record: logging.LogRecord) -> None:
        if self._closing.is_set() or self._ignored(record):
            return
        try:
            row = record_to_row(record, self.format(record))
        except Exception:
            self.handleError(record)  # prints to stderr (if logging.raiseExceptions); no raise
            return
        try:
            self._rows.put_nowait(row)
        except queue.Full:
            with self._drop_lock:
                self.dropped += 1
                self._unreported_drops += 1

    def _ignored(self, record: logging.LogRecord) -> bool:
        # Code that writes its own, structured `logs` row marks its log line with this extra.
        if record.thread == self._writer.ident or getattr(record, STORED_IN_DB, False):
            return True
        name = record.name
        return any(name == prefix or name.startswith(prefix + ".") for prefix in IGNORED_LOGGERS)

    def close(self) -> None:
        """Write what is queued, stop the writer, and leave the root logger."""
        if not self._closing.is_set():
            self._closing.set()
            with contextlib.suppress(queue.Full):  # a full queue wakes the writer by itself
                self._rows.put_nowait(_WAKE_UP)
            self._writer.join(CLOSE_TIMEOUT_SECONDS)
            logging.getLogger().removeHandler(self)
        super().close()

    # --- the writer thread ------------------------------------------------------------------
    def _run_writer(self) -> None:
        try:
            asyncio.run(self._write_until_closed())
        except Exception as exc:  # a bug here must not take logging down with it
            print(f"homesec: the database log writer stopped: {exc!r}", file=sys.stderr)

    async def _write_until_closed(self) -> None:
        try:
            while True:
                closing = self._closing.is_set()
                rows = self._take_batch(wait=not closing) + self._drop_report()
                if rows:
                    await self._write(rows)
                if closing and self._rows.empty():
                    return
        finally:
            if self._engine is not None:
                await self._engine.dispose()

    def _take_batch(self, *, wait: bool) -> list[LogRow]:
        """Up to ``batch_size`` rows, gathering for up to ``flush_seconds`` when ``wait``.

        Blocking here stalls only this thread's private event loop, which has nothing else to do.
        """
        rows: list[LogRow] = []
        deadline = time.monotonic() + self.flush_seconds
        while len(rows) < self.batch_size:
            timeout = deadline - time.monotonic() if wait else 0.0
            try:
                row = self._rows.get(timeout=timeout) if timeout > 0 else self._rows.get_nowait()
            except queue.Empty:
                break
            if row is _WAKE_UP:
                wait = False
            else:
                rows.append(row)
        return rows

    def _drop_report(self) -> list[LogRow]:
        with self._drop_lock:
            dropped, self._unreported_drops = self._unreported_drops, 0
        return [drop_report_row(dropped, self._rows.maxsize)] if dropped else []

    async def _write(self, rows: list[LogRow]) -> None:
        try:
            if self._engine is None:
                self._engine = create_async_engine(
                    self.database_url,
                    pool_size=1,
                    max_overflow=0,
                    pool_pre_ping=True,
                    connect_args={"timeout": CONNECT_TIMEOUT_SECONDS},
                )
            async with self._engine.begin() as connection:
                await connection.execute(insert(Log), rows)
        except Exception as exc:  # the database is down or refused the batch
            self.lost += len(rows)
            self._unreported_losses += len(rows)
            self._complain(exc)
            return
        self.written += len(rows)

    def _complain(self, error: Exception) -> None:
        now = time.monotonic()
        if self._last_complaint is not None and now - self._last_complaint < (
            COMPLAINT_INTERVAL_SECONDS
        ):
            return
        self._last_complaint = now
        lost, self._unreported_losses = self._unreported_losses, 0
        print(
            f"homesec: {lost} log record(s) could not be stored in PostgreSQL "
            f"({describe_error(error)})",
            file=sys.stderr,
        )


# `log.warning(..., extra=ALREADY_STORED)`: this line's row is in `logs` already.
STORED_IN_DB = "stored_in_db"
ALREADY_STORED = {STORED_IN_DB: True}


def install_db_log_handler(database_url: str, level: int | str) -> DatabaseLogHandler:
    """Send the root logger's records at ``level`` (``LOG_LEVEL``) and above to ``logs`` too.

    ``handler.close()`` writes what is queued and detaches it; ``logging.shutdown`` (at exit)
    does the same.
    """
    handler = DatabaseLogHandler(database_url, level)
    root = logging.getLogger()
    # Repeats collapse in `logs` and on the console (every handler already there: Ray's, or
    # the CLI's) alike.
    for existing in [*root.handlers, handler]:
        collapse_repeats(existing)
    root.addHandler(handler)
    return handler
