"""``/api/mode``: the house's mode (home, away, night), set from the dashboard's header, by any
API client, by Home Assistant over MQTT or by the schedule; every change logged with who made
it (docs/architecture.md, "The house's mode")."""

from __future__ import annotations

import contextlib
from typing import Annotated

from litestar import Controller, Request, get, put
from litestar.params import JSONBody, QueryParameter
from redis.exceptions import RedisError

from homesec.http.errors import BadRequest
from homesec.http.queries import house_mode as queries
from homesec.http.schemas.house_mode import HouseMode, HouseModeHistory, HouseModeSet
from homesec.http.services import ServicesDep
from homesec.policy.house_mode import parse_mode
from homesec.store import house_modes, notifier_wake
from homesec.store.house_modes import MAX_HISTORY

HistorySize = Annotated[int, QueryParameter(ge=1, le=MAX_HISTORY, description="how many changes")]


class HouseModeController(Controller):
    path = "/api/mode"
    tags = ["mode"]

    @get()
    async def get_mode(self, services: ServicesDep) -> HouseMode:
        """The mode in force, since when and who set it (both null: never set, so home)."""
        return await queries.current(services.sessions)

    @put(status_code=200)
    async def set_mode(
        self, request: Request, services: ServicesDep, data: JSONBody[HouseModeSet]
    ) -> HouseMode:
        """Set the mode; logged with the API key's name (or the dashboard session's). Setting
        the mode in force changes nothing and logs nothing."""
        try:
            mode = parse_mode(data.mode)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        who = await queries.caller(request, services)
        change, changed = await house_modes.set_mode(services.sessions, mode.value, who)
        if changed:
            # The Notifier publishes the new state to Home Assistant at once; without Redis its
            # next sweep does, a few seconds later, and the change stands.
            with contextlib.suppress(RedisError):
                await notifier_wake.wake(services.redis, "house mode")
        return queries.to_mode(change)

    @get("/history")
    async def mode_history(
        self, services: ServicesDep, limit: HistorySize = 50
    ) -> HouseModeHistory:
        """The latest changes, newest first."""
        return await queries.history(services.sessions, limit)
