"""A camera set up with what `homesec camera add` printed delivers to a real `homesec up`.

One `homesec up` (the scripted detector and the rules engine, as the e2e tests use) with its
FTP server on 127.0.0.1; Python's ftplib and curl are the cameras. The folder watcher polls with
a 30 s settle time here, so an event within seconds of the upload is the FTP server's hand-over
to the watcher, not the watcher's own discovery.
"""

from __future__ import annotations

import asyncio
import ftplib
import io
import json
import re
import secrets
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.homesec_process import homesec, start_up, with_ftp_ports
from tests.support.homesec_process import up_env as homesec_env
from tests.support.images import BLUE, RED, jpeg_bytes
from tests.support.waiting import eventually_blocking

pytestmark = [pytest.mark.slow]


class Channel:
    """``security_events`` messages about one camera, collected on a thread."""

    def __init__(self, redis_url: str, camera_id: str) -> None:
        self.camera_id = camera_id
        self.messages: list[tuple[float, dict]] = []
        self._pubsub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
        self._pubsub.subscribe("security_events")
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._stop = threading.Event()
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            message = self._pubsub.get_message(timeout=0.2)
            if message is None:
                continue
            payload = json.loads(message["data"])
            if payload.get("data", {}).get("camera_id") == self.camera_id:
                self.messages.append((time.monotonic(), payload))

    def of_type(self, kind: str) -> list[tuple[float, dict]]:
        return [(at, payload) for at, payload in self.messages if payload["type"] == kind]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._pubsub.close()


def _ledger(database_url: str, camera_id: str) -> dict[str, str]:
    async def read() -> dict[str, str]:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    text("SELECT file_path, status FROM uploads WHERE camera_id = :camera"),
                    {"camera": camera_id},
                )
                return {path: status for path, status in rows}
        finally:
            await engine.dispose()

    return asyncio.run(read())


class SlowReader(io.RawIOBase):
    def __init__(self, data: bytes, chunks: int = 8, pause: float = 0.1) -> None:
        self.data, self.step, self.pause, self.position = data, len(data) // chunks + 1, pause, 0

    def read(self, size: int = -1) -> bytes:
        time.sleep(self.pause)
        chunk = self.data[self.position : self.position + self.step]
        self.position += len(chunk)
        return chunk


@pytest.fixture
def up_env(service_data_dir: Path, fresh_database_url: str, redis_url: str) -> dict[str, str]:
    env = homesec_env(
        service_data_dir / "data",
        fresh_database_url,
        redis_url,
        FILE_WATCHER_POLLING="true",
        UPLOAD_SETTLE_SECONDS="30",
        FTP_BAN_ATTEMPTS="3",
        FTP_BAN_SECONDS="600",
        MAX_UPLOAD_BYTES="500000",
    )
    return with_ftp_ports(env)  # fixed now: `camera add` must print the ports `up` uses


def test_a_camera_set_up_with_the_printed_credentials_delivers_events(up_env, fresh_database_url):
    env = up_env
    camera_id = f"porch_{secrets.token_hex(3)}"
    host, port = "127.0.0.1", int(env["FTP_PORT"])
    process, output = start_up(env)
    channel = Channel(env["REDIS_URL"], camera_id)
    try:
        assert f"Camera FTP: 127.0.0.1:{port}" in output
        added = homesec("camera", "add", camera_id.replace("_", " ").title(), env=env)
        assert added.returncode == 0, added.stderr
        printed = dict(re.findall(r"^  (\w+):\s+(\S+)", added.stdout, flags=re.M))
        assert printed["User"] == camera_id and printed["Port"] == str(port)
        assert printed["Folder"] == "/" and "TLS:       no" in added.stdout
        password = printed["Password"]
        listed = homesec("camera", "list", env=env)
        assert camera_id in listed.stdout and password not in listed.stdout

        def logged_in():
            try:
                client = ftplib.FTP(timeout=10)
                client.connect(host, port)
                client.login(camera_id, password)
                return client
            except ftplib.error_perm:  # the server has not read the new account yet
                return None
            except OSError:  # the supervisor has not started the FTP server yet
                return None

        client = eventually_blocking(
            logged_in, timeout=60, what="the FTP server and the new account", interval=0.2
        )
        # Its watcher (started by the supervisor's next cycle) is there before the upload.
        status = lambda: homesec("status", "--json", env=env, timeout=60).stdout  # noqa: E731
        eventually_blocking(
            lambda: f"watcher:{camera_id}" in status(),
            timeout=60,
            what="the camera's watcher",
            interval=1,
        )

        # A camera's upload: into dated subfolders it makes, in slow chunks.
        client.mkd("snap")
        client.mkd("snap/2025-12-23")
        client.cwd("snap/2025-12-23")
        client.storbinary("STOR person_001.jpg", SlowReader(jpeg_bytes(RED, seed=11)))
        stored_at = time.monotonic()
        client.quit()
        try:
            at, event = eventually_blocking(
                lambda: channel.of_type("event")[:1],
                timeout=20,
                what="the fast-path event",
                interval=0.2,
            )[0]
        except AssertionError as missing:  # say where the upload got to
            ledger = _ledger(fresh_database_url, camera_id)
            raise AssertionError(f"{missing}; the ledger says {ledger}") from None
        assert event["data"]["is_fast_path"] is True
        assert at - stored_at < 15, "came by the settle time, not by the FTP hand-over"

        # curl as the other camera client, with the printed credentials.
        image = Path(env["HOMESEC_DATA_DIR"]) / "car.jpg"
        image.write_bytes(jpeg_bytes(BLUE, seed=12))
        curl = subprocess.run(
            ["curl", "-sS", "-T", str(image), f"ftp://{camera_id}:{password}@{host}:{port}/"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert curl.returncode == 0, curl.stderr
        folder = Path(env["HOMESEC_DATA_DIR"]) / "cameras" / camera_id
        expected = {
            str(folder / "snap" / "2025-12-23" / "person_001.jpg"): "done",
            str(folder / "car.jpg"): "done",
        }
        eventually_blocking(
            lambda: _ledger(fresh_database_url, camera_id) == expected,
            timeout=20,
            what="both uploads done in the ledger",
            interval=0.2,
        )
        eventually_blocking(
            lambda: len(channel.of_type("event")) >= 2,
            timeout=20,
            what="the batch's event",
            interval=0.2,
        )
        assert channel.of_type("detection.new")

        # A wrong password is refused; repeated failures ban the address (127.0.0.3 here, so
        # the other clients of this test stay welcome).
        for attempt in range(3):
            guess = ftplib.FTP(timeout=10, source_address=("127.0.0.3", 0))
            guess.connect(host, port)
            with pytest.raises(ftplib.error_perm, match=r"^530"):
                guess.login(camera_id, f"wrong-{attempt}")
            guess.close()
        banned = ftplib.FTP(timeout=10, source_address=("127.0.0.3", 0))
        with pytest.raises(ftplib.error_perm, match=r"^530 Too many failed logins"):
            banned.connect(host, port)
        banned.close()
        # The ban is in health with its remedy and in the API (through the FtpServer actor),
        # and `homesec camera unban` lifts it at once (issue 22).
        api = f"http://127.0.0.1:{env['HOMESEC_PORT']}"
        bans = httpx.get(f"{api}/api/ftp/bans", timeout=10).json()
        assert [(b["address"], b["accounts"]) for b in bans["items"]] == [
            ("127.0.0.3", [camera_id])
        ]

        def ban_problem():
            health = httpx.get(f"{api}/api/system/health", timeout=10).json()
            return [p for p in health["problems"] if "127.0.0.3 is banned" in p["summary"]]

        [problem] = eventually_blocking(
            ban_problem, timeout=20, what="the ban in health", interval=0.2
        )
        assert "homesec camera unban 127.0.0.3" in problem["remedy"]
        unbanned = homesec("camera", "unban", "127.0.0.3", env=env)
        assert unbanned.returncode == 0, unbanned.stderr
        lifted = ftplib.FTP(timeout=10, source_address=("127.0.0.3", 0))
        lifted.connect(host, port)
        lifted.login(camera_id, password)
        lifted.quit()
        assert httpx.get(f"{api}/api/ftp/bans", timeout=10).json()["count"] == 0
        gone = httpx.delete(f"{api}/api/ftp/bans/127.0.0.3", timeout=10)
        assert gone.status_code == 404

        # A text file named .jpg: curl hears 550, and the file leaves the camera's folder.
        notes = Path(env["HOMESEC_DATA_DIR"]) / "notes.jpg"
        notes.write_text("not an image\n" * 200)
        curl = subprocess.run(
            ["curl", "-sS", "-T", str(notes), f"ftp://{camera_id}:{password}@{host}:{port}/"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert "got 550" in curl.stderr, curl.stderr
        aside = Path(env["HOMESEC_DATA_DIR"]) / "cameras" / ".rejected" / camera_id / "notes.jpg"
        eventually_blocking(
            aside.exists, timeout=20, what="the rejected file set aside", interval=0.2
        )
        assert not (folder / "notes.jpg").exists()
        assert _ledger(fresh_database_url, camera_id)[str(folder / "notes.jpg")] == "rejected"
        camera = httpx.get(f"{api}/api/cameras/{camera_id}", timeout=10).json()
        assert camera["rejected_uploads"] == 1

        # Reading back and deleting are refused to the camera itself.
        client = ftplib.FTP(timeout=10)
        client.connect(host, port)
        client.login(camera_id, password)
        with pytest.raises(ftplib.error_perm, match=r"^550"):
            client.retrbinary("RETR car.jpg", print)
        with pytest.raises(ftplib.error_perm, match=r"^550"):
            client.delete("car.jpg")
        client.quit()

        # Removing the camera ends its account within seconds and keeps its images.
        removed = homesec("camera", "remove", camera_id, env=env)
        assert removed.returncode == 0, removed.stderr
        archived = Path(re.search(r"kept in (\S+)", removed.stdout)[1])
        assert (archived / "car.jpg").is_file() and not folder.exists()

        def refused():
            try:
                logged_in_again = ftplib.FTP(timeout=10)
                logged_in_again.connect(host, port)
                logged_in_again.login(camera_id, password)
                logged_in_again.quit()
                return False
            except ftplib.error_perm:
                return True

        eventually_blocking(
            refused, timeout=20, what="the removed account to be refused", interval=0.2
        )
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=90)
    finally:
        channel.close()
        if process.poll() is None:  # a failure above: stop it as Ctrl-C would, so its Ray head
            process.send_signal(signal.SIGINT)  # and actors go too (a kill leaves them behind)
            try:
                process.communicate(timeout=90)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(30)
    assert process.returncode == 0, output + rest
