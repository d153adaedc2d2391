"""The Cameras page: add a camera with its FTP account (``POST /api/camera-accounts``); a card
per camera with its latest snapshot and its age, status ("waiting for its first upload" until it
uploads), last seen, its rejected uploads, its FTP settings (never the password) and a new
password (``POST /api/cameras/{id}/ftp-account``), rename, its role for the scoring and the
analysis switch (``PATCH /api/cameras/{id}``), and removal after a confirmation
(``DELETE /api/cameras/{id}``).

What homesec's FTP server knows is shown here too: the addresses it blocks after failed logins
(as ``GET /api/ftp/bans``; "Unban" calls ``DELETE /api/ftp/bans/{address}``), and on top the
problems of its health that concern the cameras (a connection flood, a camera at its quota)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re

from litestar import get
from litestar.response import Template

from homesec.contract.errors import PipelineNotRunning
from homesec.contract.reports import Problem
from homesec.files.camera_folders import rejected_folder
from homesec.http import status
from homesec.http.queries import cameras as camera_queries
from homesec.http.routes.cameras import server_facts
from homesec.http.routes.ftp import ftp_ban_list
from homesec.http.schemas.ftp import FtpBanList
from homesec.http.services import DbSession, Services, ServicesDep
from homesec.models.enums import CameraRole

FTP_SERVER_KIND = "ftp_server"
# The FTP server's health problems this page puts on top (its bans have their own section):
# the summaries homesec.actors.ftp_server writes for a flood and for a camera at its quota.
FTP_NOTICE = re.compile(r"^FTP flood: |\bis at its upload quota\b")


def _taken_at(path: str | None) -> dt.datetime | None:
    """When the snapshot file was written; None when there is none (or it is gone)."""
    if path is None:
        return None
    try:
        return dt.datetime.fromtimestamp(os.stat(path).st_mtime, dt.UTC)
    except OSError:
        return None


async def ftp_bans(services: Services) -> FtpBanList | None:
    """The FTP server's bans; None when it is not running (or does not answer in time)."""
    try:
        async with asyncio.timeout(status.CHECK_TIMEOUT_SECONDS):
            return await ftp_ban_list(services)
    except (PipelineNotRunning, TimeoutError):
        return None


async def ftp_notices(services: Services) -> list[Problem]:
    """The FTP server's flood and quota problems, from the report behind the health."""
    report = await status.supervisor_report(services)
    if report is None:
        return []
    return [
        problem
        for actor in report.actors
        if actor.kind == FTP_SERVER_KIND
        for problem in actor.problems
        if FTP_NOTICE.search(problem.summary)
    ]


@get("/cameras", include_in_schema=False)
async def cameras_page(db: DbSession, services: ServicesDep) -> Template:
    cameras = (await camera_queries.list_cameras(db)).items
    # Only a camera with an image on disk gets an <img> (no request bound to fail).
    snapshots = {}
    for camera in cameras:
        path = await camera_queries.latest_image_path(db, camera.id)
        snapshots[camera.id] = await asyncio.to_thread(_taken_at, path)
    settings = services.settings
    now = dt.datetime.now(dt.UTC)
    # Things still standing: seen within the time a spot is remembered.
    stationary = await camera_queries.stationary_things(
        db, now - dt.timedelta(minutes=settings.stationary_forget_minutes)
    )
    bans, notices, ftp = await asyncio.gather(
        ftp_bans(services), ftp_notices(services), server_facts(settings)
    )
    return Template(
        template_name="cameras.html",
        context={
            "page": "cameras",
            "active": "/cameras",
            "cameras": cameras,
            "snapshots": snapshots,
            "roles": [role.value for role in CameraRole],
            "now": now,
            "stationary": stationary,
            "ftp": ftp,
            "bans": bans,
            "notices": notices,
            "ban_policy": {
                "attempts": settings.ftp_ban_attempts,
                "window": settings.ftp_ban_window_seconds,
                "seconds": settings.ftp_ban_seconds,
            },
            "rejected_folders": {
                camera.id: str(rejected_folder(settings.foscam_base_path, camera.id))
                for camera in cameras
            },
            "rejected_days": settings.rejected_upload_retention_days,
        },
    )
