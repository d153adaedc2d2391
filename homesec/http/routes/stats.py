"""``/api/stats``: the house's own false-alarm rate, per camera and month."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from homesec.http.openapi import problems
from homesec.http.params import FilterText
from homesec.http.queries import stats as queries
from homesec.http.schemas.stats import StatsReport
from homesec.http.services import DbSession, ServicesDep
from homesec.policy.alert_stats import DEFAULT_MONTHS, MAX_MONTHS

Months = Annotated[
    int,
    QueryParameter(ge=1, le=MAX_MONTHS, description="how many months back, this one included"),
]


DESCRIPTION = (
    "Per camera and month (in the house's zone): alerts sent (visits with a delivered alert "
    "or update, once each; test messages, camera-problem alerts and undelivered alerts do not "
    "count), how many the owner gave feedback on or reviewed, false alarms, wrong severity, "
    'and the false-alarm rate with its sample size: null, with "too little feedback to say", '
    "below min_rated rated alerts. calibration compares the rate before and after the "
    "camera's calibration first had enough feedback. 404: no camera camera_id."
)


class StatsController(Controller):
    path = "/api/stats"
    tags = ["stats"]

    @get(responses=problems(404), description=DESCRIPTION)
    async def get_stats(
        self,
        db: DbSession,
        services: ServicesDep,
        months: Months = DEFAULT_MONTHS,
        camera_id: FilterText = None,
    ) -> StatsReport:
        return await queries.stats_report(db, services.settings, months, camera_id)
