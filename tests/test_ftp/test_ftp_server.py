"""homesec's FTP server with real clients (Python's ftplib, curl) on 127.0.0.1.

The server here is the one `homesec up` runs (:class:`homesec.files.ftp_server.FtpServer`),
started in the test's process with a fixed account table, so each rule is checked in
milliseconds; tests/test_ftp/test_ftp_up.py drives it through a real `homesec up`.
"""

from __future__ import annotations

import ftplib
import io
import os
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from homesec.actors.ftp_server import FtpServerActor
from homesec.files.ftp_server import AccountTable, FtpServer, FtpServerConfig
from homesec.files.ftp_tls import fingerprint, make_self_signed
from homesec.policy.camera_accounts import FtpAccount, hash_password
from homesec.policy.ftp_policy import BanPolicy
from homesec.settings import load_settings
from tests.support.waiting import eventually_blocking

PASSWORD = "porch-secret-1"
CAP = 200_000
JPEG = b"\xff\xd8\xff\xe0" + os.urandom(30_000) + b"\xff\xd9"


class Received:
    """The server's upload callback: (camera id, path) pairs, from the server's thread."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []
        self.event = threading.Event()

    def __call__(self, camera_id: str, path: str) -> None:
        self.items.append((camera_id, path))
        self.event.set()


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    found = {name: tmp_path / "cameras" / name for name in ("porch", "drive")}
    for folder in found.values():
        folder.mkdir(parents=True)
    (found["drive"] / "secret.jpg").write_bytes(b"drive's own image")
    return found


def _accounts(folders: dict[str, Path]) -> AccountTable:
    return AccountTable(
        [
            FtpAccount(
                username=name,
                camera_id=name,
                folder_path=str(folder),
                password_hash=hash_password(PASSWORD if name == "porch" else "drive-secret-1"),
            )
            for name, folder in folders.items()
        ]
    )


def _start(folders, received, **options) -> FtpServer:
    config = FtpServerConfig(
        host="127.0.0.1",
        port=0,
        max_upload_bytes=CAP,
        max_connections_per_account=options.pop("max_connections", 2),
        ban=options.pop("ban", BanPolicy(attempts=3, window_seconds=60, ban_seconds=2)),
        auth_failed_delay=0.05,
        **options,
    )
    server = FtpServer(config, _accounts(folders), received)
    server.start()
    return server


@pytest.fixture
def received() -> Received:
    return Received()


@pytest.fixture
def server(folders, received) -> Iterator[FtpServer]:
    running = _start(folders, received)
    yield running
    running.stop()


def _client(server: FtpServer, user: str = "porch", password: str = PASSWORD) -> ftplib.FTP:
    client = ftplib.FTP(timeout=10)
    client.connect(*server.address)
    client.login(user, password)
    return client


class SlowReader(io.RawIOBase):
    """A file that hands ftplib its data in small blocks with pauses, as a camera writes."""

    def __init__(self, data: bytes, block: int = 4096, pause: float = 0.01) -> None:
        self.data, self.block, self.pause, self.position = data, block, pause, 0

    def read(self, size: int = -1) -> bytes:
        time.sleep(self.pause)
        chunk = self.data[self.position : self.position + self.block]
        self.position += len(chunk)
        return chunk


def _refused(call, code: str = "550") -> str:
    with pytest.raises(ftplib.error_perm) as refused:
        call()
    assert str(refused.value).startswith(code), refused.value
    return str(refused.value)


def test_an_upload_in_slow_chunks_lands_in_the_folder_and_is_handed_over(server, folders, received):
    client = _client(server)
    client.mkd("snap")
    client.mkd("snap/2025-12-23")
    client.cwd("snap/2025-12-23")
    assert client.pwd() == "/snap/2025-12-23"
    client.storbinary("STOR front_001.jpg", SlowReader(JPEG), blocksize=4096)
    assert client.nlst() == ["front_001.jpg"]  # listing is allowed
    client.quit()
    path = folders["porch"] / "snap" / "2025-12-23" / "front_001.jpg"
    assert path.read_bytes() == JPEG
    assert received.event.wait(5)
    assert received.items == [("porch", str(path))]
    assert server.counters()["uploads"] == 1 and server.counters()["logins"] == 1


def test_curl_uploads_with_the_printed_credentials(server, folders, received, tmp_path):
    image = tmp_path / "image.jpg"
    image.write_bytes(JPEG)
    host, port = server.address
    result = subprocess.run(
        ["curl", "-sS", "--ftp-create-dirs", "-T", str(image),
         f"ftp://porch:{PASSWORD}@{host}:{port}/snap/curl.jpg"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (folders["porch"] / "snap" / "curl.jpg").read_bytes() == JPEG
    assert received.event.wait(5)
    # Reading back is refused to curl too (RETR).
    back = subprocess.run(
        ["curl", "-sS", f"ftp://porch:{PASSWORD}@{host}:{port}/snap/curl.jpg"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert back.returncode != 0 and "550" in back.stderr


def test_paths_outside_the_folder_are_refused(server, folders, tmp_path):
    client = _client(server)
    assert "outside this camera's folder" in _refused(lambda: client.cwd(".."))
    assert "outside" in _refused(lambda: client.sendcmd("CDUP"))
    _refused(lambda: client.storbinary("STOR ../x.jpg", io.BytesIO(JPEG)))
    _refused(lambda: client.storbinary("STOR ../drive/x.jpg", io.BytesIO(JPEG)))
    _refused(lambda: client.cwd("../drive"))
    _refused(lambda: client.nlst("../drive"))
    # An absolute path names a place in the folder: /etc/x is <folder>/etc/x, which has no
    # parent folder, and never the system's /etc.
    _refused(lambda: client.storbinary("STOR /etc/x", io.BytesIO(JPEG)))
    assert not Path("/etc/x").exists()
    # Symbolic links planted in the folder lead nowhere: to another camera, to /tmp, to a file.
    (folders["porch"] / "to_drive").symlink_to(folders["drive"])
    (folders["porch"] / "to_tmp").symlink_to(tmp_path)
    (folders["porch"] / "overwrite.jpg").symlink_to(folders["drive"] / "secret.jpg")
    for target in ("to_drive/x.jpg", "to_tmp/x.jpg", "overwrite.jpg"):
        assert "leads outside" in _refused(
            lambda target=target: client.storbinary(f"STOR {target}", io.BytesIO(JPEG))
        )
    assert "leads outside" in _refused(lambda: client.cwd("to_drive"))
    _refused(lambda: client.nlst("to_drive"))
    assert (folders["drive"] / "secret.jpg").read_bytes() == b"drive's own image"
    assert sorted(os.listdir(folders["drive"])) == ["secret.jpg"]
    assert not (tmp_path / "x.jpg").exists()
    # Inside the folder, climbing back up is fine.
    client.mkd("snap")
    client.cwd("snap")
    client.cwd("..")
    assert client.pwd() == "/"
    client.quit()


def test_a_hard_link_to_a_file_elsewhere_is_not_overwritten(server, folders):
    os.link(folders["drive"] / "secret.jpg", folders["porch"] / "linked.jpg")
    client = _client(server)
    _refused(lambda: client.storbinary("STOR linked.jpg", io.BytesIO(JPEG)))
    assert (folders["drive"] / "secret.jpg").read_bytes() == b"drive's own image"
    client.quit()


def test_the_account_is_write_only(server, folders, received):
    client = _client(server)
    client.storbinary("STOR a.jpg", io.BytesIO(JPEG))
    assert "reading files back" in _refused(lambda: client.retrbinary("RETR a.jpg", print))
    assert "deleting" in _refused(lambda: client.delete("a.jpg"))
    client.mkd("empty")
    _refused(lambda: client.rmd("empty"))
    _refused(lambda: client.sendcmd("APPE a.jpg"))
    _refused(lambda: client.sendcmd("REST 100"))
    _refused(lambda: client.sendcmd("SITE CHMOD 777 a.jpg"))
    # Renames: not onto an existing file, and not of a file this session did not upload.
    client.storbinary("STOR b.jpg", io.BytesIO(JPEG[:-10] + b"0123456789"))
    client.sendcmd("RNFR b.jpg")
    assert "never renamed over" in _refused(lambda: client.sendcmd("RNTO a.jpg"))
    (folders["porch"] / "old.jpg").write_bytes(b"an earlier upload")
    assert "uploaded in this session" in _refused(lambda: client.sendcmd("RNFR old.jpg"))
    assert (folders["porch"] / "a.jpg").read_bytes() == JPEG
    client.quit()


def test_an_upload_renamed_into_place_is_handed_over_under_its_new_name(server, folders, received):
    client = _client(server)
    client.storbinary("STOR snap.jpg.part", io.BytesIO(JPEG))
    client.rename("snap.jpg.part", "snap.jpg")
    client.quit()
    assert received.event.wait(5)
    # The temporary name is not handed over (the watcher ignores such names too).
    assert received.items == [("porch", str(folders["porch"] / "snap.jpg"))]
    assert (folders["porch"] / "snap.jpg").read_bytes() == JPEG


def test_an_upload_over_the_cap_is_cut_off_with_a_reason_and_deleted(server, folders, received):
    client = _client(server)
    with pytest.raises((ftplib.error_perm, OSError)) as cut:
        client.storbinary("STOR big.jpg", io.BytesIO(b"x" * (CAP * 5)))
    reply = str(cut.value) if isinstance(cut.value, ftplib.error_perm) else None
    if reply is None:  # the server closed the data connection while ftplib still sent
        with pytest.raises(ftplib.error_perm) as late:
            client.getresp()
        reply = str(late.value)
    assert reply.startswith("552") and "MAX_UPLOAD_BYTES" in reply and "deleted" in reply
    big = folders["porch"] / "big.jpg"
    eventually_blocking(lambda: not big.exists(), 5, "the oversized upload deleted", interval=0.02)
    assert received.items == []
    # The session goes on: the next upload, within the cap, works.
    client.storbinary("STOR small.jpg", io.BytesIO(JPEG))
    assert (folders["porch"] / "small.jpg").exists()
    client.quit()
    assert server.counters()["uploads_too_large"] == 1


def test_wrong_passwords_are_refused_and_repeated_failures_ban_the_address(server):
    host, port = server.address
    for user in ("porch", "nobody"):
        client = ftplib.FTP(timeout=10)
        client.connect(host, port)
        assert "Authentication failed" in _refused(
            lambda c=client, u=user: c.login(u, "wrong"), "530"
        )
        client.close()
    client = ftplib.FTP(timeout=10)
    client.connect(host, port)
    banned = _refused(lambda: client.login("porch", "wrong"), "530")
    assert "Too many failed logins" in banned
    client.close()
    # While banned even the right password gets no further than the greeting.
    client = ftplib.FTP(timeout=10)
    assert "Too many failed logins" in _refused(lambda: client.connect(host, port), "530")
    client.close()
    # Another address is not banned (the whole of 127/8 is this machine).
    other = ftplib.FTP(timeout=10, source_address=("127.0.0.2", 0))
    other.connect(host, port)
    other.login("porch", PASSWORD)
    other.quit()
    time.sleep(2.1)  # the test's ban lasts 2 s
    _client(server).quit()
    assert server.counters()["bans"] == 1


def test_connections_per_account_are_capped(server):
    first, second = _client(server), _client(server)
    third = ftplib.FTP(timeout=10)
    third.connect(*server.address)
    with pytest.raises(ftplib.error_temp) as busy:
        third.login("porch", PASSWORD)
    assert str(busy.value).startswith("421") and "FTP_MAX_CONNECTIONS_PER_ACCOUNT" in str(
        busy.value
    )
    third.close()
    _client(server, "drive", "drive-secret-1").quit()  # the cap is per account
    first.quit()
    time.sleep(0.2)
    _client(server).quit()  # a slot is free again
    second.quit()


def test_no_anonymous_login_and_no_account_until_one_is_made(folders, received):
    server = _start(folders, received)
    try:
        client = ftplib.FTP(timeout=10)
        client.connect(*server.address)
        _refused(lambda: client.login(), "530")  # ftplib logs in as anonymous
        client.close()
        server.state.accounts.replace([])
        client = ftplib.FTP(timeout=10)
        client.connect(*server.address)
        _refused(lambda: client.login("porch", PASSWORD), "530")
        client.close()
    finally:
        server.stop()


def test_a_removed_account_is_refused_at_its_next_command(server, folders):
    client = _client(server)
    server.state.accounts.replace([])
    reply = _refused(lambda: client.storbinary("STOR a.jpg", io.BytesIO(JPEG)), "530")
    assert "removed" in reply
    assert not (folders["porch"] / "a.jpg").exists()


def test_ftps_with_the_self_signed_certificate(folders, received, tmp_path):
    certfile, keyfile = tmp_path / "tls" / "c.crt", tmp_path / "tls" / "c.key"
    make_self_signed(certfile, keyfile)
    assert oct(keyfile.stat().st_mode & 0o777) == "0o600"
    assert len(fingerprint(certfile).split(":")) == 32
    server = _start(folders, received, certfile=str(certfile), keyfile=str(keyfile))
    try:
        context = ssl.create_default_context(cafile=str(certfile))
        context.check_hostname = False  # the certificate names this host, not "127.0.0.1"...
        client = ftplib.FTP_TLS(context=context, timeout=10)
        client.connect(*server.address)
        client.login("porch", PASSWORD)  # AUTH TLS first, then USER/PASS, encrypted
        client.prot_p()
        client.storbinary("STOR tls.jpg", SlowReader(JPEG))
        client.quit()
        assert (folders["porch"] / "tls.jpg").read_bytes() == JPEG
        assert received.event.wait(5)
        # FTP_TLS=true means TLS or nothing: a plain login is refused, password unsent.
        plain = ftplib.FTP(timeout=10)
        plain.connect(*server.address)
        _refused(lambda: plain.sendcmd("USER porch"), "550")
        plain.close()
    finally:
        server.stop()


def test_the_self_signed_certificate_is_made_once_under_the_data_dir(tmp_path):
    from homesec.files.ftp_tls import certificate_files

    settings = load_settings({"HOMESEC_DATA_DIR": str(tmp_path), "FTP_TLS": "true"})
    certfile, keyfile = certificate_files(settings)
    assert certfile.parent == tmp_path / "ftp"
    before = certfile.read_bytes()
    assert certificate_files(settings) == (certfile, keyfile)
    assert certfile.read_bytes() == before  # kept: a camera may have pinned it
    missing = load_settings(
        {"HOMESEC_DATA_DIR": str(tmp_path), "FTP_TLS": "true", "FTP_CERTFILE": "/nope.pem"}
    )
    with pytest.raises(FileNotFoundError, match="FTP_CERTFILE"):
        certificate_files(missing)


def test_a_taken_port_is_an_os_error_at_start(folders, received):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = FtpServerConfig(host="127.0.0.1", port=taken.getsockname()[1])
        with pytest.raises(OSError):
            FtpServer(config, _accounts(folders), received).start()


# --- issue 21: a flood of connections that never log in ------------------------------------

FLOOD_ADDRESSES = [f"127.0.0.{last}" for last in range(10, 18)]


class Flood:
    """Sockets that connect and never log in, from several loopback addresses: ``per_address``
    from each, opened at once and, while :meth:`keep_up` runs, opened again as the server
    closes them (the reconnecting attacker of issue 21)."""

    def __init__(self, address: tuple[str, int], per_address: int = 32) -> None:
        self.address, self.per_address = address, per_address
        self.open: dict[str, list[socket.socket]] = {source: [] for source in FLOOD_ADDRESSES}
        self.connects = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _connect(self, source: str) -> None:
        sock = socket.socket()
        sock.settimeout(2)
        sock.bind((source, 0))
        try:
            sock.connect(self.address)
        except OSError:
            sock.close()
            return
        sock.setblocking(False)
        self.connects += 1
        self.open[source].append(sock)

    def _prune(self) -> None:
        """Forget the sockets the server closed (it said 421 or nothing, then EOF)."""
        for source, sockets in self.open.items():
            alive = []
            for sock in sockets:
                try:
                    while True:
                        data = sock.recv(4096)
                        if not data:
                            raise ConnectionError
                except BlockingIOError:
                    alive.append(sock)
                except OSError:
                    sock.close()
            self.open[source] = alive

    def fill(self) -> None:
        for source in FLOOD_ADDRESSES:
            while len(self.open[source]) < self.per_address:
                before = len(self.open[source])
                self._connect(source)
                if len(self.open[source]) == before:
                    break

    def _keep_up(self) -> None:
        while not self._stop.is_set():
            self._prune()
            self.fill()
            self._stop.wait(0.05)

    def keep_up(self) -> None:
        self._thread = threading.Thread(target=self._keep_up, daemon=True)
        self._thread.start()

    def alive(self) -> int:
        self._prune()
        return sum(len(sockets) for sockets in self.open.values())

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for sockets in self.open.values():
            for sock in sockets:
                sock.close()


@pytest.fixture
def flood_server(folders, received) -> Iterator[FtpServer]:
    """A server with homesec's default connection limits, as `homesec up` runs it."""
    config = FtpServerConfig(host="127.0.0.1", port=0, auth_failed_delay=0.05)
    server = FtpServer(config, _accounts(folders), received)
    server.start()
    yield server
    server.stop()


def _curl_upload(server: FtpServer, image: Path, target: str = "curl.jpg", *options: str):
    host, port = server.address
    return subprocess.run(
        ["curl", "-sS", *options, "--max-time", "20", "-T", str(image),
         f"ftp://porch:{PASSWORD}@{host}:{port}/{target}"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def test_a_flood_of_connections_that_never_log_in_locks_no_camera_out(
    flood_server, folders, tmp_path
):
    """Issue 21: 32 idle sockets from each of 8 addresses took every slot (421 for the camera),
    and reconnecting every 120 s kept it so. Now connections that have not logged in have a
    small budget of their own, so curl and ftplib still log in and upload during the flood."""
    image = tmp_path / "image.jpg"
    image.write_bytes(JPEG)
    flood = Flood(flood_server.address)
    try:
        flood.fill()
        flood.keep_up()  # reconnect whatever the server drops
        time.sleep(0.3)
        result = _curl_upload(flood_server, image)
        assert result.returncode == 0, result.stderr
        assert (folders["porch"] / "curl.jpg").read_bytes() == JPEG
        client = _client(flood_server)
        client.storbinary("STOR ftplib.jpg", io.BytesIO(JPEG))
        client.quit()
        assert (folders["porch"] / "ftplib.jpg").read_bytes() == JPEG
        # Of the 256 flood sockets, few stay open: a small budget per address and in all.
        assert flood.alive() <= 32
        counters = flood_server.counters()
        assert counters["refused_unauthenticated"] > 0
        # The flood is a problem in the FTP actor's health while it goes on.
        actor = FtpServerActor("ftp_server", load_settings({}), "postgresql://-", "redis://-")
        actor.server = flood_server
        [problem] = actor.health_problems()
        assert "FTP flood" in problem.summary
        assert any(address in problem.summary for address in FLOOD_ADDRESSES)
        assert int(actor.health_detail()["turned_away_before_login_last_minute"]) > 0
        assert int(actor.health_detail()["waiting_for_login"]) <= 32
    finally:
        flood.close()


def test_a_connection_that_does_not_log_in_in_time_is_closed(folders, received):
    server = _start(folders, received, login_timeout=0.5)
    try:
        with socket.create_connection(server.address, timeout=5) as sock:
            assert sock.recv(1024).startswith(b"220")
            started = time.monotonic()
            sock.sendall(b"NOOP\r\n")  # activity does not extend the deadline
            assert sock.recv(1024).startswith(b"200")
            reply = b""
            while True:
                chunk = sock.recv(1024)
                if not chunk:
                    break
                reply += chunk
            assert reply.startswith(b"421") and b"FTP_LOGIN_TIMEOUT_SECONDS" in reply
            assert time.monotonic() - started < 3
        assert server.counters()["login_timeouts"] == 1
        # A camera that logs in in time is not cut off by the login deadline afterwards.
        client = _client(server)
        time.sleep(0.8)
        client.storbinary("STOR late.jpg", io.BytesIO(JPEG))
        client.quit()
    finally:
        server.stop()


def test_unauthenticated_connections_per_address_are_capped_and_counted(folders, received):
    server = _start(folders, received, max_unauthenticated_per_address=2)
    try:
        first = socket.create_connection(server.address, timeout=5)
        second = socket.create_connection(server.address, timeout=5)
        for sock in (first, second):
            assert sock.recv(1024).startswith(b"220")
        with socket.create_connection(server.address, timeout=5) as third:
            reply = third.recv(1024)
            assert reply.startswith(b"421") and b"not logged in" in reply
        # Another address still gets in, and logs in.
        other = ftplib.FTP(timeout=10, source_address=("127.0.0.2", 0))
        other.connect(*server.address)
        other.login("porch", PASSWORD)
        other.quit()
        first.close()
        second.close()
        assert server.counters()["refused_unauthenticated"] == 1
    finally:
        server.stop()


# --- issue 21: an account stores only what the pipeline takes ---------------------------------


def test_only_image_names_the_watcher_takes_are_stored(server, folders, received):
    client = _client(server)
    for name, why in (
        ("data.bin", "image"),
        ("movie.mp4", "image"),
        (".hidden.jpg", "dot"),
        ("notes.txt.part", "image"),
    ):
        reply = _refused(lambda name=name: client.storbinary(f"STOR {name}", io.BytesIO(JPEG)))
        assert why in reply, reply
        assert not (folders["porch"] / name).exists()
    assert "dot" in _refused(lambda: client.mkd(".stash"))
    assert not (folders["porch"] / ".stash").exists()
    (folders["porch"] / ".stash").mkdir()  # made some other way: still no upload into it
    assert "dot" in _refused(lambda: client.storbinary("STOR .stash/blob.bin", io.BytesIO(JPEG)))
    assert "dot" in _refused(lambda: client.storbinary("STOR .stash/x.jpg", io.BytesIO(JPEG)))
    assert os.listdir(folders["porch"] / ".stash") == []
    # A temporary name may only be renamed into a name the watcher takes.
    client.storbinary("STOR a.jpg.part", io.BytesIO(JPEG))
    client.sendcmd("RNFR a.jpg.part")
    assert "image" in _refused(lambda: client.sendcmd("RNTO a.bin"))
    # Images, in subfolders too, upper-case extensions too, go in.
    client.mkd("snap")
    client.storbinary("STOR snap/ok.JPG", io.BytesIO(JPEG))
    client.storbinary("STOR ok.png", io.BytesIO(JPEG))
    client.quit()
    assert (folders["porch"] / "snap" / "ok.JPG").exists()
    assert server.counters()["refused_names"] >= 6


def test_a_camera_over_its_quota_is_refused_with_552(folders, received):
    server = _start(folders, received, camera_quota_bytes=100_000)
    try:
        (folders["porch"] / "old.jpg").write_bytes(b"x" * 90_000)
        client = _client(server)
        client.storbinary("STOR first.jpg", io.BytesIO(JPEG))  # 90 000 bytes: under the quota
        reply = _refused(lambda: client.storbinary("STOR second.jpg", io.BytesIO(JPEG)), "552")
        assert "FTP_CAMERA_QUOTA_BYTES" in reply
        assert not (folders["porch"] / "second.jpg").exists()
        client.quit()
        # The quota is per camera.
        other = _client(server, "drive", "drive-secret-1")
        other.storbinary("STOR fine.jpg", io.BytesIO(JPEG))
        other.quit()
        assert server.counters()["refused_quota"] == 1
        assert set(server.state.over_quota) == {"porch"}  # the actor's health names it
    finally:
        server.stop()


# --- replies that tell the camera what became of its file (issue 22) -------------------------


def test_a_file_that_is_no_image_or_empty_is_answered_550_with_the_reason(
    server, folders, received, tmp_path
):
    client = _client(server)
    reply = _refused(lambda: client.storbinary("STOR notes.jpg", io.BytesIO(b"hello " * 400)))
    assert "not a JPEG or PNG image" in reply, reply
    reply = _refused(lambda: client.storbinary("STOR empty.jpg", io.BytesIO(b"")))
    assert "empty" in reply, reply
    client.storbinary("STOR fine.jpg", io.BytesIO(JPEG))  # an image still gets 226
    client.quit()
    # curl prints the reason and fails.
    text_file = tmp_path / "text.jpg"
    text_file.write_text("not an image at all\n" * 100)
    curl = _curl_upload(server, text_file, "curl_text.jpg")
    assert curl.returncode == 18 and "got 550" in curl.stderr, curl.stderr
    curl = _curl_upload(server, text_file, "curl_text.jpg", "-v")  # -v: the server's words
    assert "< 550 Rejected (not_an_image): not a JPEG or PNG image" in curl.stderr, curl.stderr
    # They are handed over all the same: the watcher records them as rejected and sets them
    # aside.
    porch = folders["porch"]
    handed = [path for _, path in received.items]
    for name in ("notes.jpg", "empty.jpg", "fine.jpg", "curl_text.jpg"):
        assert str(porch / name) in handed
    counters = server.counters()
    assert counters["uploads_rejected"] == 4 and counters["uploads"] == 5


def test_curl_hears_why_an_upload_over_the_cap_was_refused(server, folders, received, tmp_path):
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(CAP * 5))
    curl = _curl_upload(server, big, "big.jpg")
    assert "reset by peer" not in curl.stderr, curl.stderr
    assert curl.returncode == 70 and "Exceeded storage allocation" in curl.stderr, curl.stderr
    curl = _curl_upload(server, big, "big.jpg", "-v")  # -v: the server's words
    assert "< 552 Upload refused: larger than" in curl.stderr, curl.stderr
    assert "MAX_UPLOAD_BYTES" in curl.stderr
    assert not (folders["porch"] / "big.jpg").exists()
    assert received.items == []
    # ftplib hears it as the answer to its STOR, without a broken pipe.
    client = _client(server)
    reply = _refused(
        lambda: client.storbinary("STOR big2.jpg", io.BytesIO(b"x" * (CAP * 5))), "552"
    )
    assert "MAX_UPLOAD_BYTES" in reply
    client.storbinary("STOR small.jpg", io.BytesIO(JPEG))  # the session goes on
    client.quit()
    assert server.counters()["uploads_too_large"] == 3


def test_a_ban_is_listed_with_the_accounts_tried_and_lifted_at_once(folders, received):
    ban = BanPolicy(attempts=3, window_seconds=60, ban_seconds=600)
    server = _start(folders, received, ban=ban)
    try:
        host, port = server.address
        for user in ("porch", "porch", "admin"):
            guess = ftplib.FTP(timeout=10, source_address=("127.0.0.4", 0))
            guess.connect(host, port)
            _refused(lambda g=guess, u=user: g.login(u, "wrong"), "530")
            guess.close()
        [listed] = server.state.active_bans()
        assert listed.address == "127.0.0.4" and listed.accounts == ["porch", "admin"]
        assert 590 < listed.until - time.time() <= 600 and listed.since <= time.time()
        camera = ftplib.FTP(timeout=10, source_address=("127.0.0.4", 0))
        assert "Too many failed logins" in _refused(lambda: camera.connect(host, port), "530")
        camera.close()
        assert server.state.unban("127.0.0.4") is True
        assert server.state.active_bans() == []
        assert server.state.unban("127.0.0.4") is False  # nothing left to lift
        camera = ftplib.FTP(timeout=10, source_address=("127.0.0.4", 0))
        camera.connect(host, port)
        camera.login("porch", PASSWORD)  # the right password works again at once
        camera.storbinary("STOR after_unban.jpg", io.BytesIO(JPEG))
        camera.quit()
    finally:
        server.stop()
