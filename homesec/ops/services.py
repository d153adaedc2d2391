"""The PostgreSQL and Redis a command needs: the configured ones, checked, or embedded ones,
started under the data dir and stopped again when the command ends, however it ends."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import msgspec

from homesec.ops.embedded import EmbeddedPostgres, EmbeddedRedis
from homesec.settings import Settings, mask_url
from homesec.store.database import check_database
from homesec.store.redis_client import check_redis


class ServiceEndpoints(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str
    # None when the command asked for no Redis (`homesec db ...`).
    redis_url: str | None
    embedded_postgres: bool
    embedded_redis: bool
    # Where an embedded server keeps its data, for people to read.
    postgres_data: str | None = None
    redis_data: str | None = None


@contextlib.contextmanager
def local_services(settings: Settings, *, need_redis: bool = True) -> Iterator[ServiceEndpoints]:
    """Check the configured servers or start embedded ones; stop what was started on exit.

    Raises :class:`~homesec.ops.errors.ServiceUnreachable` (one line naming the variable) for a
    configured server that does not answer, and
    :class:`~homesec.ops.errors.EmbeddedServerError` for an embedded one that does not start.
    """
    with contextlib.ExitStack() as started:
        postgres_data = redis_data = None
        if settings.database_url is not None:
            asyncio.run(check_database(settings.database_url))
            database_url = settings.database_url
        else:
            postgres = EmbeddedPostgres(settings.data_dir / "postgres")
            started.callback(_uninterrupted, postgres.stop)
            database_url = postgres.start()
            postgres_data = str(postgres.cluster_dir)

        redis_url = None
        if need_redis and settings.redis_url is not None:
            asyncio.run(check_redis(settings.redis_url))
            redis_url = settings.redis_url
        elif need_redis:
            redis = EmbeddedRedis(settings.data_dir / "redis")
            started.callback(_uninterrupted, redis.stop)
            redis_url = redis.start()
            redis_data = str(redis.data_dir)

        yield ServiceEndpoints(
            database_url=database_url,
            redis_url=redis_url,
            embedded_postgres=settings.database_url is None,
            embedded_redis=need_redis and settings.redis_url is None,
            postgres_data=postgres_data,
            redis_data=redis_data,
        )


def _uninterrupted(stop: Callable[[], None]) -> None:
    """Run ``stop`` with Ctrl-C ignored: an impatient second Ctrl-C while homesec stops must
    not leave a server running. (Signal handlers belong to the main thread only.)"""
    if threading.current_thread() is not threading.main_thread():
        stop()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        stop()
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def describe(endpoints: ServiceEndpoints) -> list[str]:
    """One line per server for people: where it is and, if embedded, where its data is."""
    lines = [
        _describe_one(
            "PostgreSQL", endpoints.database_url, endpoints.embedded_postgres,
            endpoints.postgres_data, "DATABASE_URL",
        )
    ]  # fmt: skip
    if endpoints.redis_url is not None:
        lines.append(
            _describe_one(
                "Redis", endpoints.redis_url, endpoints.embedded_redis,
                endpoints.redis_data, "REDIS_URL",
            )
        )  # fmt: skip
    return lines


def _describe_one(name: str, url: str, embedded: bool, data: str | None, variable: str) -> str:
    if embedded:
        parts = urlsplit(url)
        return f"{name}: embedded at {parts.hostname}:{parts.port} (data in {data})"
    return f"{name}: {mask_url(url)} (from {variable})"
