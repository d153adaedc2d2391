"""The HTTP front door: REST API, live WebSockets, metrics, API docs and the dashboard.

``create_app(settings, database_url=..., redis_url=..., actors=..., cleanup=...)`` builds the
Litestar application; :mod:`homesec.http.server` serves it with uvicorn and holds the check that
refuses an unprotected public bind.

- ``app``: the factory; ``services``: what routes share (clients, caches, counters)
- ``routes/``: thin handlers; ``queries/``: the data layer (PostgreSQL and Redis), returning
  the msgspec structs of ``schemas/``
- ``errors``: the area's error root, mapped to RFC 9457 problem details in one place
- ``pages/`` with ``templates/`` and ``static/``: the dashboard (docs/dashboard.md)
- ``auth``: API keys, dashboard sessions (``sessions``), the cross-site request check;
  ``rate_limit``: per-client limits; ``media``: safe image paths, boxes and crops
- ``relay``: ``security_events`` fanned out to WebSocket clients; ``status``: health checks
- ``metrics``: Prometheus; ``actors``: how the API asks the pipeline about its actors
"""

from homesec.http.app import create_app

__all__ = ["create_app"]
