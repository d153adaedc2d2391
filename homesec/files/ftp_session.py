"""One camera's FTP session: pyftpdlib's handler, made write-only and confined to one folder.

Every rule comes from :mod:`homesec.policy.ftp_policy`; this module applies it where
pyftpdlib acts:

- before any command of a logged-in session (:meth:`CameraSession.pre_process_command`): the
  command must be allowed, and its path must resolve inside the folder, both as a virtual path
  (no climbing above ``/``) and as a real path (a symbolic link planted in the folder must not
  lead out);
- when a file is opened for writing: the filesystem's own checks
  (:class:`homesec.files.ftp_filesystem.CameraFS`);
- while data arrives (:class:`_UploadChecks`): past ``MAX_UPLOAD_BYTES`` the
  :class:`~homesec.files.ftp_filesystem.CappedFile` writes nothing more, the rest is read and
  thrown away, and the transfer is answered 552 and the partial file deleted;
- at the end of a transfer (:class:`_UploadChecks`): bytes that cannot be an image (empty, too
  small, not a JPEG or PNG) are answered 550 with the reason instead of 226;
- at login: the accounts (:class:`homesec.files.ftp_authorizer.CameraAuthorizer`), the
  per-account connection cap and, at connect and on each failure, the ban;
- before the login (:meth:`CameraSession._await_login`): the budget of connections that have
  not logged in, and the login deadline;
- at ``STOR``, ``MKD`` and ``RNTO``: only the names the watcher takes, in the places it watches,
  and at ``STOR`` the camera's quota; refused before a byte is written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import time

from pyftpdlib.handlers import DTPHandler, FTPHandler

from homesec.files.ftp_authorizer import CameraAuthorizer
from homesec.files.ftp_filesystem import CameraFS, CappedFile
from homesec.files.ftp_server import IDLE_TIMEOUT_SECONDS, ServerState
from homesec.files.uploads import is_ignored
from homesec.policy.camera_accounts import FtpAccount
from homesec.policy.ftp_policy import (
    EVICTED_REPLY,
    PATH_COMMANDS,
    banned_reply,
    command_refusal,
    confine,
    folder_refusal,
    inside,
    list_target,
    login_timeout_reply,
    must_cut_off,
    not_an_image_reply,
    not_logged_in_reply,
    over_connection_cap,
    quota_refusal,
    rename_refusal,
    store_name_refusal,
    too_many_connections_reply,
    upload_too_large_reply,
)
from homesec.policy.validation import check_start

log = logging.getLogger("homesec.ftp")


class CameraSession:
    """Mixed in before pyftpdlib's FTPHandler (or TLS_FTPHandler)."""

    state: ServerState
    account: FtpAccount | None = None
    _login_timer = None

    def handle(self) -> None:
        self.state.count("connections")
        if self._refuse_if_banned():
            return
        self._uploaded: set[str] = set()
        self._counted_as: str | None = None
        if not self._await_login():
            return
        super().handle()

    # --- before the login: a budget of its own, and a deadline ----------------------------
    def _await_login(self) -> bool:
        """Take a place among the connections waiting for their login, or say why not and
        close; start the login deadline."""
        decision = self.state.admit_unauthenticated(id(self), self.remote_ip)
        if not decision.admit:
            self.state.count("refused_unauthenticated")
            self.respond(not_logged_in_reply(decision.reason))
            self.close_when_done()
            return False
        self.state.waiting[id(self)] = self
        if decision.evict is not None:
            evicted = self.state.waiting.pop(decision.evict, None)
            if evicted is not None:
                self.state.count("evicted_unauthenticated")
                evicted._turn_away(EVICTED_REPLY)
        self._login_timer = self.ioloop.call_later(
            self.state.config.login_timeout, self._login_timed_out, _errback=self.handle_error
        )
        return True

    def _login_timed_out(self) -> None:
        self._login_timer = None
        if id(self) in self.state.unauthenticated and not self._closed:
            self.state.count("login_timeouts")
            self._turn_away(login_timeout_reply(self.state.config.login_timeout))

    def _turn_away(self, reply: str) -> None:
        self._logged_in_or_gone()
        if not self._closed:
            self.respond(reply)
            self.close_when_done()

    def _logged_in_or_gone(self) -> None:
        """No longer waiting for a login: free its place and stop its deadline."""
        timer, self._login_timer = self._login_timer, None
        if timer is not None and not timer.cancelled:
            timer.cancel()
        self.state.waiting.pop(id(self), None)
        self.state.settle_unauthenticated(id(self))

    def _refuse_if_banned(self) -> bool:
        seconds = self.state.banned_for(self.remote_ip)
        if seconds <= 0:
            return False
        self.state.count("refused_banned")
        self.respond(banned_reply(self.remote_ip, seconds))
        self.close_when_done()
        return True

    def ftp_USER(self, line: str) -> None:
        if not self._refuse_if_banned():
            super().ftp_USER(line)

    def handle_auth_failed(self, msg: str, password: str) -> None:
        self.state.count("failed_logins")
        seconds = self.state.login_failed(self.remote_ip, self.username or "")
        if seconds > 0:
            self.state.count("bans")
            log.warning("FTP: %s banned for %.0f s after failed logins", self.remote_ip, seconds)
            self.username = ""
            self.respond(banned_reply(self.remote_ip, seconds))
            self.close_when_done()
            return
        log.info("FTP: failed login as %r from %s", self.username, self.remote_ip)
        super().handle_auth_failed(msg, password)

    def handle_auth_success(self, home: str, password: str, msg_login: str) -> None:
        cap = self.state.config.max_connections_per_account
        sessions = self.state.sessions.setdefault(self.username, set())
        if over_connection_cap(len(sessions), cap):
            self.state.count("refused_busy")
            self.respond(too_many_connections_reply(cap))
            self.close_when_done()
            return
        sessions.add(id(self))
        self._counted_as = self.username
        self._logged_in_or_gone()
        self.state.count("logins")
        super().handle_auth_success(home, password, msg_login)

    def _release(self) -> None:
        counted, self._counted_as = getattr(self, "_counted_as", None), None
        if counted is not None:
            self.state.sessions.get(counted, set()).discard(id(self))

    def flush_account(self) -> None:
        self._release()
        super().flush_account()
        if not self._closed and self._login_timer is None:  # REIN: waiting for a login again
            self._await_login()

    def close(self) -> None:
        self._release()
        self._logged_in_or_gone()
        super().close()

    # --- the policy, before pyftpdlib acts ------------------------------------------------
    def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
        if self.authenticated:
            command = cmd
            if cmd == "SITE" and arg:
                command = f"SITE {arg.split(' ')[0].upper()}"
            refusal = self._refusal(command, arg)
            if refusal is not None:
                self.respond(refusal)
                self.log_cmd(command, arg, int(refusal[:3]), refusal[4:])
                if refusal.startswith("530"):
                    self.close_when_done()
                return
        super().pre_process_command(line, cmd, arg)

    def _refusal(self, command: str, arg: str) -> str | None:
        account = self.state.accounts.get(self.username)
        if account is None or account != self.account:
            return "530 This account was removed or its password changed; log in again."
        refusal = command_refusal(command)
        if refusal is not None:
            self.state.count("refused_commands")
            return refusal
        if command in ("CDUP", "XCUP"):
            return self._path_refusal(command, "..")
        if command in PATH_COMMANDS and (arg or command not in ("STAT",)):
            target = list_target(arg) if command in ("LIST", "NLST") else arg
            return self._path_refusal(command, target or ".")
        return None

    def _name_refusal(self, command: str, virtual: str) -> str | None:
        """Only what the pipeline takes: image names the watcher accepts, in folders it
        watches; at STOR, only while the camera's folder is under its quota."""
        if command in ("MKD", "XMKD"):
            refusal = folder_refusal(virtual)
        elif command in ("STOR", "RNTO"):
            refusal = store_name_refusal(virtual, temporary_allowed=command == "STOR")
        else:
            return None
        if refusal is not None:
            self.state.count("refused_names")
            return refusal
        account = self.account
        if command == "STOR" and account is not None:
            quota = self.state.config.camera_quota_bytes
            refusal = quota_refusal(self.state.usage.used(account.folder_path), quota)
            if refusal is not None:
                self.state.count("refused_quota")
                self.state.over_quota[account.camera_id] = time.time()
                log.warning("FTP: %s is at its quota: %s", account.camera_id, refusal[4:])
        return refusal

    def _path_refusal(self, command: str, target: str) -> str | None:
        virtual = confine(self.fs.cwd, target)
        if virtual is None:
            self.state.count("refused_paths")
            return f"550 {target!r} is outside this camera's folder."
        real = self.fs.ftp2fs(virtual)
        if not inside(os.path.realpath(self.fs.root), os.path.realpath(real)):
            self.state.count("refused_paths")
            return f"550 {target!r} leads outside this camera's folder."
        refusal = self._name_refusal(command, virtual)
        if refusal is not None:
            return refusal
        if command == "RNFR":
            reason = rename_refusal(uploaded_here=real in self._uploaded, target_exists=False)
        elif command == "RNTO":
            reason = rename_refusal(uploaded_here=True, target_exists=os.path.lexists(real))
        else:
            return None
        if reason is not None:
            self.state.count("refused_commands")
        return reason

    # --- what came in ---------------------------------------------------------------------
    def on_file_received(self, file: str) -> None:
        self.state.count("uploads")
        self._uploaded.add(file)
        account = self.account
        if account is not None:
            with contextlib.suppress(OSError):  # gone already: nothing to count
                self.state.usage.add(account.folder_path, os.lstat(file).st_size)
        self._hand_over(file)

    def on_incomplete_file_received(self, file: str) -> None:
        self.state.count("uploads_incomplete")
        try:
            if stat.S_ISREG(os.lstat(file).st_mode):
                os.remove(file)  # half an image is no image; the camera sends it again
        except OSError as exc:
            log.warning("FTP: cannot delete the partial upload %s: %s", file, exc)

    def ftp_RNTO(self, path: str):
        renamed = super().ftp_RNTO(path)
        if renamed:
            source, target = renamed
            self._uploaded.discard(source)
            self._uploaded.add(target)
            self._hand_over(target)
        return renamed

    def _hand_over(self, path: str) -> None:
        account = self.account
        if account is None or self.fs is None:
            return
        # The session works in the folder's real path; the watcher and the ledger know the
        # folder by the path the camera was registered with.
        path = os.path.join(account.folder_path, os.path.relpath(path, self.fs.root))
        if is_ignored(path, account.folder_path):  # a temporary name: its rename comes next
            return
        try:
            self.state.on_upload(account.camera_id, path)
        except Exception:  # the folder watcher still finds the file
            log.exception("FTP: handing %s over failed", path)


class _UploadChecks:
    """Mixed in before pyftpdlib's DTP handler: the size cap while data arrives, and the
    answer at the end of a transfer.

    Past ``MAX_UPLOAD_BYTES`` nothing more is written, but the data is read on and thrown
    away until the client has sent it all (up to
    :data:`~homesec.policy.ftp_policy.OVERSIZE_DRAIN_BYTES` more): a data connection closed
    while the client still sends is reset, and the client (curl: "Send failure: Connection
    reset by peer") never reads the 552 that says why. The transfer then counts as incomplete
    (the partial file is deleted). A complete transfer whose bytes cannot be an image (empty,
    too small, no JPEG or PNG signature: :func:`homesec.policy.validation.check_start`, the
    watcher's own rules) is answered 550 with the reason instead of 226; it is handed over all
    the same, and the watcher records it as rejected and sets it aside.
    """

    _judged = False

    def handle_read_event(self) -> None:
        super().handle_read_event()
        file = self.file_obj
        if isinstance(file, CappedFile) and must_cut_off(file.discarded) and not self._closed:
            self.close()  # sent far too much: cut off, as before draining

    def close(self) -> None:
        if not self._closed and not self._judged:
            self._judged = True
            self._judge()
        super().close()

    def _judge(self) -> None:
        file = self.file_obj
        if not self.receive or not isinstance(file, CappedFile):
            return
        state = self.cmd_channel.state
        if file.over_limit:
            state.count("uploads_too_large")
            self.transfer_finished = False
            self._resp = (upload_too_large_reply(file.limit), log.warning)
            return
        if not self.transfer_finished:
            return
        refusal = check_start(file.start, file.written, state.config.image_limits)
        if refusal is not None:
            state.count("uploads_rejected")
            reason = refusal.reason.value if refusal.reason else "invalid"
            self._resp = (not_an_image_reply(reason, refusal.message), log.info)


def handler_class(state: ServerState) -> type:
    """A handler class of this server's own (pyftpdlib configures handlers by class)."""
    config = state.config
    attributes = {
        "state": state,
        "authorizer": CameraAuthorizer(state),
        "abstracted_fs": CameraFS,
        "banner": "homesec camera upload server ready.",
        "timeout": IDLE_TIMEOUT_SECONDS,
        "auth_failed_timeout": config.auth_failed_delay,
        "masquerade_address": config.masquerade_address,
        "use_sendfile": False,
    }
    if config.passive_ports is not None:
        first, last = config.passive_ports
        attributes["passive_ports"] = list(range(first, last + 1))
    if config.tls:
        from pyftpdlib.handlers import TLS_DTPHandler, TLS_FTPHandler

        base, dtp = TLS_FTPHandler, TLS_DTPHandler
        attributes.update(
            certfile=config.certfile,
            keyfile=config.keyfile or config.certfile,
            tls_control_required=True,
            tls_data_required=True,
            ssl_context=None,  # made per server class from the files above
        )
    else:
        base, dtp = FTPHandler, DTPHandler
    attributes["dtp_handler"] = type("CheckedDTPHandler", (_UploadChecks, dtp), {})
    return type("CameraFTPHandler", (CameraSession, base), attributes)
