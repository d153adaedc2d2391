"""Benchmark of the HTTP front door: event pages and searches over a large database, and
WebSocket fan-out.

    .venv/bin/python bench/api.py                 # 1,000,000 events, 3,000,000 detections
    .venv/bin/python bench/api.py --events 100000 # smaller, quicker
    .venv/bin/python bench/api.py --only-search   # the search scenarios only, no WebSockets

Creates a database of its own beside the server's maintenance database (``--server-url``, by
default the test suite's: ``HOMESEC_TEST_DATABASE_URL`` or PostgreSQL on 127.0.0.1), fills it
with ``INSERT ... SELECT generate_series`` (realistic summaries, reasoning, notes, camera names,
object kinds and zones, over the 30 days up to now, so that time words like "last night" find
events; the search documents are written by the migration's trigger, as in production), serves
the app with uvicorn on a free port, and prints figures: p50/p95 of ``GET /api/events`` for the
first page, a filtered page, a page deep in the cursor and a few realistic searches (``q``), the
EXPLAIN of each query and whether it used an index, how many events each search matches; then
the time from publish to delivery with ``--clients`` WebSocket clients connected. It asserts
nothing, and drops its database at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import os
import re
import secrets
import statistics
import threading
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql
from websockets.asyncio.client import connect

from homesec.contract import keys
from homesec.http.app import create_app
from homesec.http.pagination import decode_cursor, encode_cursor
from homesec.http.queries.event_search import Search
from homesec.http.queries.events import (
    EventFilters,
    _filtered,
    page_statement,
    ranked_page_statement,
)
from homesec.http.server import build_server
from homesec.models import Event
from homesec.ops import migrate
from homesec.ops.ports import free_port
from homesec.policy.time_words import read_time_words
from homesec.settings import Settings, normalize_database_url
from homesec.store.database import create_engine, scratch_database
from homesec.store.redis_client import create_redis

CAMERAS = 8
# The newest event: now, to the hour, so that "last night" and "this week" hold events.
T_END = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
CAMERA_NAMES = (
    "Front Door", "Back Door", "Driveway", "Garden", "Garage", "Street", "Side Gate", "Porch",
)  # fmt: skip
ZONE_NAMES = ("porch", "garden path", "drive", "lawn", "garage door", "pavement", "side path",
              "steps")  # fmt: skip
# What the rules and an LLM write; two of twenty are deliveries (a courier, the postman).
SUMMARIES = (
    "A person walked up to the front door and rang the bell",
    "A courier left a parcel at the door",
    "A car parked in the driveway",
    "A dog crossed the lawn",
    "A cat walked along the fence",
    "A fox passed through the garden at night",
    "Two people talked near the gate",
    "A person looked through the window",
    "A cyclist rode past on the street",
    "A neighbour walked a dog past the house",
    "A car drove slowly past the house",
    "A person tried the handle of the back door",
    "The postman pushed letters through the letterbox",
    "A person lingered by the garage for a few minutes",
    "Children played with a ball on the street",
    "A person carried a ladder along the side path",
    "A van reversed into the driveway",
    "A person stood on the steps, then left",
    "A bird landed on the porch railing",
    "A truck stopped outside with its engine running",
)
REASONINGS = (
    "Daytime, a brief visit, left quickly.",
    "Night time, close to the house, lingering near an entrance.",
    "A usual sight for this camera at this hour.",
    "Rules engine: a person at an entrance after dark scores high.",
    "Unusual for this camera at this hour; nothing taken.",
)
SPAN = dt.timedelta(days=30)
PAGE = 50


def _sql_array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "]"


CHUNK = 200_000  # events per INSERT, so that a long fill shows its progress


def _fill_sql(events: int) -> list[str]:
    """Events spread over the 30 days up to now (pairs share a start, as real bursts do), three
    detections each (every third in a zone), eight named cameras, risk scores across every
    band, twenty summaries, five reasonings, notes on one event in fifty."""
    cameras, *chunks = _fill_chunks(events)
    return [cameras, *chunks, "ANALYZE"]


def _fill_chunks(events: int) -> list[str]:
    step = SPAN.total_seconds() / events
    statements = [
        f"""INSERT INTO cameras (id, name, folder_path)
            SELECT 'cam_' || c, ({_sql_array(CAMERA_NAMES)})[c + 1], '/srv/cameras/cam_' || c
            FROM generate_series(0, {CAMERAS - 1}) AS c""",
    ]
    for first in range(1, events + 1, CHUNK):
        last = min(events, first + CHUNK - 1)
        statements += _chunk_sql(first, last, step)
    return statements


def _chunk_sql(first: int, last: int, step: float) -> list[str]:
    """Events ``first`` to ``last`` and their detections."""
    return [
        f"""INSERT INTO detections (camera_id, file_path, file_type, detected_at, object_type,
                                    confidence, bbox_x, bbox_y, bbox_width, bbox_height, zones)
            SELECT 'cam_' || ((d - 1) / 3 % {CAMERAS}), '/srv/cameras/img_' || d || '.jpg',
                   'image/jpeg',
                   '{T_END.isoformat()}'::timestamptz - ((d - 1) / 3) * interval '{step} seconds',
                   (ARRAY['person', 'car', 'dog', 'cat', 'bicycle'])[1 + d % 5],
                   0.5 + (d % 50) / 100.0, d % 600, d % 400, 40, 80,
                   CASE WHEN d % 3 = 0
                        THEN ARRAY[({_sql_array(ZONE_NAMES)})[1 + (d - 1) / 3 % {CAMERAS}]]
                        ELSE '{{}}'::varchar[] END
            FROM generate_series({3 * first - 2}, {3 * last}) AS d""",
        f"""INSERT INTO events (batch_id, camera_id, started_at, ended_at, risk_score,
                                risk_level, summary, reasoning, notes, detection_ids, reviewed,
                                is_fast_path)
            SELECT 'batch-' || e, 'cam_' || ((e - 1) % {CAMERAS}),
                   '{T_END.isoformat()}'::timestamptz - ((e - 1) / 2 * 2) * interval '{step} s',
                   '{T_END.isoformat()}'::timestamptz - ((e - 1) / 2 * 2) * interval '{step} s'
                       + interval '90 seconds',
                   (e * 37) % 101,
                   CASE WHEN (e * 37) % 101 >= 85 THEN 'critical'
                        WHEN (e * 37) % 101 >= 60 THEN 'high'
                        WHEN (e * 37) % 101 >= 30 THEN 'medium' ELSE 'low' END,
                   ({_sql_array(SUMMARIES)})[1 + (e * 7 + e / 8) % {len(SUMMARIES)}],
                   ({_sql_array(REASONINGS)})[1 + (e * 3) % {len(REASONINGS)}],
                   CASE WHEN e % 50 = 0 THEN 'Checked: the neighbour, nothing to do' END,
                   json_build_array(3 * e - 2, 3 * e - 1, 3 * e)::text,
                   e % 5 = 0, e % 11 = 0
            FROM generate_series({first}, {last}) AS e""",
    ]


async def _fill(url: str, events: int) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        for statement in _fill_sql(events):
            started = time.perf_counter()
            async with engine.begin() as connection:
                await connection.execute(text(statement))
            what = " ".join(statement.split()[:3])
            rows = re.search(r"generate_series\((\d+), (\d+)\)", statement)
            span = f"{int(rows[1]):,}..{int(rows[2]):,}" if rows else ""
            print(f"  {what:<24} {span:<22} {time.perf_counter() - started:6.1f} s", flush=True)
    finally:
        await engine.dispose()


def _scenarios(deep_cursor: str) -> dict[str, dict[str, str | int]]:
    window_end = T_END - dt.timedelta(days=10)
    return {
        "first page": {"limit": PAGE},
        "filtered (camera + risk_level + 7 days)": {
            "limit": PAGE,
            "camera_id": "cam_3",
            "risk_level": "high",
            "start_date": (window_end - dt.timedelta(days=7)).isoformat(),
            "end_date": window_end.isoformat(),
        },
        "deep cursor (90% in)": {"limit": PAGE, "cursor": deep_cursor},
        "object_type=bicycle": {"limit": PAGE, "object_type": "bicycle"},
    }


# Realistic searches: a rare-ish word widened by synonyms, words across camera, kind and time,
# a zone with a time word, the commonest word alone, a word with the filters.
SEARCHES: dict[str, dict[str, str | int]] = {
    "q=deliveries": {"limit": PAGE, "q": "deliveries"},
    "q=person back door last night": {"limit": PAGE, "q": "person back door last night"},
    "q=dog lawn this week": {"limit": PAGE, "q": "dog lawn this week"},
    "q=person (most events)": {"limit": PAGE, "q": "person"},
    "q=fox garden + camera + high": {
        "limit": PAGE,
        "q": "fox garden",
        "camera_id": "cam_2",
        "risk_level": "high",
    },
}


def _statement_for(params: dict[str, str | int]):
    filters = EventFilters(
        camera_id=params.get("camera_id"),
        risk_level=params.get("risk_level"),
        start_date=dt.datetime.fromisoformat(params["start_date"])
        if "start_date" in params
        else None,
        end_date=dt.datetime.fromisoformat(params["end_date"]) if "end_date" in params else None,
        object_type=params.get("object_type"),
    )
    if "q" in params:
        # As the route reads it (the bench's app runs with HOMESEC_TIMEZONE=UTC).
        read = read_time_words(str(params["q"]), dt.datetime.now(dt.UTC), dt.UTC)
        search = Search(words=read.words or None, time_range=read.time_range)
        filters = filters.narrowed(search)
        statement = ranked_page_statement(filters, filters.words, None, PAGE)
    else:
        cursor = decode_cursor(params["cursor"]) if "cursor" in params else None
        statement = page_statement(filters, cursor, PAGE)
    return statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})


def _count_statement(params: dict[str, str | int]) -> str:
    """How many events a search matches (its words and time words), for the figures."""
    read = read_time_words(str(params["q"]), dt.datetime.now(dt.UTC), dt.UTC)
    filters = EventFilters(
        camera_id=params.get("camera_id"), risk_level=params.get("risk_level")
    ).narrowed(Search(words=read.words or None, time_range=read.time_range))
    statement = _filtered(select(func.count()).select_from(Event), filters)
    return str(
        statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )


async def _explain(url: str, scenarios: dict) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            for name, params in scenarios.items():
                sql = str(_statement_for(params))
                plan = await connection.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {sql}"))
                lines = [row[0] for row in plan]
                uses_index = any("Index" in line for line in lines)
                seq_on_events = any("Seq Scan on events" in line for line in lines)
                print(
                    f"\n--- EXPLAIN: {name} (index used: {uses_index}; "
                    f"sequential scan of events: {seq_on_events})"
                )
                for line in lines:
                    print(f"    {line}")
            print("\nevents each search matches (before the ranking's newest-first cap):")
            for name, params in scenarios.items():
                if "q" in params:
                    started = time.perf_counter()
                    count = await connection.scalar(text(_count_statement(params)))
                    took = (time.perf_counter() - started) * 1000
                    print(f"  {name:<42} {count:>9,}   (counted in {took:,.0f} ms)")
    finally:
        await engine.dispose()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def _time_requests(base: str, scenarios: dict, samples: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        print(f"\nGET /api/events, {samples} requests each (ms):")
        for name, params in scenarios.items():
            for _ in range(3):  # warm the caches and the connection pool
                (await http.get("/api/events", params=params)).raise_for_status()
            timings = []
            for _ in range(samples):
                started = time.perf_counter()
                response = await http.get("/api/events", params=params)
                timings.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            items = len(response.json()["items"])
            print(
                f"  {name:<42} p50 {statistics.median(timings):7.2f}   "
                f"p95 {_percentile(timings, 0.95):7.2f}   ({items} items)"
            )


async def _time_websockets(
    host: str, redis_url: str, channel: str, clients: int, messages: int
) -> None:
    redis = create_redis(redis_url)
    delays: list[float] = []
    try:
        sockets = [await connect(f"ws://{host}/ws/events", max_size=None) for _ in range(clients)]

        async def receive(ws) -> None:
            for _ in range(messages):
                message = json.loads(await ws.recv())
                delays.append((time.perf_counter() - message["data"]["sent"]) * 1000)

        readers = [asyncio.create_task(receive(ws)) for ws in sockets]
        await asyncio.sleep(0.5)
        for index in range(messages):
            body = {"type": "event", "data": {"id": index, "sent": time.perf_counter()}}
            await redis.publish(channel, json.dumps(body))
            await asyncio.sleep(0.05)
        await asyncio.wait_for(asyncio.gather(*readers), timeout=60)
        for ws in sockets:
            await ws.close()
    finally:
        await redis.aclose()
    print(f"\nWebSocket publish -> delivery, {clients} clients x {messages} messages (ms):")
    print(
        f"  p50 {statistics.median(delays):7.2f}   p95 {_percentile(delays, 0.95):7.2f}   "
        f"p99 {_percentile(delays, 0.99):7.2f}   max {max(delays):7.2f}"
    )


async def _deep_cursor(url: str, events: int) -> str:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT started_at, id FROM events ORDER BY started_at DESC, id DESC "
                        f"OFFSET {int(events * 0.9)} LIMIT 1"
                    )
                )
            ).one()
        return encode_cursor(row.started_at, row.id)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--messages", type=int, default=50)
    parser.add_argument(
        "--only-search", action="store_true", help="only the searches (q), no WebSockets"
    )
    parser.add_argument(
        "--server-url",
        default=os.environ.get(
            "HOMESEC_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("HOMESEC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise

    server_url = normalize_database_url(args.server_url)
    print(f"scratch database: {args.events:,} events, {3 * args.events:,} detections")
    with scratch_database(server_url, "homesec_bench") as url:
        migrate.upgrade(url)
        asyncio.run(_fill(url, args.events))
        deep_cursor = asyncio.run(_deep_cursor(url, args.events))
        scenarios = dict(SEARCHES) if args.only_search else _scenarios(deep_cursor) | SEARCHES
        asyncio.run(_explain(url, scenarios))

        with TemporaryDirectory() as scratch:
            settings = Settings(
                data_dir=Path(scratch), foscam_base_path=Path(scratch) / "cams", timezone="UTC"
            )
            # A channel of its own: pub/sub is server-wide, and tests may be listening.
            channel = f"{keys.SECURITY_EVENTS}:bench:{secrets.token_hex(4)}"
            app = create_app(
                settings, database_url=url, redis_url=args.redis_url, events_channel=channel
            )
            port = free_port()
            server = build_server(app, "127.0.0.1", port, log_level="warning")
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.05)
            try:
                asyncio.run(_time_requests(f"http://127.0.0.1:{port}", scenarios, args.samples))
                if not args.only_search:
                    asyncio.run(
                        _time_websockets(
                            f"127.0.0.1:{port}", args.redis_url, channel, args.clients,
                            args.messages,
                        )
                    )  # fmt: skip
            finally:
                server.should_exit = True
                thread.join(timeout=30)
    print("\nscratch database dropped")


if __name__ == "__main__":
    main()
