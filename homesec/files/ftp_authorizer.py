"""Who may log in to the FTP server, and where they land: pyftpdlib's authorizer interface over
the server's in-memory account table (:class:`homesec.files.ftp_server.AccountTable`, refreshed
from ``camera_accounts`` by the actor).

A camera's account lands in its camera's folder (made if missing) and gets the permissions
``elmwf``: list, change folder, make folders, store, rename. Everything narrower (no reading
back, no deleting, renames only of its own uploads, never out of the folder) is refused before
pyftpdlib acts, by the session (:mod:`homesec.files.ftp_session`) applying
:mod:`homesec.policy.ftp_policy`.
"""

from __future__ import annotations

import os

from pyftpdlib.authorizers import AuthenticationFailed

from homesec.files.ftp_server import ServerState


class CameraAuthorizer:
    """pyftpdlib's authorizer interface over the shared account table."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def validate_authentication(self, username: str, password: str, handler) -> None:
        account = self.state.accounts.get(username)
        if account is None or not self.state.check_password(account, password):
            raise AuthenticationFailed("Authentication failed.")
        handler.account = account

    def get_home_dir(self, username: str) -> str:
        account = self.state.accounts.get(username)
        if account is None:
            raise AuthenticationFailed("Authentication failed.")
        os.makedirs(account.folder_path, exist_ok=True)
        return os.path.realpath(account.folder_path)

    def has_user(self, username: str) -> bool:
        return self.state.accounts.get(username) is not None

    def has_perm(self, username: str, perm: str, path: str | None = None) -> bool:
        return perm in self.get_perms(username)  # the policy has refused the rest already

    def get_perms(self, username: str) -> str:
        return "elmwf"  # list, cwd, mkdir, store, rename (of its own uploads)

    def get_msg_login(self, username: str) -> str:
        return "Logged in; uploads go to this camera's folder."

    def get_msg_quit(self, username: str) -> str:
        return "Goodbye."

    def impersonate_user(self, username: str, password: str) -> None:
        pass

    def terminate_impersonation(self, username: str) -> None:
        pass
