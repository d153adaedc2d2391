"""The FTP server's rules as plain functions: paths, commands, renames, bans, passwords."""

from __future__ import annotations

from pathlib import Path

import pytest

from homesec.policy.camera_accounts import (
    ftp_server_facts,
    generate_password,
    hash_password,
    password_problem,
    verify_password,
)
from homesec.policy.ftp_policy import (
    PRESSURE_WINDOW_SECONDS,
    AddressRecord,
    Admission,
    BanPolicy,
    LoginBans,
    Pending,
    UnauthenticatedConnections,
    UnauthenticatedPolicy,
    admit_unauthenticated,
    banned_for,
    command_refusal,
    confine,
    folder_refusal,
    inside,
    list_target,
    over_connection_cap,
    quota_refusal,
    record_failure,
    rename_refusal,
    store_name_refusal,
)
from homesec.policy.uploads import is_ignored_name, upload_name_refusal
from tests.support.settings import make_settings


@pytest.mark.parametrize(
    ("cwd", "argument", "expected"),
    [
        ("/", "snap/a.jpg", "/snap/a.jpg"),
        ("/snap", "2025-12-23/a.jpg", "/snap/2025-12-23/a.jpg"),
        ("/snap", "../b.jpg", "/b.jpg"),  # climbing inside the folder is fine
        ("/snap", "/other/./c.jpg", "/other/c.jpg"),  # absolute: from the folder's top
        ("/", "/etc/x", "/etc/x"),  # i.e. <folder>/etc/x, never the system's /etc
        ("/", ".", "/"),
        ("/", "..", None),
        ("/", "../x.jpg", None),
        ("/snap", "../../x.jpg", None),
        ("/", "/../etc/passwd", None),
        ("/", "a/../../b", None),
        ("/", "../other_camera/x.jpg", None),
        ("/", "a\x00b", None),
    ],
)
def test_paths_are_confined_to_the_folder_and_never_clamped(cwd, argument, expected):
    assert confine(cwd, argument) == expected


def test_inside_compares_whole_components():
    assert inside("/data/cameras/porch", "/data/cameras/porch")
    assert inside("/data/cameras/porch", "/data/cameras/porch/snap/a.jpg")
    assert not inside("/data/cameras/porch", "/data/cameras/porch2/a.jpg")
    assert not inside("/data/cameras/porch", "/data/cameras/drive/a.jpg")
    assert not inside("/data/cameras/porch", "/etc/passwd")


def test_list_arguments_lose_their_ls_options():
    assert list_target("-la") == ""
    assert list_target("-l -a snap") == "snap"
    assert list_target("snap/2025") == "snap/2025"


def test_the_account_is_write_only():
    for allowed in ("STOR", "MKD", "CWD", "CDUP", "LIST", "NLST", "MLSD", "PWD", "PASV", "RNFR"):
        assert command_refusal(allowed) is None, allowed
    for refused in ("RETR", "DELE", "RMD", "APPE", "REST", "STOU", "SITE CHMOD", "MFMT"):
        reply = command_refusal(refused)
        assert reply is not None and reply.startswith("550 "), refused
    assert "write-only" in command_refusal("RETR")
    assert command_refusal("SITE SYMLINK").startswith("502 ")
    assert command_refusal("XYZZY").startswith("502 ")


def test_renames_only_of_this_sessions_uploads_and_never_over_a_file():
    assert rename_refusal(uploaded_here=True, target_exists=False) is None
    assert "uploaded in this session" in rename_refusal(uploaded_here=False, target_exists=False)
    assert "never renamed over" in rename_refusal(uploaded_here=True, target_exists=True)


def test_connection_cap():
    assert not over_connection_cap(3, 4)
    assert over_connection_cap(4, 4)


POLICY = BanPolicy(attempts=3, window_seconds=60.0, ban_seconds=300.0)


def test_a_ban_starts_at_the_nth_failure_inside_the_window_and_ends():
    record = AddressRecord()
    record = record_failure(record, 0.0, POLICY)
    record = record_failure(record, 10.0, POLICY)
    assert banned_for(record, 10.0) == 0
    record = record_failure(record, 20.0, POLICY)
    assert banned_for(record, 20.0) == 300.0
    assert banned_for(record, 319.0) == pytest.approx(1.0)
    assert banned_for(record, 320.0) == 0
    assert record.failures == ()  # counted afresh after a ban


def test_failures_outside_the_window_do_not_count():
    record = AddressRecord()
    for now in (0.0, 100.0, 200.0, 300.0):  # one a 100 s: never 3 within 60 s
        record = record_failure(record, now, POLICY)
        assert banned_for(record, now) == 0
    assert len(record.failures) == 1


def test_login_bans_keep_addresses_apart_and_count_bans():
    bans = LoginBans(POLICY)
    assert bans.failed("10.0.0.5", 0.0) == 0
    assert bans.failed("10.0.0.5", 1.0) == 0
    assert bans.failed("10.0.0.9", 1.5) == 0
    assert bans.failed("10.0.0.5", 2.0) == 300.0
    assert bans.banned_for("10.0.0.5", 3.0) == pytest.approx(299.0)
    assert bans.banned_for("10.0.0.9", 3.0) == 0
    assert bans.active(3.0) == 1 and bans.bans == 1
    assert bans.active(400.0) == 0


def test_generated_passwords_are_long_plain_and_different():
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        assert len(password) == 20 and password.isalnum() and password_problem(password) is None
        assert not set(password) & set("0O1lI")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "8 to 64"),
        ("x" * 65, "8 to 64"),
        ("with space", "no spaces"),
        ("pässwörd", "ASCII"),
    ],
)
def test_unusable_passwords_are_named(password, problem):
    assert problem in password_problem(password)


def test_hashes_are_salted_self_describing_and_verify():
    first, second = hash_password("hunter2hunter2"), hash_password("hunter2hunter2")
    assert first != second  # a random salt each
    assert first.startswith("scrypt$n=16384,r=8,p=1$")
    assert verify_password("hunter2hunter2", first) and verify_password("hunter2hunter2", second)
    assert not verify_password("hunter2hunter3", first)
    for broken in ("", "scrypt$", "md5$x$y$z", "scrypt$n=1,r=8,p=1$AAAA$AAAA", first[:-4]):
        assert not verify_password("hunter2hunter2", broken), broken


def test_the_server_a_camera_is_given_is_the_one_it_can_reach():
    facts = ftp_server_facts(make_settings(), "192.168.1.20")  # FTP_HOST 0.0.0.0: every interface
    assert (facts.server, facts.port, facts.folder) == ("192.168.1.20", 2121, "/")
    assert facts.tls_words == "no (plain FTP)" and facts.passive_words == "60000-60099"
    assert facts.enabled
    bound = ftp_server_facts(make_settings(ftp_host="10.0.0.2", ftp_port=21), "192.168.1.20")
    assert (bound.server, bound.port) == ("10.0.0.2", 21)
    behind_nat = ftp_server_facts(make_settings(ftp_masquerade_address="203.0.113.9"), "172.17.0.2")
    assert behind_nat.server == "203.0.113.9"
    tls = ftp_server_facts(make_settings(ftp_tls=True, ftp_enabled=False), "192.168.1.20")
    assert tls.tls_words == "yes: explicit FTPS (FTP over TLS, AUTH TLS), self-signed certificate"
    assert not tls.enabled
    own = ftp_server_facts(make_settings(ftp_tls=True, ftp_certfile=Path("/etc/c.pem")), "h")
    assert own.tls_words == "yes: explicit FTPS (FTP over TLS, AUTH TLS)"


# --- issue 21: connections that have not logged in -----------------------------------------

PENDING_POLICY = UnauthenticatedPolicy(login_timeout_seconds=10, max_total=4, max_per_address=2)


def _pending(*addresses: str) -> list[Pending]:
    return [Pending(key, address, float(key)) for key, address in enumerate(addresses)]


def test_unauthenticated_connections_are_capped_per_address():
    assert admit_unauthenticated([], "10.0.0.5", PENDING_POLICY) == Admission(True)
    refused = admit_unauthenticated(_pending("10.0.0.5", "10.0.0.5"), "10.0.0.5", PENDING_POLICY)
    assert not refused.admit and "10.0.0.5" in refused.reason
    assert admit_unauthenticated(_pending("10.0.0.5", "10.0.0.5"), "10.0.0.6", PENDING_POLICY).admit


def test_a_full_budget_makes_room_from_the_busiest_address_never_from_a_quieter_one():
    flood = _pending("10.0.0.66", "10.0.0.77", "10.0.0.66", "10.0.0.77")
    # A camera (no connection waiting) gets in: the oldest of a busiest address goes.
    assert admit_unauthenticated(flood, "10.0.0.5", PENDING_POLICY) == Admission(True, evict=0)
    # An address as busy as every other cannot push anybody out.
    even = _pending("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4")
    refused = admit_unauthenticated(even, "10.0.0.1", PENDING_POLICY)
    assert not refused.admit and "all addresses" in refused.reason
    # One waiting camera among a flood is never the one evicted.
    mixed = _pending("10.0.0.66", "10.0.0.5", "10.0.0.66", "10.0.0.77")
    assert admit_unauthenticated(mixed, "10.0.0.77", PENDING_POLICY) == Admission(True, evict=0)


def test_refusals_and_evictions_are_a_flood_for_a_minute():
    book = UnauthenticatedConnections(PENDING_POLICY)
    for key, address in enumerate(["a", "a", "b", "b"]):
        assert book.admit(key, address, now=100.0).admit
    assert book.pressure(100.0) is None and len(book) == 4
    assert not book.admit(10, "a", now=101.0).admit  # per address
    decision = book.admit(11, "camera", now=102.0)  # evicts a's oldest
    assert decision == Admission(True, evict=0) and 0 not in book and 11 in book
    pressure = book.pressure(102.0)
    assert pressure is not None
    assert (pressure.refused, pressure.evicted, pressure.addresses[0]) == (1, 1, "a")
    book.settled(11)  # the camera logged in
    assert len(book) == 3
    assert book.pressure(101.0 + PRESSURE_WINDOW_SECONDS + 1.1) is None


@pytest.mark.parametrize(
    ("relative", "taken"),
    [
        ("snap.jpg", True),
        ("FI9821P/snap/MDAlarm_20251223-081502.JPG", True),
        ("2025-12-23/cam.png", True),
        ("a.jpeg", True),
        ("snap.jpg.part", True),  # the step before its rename into place
        ("snap.jpg.filepart", True),
        ("data.bin", False),
        ("movie.mp4", False),
        (".hidden.jpg", False),
        (".stash/blob.bin", False),
        (".stash/x.jpg", False),
        ("notes.txt.part", False),
        ("x.tmp", False),
        ("", False),
    ],
)
def test_only_names_the_watcher_takes_may_be_stored(relative, taken):
    assert (upload_name_refusal(relative) is None) is taken
    assert (store_name_refusal("/" + relative) is None) is taken
    if taken and not relative.endswith((".part", ".filepart")):
        assert not is_ignored_name(relative)  # the watcher's own rule agrees


def test_a_rename_must_land_on_an_image_name_and_folders_must_be_watched():
    assert store_name_refusal("/a.jpg.part", temporary_allowed=False) is not None
    assert store_name_refusal("/a.jpg", temporary_allowed=False) is None
    assert folder_refusal("/snap/2025-12-23") is None
    assert "dot" in (folder_refusal("/.stash") or "")
    assert "dot" in (folder_refusal("/snap/.x") or "")


def test_a_folder_at_its_quota_takes_nothing_more():
    assert quota_refusal(99, 100) is None
    refusal = quota_refusal(100, 100) or ""
    assert refusal.startswith("552") and "FTP_CAMERA_QUOTA_BYTES" in refusal
    assert quota_refusal(10**15, 0) is None  # 0: no quota


def test_a_ban_remembers_the_accounts_tried_and_can_be_lifted() -> None:
    bans = LoginBans(BanPolicy(attempts=3, window_seconds=60, ban_seconds=900))
    assert bans.failed("192.0.2.9", 100.0, "front_door") == 0
    assert bans.failed("192.0.2.9", 101.0, "admin") == 0
    assert bans.failed("192.0.2.9", 102.0, "front_door") == 900
    [ban] = bans.active_bans(103.0)
    assert (ban.address, ban.accounts, ban.since, ban.until) == (
        "192.0.2.9",
        ["admin", "front_door"],
        102.0,
        1002.0,
    )
    assert bans.active_bans(1002.0) == []  # over by itself
    assert bans.unban("192.0.2.9", 500.0) is True
    assert bans.banned_for("192.0.2.9", 500.0) == 0 and bans.active_bans(500.0) == []
    assert bans.unban("192.0.2.9", 500.0) is False
    # Its failures are forgotten with it: the next ban takes all the attempts again.
    assert bans.failed("192.0.2.9", 501.0, "front_door") == 0
