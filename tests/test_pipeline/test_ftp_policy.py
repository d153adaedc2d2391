"""The FTP server's rules as plain functions: paths, commands, renames, bans, passwords."""

from __future__ import annotations

import pytest

from homesec.pipeline.camera_accounts import (
    generate_password,
    hash_password,
    password_problem,
    verify_password,
)
from homesec.pipeline.ftp_policy import (
    AddressRecord,
    BanPolicy,
    LoginBans,
    banned_for,
    command_refusal,
    confine,
    inside,
    list_target,
    over_connection_cap,
    record_failure,
    rename_refusal,
)


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
