"""``/api/alerts``: alert rules, the recent alerts and their acknowledgement, the channels (listed,
added, tested, removed) and a test message to every channel (docs/alerts.md). The dashboard's
Alerts page (pages/alerts.py) uses these."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from homesec.contract.alerts import AlertStatus
from homesec.http.openapi import problems
from homesec.http.params import DEFAULT_LIMIT, Limit, RowId
from homesec.http.queries import alerts as queries
from homesec.http.queries import notify_channels as channel_queries
from homesec.http.schemas.alerts import (
    Alert,
    AlertList,
    AlertRule,
    AlertRuleCreate,
    AlertRuleList,
    AlertRuleUpdate,
    ChannelTrialList,
    NotifyChannel,
    NotifyChannelCreate,
    NotifyChannelList,
    RuleTrial,
)
from homesec.http.schemas.common import MAX_DB_INT, NO_NUL
from homesec.http.services import ServicesDep

TrialSize = Annotated[int, QueryParameter(ge=1, le=1000, description="how many recent events")]
BeforeId = Annotated[int | None, QueryParameter(ge=1, le=MAX_DB_INT)]
ChannelName = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=100, pattern=NO_NUL,
                   description="one channel's name (as GET /api/alerts/channels lists it)"),
]  # fmt: skip


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
        return await queries.recent_alerts(services.sessions, services.settings, limit,
                                           status=status, acknowledged=acknowledged,
                                           before_id=before_id)  # fmt: skip

    @post("/{alert_id:str}/acknowledge", status_code=200, responses=problems(404))
    async def acknowledge(self, services: ServicesDep, alert_id: RowId) -> Alert:
        """Acknowledge the alert, and its event's alerts on the other channels."""
        return await queries.acknowledge(services.sessions, services.settings, alert_id)

    @post("/test", status_code=200, responses=problems(404))
    async def send_test(
        self, services: ServicesDep, channel: ChannelName = None
    ) -> ChannelTrialList:
        """A test message to every configured channel (or the one ``channel`` names), with each
        channel's result."""
        return await queries.send_trial(services.sessions, services.redis, services.settings,
                                        only=channel)  # fmt: skip


class NotifyChannelController(Controller):
    """The channels alerts go to. The environment's (``NOTIFY_URLS``, ``WEBHOOK_URLS``,
    ``MQTT_URL``) are listed and tested here and changed only there; the ones added here are
    stored in PostgreSQL and taken by the Notifier without a restart. A channel's URL is never
    in an answer: its label (service and host) and a masked form are."""

    path = "/api/alerts/channels"
    tags = ["alerts"]

    @get()
    async def list_channels(self, services: ServicesDep) -> NotifyChannelList:
        """Every channel alerts go to now."""
        return await channel_queries.list_channels(services.sessions, services.settings)

    @post(responses=problems(409))
    async def add_channel(
        self, services: ServicesDep, data: JSONBody[NotifyChannelCreate]
    ) -> NotifyChannel:
        """Add an Apprise URL or a webhook; 400 says what is wrong with a URL, 409 when it is
        configured already."""
        return await channel_queries.add_channel(services.sessions, services.redis,
                                                 services.settings, data)  # fmt: skip

    @delete("/{channel_id:str}", responses=problems(404))
    async def remove_channel(self, services: ServicesDep, channel_id: RowId) -> None:
        """Remove a channel added here; its alerts not yet sent are given up."""
        await channel_queries.remove_channel(services.sessions, services.redis, channel_id)

    @post("/{channel_id:str}/test", status_code=200, responses=problems(404))
    async def test_channel(self, services: ServicesDep, channel_id: RowId) -> ChannelTrialList:
        """A test message to this channel through the Notifier, with its result."""
        name = await channel_queries.page_channel_name(services.sessions, channel_id)
        return await queries.send_trial(services.sessions, services.redis, services.settings,
                                        only=name)  # fmt: skip
