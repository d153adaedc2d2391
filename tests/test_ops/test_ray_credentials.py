"""homesec's Ray token: made under the data dir for the cluster it starts, the cluster's own for
one it joins, and one clear line (never Ray's traceback) when it has none or the wrong one."""

from __future__ import annotations

import os
import stat

import pytest

from homesec.ops import ray_credentials
from homesec.ops.ray_credentials import RayCredentialsError
from tests.support.homesec_process import homesec, up_env

VARIABLES = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")


@pytest.fixture
def ray_environment(monkeypatch):
    """This test's changes to the Ray variables are undone after it (the session's own token
    stays in force for the other tests)."""
    for name in VARIABLES:
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_own_cluster_token_is_made_once_private_and_handed_to_children(
    tmp_path, ray_environment
):
    ray_environment.setenv("RAY_AUTH_TOKEN", "someone-elses")
    path = ray_credentials.use_own_cluster_token(tmp_path)

    assert path == tmp_path / "ray" / "auth_token"
    token = path.read_text()
    assert len(token) == 64 and int(token, 16) >= 0  # 256 bits in hex
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert os.environ["RAY_AUTH_MODE"] == "token"
    assert os.environ["RAY_AUTH_TOKEN_PATH"] == str(path)
    assert "RAY_AUTH_TOKEN" not in os.environ  # not ours: dropped

    # A restart keeps the token: workers and clients of the running cluster still match.
    assert ray_credentials.use_own_cluster_token(tmp_path) == path
    assert path.read_text() == token


def test_a_joined_cluster_without_a_token_is_one_line_saying_what_to_set(tmp_path, ray_environment):
    ray_environment.delenv("RAY_AUTH_TOKEN", raising=False)
    ray_environment.delenv("RAY_AUTH_TOKEN_PATH", raising=False)
    with pytest.raises(RayCredentialsError) as raised:
        ray_credentials.use_joined_cluster_token(tmp_path, "10.1.2.3:6390")
    message = str(raised.value)
    assert "10.1.2.3:6390" in message and "RAY_AUTH_TOKEN_PATH" in message
    assert str(tmp_path / "ray" / "auth_token") in message
    assert "\n" not in message

    ray_environment.setenv("RAY_AUTH_TOKEN_PATH", str(tmp_path / "missing"))
    with pytest.raises(RayCredentialsError, match="not a readable token file"):
        ray_credentials.use_joined_cluster_token(tmp_path, "10.1.2.3:6390")


def test_a_joined_cluster_token_comes_from_the_environment_or_the_data_dir(
    tmp_path, ray_environment
):
    ray_environment.delenv("RAY_AUTH_TOKEN_PATH", raising=False)
    ray_environment.setenv("RAY_AUTH_TOKEN", "abc")
    assert ray_credentials.use_joined_cluster_token(tmp_path, "h:6390") is None
    assert os.environ["RAY_AUTH_TOKEN"] == "abc"

    ray_environment.delenv("RAY_AUTH_TOKEN")
    copy = tmp_path / "ray" / "auth_token"
    copy.parent.mkdir()
    copy.write_text("f" * 64)
    assert ray_credentials.use_joined_cluster_token(tmp_path, "h:6390") == copy
    assert os.environ["RAY_AUTH_TOKEN_PATH"] == str(copy)


def test_token_auth_disabled_by_the_owner_is_respected(tmp_path, ray_environment):
    ray_environment.setenv("RAY_AUTH_MODE", "disabled")
    assert ray_credentials.use_own_cluster_token(tmp_path) is None
    assert ray_credentials.use_joined_cluster_token(tmp_path, "h:6390") is None
    assert not (tmp_path / "ray").exists()


@pytest.mark.usefixtures("ray_cluster")
def test_homesec_up_with_the_wrong_token_for_a_joined_cluster_says_so_in_one_line(
    tmp_path, migrated_database_url, redis_url
):
    import ray

    wrong = tmp_path / "wrong_token"
    wrong.write_text("0" * 64)
    env = up_env(
        tmp_path / "data",
        migrated_database_url,
        redis_url,
        RAY_ADDRESS=ray.get_runtime_context().gcs_address,
        RAY_AUTH_TOKEN_PATH=str(wrong),
    )
    result = homesec("up", env=env, timeout=120)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("homesec:")]
    assert len(errors) == 1, result.stderr
    assert "refused homesec's token" in errors[0] and str(wrong) in errors[0]
    assert "RAY_AUTH_TOKEN_PATH" in errors[0]
