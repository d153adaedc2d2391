"""``/api/alerts``: alert rules, the recent alerts and their acknowledgement, a test message to
every channel (docs/alerts.md). The dashboard's Alerts page (pages/alerts.py) uses these."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from homesec.contract.alerts import AlertStatus
from homesec.http.openapi import problems
from homesec.http.params import DEFAULT_LIMIT, Limit, RowId
from homesec.http.queries import alerts as queries
from homesec.http.schemas.alerts import (
    Alert,
    AlertList,
    AlertRule,
    AlertRuleCreate,
    AlertRuleList,
    AlertRuleUpdate,
    ChannelTrialList,
    RuleTrial,
)
from homesec.http.schemas.common import MAX_DB_INT
from homesec.http.services import ServicesDep

TrialSize = Annotated[int, QueryParameter(ge=1, le=1000, description="how many recent events")]
BeforeId = Annotated[int | None, QueryParameter(ge=1, le=MAX_DB_INT)]


class AlertRuleController(Controller):
    path = "/api/alerts/rules"
    tags = ["alerts"]

    @get()
    async def list_rules(self, services: ServicesDep) -> AlertRuleList:
        """Every rule, and the channels configured now."""
        return await queries.list_rules(services.sessions, services.settings)

    @post()
    async def create_rule(
        self, services: ServicesDep, data: JSONBody[AlertRuleCreate]
    ) -> AlertRule:
        return await queries.create_rule(services.sessions, data)

    @get("/{rule_id:str}", responses=problems(404))
    async def get_rule(self, services: ServicesDep, rule_id: RowId) -> AlertRule:
        return queries.to_rule(await queries.get_rule(services.sessions, rule_id))

    @patch("/{rule_id:str}", responses=problems(404))
    async def update_rule(
        self, services: ServicesDep, rule_id: RowId, data: JSONBody[AlertRuleUpdate]
    ) -> AlertRule:
        return await queries.update_rule(services.sessions, rule_id, data)

    @delete("/{rule_id:str}", responses=problems(404))
    async def delete_rule(self, services: ServicesDep, rule_id: RowId) -> None:
        await queries.delete_rule(services.sessions, rule_id)

    @post("/{rule_id:str}/test", status_code=200, responses=problems(404))
    async def try_rule(
        self, services: ServicesDep, rule_id: RowId, last: TrialSize = 50
    ) -> RuleTrial:
        """Which of the last ``last`` events the rule would have fired for. Sends nothing."""
        return await queries.try_rule(services.sessions, services.settings, rule_id, last)


class AlertController(Controller):
    path = "/api/alerts"
    tags = ["alerts"]

    @get()
    async def list_alerts(
        self,
        services: ServicesDep,
        status: FromQuery[AlertStatus | None] = None,
        acknowledged: FromQuery[bool | None] = None,
        before_id: BeforeId = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> AlertList:
        """Recent alerts (one row per alert and channel), newest first."""
        return await queries.recent_alerts(
            services.sessions, limit, status=status, acknowledged=acknowledged, before_id=before_id
        )

    @post("/{alert_id:str}/acknowledge", status_code=200, responses=problems(404))
    async def acknowledge(self, services: ServicesDep, alert_id: RowId) -> Alert:
        """Acknowledge the alert, and its event's alerts on the other channels."""
        return await queries.acknowledge(services.sessions, alert_id)

    @post("/test", status_code=200)
    async def send_test(self, services: ServicesDep) -> ChannelTrialList:
        """A test message to every configured channel, with each channel's result."""
        return await queries.send_trial(services.sessions, services.redis, services.settings)
