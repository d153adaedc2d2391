"""A Ray cluster of several hosts on one machine: network namespaces joined by a bridge.

Each host is a network namespace of its own (``ip netns``) with one address on a private
/24 and a veth pair to a bridge. The bridge lives in a namespace of its own too, so nothing of
the machine's own network (interfaces, routes, firewall, the services on its 127.0.0.1) is
touched or reachable: a host sees only the other hosts. Processes on a host are started with
``ip netns exec``; the filesystem is shared by every host (see "Shared files" below).

What it takes to run Ray across the hosts (found out while writing this):

- **Token auth.** Ray 2.60 checks a token on every connection. Every ``ray start`` and every
  driver gets ``RAY_AUTH_MODE=token`` and ``RAY_AUTH_TOKEN_PATH`` naming one token file the
  harness makes (256 random bits in hex, as `ray get-auth-token --generate` makes them).
- **Addresses.** ``--node-ip-address`` on every ``ray start``, the host's own address: a
  namespace has no default route, so Ray's guess (the address towards a public DNS server) would
  fail. A driver started in a host (``homesec up``) needs nothing: Ray finds its address from
  the GCS address it is given.
- **Ports.** Everything Ray opens for other nodes (GCS 6390, raylet, object manager, the
  workers' ports, the agents) is on the host's own address, and each host has every port to
  itself, so Ray's defaults do not collide across hosts. Nothing filters between the hosts. The
  dashboard (with the state API and the job server) stays on the head's own 127.0.0.1, as
  ray_cluster.yaml has it: ask it from a process on the head host.
- **Ray's temp dir.** Each cluster uses ``--temp-dir`` under the harness's directory, never
  ``/tmp/ray``: the head writes ``ray_current_cluster`` there, which an ``address="auto"`` of
  any other Ray user on the machine would read. Workers take the head's temp dir from the GCS.
- **PostgreSQL and Redis.** The machine's own servers on 127.0.0.1 are not reachable from a
  namespace (each has its own loopback). The harness starts a throwaway PostgreSQL (homesec's
  embedded binaries, as its unprivileged account when we are root; trust auth for the cluster's
  /24 only) and Redis in the head's namespace, listening on the head's address, so every node
  reaches them as a LAN's servers.
- **Shared files.** Namespaces share the filesystem: a folder that only the "cameras" host's
  processes use stands for its local disk, and the data dir (thumbnails) is "mounted at the
  same path" on every host, as README's "Growing to a cluster" asks of a real cluster.

Needs root (``ip netns``); :func:`can_run` says whether this machine can.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"  # often not on a user's PATH


def can_run() -> str | None:
    """None when this machine can host the cluster, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed"
    probe = f"hs-probe-{secrets.token_hex(3)}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


class Host:
    """One namespace host: its namespace name and address."""

    def __init__(self, name: str, namespace: str, address: str) -> None:
        self.name = name
        self.namespace = namespace
        self.address = address

    def command(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.namespace, *argv]


class NetnsCluster:
    """Namespace hosts on a bridge, and the processes started on them; :meth:`close` removes
    everything it made, also after a failure halfway through :meth:`add_host`."""

    def __init__(self, *, prefix: str | None = None, subnet: str = "10.231.77") -> None:
        # Short names: interface names are at most 15 characters.
        self.prefix = prefix or f"hs{secrets.token_hex(2)}"
        self.subnet = subnet
        self.switch = f"{self.prefix}-sw"
        self.hosts: dict[str, Host] = {}
        self.namespaces: list[str] = []
        self.processes: list[subprocess.Popen] = []
        # Short path: Ray's Unix sockets live under the temp dir (108 characters at most).
        self.directory = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-", dir="/tmp"))
        self.directory.chmod(0o755)
        self.token_file = self.directory / "ray_token"
        self.token_file.write_text(secrets.token_hex(32))
        self.token_file.chmod(0o600)
        self.ray_temp_dir = self.directory / "ray"
        try:
            self._ip("netns", "add", self.switch)
            self.namespaces.append(self.switch)
            self._ip("-n", self.switch, "link", "set", "lo", "up")
            self._ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
            self._ip("-n", self.switch, "link", "set", "br0", "up")
        except BaseException:
            self.close()
            raise

    # --- hosts ----------------------------------------------------------------------------------
    def add_host(self, name: str) -> Host:
        """A new namespace host ``name`` with the next address of the subnet."""
        number = len(self.hosts) + 1
        namespace = f"{self.prefix}-{name}"
        address = f"{self.subnet}.{number}"
        self._ip("netns", "add", namespace)
        self.namespaces.append(namespace)
        inner, outer = f"{self.prefix}h{number}", f"{self.prefix}s{number}"
        self._ip(
            "link", "add", inner, "netns", namespace, "type", "veth",
            "peer", "name", outer, "netns", self.switch,
        )  # fmt: skip
        self._ip("-n", namespace, "link", "set", inner, "name", "eth0")
        self._ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
        self._ip("-n", namespace, "link", "set", "eth0", "up")
        # Ray and PostgreSQL also talk to themselves over 127.0.0.1.
        self._ip("-n", namespace, "link", "set", "lo", "up")
        self._ip("-n", self.switch, "link", "set", outer, "master", "br0")
        self._ip("-n", self.switch, "link", "set", outer, "up")
        host = Host(name, namespace, address)
        self.hosts[name] = host
        return host

    def ray_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of every Ray process here: the cluster's token, this checkout
        first on the path (workers import homesec from it), no usage reports."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("RAY_", "HOMESEC_"))
            and key not in ("DATABASE_URL", "REDIS_URL", "PYTHONPATH")
        }
        env.update(
            {
                "RAY_AUTH_MODE": "token",
                "RAY_AUTH_TOKEN_PATH": str(self.token_file),
                "RAY_USAGE_STATS_ENABLED": "0",
                "PYTHONPATH": str(REPO),
                "PATH": f"{VENV_BIN}:{env.get('PATH', '/usr/bin:/bin')}",
            }
        )
        env.update(extra or {})
        return env

    def start(
        self,
        host: Host,
        argv: list[str],
        *,
        env: Mapping[str, str] | None = None,
        log_name: str,
        user: str | None = None,
    ) -> subprocess.Popen:
        """``argv`` on ``host`` in its own process group, its output in ``log_name``."""
        if user is not None:
            argv = [RUNUSER, "-u", user, "--", *argv]
        log = (self.directory / log_name).open("ab")
        process = subprocess.Popen(
            host.command(argv),
            env=dict(env) if env is not None else self.ray_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd="/",  # PostgreSQL's account may not reach the test's working directory
        )
        log.close()
        self.processes.append(process)
        return process

    def run(self, host: Host, argv: list[str], *, env=None, timeout: float = 120, user=None):
        """``argv`` on ``host`` to its end; its output as text."""
        if user is not None:
            argv = [RUNUSER, "-u", user, "--", *argv]
        return subprocess.run(
            host.command(argv),
            env=dict(env) if env is not None else self.ray_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd="/",
        )

    def log(self, name: str) -> str:
        try:
            return (self.directory / name).read_text(errors="replace")
        except OSError:
            return ""

    # --- Ray ------------------------------------------------------------------------------------
    def start_ray(
        self,
        host: Host,
        *,
        head: Host | None = None,
        port: int = 6390,
        resources: Mapping[str, float] | None = None,
        num_gpus: int | None = None,
        num_cpus: int | None = None,
        timeout: float = 120,
    ) -> subprocess.Popen:
        """A Ray node on ``host``: the head (``head`` None, GCS on ``port``) or a worker
        joining ``head``'s GCS. Returns once the node is registered."""
        command = [
            str(VENV_BIN / "ray"), "start", "--block", "--disable-usage-stats",
            f"--node-ip-address={host.address}",
            # Small object stores: /dev/shm is the whole machine's, and nothing big travels.
            "--object-store-memory=100000000",
        ]  # fmt: skip
        if head is None:
            command += [
                "--head", f"--port={port}", f"--temp-dir={self.ray_temp_dir}",
                # As ray_cluster.yaml: the dashboard and job server answer on the head only
                # (its own 127.0.0.1), where the test's probe asks them.
                "--dashboard-host=127.0.0.1",
            ]  # fmt: skip
        else:
            command.append(f"--address={head.address}:{port}")
        if resources:
            command.append(f"--resources={json.dumps(dict(resources))}")
        if num_gpus is not None:
            command.append(f"--num-gpus={num_gpus}")
        if num_cpus is not None:
            command.append(f"--num-cpus={num_cpus}")
        log_name = f"ray-{host.name}.log"
        process = self.start(host, command, log_name=log_name)
        deadline = time.monotonic() + timeout
        while "--block" not in self.log(log_name):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Ray on {host.name} did not start:\n{self.log(log_name)}")
            time.sleep(0.25)
        return process

    # --- PostgreSQL and Redis on a host -----------------------------------------------------------
    def start_postgres(self, host: Host, port: int = 5432) -> str:
        """A throwaway PostgreSQL on ``host``'s address, trusting the cluster's subnet; its
        URL (database ``homesec``)."""
        from homesec.ops.postgres_binaries import postgres_binaries
        from homesec.ops.unprivileged import service_account

        account = service_account()
        user = account.name if account else None
        binaries = postgres_binaries(account)
        data = self.directory / "postgres"
        data.mkdir()
        if account is not None:
            os.chown(data, account.uid, account.gid)
        initdb = self.run(
            host,
            [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"],
            user=user,
            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
        )
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed: {initdb.stdout}{initdb.stderr}")
        # Only this cluster's hosts may connect, without a password: a throwaway server.
        (data / "pg_hba.conf").write_text(
            f"local all all trust\nhost all all {self.subnet}.0/24 trust\n"
        )
        server = [
            str(binaries / "postgres"), "-D", str(data), "-p", str(port),
            "-c", f"listen_addresses={host.address}", "-c", f"unix_socket_directories={data}",
            "-c", "max_connections=300", "-c", "fsync=off",
        ]  # fmt: skip
        self.start(
            host,
            server,
            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
            log_name="postgres.log",
            user=user,
        )
        self._wait_port(host, port, "postgres.log")
        created = self.run(
            host,
            [str(binaries / "psql"), "-h", host.address, "-p", str(port), "-U", "postgres",
             "-c", "CREATE DATABASE homesec"],
            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
        )  # fmt: skip
        if created.returncode != 0:
            raise RuntimeError(f"CREATE DATABASE failed: {created.stdout}{created.stderr}")
        return f"postgresql://postgres@{host.address}:{port}/homesec"

    def start_redis(self, host: Host, port: int = 6379) -> str:
        """A throwaway Redis on ``host``'s address, keeping nothing on disk; its URL."""
        from tests.support.redis_server import server_binary

        server = [
            server_binary(), "--bind", host.address, "--port", str(port),
            "--protected-mode", "no", "--save", "", "--appendonly", "no",
            "--dir", str(self.directory),
        ]  # fmt: skip
        self.start(
            host,
            server,
            env={"PATH": "/usr/bin:/bin"},
            log_name="redis.log",
        )
        self._wait_port(host, port, "redis.log")
        return f"redis://{host.address}:{port}/0"

    def _wait_port(self, host: Host, port: int, log_name: str, timeout: float = 60) -> None:
        probe = "import socket,sys;socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)"
        deadline = time.monotonic() + timeout
        while True:
            answer = self.run(
                host, [sys.executable, "-c", probe, host.address, str(port)], env={}, timeout=10
            )
            if answer.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"nothing listens on {host.address}:{port}:\n{self.log(log_name)}"
                )
            time.sleep(0.3)

    def forward(self, host: Host, port: int, target_port: int, timeout: float = 30) -> None:
        """Make ``host``'s 127.0.0.1:``target_port`` reachable on its address at ``port``, as
        an SSH tunnel would (tests/support/tcp_forward.py)."""
        log_name = f"forward-{host.name}-{port}.log"
        argv = [sys.executable, "-m", "tests.support.tcp_forward", host.address, str(port),
                "127.0.0.1", str(target_port)]  # fmt: skip
        process = self.start(host, argv, env=self.ray_env(), log_name=log_name)
        deadline = time.monotonic() + timeout
        while "forwarding" not in self.log(log_name):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the forwarder did not start:\n{self.log(log_name)}")
            time.sleep(0.2)

    # --- a host that dies --------------------------------------------------------------------
    def kill_host(self, host: Host) -> int:
        """SIGKILL every process on ``host`` (its raylet, workers and agents), as a power cut
        would; its network stays. Returns how many were killed."""
        return self._kill_namespace(host.namespace)

    def _kill_namespace(self, namespace: str) -> int:
        killed = 0
        # Ray daemonises some of its processes out of our groups: the namespace knows them.
        for _ in range(3):
            pids = subprocess.run(
                ["ip", "netns", "pids", namespace], capture_output=True, text=True
            ).stdout.split()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
                    killed += 1
            time.sleep(0.5)
        return killed

    # --- the end ----------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every process (ours, then whatever is left in our namespaces), delete the
        namespaces (their veths and the bridge go with them) and the directory."""
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for namespace in reversed(self.namespaces):
            self._kill_namespace(namespace)
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        shutil.rmtree(self.directory, ignore_errors=True)

    def _ip(self, *args: str) -> None:
        result = subprocess.run(["ip", *args], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")


@contextlib.contextmanager
def netns_cluster(**kwargs) -> Iterator[NetnsCluster]:
    cluster = NetnsCluster(**kwargs)
    try:
        yield cluster
    finally:
        cluster.close()
