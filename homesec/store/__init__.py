"""All of homesec's PostgreSQL and Redis access, one module per table or Redis structure.

PostgreSQL: :mod:`.uploads` (the ledger), :mod:`.detections`, :mod:`.events`, :mod:`.cameras`,
:mod:`.gpu_stats`, :mod:`.logs` (with :mod:`.log_handler`, the background writer of log records),
:mod:`.api_keys`, and :mod:`.retention`, the one cleanup transaction across them. Redis:
:mod:`.streams` (the work queues), :mod:`.dedupe`, :mod:`.batch_state`, :mod:`.event_channel`
(the one publisher of ``security_events``), :mod:`.telemetry` and :mod:`.sentinel`. Connections:
:mod:`.database`, :mod:`.redis_client`. (The API's read side keeps its queries in
``homesec.http.queries``, using the decoders here.)

**Sessions.** A public function takes the session factory (``async_sessionmaker``) and is one
unit of work: it opens its own transaction (``sessions.begin()`` to write, ``sessions()`` to read)
and has committed when it returns, so a caller never holds a transaction across its own I/O. A
unit of work that spans tables lives in the module of the table it is about and composes the
other modules' building blocks, whose names end in ``_in`` (or that build statements): they take
an open ``AsyncSession``, join its transaction and never commit. ORM objects never leave this
package: what it returns are msgspec structs and plain values.
"""
