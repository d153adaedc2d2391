"""Cameras: one per upload folder under ``FOSCAM_BASE_PATH``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

from homesec.http.schemas.common import text
from homesec.models.enums import CameraRole, CameraStatus

CameraName = text(255, min_length=1)
CameraIdText = text(100, min_length=1, description="letters, digits, _ and - in lower case")


class Camera(msgspec.Struct, kw_only=True):
    id: str
    name: str
    folder_path: str
    status: CameraStatus
    created_at: dt.datetime
    last_seen_at: dt.datetime | None
    enabled: bool = True  # False: uploads are kept, not analysed
    # Its FTP account on homesec's built-in server (the user name; never the password's hash).
    has_ftp_account: bool = False
    ftp_username: str | None = None
    # What the camera watches, as set (None: not set); scoring uses ``scoring_role``, which is
    # the set role, else the one its name suggests (``role_source`` says which).
    role: CameraRole | None = None
    scoring_role: CameraRole | None = None
    role_source: str | None = None
    # Uploads refused by validation (not an image, empty, truncated ...) that the ledger still
    # holds (RETENTION_DAYS), and when the last came; the files are kept in
    # <FOSCAM_BASE_PATH>/.rejected/<id>/ for REJECTED_UPLOAD_RETENTION_DAYS.
    rejected_uploads: int = 0
    last_rejected_at: dt.datetime | None = None
    # What is wrong with it now (issue 23): "lens covered", "view moved", "blurred", "offline";
    # empty while it looks normal. Each one started a camera alert.
    problems: list[str] = []
    # Minutes of silence after which it counts as offline; null: learnt from its uploads (a
    # camera that uploads only on motion never counts as offline).
    offline_after_minutes: int | None = None


class CameraList(msgspec.Struct, kw_only=True):
    items: list[Camera]
    count: int


class CameraCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new camera; its folder ``<FOSCAM_BASE_PATH>/<id>`` is created if missing.

    ``id`` defaults to the name normalised (``"Front Door"`` -> ``front_door``).
    """

    name: CameraName
    id: CameraIdText | None = None
    status: CameraStatus = CameraStatus.ONLINE


class CameraUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; the id and folder are the camera's identity and never change."""

    name: CameraName | msgspec.UnsetType = msgspec.UNSET
    status: CameraStatus | msgspec.UnsetType = msgspec.UNSET
    # street, entrance, driveway, yard, garage or indoor; null: guess it from the name again.
    role: CameraRole | msgspec.UnsetType | None = msgspec.UNSET
    enabled: bool | msgspec.UnsetType = msgspec.UNSET  # off: uploads kept, not analysed
    # Minutes of silence that make it offline (1 .. 10080, a week); null: learnt.
    offline_after_minutes: (
        Annotated[int, msgspec.Meta(ge=1, le=10080)] | msgspec.UnsetType | None
    ) = msgspec.UNSET


class FtpAccountRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Create the camera's FTP account, or give it a new password; without ``password`` one
    is generated."""

    password: text(64, min_length=8) | None = None


class FtpAccount(msgspec.Struct, kw_only=True):
    """The camera's FTP account and, this once, its password: what its FTP settings page asks
    for, the same facts ``homesec camera add`` prints."""

    camera_id: str
    username: str
    password: str
    created: bool  # False: an existing account got a new password
    # This machine's address on the network (FTP_HOST when it names one interface;
    # FTP_MASQUERADE_ADDRESS behind NAT).
    server: str
    port: int
    tls: bool  # explicit FTPS (AUTH TLS) is required
    self_signed: bool  # with TLS: homesec's own self-signed certificate
    passive_ports: str  # the passive (PASV) data ports, first-last: "60000-60099"
    server_enabled: bool  # FTP_ENABLED: false means homesec's FTP server is off
    folder: str = "/"  # the account's own folder; subfolders are fine


class CameraAccountCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new camera with its FTP account, as ``homesec camera add`` makes it: its id (and FTP
    user) is the name normalised (``"Front Door"`` -> ``front_door``); without ``password``
    one is generated (20 letters and digits)."""

    name: CameraName
    password: text(64, min_length=8) | None = None


class CameraWithAccount(msgspec.Struct, kw_only=True):
    """The camera just added, and its FTP account with the password, shown this once."""

    camera: Camera
    ftp_account: FtpAccount
