"""Health, readiness, statistics, telemetry, GPU, configuration, cleanup and metrics."""

from __future__ import annotations

import datetime as dt
import socket

import msgspec
from litestar.testing import AsyncTestClient

from homesec.contract import keys
from homesec.contract.errors import HomesecError
from homesec.contract.reports import ActorStatus, CleanupStats, Problem, SupervisorReport
from homesec.http.app import create_app
from homesec.models import GPUStats
from homesec.store.telemetry import record_latency
from tests.support.rows import T0, add_camera, add_detection, add_event


class ReportingDirectory:
    """An ActorDirectory at the edge of the world: what a Supervisor would report."""

    def __init__(self, *states: str) -> None:
        self.report = SupervisorReport(
            actors=[
                ActorStatus(name=f"detector-{index}", kind="detector", state=state, restarts=index)
                for index, state in enumerate(states)
            ],
            checked_at=T0,
        )

    async def supervisor_report(self) -> SupervisorReport | None:
        return self.report


class BrokenDirectory:
    async def supervisor_report(self) -> SupervisorReport | None:
        raise ConnectionError("ray is gone")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_liveness_needs_nothing(client) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


async def test_ready_when_database_and_redis_answer(client) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("ready", "database", "redis")} == {
        "ready": True,
        "database": True,
        "redis": True,
    }
    # Ready to serve, and honest that no pipeline does the work (this app has none).
    assert body["status"] == "degraded"
    [problem] = body["problems"]
    assert problem["component"] == "pipeline" and "homesec up" in problem["remedy"]


async def test_not_ready_and_unhealthy_while_redis_is_down(
    settings, migrated_database_url, db_sessions
) -> None:
    app = create_app(
        settings,
        database_url=migrated_database_url,
        redis_url=f"redis://127.0.0.1:{closed_port()}/0",
    )
    async with AsyncTestClient(app) as client:
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        body = ready.json()
        assert {key: body[key] for key in ("ready", "database", "redis")} == {
            "ready": False,
            "database": True,
            "redis": False,
        }
        assert body["status"] == "unhealthy"
        redis_problem = next(p for p in body["problems"] if p["component"] == "Redis")
        assert "REDIS_URL" in redis_problem["remedy"]

        health = (await client.get("/api/system/health")).json()
        assert health["status"] == "unhealthy"
        assert health["services"]["redis"]["status"] == "unhealthy"
        assert health["services"]["database"]["status"] == "healthy"

        # A route that needs Redis answers 503 with a problem detail, not 500.
        dlq = await client.get("/api/dlq/stats")
        assert dlq.status_code == 503
        assert dlq.headers["content-type"].startswith("application/problem+json")
        assert "Redis" in dlq.json()["detail"]


async def test_health_is_degraded_without_a_pipeline(client) -> None:
    health = (await client.get("/api/system/health")).json()
    assert health["status"] == "degraded"
    assert health["services"]["database"]["status"] == "healthy"
    assert health["services"]["redis"]["status"] == "healthy"
    assert health["services"]["pipeline"]["status"] == "degraded"
    assert "not running" in health["services"]["pipeline"]["message"]
    assert health["actors"] == []


async def test_health_reports_each_actor(make_app) -> None:
    async with AsyncTestClient(make_app(actors=ReportingDirectory("ALIVE", "ALIVE"))) as client:
        health = (await client.get("/api/system/health")).json()
    assert health["status"] == "healthy"
    assert [(a["name"], a["state"], a["restarts"]) for a in health["actors"]] == [
        ("detector-0", "ALIVE", 0),
        ("detector-1", "ALIVE", 1),
    ]
    assert health["actors_checked_at"] == "2025-12-23T12:00:00Z"


async def test_health_is_degraded_when_an_actor_is_not_alive(make_app) -> None:
    async with AsyncTestClient(make_app(actors=ReportingDirectory("ALIVE", "RESTARTING"))) as c:
        health = (await c.get("/api/system/health")).json()
    assert health["status"] == "degraded"
    assert health["services"]["pipeline"]["message"] == "not alive: detector-1"


async def test_an_actor_that_cannot_work_makes_the_health_degraded_and_says_why(make_app) -> None:
    directory = ReportingDirectory("ALIVE")
    problem = Problem(
        component="detector-0",
        summary="no detector engine: ModelNotFound: /models/rtdetr holds no model",
        remedy="put an RT-DETRv2 model directory where DETECTOR_MODEL points",
    )
    directory.report.actors[0] = msgspec.structs.replace(
        directory.report.actors[0], problems=[problem]
    )
    async with AsyncTestClient(make_app(actors=directory)) as client:
        health = (await client.get("/api/system/health")).json()
        ready = (await client.get("/health/ready")).json()
    assert health["status"] == "degraded"
    assert health["services"]["pipeline"]["message"] == "problems: detector-0"
    assert [p["summary"] for p in health["problems"]] == [problem.summary]
    assert health["problems"][0]["remedy"].startswith("put an RT-DETRv2 model")
    assert ready["ready"] is True and ready["status"] == "degraded"
    assert ready["problems"] == health["problems"]


async def test_a_queue_whose_backlog_nobody_takes_is_stuck(make_app, redis_client) -> None:
    # An entry added ten minutes ago (its id says when), never delivered to any consumer.
    old = int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)).timestamp() * 1000)
    await redis_client.xadd(keys.DETECTION_QUEUE, {keys.STREAM_FIELD: "{}"}, id=f"{old}-0")
    await redis_client.xgroup_create(keys.DETECTION_QUEUE, keys.DETECTOR_GROUP, id="0")
    async with AsyncTestClient(make_app(actors=ReportingDirectory("ALIVE"))) as client:
        health = (await client.get("/api/system/health")).json()
    assert health["status"] == "degraded"
    [problem] = health["problems"]
    assert problem["component"] == keys.DETECTION_QUEUE
    assert "no consumer takes them" in problem["summary"]


async def test_a_failing_directory_reads_as_no_report(make_app) -> None:
    async with AsyncTestClient(make_app(actors=BrokenDirectory())) as client:
        response = await client.get("/api/system/health")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"


async def test_stats_count_rows(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "front_door")
    detection = await add_detection(db_sessions, camera_id="front_door")
    await add_detection(db_sessions, camera_id="front_door")
    await add_event(db_sessions, camera_id="front_door", detection_ids=f"[{detection}]")
    stats = (await client.get("/api/system/stats")).json()
    assert stats["total_cameras"] == 1
    assert stats["total_events"] == 1
    assert stats["total_detections"] == 2
    assert stats["uptime_seconds"] >= 0


async def test_telemetry_reads_streams_groups_dead_letters_and_latencies(
    client, redis_client
) -> None:
    empty = (await client.get("/api/system/telemetry")).json()
    assert empty["queues"] == {
        "detection_queue": {"depth": 0, "pending": 0, "dlq": 0},
        "analysis_queue": {"depth": 0, "pending": 0, "dlq": 0},
    }
    assert empty["latencies"] == {}

    for index in range(3):
        await redis_client.xadd(keys.DETECTION_QUEUE, {keys.STREAM_FIELD: f'{{"n": {index}}}'})
    await redis_client.xgroup_create(keys.DETECTION_QUEUE, keys.DETECTOR_GROUP, id="0")
    await redis_client.xreadgroup(
        keys.DETECTOR_GROUP, "detector-1", {keys.DETECTION_QUEUE: ">"}, count=2
    )
    await redis_client.xadd(keys.ANALYSIS_QUEUE, {keys.STREAM_FIELD: "{}"})  # no group yet
    await redis_client.rpush(keys.dlq(keys.ANALYSIS_QUEUE), "{}", "{}")
    for millis in range(1, 101):
        await record_latency(redis_client, "detect", millis / 1000)

    telemetry = (await client.get("/api/system/telemetry")).json()
    assert telemetry["queues"] == {
        "detection_queue": {"depth": 3, "pending": 2, "dlq": 0},
        "analysis_queue": {"depth": 1, "pending": 0, "dlq": 2},
    }
    assert telemetry["latencies"] == {
        "detect": {"p50": 0.05, "p95": 0.095, "p99": 0.099, "count": 100}
    }


async def test_gpu_says_clearly_when_there_is_no_data(client) -> None:
    gpu = (await client.get("/api/system/gpu")).json()
    assert gpu["available"] is False
    assert "no GPU data" in gpu["detail"]
    assert gpu["gpu_utilization"] is None


async def test_gpu_latest_sample_and_history_window(client, db_sessions) -> None:
    async with db_sessions.begin() as session:
        for minute in range(10):
            session.add(
                GPUStats(
                    recorded_at=T0 + dt.timedelta(minutes=minute),
                    gpu_name="RTX A5500",
                    gpu_utilization=float(minute * 10),
                    memory_used=1000 + minute,
                    memory_total=24000,
                )
            )
    gpu = (await client.get("/api/system/gpu")).json()
    assert gpu["available"] is True
    assert gpu["gpu_utilization"] == 90.0
    assert gpu["recorded_at"] == "2025-12-23T12:09:00Z"

    history = await client.get(
        "/api/system/gpu/history",
        params={"since": "2025-12-23T12:02:00Z", "until": "2025-12-23T12:08:00Z", "limit": 3},
    )
    body = history.json()
    # The newest three in the window, oldest first.
    assert [s["memory_used"] for s in body["samples"]] == [1006, 1007, 1008]
    assert body["count"] == 3 and body["limit"] == 3

    reversed_window = await client.get(
        "/api/system/gpu/history",
        params={"since": "2025-12-24T00:00:00Z", "until": "2025-12-23T00:00:00Z"},
    )
    assert reversed_window.status_code == 400
    assert reversed_window.json()["detail"] == "since is after until"


async def test_config_masks_secrets(make_app, settings) -> None:
    secret = msgspec.structs.replace(settings, api_keys=("hunter2",), llm_api_key="sk-secret")
    async with AsyncTestClient(make_app(settings=secret)) as client:
        config = (await client.get("/api/system/config")).json()
    assert config["API_KEYS"] == ["****"]
    assert config["LLM_API_KEY"] == "****"
    assert config["FOSCAM_BASE_PATH"] == str(settings.foscam_base_path)
    assert "hunter2" not in str(config)


async def test_cleanup_is_unavailable_without_a_janitor(client) -> None:
    for response in (
        await client.get("/api/system/cleanup", params={"dry_run": "true"}),
        await client.post("/api/system/cleanup"),
    ):
        assert response.status_code == 503
        assert "janitor is not running" in response.json()["detail"]


async def test_cleanup_calls_the_injected_janitor(make_app) -> None:
    calls: list[bool] = []

    async def cleanup(dry_run: bool) -> CleanupStats:
        calls.append(dry_run)
        return CleanupStats(
            events_deleted=15,
            detections_deleted=89,
            gpu_stats_deleted=2880,
            logs_deleted=150,
            thumbnails_deleted=89,
            images_deleted=0,
            space_reclaimed=524288000,
            retention_days=30,
            dry_run=dry_run,
            timestamp=dt.datetime(2025, 12, 27, 10, 30, tzinfo=dt.UTC),
        )

    async with AsyncTestClient(make_app(cleanup=cleanup)) as client:
        preview = await client.get("/api/system/cleanup", params={"dry_run": "true"})
        refused = await client.get("/api/system/cleanup", params={"dry_run": "false"})
        run = await client.post("/api/system/cleanup")
    assert preview.status_code == 200
    assert preview.json() == {
        "events_deleted": 15,
        "detections_deleted": 89,
        "gpu_stats_deleted": 2880,
        "logs_deleted": 150,
        "thumbnails_deleted": 89,
        "images_deleted": 0,
        "space_reclaimed": 524288000,
        "retention_days": 30,
        "dry_run": True,
        "timestamp": "2025-12-27T10:30:00Z",
        "camera_problems_deleted": 0,  # homesec's addition to the contract's shape
    }
    assert refused.status_code == 400
    assert run.status_code == 200 and run.json()["dry_run"] is False
    assert calls == [True, False]


async def test_cleanup_is_unavailable_when_the_janitor_does_not_answer(make_app) -> None:
    async def janitor_gone(dry_run: bool) -> CleanupStats:
        raise HomesecError("the janitor is not running; is `homesec up` running?")

    async with AsyncTestClient(make_app(cleanup=janitor_gone)) as client:
        response = await client.post("/api/system/cleanup")
    assert response.status_code == 503
    assert "the janitor did not run the cleanup" in response.json()["detail"]


async def test_metrics_count_requests_and_read_gauges_at_scrape(make_app, redis_client) -> None:
    await redis_client.rpush(keys.dlq(keys.DETECTION_QUEUE), "{}")
    async with AsyncTestClient(make_app(actors=ReportingDirectory("ALIVE", "DEAD"))) as client:
        await client.get("/api/events")
        await client.get("/api/events/12345")
        text = (await client.get("/metrics")).text
    assert 'homesec_http_requests_total{method="GET",route="/api/events",status="200"} 1.0' in text
    # By route template, so ids do not make a label each.
    assert (
        'homesec_http_requests_total{method="GET",route="/api/events/{event_id}",status="404"} 1.0'
    ) in text
    assert 'homesec_dlq_depth{queue="detection_queue"} 1.0' in text
    assert 'homesec_rows{table="events"} 0.0' in text
    assert 'homesec_actor_restarts{actor="detector-1",kind="detector"} 1.0' in text
    assert 'homesec_actor_alive{actor="detector-1",kind="detector"} 0.0' in text
    assert "homesec_pipeline_reporting 1.0" in text


async def test_every_error_is_a_problem_detail(client) -> None:
    for method, path, status in (
        ("GET", "/no/such/route", 404),
        ("PUT", "/api/events", 405),
        ("GET", "/api/cameras/nope", 404),
    ):
        response = await client.request(method, path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["status"] == status and body["title"] and body["detail"], body
    malformed = await client.post(
        "/api/cameras", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.headers["content-type"].startswith("application/problem+json")


async def test_openapi_document_and_interactive_page(client) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    assert document["info"]["title"] == "homesec"
    assert "/api/events" in document["paths"]
    limit = next(
        p for p in document["paths"]["/api/events"]["get"]["parameters"] if p["name"] == "limit"
    )
    assert limit["schema"]["maximum"] == 500
    page = await client.get("/schema")
    assert page.status_code == 200 and "<html" in page.text.lower()
