"""Requests generated from the OpenAPI schema (schemathesis), against the real app on the test
session's PostgreSQL and Redis, with API keys off and on: none may get a 5xx, and every response
must be what the document says (its status, content type, headers and body schema).

Each operation gets a bounded number of generated requests, some fitting the schema and some
breaking it; no Hypothesis database is written. The operations are walked in one test per key
mode, so the app (with its database and Redis fixtures) is built once for all of them. The
default budget keeps the suite quick; ``pytest -m long_fuzz`` runs the same walk with many more
examples.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from homesec.contract.reports import CleanupStats, FtpBan, SupervisorReport
from homesec.models import APIKey
from homesec.store.api_keys import hash_api_key
from tests.support.rows import T0, add_camera, add_detection, add_event

MAX_EXAMPLES = 20
LONG_MAX_EXAMPLES = int(os.environ.get("HOMESEC_FUZZ_EXAMPLES", "150"))
KEY = "fuzzing key"
CONFORMANCE = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


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
    async with db_sessions.begin() as session:
        session.add(APIKey(key_hash=hash_api_key(KEY), name="fuzz"))


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


class FtpOnlyDirectory:
    """No supervisor report, but an FTP server with one ban, so the ban routes answer rather
    than their honest 503."""

    async def supervisor_report(self) -> SupervisorReport | None:
        return None

    async def ftp_bans(self) -> list[FtpBan]:
        return [FtpBan(address="192.0.2.7", accounts=["front_door"], since=0.0, until=4e9)]

    async def ftp_unban(self, address: str) -> bool:
        return address == "192.0.2.7"

    async def ftp_accounts_changed(self) -> None:
        return None


@pytest.fixture(params=[False, True], ids=["keys-off", "keys-on"])
def keys_on(request) -> bool:
    return request.param


@pytest.fixture
def api_schema(make_app, settings, seeded, keys_on):
    chosen = msgspec.structs.replace(
        settings,
        api_key_enabled=keys_on,
        # schemathesis' ASGI client sends Host: testserver.
        allowed_hosts=(*settings.allowed_hosts, "testserver"),
    )
    # With a janitor and an FTP server, so the cleanup and ban routes answer rather than their
    # honest 503.
    app = make_app(settings=chosen, cleanup=no_cleanup, actors=FtpOnlyDirectory())
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    yield schema
    asgi.shutdown_lifespans()  # the app's connections close before the database goes


@dataclass
class Walk:
    """What a walk over every operation found."""

    operations: int = 0
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    nonconforming: list[str] = field(default_factory=list)


def walk(api_schema, keys_on: bool, max_examples: int) -> Walk:
    found = Walk()
    headers = {"X-API-Key": KEY} if keys_on else None
    operations = [result.ok() for result in api_schema.get_all_operations()]
    found.operations = len(operations)

    for operation in operations:
        # Requests that fit the schema and requests that break it.
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @given(case=strategy)
        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def one_case(case) -> None:
            response = case.call(headers=headers)
            found.cases += 1
            found.statuses[response.status_code] += 1
            request = f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}"[
                :400
            ]
            if response.status_code >= 500:
                found.server_errors.append(
                    f"{request} -> {response.status_code} {response.text[:300]}"
                )
            try:
                case.validate_response(response, checks=CONFORMANCE, headers=headers)
            except Exception as failure:  # schemathesis' FailureGroup: the checks that failed
                found.nonconforming.append(f"{request} -> {response.status_code}: {failure}"[:900])

        one_case()
    print(
        f"schemathesis, keys {'on' if keys_on else 'off'}: {found.operations} operations, "
        f"{found.cases} cases, {len(found.server_errors)} server errors, "
        f"{len(found.nonconforming)} nonconforming responses; statuses {dict(found.statuses)}"
    )
    return found


def check(found: Walk, keys_on: bool) -> None:
    assert found.server_errors == []
    assert found.nonconforming == []
    assert found.operations >= 25
    # It did exercise the API: many requests, accepted ones and refused ones.
    assert found.cases >= 5 * found.operations
    assert any(200 <= status < 300 for status in found.statuses)
    assert found.statuses[400] > 0


def test_generated_requests_get_no_server_error_and_conform(api_schema, keys_on) -> None:
    check(walk(api_schema, keys_on, MAX_EXAMPLES), keys_on)


@pytest.mark.long_fuzz
def test_many_generated_requests_get_no_server_error_and_conform(api_schema, keys_on) -> None:
    check(walk(api_schema, keys_on, LONG_MAX_EXAMPLES), keys_on)
