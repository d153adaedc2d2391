"""`homesec camera add|passwd|remove|list|unban`: the cameras' FTP accounts, from the command
line.

They talk to PostgreSQL only, so they work whether or not `homesec up` runs: the configured
``DATABASE_URL``, else the running homesec's (its run file names the embedded server), else the
embedded server under the data dir, started for the command. A running FTP server picks the
change up within seconds.

``add`` prints what a camera's FTP settings page asks for; the password is shown this once
(generated when not given). ``remove`` deletes the camera's account and rows (uploads,
detections, events) and moves its folder, images and all, to ``<FOSCAM_BASE_PATH>/.removed/``,
so no image is lost and discovery does not bring the camera back.

``unban`` is the exception: a ban lives only in the running FTP server's memory, so it asks the
running homesec's FtpServer actor (through Ray, as ``homesec status`` does) to lift it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import ipaddress
from collections.abc import Callable, Iterator
from pathlib import Path

from homesec.contract.errors import HomesecError
from homesec.files.network import lan_address
from homesec.policy.camera_accounts import ftp_server_facts, generate_password, password_problem
from homesec.policy.cameras import CameraFolder, InvalidCameraId, normalize_camera_id
from homesec.settings import Settings

Say = Callable[[str], None]
LIST_HEADERS = ("CAMERA", "NAME", "FTP USER", "FOLDER")


class CameraCommandError(HomesecError):
    """A camera command that cannot be done as asked (the message says what to do)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="camera_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="register a camera and make its FTP account")
    add.add_argument("name", help='the camera\'s name, such as "Front Door" (id: front_door)')
    add.add_argument("--password", help="its password (default: a generated one)")
    passwd = actions.add_parser("passwd", help="give a camera's account a new password")
    passwd.add_argument("name")
    passwd.add_argument("--password", help="the new password (default: a generated one)")
    remove = actions.add_parser(
        "remove", help="remove a camera, its account and its rows; its folder is archived"
    )
    remove.add_argument("name")
    actions.add_parser("list", help="the cameras and their FTP accounts")
    unban = actions.add_parser(
        "unban", help="let an address banned after failed FTP logins log in again at once"
    )
    unban.add_argument("address", help="the banned IP address (health and /api/ftp/bans name it)")


@contextlib.contextmanager
def database_url_for_command(settings: Settings) -> Iterator[str]:
    from homesec.ops import migrate
    from homesec.ops.services import local_services
    from homesec.ops.status import read_run_state

    run = read_run_state(settings)
    if settings.database_url is None and run is not None and run.database_url:
        yield run.database_url  # the running homesec's, migrated by it
        return
    with local_services(settings, need_redis=False) as endpoints:
        if run is None:  # nobody migrated it in this version yet, perhaps
            migrate.upgrade(endpoints.database_url)
        yield endpoints.database_url


def _camera_id(name: str) -> str:
    try:
        return normalize_camera_id(name)
    except InvalidCameraId as exc:
        raise CameraCommandError(str(exc)) from None


def _password(given: str | None) -> str:
    if given is None:
        return generate_password()
    problem = password_problem(given)
    if problem is not None:
        raise CameraCommandError(f"--password: {problem}")
    return given


def _server_lines(settings: Settings, username: str, password: str, folder: str) -> list[str]:
    facts = ftp_server_facts(settings, lan_address())
    lines = [
        f"  Server:    {facts.server}",
        f"  Port:      {facts.port}",
        f"  User:      {username}",
        f"  Password:  {password}   (shown once)",
        f"  Folder:    {facts.folder}   (the account's own folder; subfolders are fine)",
        f"  TLS:       {facts.tls_words}",
        f"  Passive:   yes (ports {facts.passive_words})",
        f"Images land in {folder}",
    ]
    if not facts.enabled:
        lines.append("Note: FTP_ENABLED is false: homesec's FTP server is off.")
    return lines


async def with_sessions(database_url: str, work):
    from homesec.store.database import create_engine, session_factory

    engine = create_engine(database_url, pool_size=1)
    try:
        return await work(session_factory(engine))
    finally:
        await engine.dispose()


def camera_add(settings: Settings, name: str, password: str | None, say: Say = print) -> int:
    from homesec.store import camera_accounts

    camera_id, secret = _camera_id(name), _password(password)
    folder = settings.foscam_base_path / camera_id
    camera = CameraFolder(camera_id, name, str(folder))
    with database_url_for_command(settings) as url:
        try:
            account = asyncio.run(
                with_sessions(url, lambda s: camera_accounts.create_account(s, camera, secret))
            )
        except camera_accounts.AccountExists:
            raise CameraCommandError(
                f"camera {camera_id!r} has an FTP account already; "
                f"`homesec camera passwd {camera_id}` gives it a new password"
            ) from None
    Path(account.folder_path).mkdir(parents=True, exist_ok=True)
    say(f"Camera {name!r} ({camera_id}) may upload now. In its FTP settings, enter:")
    for line in _server_lines(settings, account.username, secret, account.folder_path):
        say(line)
    return 0


def camera_passwd(settings: Settings, name: str, password: str | None, say: Say = print) -> int:
    from homesec.store import camera_accounts

    camera_id, secret = _camera_id(name), _password(password)
    with database_url_for_command(settings) as url:
        account = asyncio.run(
            with_sessions(url, lambda s: camera_accounts.set_password(s, camera_id, secret))
        )
    if account is None:
        raise CameraCommandError(
            f"camera {camera_id!r} has no FTP account; `homesec camera add {name}` makes one"
        )
    say(f"New password for {account.username}: {secret}   (shown once)")
    say("Enter it in the camera's FTP settings; the old one stops working within seconds.")
    return 0


def camera_remove(settings: Settings, name: str, say: Say = print) -> int:
    from homesec.files.camera_folders import archive_folder
    from homesec.store import camera_accounts, cameras

    camera_id = _camera_id(name)
    with database_url_for_command(settings) as url:
        known = asyncio.run(with_sessions(url, cameras.registered_cameras))
        camera = next((c for c in known if c.camera_id == camera_id), None)
        if camera is None:
            raise CameraCommandError(f"no camera {camera_id!r}; `homesec camera list` shows them")
        # The folder first: a discovery between the two steps must not register it again.
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        archived = archive_folder(Path(camera.folder_path), settings.foscam_base_path, stamp)
        asyncio.run(with_sessions(url, lambda s: camera_accounts.remove_camera(s, camera_id)))
    say(f"Removed camera {camera_id}: its FTP account, uploads, detections and events.")
    if archived is not None:
        say(f"Its images were kept in {archived}")
    return 0


def camera_list(settings: Settings, say: Say = print) -> int:
    from homesec.store import camera_accounts, cameras

    async def read(sessions):
        return (
            await cameras.registered_cameras(sessions),
            await camera_accounts.list_accounts(sessions),
        )

    with database_url_for_command(settings) as url:
        known, accounts = asyncio.run(with_sessions(url, read))
    users = {account.camera_id: account for account in accounts}
    if not known:
        say('No cameras yet: `homesec camera add "Front Door"` makes one.')
        return 0
    rows = [
        (
            camera.camera_id,
            camera.name,
            users[camera.camera_id].username if camera.camera_id in users else "(no account)",
            camera.folder_path,
        )
        for camera in sorted(known, key=lambda c: c.camera_id)
    ]
    # Columns as wide as their longest entry: a long name never runs into the next column.
    widths = [
        max(len(header), *(len(row[i]) for row in rows))
        for i, header in enumerate(LIST_HEADERS[:3])
    ]
    for row in [LIST_HEADERS, *rows]:
        say(
            "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=False))
            + f"  {row[3]}"
        )
    return 0


def _lift_ban(settings: Settings, address: str) -> bool:
    """Ask the running homesec's FTP server to lift the ban of ``address``."""
    from homesec.actors import ray_gateway
    from homesec.contract import actor_names
    from homesec.ops.status import connect_to_running, read_run_state

    run = read_run_state(settings)
    if run is None:
        raise CameraCommandError(
            "homesec is not running, so no address is banned: bans live only in the running "
            "FTP server's memory"
        )
    connect_to_running(run)
    try:
        handle = ray_gateway.lookup(actor_names.FTP_SERVER)
        if handle is None:
            raise CameraCommandError(
                "homesec's FTP server is not running (FTP_ENABLED), so no address is banned"
            )
        return ray_gateway.call_blocking(handle, "unban", address, timeout=10)
    finally:
        ray_gateway.disconnect()


def camera_unban(settings: Settings, address: str, say: Say = print) -> int:
    try:
        address = str(ipaddress.ip_address(address))
    except ValueError:
        raise CameraCommandError(f"{address!r} is not an IP address") from None
    if not _lift_ban(settings, address):
        raise CameraCommandError(
            f"{address} is not banned by the FTP server (GET /api/ftp/bans lists the bans)"
        )
    say(f"Lifted the FTP ban of {address}: it may log in again now.")
    say("If it is a camera, make sure it has the right password, or it is banned again.")
    return 0


def run(settings: Settings, args: argparse.Namespace, say: Say = print) -> int:
    if args.camera_command == "add":
        return camera_add(settings, args.name, args.password, say)
    if args.camera_command == "passwd":
        return camera_passwd(settings, args.name, args.password, say)
    if args.camera_command == "remove":
        return camera_remove(settings, args.name, say)
    if args.camera_command == "unban":
        return camera_unban(settings, args.address, say)
    return camera_list(settings, say)
