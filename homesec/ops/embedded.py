"""The servers homesec runs itself when ``DATABASE_URL`` or ``REDIS_URL`` is not set."""

from __future__ import annotations

from homesec.ops.embedded_postgres import EmbeddedPostgres
from homesec.ops.embedded_redis import EmbeddedRedis

__all__ = ["EmbeddedPostgres", "EmbeddedRedis"]
