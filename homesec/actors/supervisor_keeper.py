"""Who supervises the Supervisor: `homesec up` keeps it alive from outside.

The Supervisor is detached and restarted by Ray when its process dies (``kill -9`` of its
worker): Ray resubmits its main loop and it adopts the live actors by name. Killed through Ray
for good (``ray.kill``), it is gone; then :meth:`SupervisorKeeper.check`, which `homesec up`'s
main thread calls every few seconds, creates it again from the same spec. Either way the new
Supervisor starts from PostgreSQL and the running actors, so nothing it knew is lost.
"""

from __future__ import annotations

import logging

from homesec.actors import ray_gateway
from homesec.contract.reports import ActorSpec

log = logging.getLogger("homesec.up")


class SupervisorKeeper:
    def __init__(self, spec: ActorSpec) -> None:
        self.spec = spec
        self.handle = ray_gateway.create_actor(spec)
        self.recreated = 0

    def check(self) -> bool:
        """Create the Supervisor again if it is gone; True when it had to."""
        handle = ray_gateway.lookup(self.spec.name)
        if handle is not None:
            self.handle = handle
            return False
        log.warning("the supervisor is gone; starting it again")
        self.handle = ray_gateway.create_actor(self.spec)
        self.recreated += 1
        return True
