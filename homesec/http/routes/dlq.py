"""``/api/dlq``: inspect, requeue and clear the dead-letter queues."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.params import PathParameter, QueryParameter

from homesec.http.openapi import problems
from homesec.http.params import DEFAULT_LIMIT, Limit
from homesec.http.queries import dead_letters
from homesec.http.schemas.dlq import ClearResult, DlqPage, DlqStats, RequeueResult
from homesec.http.services import ServicesDep

QueueName = Annotated[
    str, PathParameter(max_length=100, description="detection_queue or analysis_queue")
]
Start = Annotated[
    int, QueryParameter(ge=0, le=10_000_000, description="position of the first entry")
]


class DlqController(Controller):
    path = "/api/dlq"
    tags = ["dead letters"]

    @get("/stats")
    async def dlq_stats(self, services: ServicesDep) -> DlqStats:
        return await dead_letters.dlq_stats(services.redis)

    @get("/{queue:str}", responses=problems(404, 409))
    async def list_dead_letters(
        self,
        services: ServicesDep,
        queue: QueueName,
        start: Start = 0,
        limit: Limit = DEFAULT_LIMIT,
    ) -> DlqPage:
        """Entries oldest first; reading removes nothing."""
        return await dead_letters.list_entries(services.redis, queue, start, limit)

    @post("/{queue:str}/requeue", status_code=200, responses=problems(404, 409))
    async def requeue(
        self,
        services: ServicesDep,
        queue: QueueName,
        requeue_all: Annotated[bool, QueryParameter(name="all")] = False,
    ) -> RequeueResult:
        """Move the oldest entry (or, with ``all=true``, every entry) back to its stream; a
        requeued upload is ``queued`` again in the ledger."""
        return await dead_letters.requeue(
            services.redis, services.sessions, queue, everything=requeue_all
        )

    @delete("/{queue:str}", status_code=200, responses=problems(404, 409))
    async def clear(self, services: ServicesDep, queue: QueueName) -> ClearResult:
        return await dead_letters.clear(services.redis, queue)
