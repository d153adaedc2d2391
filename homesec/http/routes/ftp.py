"""``/api/ftp/bans``: the addresses homesec's FTP server refuses after failed logins.

``FTP_BAN_ATTEMPTS`` failed logins from one address within ``FTP_BAN_WINDOW_SECONDS`` ban it for
``FTP_BAN_SECONDS``, and then even the right password is refused from there. The bans live in
the FTP server's memory (the FtpServer actor); the front door reaches it only through the
injected actor directory.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import time
from typing import Annotated

from litestar import Controller, delete, get
from litestar.params import PathParameter

from homesec.contract.errors import PipelineNotRunning
from homesec.contract.reports import FtpBan
from homesec.http.errors import BadRequest, NotFound, ServiceUnavailable
from homesec.http.openapi import problems
from homesec.http.schemas import ftp as schemas
from homesec.http.services import Services, ServicesDep

Address = Annotated[
    str,
    PathParameter(min_length=2, max_length=45, description="the banned IPv4 or IPv6 address"),
]


def _view(ban: FtpBan, now: float) -> schemas.FtpBan:
    return schemas.FtpBan(
        address=ban.address,
        accounts=list(ban.accounts),
        since=dt.datetime.fromtimestamp(ban.since, dt.UTC),
        until=dt.datetime.fromtimestamp(ban.until, dt.UTC),
        seconds_left=round(max(0.0, ban.until - now), 3),
    )


async def ftp_ban_list(services: Services) -> schemas.FtpBanList:
    """The bans now, as ``GET /api/ftp/bans`` and the Cameras page show them; raises
    :class:`PipelineNotRunning` when the FTP server is not there."""
    bans = await services.actors.ftp_bans()
    now = time.time()
    items = [_view(ban, now) for ban in bans]
    return schemas.FtpBanList(items=items, count=len(items))


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise BadRequest(f"{text!r} is not an IP address") from None


class FtpBanController(Controller):
    path = "/api/ftp/bans"
    tags = ["ftp"]

    @get(responses=problems(503))
    async def list_ftp_bans(self, services: ServicesDep) -> schemas.FtpBanList:
        """The addresses refused now, the ban that ends first first; 503 when homesec's FTP
        server is not running."""
        try:
            return await ftp_ban_list(services)
        except PipelineNotRunning as exc:
            raise ServiceUnavailable(str(exc)) from None

    @delete("/{address:str}", responses=problems(400, 404, 503))
    async def lift_ftp_ban(self, services: ServicesDep, address: Address) -> None:
        """Lift the ban of ``address`` at once (its failed logins are forgotten too): 204; 404
        when it is not banned. Correct the camera's password first, or it is banned again."""
        address = _address(address)
        try:
            lifted = await services.actors.ftp_unban(address)
        except PipelineNotRunning as exc:
            raise ServiceUnavailable(str(exc)) from None
        if not lifted:
            raise NotFound(f"{address} is not banned by the FTP server")
