"""``/api/logs``: filters, search, pagination, statistics, and the dashboard's own log lines."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from homesec.models import Log
from tests.support.http_app import walk


async def seed_logs(db_sessions) -> None:
    now = dt.datetime.now(dt.UTC)
    rows = [
        ("INFO", "detector", "loaded the model", "front_door", "backend", now),
        ("ERROR", "detector", "CUDA out of memory", "front_door", "backend", now),
        ("WARNING", "analyst", "LLM slow: 100% of budget used", None, "backend", now),
        ("ERROR", "dashboard", "fetch failed", None, "frontend", now),
        ("INFO", "analyst", "an old line", "garage", "backend", now - dt.timedelta(days=2)),
    ]
    async with db_sessions.begin() as session:
        for level, component, message, camera, source, at in rows:
            session.add(
                Log(
                    level=level,
                    component=component,
                    message=message,
                    camera_id=camera,
                    source=source,
                    timestamp=at,
                )
            )


async def messages(client, **params) -> list[str]:
    response = await client.get("/api/logs", params=params)
    assert response.status_code == 200, response.text
    return [item["message"] for item in response.json()["items"]]


async def test_filters_and_search(client, db_sessions) -> None:
    await seed_logs(db_sessions)
    assert await messages(client, level="ERROR") == ["fetch failed", "CUDA out of memory"]
    assert await messages(client, component="analyst") == [
        "LLM slow: 100% of budget used",
        "an old line",
    ]
    assert await messages(client, camera_id="garage") == ["an old line"]
    assert await messages(client, source="frontend") == ["fetch failed"]
    assert await messages(client, search="cuda") == ["CUDA out of memory"]
    # % and _ are matched as themselves, not as wildcards.
    assert await messages(client, search="100%") == ["LLM slow: 100% of budget used"]
    assert await messages(client, search="_") == []
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    assert "an old line" not in await messages(client, start_date=since)
    assert len(await messages(client, start_date=since)) == 4
    for bad in ({"level": "LOUD"}, {"source": "martian"}, {"search": ""}, {"limit": -1}):
        assert (await client.get("/api/logs", params=bad)).status_code == 400, bad


async def test_pages_walk_every_log_once(client, db_sessions) -> None:
    async with db_sessions.begin() as session:
        for index in range(23):
            session.add(
                Log(
                    level="INFO",
                    component="test",
                    message=f"line {index}",
                    timestamp=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
                )
            )
    walked = await walk(client, "/api/logs", limit=4)
    assert walked == list(range(23, 0, -1))


async def test_stats_cover_the_last_day(client, db_sessions) -> None:
    await seed_logs(db_sessions)
    stats = (await client.get("/api/logs/stats")).json()
    assert stats["total"] == 4
    assert stats["by_level"] == {"INFO": 1, "ERROR": 2, "WARNING": 1}
    assert stats["by_component"] == {"detector": 2, "analyst": 1, "dashboard": 1}


async def test_frontend_log_is_stored_with_source_and_user_agent(client, db_sessions) -> None:
    response = await client.post(
        "/api/logs",
        json={
            "level": "ERROR",
            "message": "render failed",
            "component": "events-table",
            "extra": {"url": "/events", "line": 42},
            "event_id": 7,
        },
        headers={"User-Agent": "Firefox/140"},
    )
    assert response.status_code == 201
    async with db_sessions() as session:
        row = await session.get(Log, response.json()["id"])
    assert (row.source, row.level, row.component, row.message) == (
        "frontend",
        "ERROR",
        "events-table",
        "render failed",
    )
    assert row.user_agent == "Firefox/140"
    assert row.extra == {"url": "/events", "line": 42}
    assert row.event_id == 7


async def test_frontend_log_limits(client, db_sessions) -> None:
    too_long = await client.post("/api/logs", json={"level": "INFO", "message": "x" * 10_241})
    assert too_long.status_code == 400
    assert "message" in too_long.json()["detail"]
    big_extra = await client.post(
        "/api/logs", json={"level": "INFO", "message": "m", "extra": {"blob": "y" * 33_000}}
    )
    assert big_extra.status_code == 413
    assert "extra" in big_extra.json()["detail"]
    huge = await client.post(
        "/api/logs",
        content=b'{"level": "INFO", "message": "' + b"z" * 70_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    for bad in (
        {"level": "LOUD", "message": "m"},
        {"level": "INFO"},
        {"level": "INFO", "message": "nul \x00 inside"},
        {"level": "INFO", "message": "m", "component": "c" * 51},
        {"level": "INFO", "message": "m", "event_id": 2**40},
    ):
        assert (await client.post("/api/logs", json=bad)).status_code == 400, bad
    async with db_sessions() as session:
        assert (await session.scalars(select(Log))).all() == []


async def test_frontend_logs_are_rate_limited_per_client(client) -> None:
    for _ in range(60):
        response = await client.post("/api/logs", json={"level": "DEBUG", "message": "tick"})
        assert response.status_code == 201
    limited = await client.post("/api/logs", json={"level": "DEBUG", "message": "tick"})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["content-type"].startswith("application/problem+json")
