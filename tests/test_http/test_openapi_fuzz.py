"""Requests generated from the OpenAPI schema (schemathesis): none may get a 5xx.

Each operation gets at most 20 generated requests, some fitting the schema and some breaking it;
no Hypothesis database is written. The
operations are walked in one test, so the app (with its database and Redis fixtures) is built
once for all of them.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.python import asgi

from homesec.contract.reports import CleanupStats
from tests.test_http.conftest import T0, add_camera, add_detection, add_event

MAX_EXAMPLES = 20


@pytest.fixture
async def seeded(db_sessions, settings) -> None:
    """A little of everything, so generated ids sometimes hit a row."""
    await add_camera(db_sessions, settings, "front_door")
    detection = await add_detection(db_sessions, camera_id="front_door")
    await add_event(
        db_sessions,
        camera_id="front_door",
        started_at=T0,
        detection_ids=f"[{detection}]",
        risk_score=50,
        risk_level="medium",
    )


async def no_cleanup(dry_run: bool) -> CleanupStats:
    return CleanupStats(
        events_deleted=0,
        detections_deleted=0,
        gpu_stats_deleted=0,
        logs_deleted=0,
        thumbnails_deleted=0,
        images_deleted=0,
        space_reclaimed=0,
        retention_days=30,
        dry_run=dry_run,
        timestamp=T0,
    )


@pytest.fixture
def api_schema(make_app, seeded):
    # With a janitor, so the cleanup routes answer rather than their honest 503.
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", make_app(cleanup=no_cleanup))
    yield schema
    asgi.shutdown_lifespans()  # the app's connections close before the database goes


def test_no_generated_request_gets_a_server_error(api_schema) -> None:
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 25

    for operation in operations:
        # Requests that fit the schema and requests that break it, half the budget each.
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @given(case=strategy)
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case) -> None:
            response = case.call()
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}"
                    f" -> {response.status_code} {response.text[:300]}"
                )

        no_server_error()
    assert failures == []
    # It did exercise the API: many requests, accepted ones and refused ones.
    assert statuses.total() >= 5 * len(operations)
    assert any(200 <= status < 300 for status in statuses)
    assert statuses[400] > 0
