"""The FTP server's bans: addresses refused after failed logins."""

from __future__ import annotations

import datetime as dt

import msgspec


class FtpBan(msgspec.Struct, kw_only=True):
    address: str
    accounts: list[str]  # the user names it tried, the last one last
    since: dt.datetime  # when the ban started
    until: dt.datetime  # when it ends by itself (FTP_BAN_SECONDS after it started)
    seconds_left: float


class FtpBanList(msgspec.Struct, kw_only=True):
    items: list[FtpBan]
    count: int
