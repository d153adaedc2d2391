"""`homesec backfill`: submit the backfill as a Ray job to the running service and follow it.

The job runs ``python -m homesec.ops.backfill`` with this interpreter (homesec is installed
there, so the job needs no working_dir) on the head node, where the camera folders are. It
reads the same data dir (``HOMESEC_DATA_DIR``, passed along) to find the service's servers.
Its logs stream here until it ends; the exit code says whether it succeeded. Ctrl-C stops
following, not the job.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path

from homesec.contract.errors import HomesecError
from homesec.ops import ray_credentials
from homesec.ops.backfill import BackfillOptions, to_argv
from homesec.ops.status import EXIT_NOT_RUNNING, NOT_RUNNING, read_run_state
from homesec.settings import Settings

STATUS_POLL_SECONDS = 1.0
# The job's settings come from the environment of the service's Ray head plus these: the data
# dir names the service's run file, and with it the servers. No URL travels in the job's
# runtime_env: the job server shows that to anyone who may list jobs.
PASSED_VARIABLES = ("HOMESEC_DATA_DIR", "HOMESEC_CONFIG")


class JobSubmitError(HomesecError):
    """The job server refused the backfill, or cannot be reached."""


def job_env(settings: Settings) -> dict[str, str]:
    env = {name: os.environ[name] for name in PASSED_VARIABLES if os.environ.get(name)}
    env["HOMESEC_DATA_DIR"] = str(settings.data_dir)
    return env


def submit_and_follow(
    settings: Settings, options: BackfillOptions, *, say: Callable[[str], None] = print
) -> int:
    run = read_run_state(settings)
    if run is None:
        say(NOT_RUNNING + ": start it with `homesec up`, or use --local against RAY_ADDRESS")
        return EXIT_NOT_RUNNING
    if run.ray_dashboard is None:
        raise JobSubmitError(
            "homesec joined a Ray cluster (RAY_ADDRESS) whose job server it does not know: "
            "submit with `ray job submit --address http://<head>:8265 -- python -m "
            "homesec.ops.backfill ...`, or use --local"
        )
    # The job server wants the cluster's token; Ray reads these settings when it is imported.
    ray_credentials.use_token_file(Path(run.ray_token_file) if run.ray_token_file else None)
    from ray.job_submission import JobStatus, JobSubmissionClient

    # Ray sets up its own loggers at import; its "WebSocket closed" line is noise here.
    logging.getLogger("ray.dashboard.modules.job.sdk").setLevel(logging.WARNING)

    entrypoint = shlex.join([sys.executable, "-m", "homesec.ops.backfill", *to_argv(options)])
    try:
        client = JobSubmissionClient(run.ray_dashboard)
        job_id = client.submit_job(
            entrypoint=entrypoint,
            submission_id=f"homesec-backfill-{time.strftime('%Y%m%d-%H%M%S')}-"
            f"{secrets.token_hex(2)}",
            runtime_env={"env_vars": job_env(settings)},
            entrypoint_num_cpus=0,
            metadata={"homesec": "backfill"},
        )
    except (ConnectionError, RuntimeError) as exc:
        raise JobSubmitError(
            f"the Ray job server at {run.ray_dashboard} refused the backfill: {exc}"
        ) from None
    say(f"backfill job {job_id} submitted to {run.ray_dashboard}; following its log (Ctrl-C "
        "stops following, not the job)")  # fmt: skip
    try:
        asyncio.run(_follow_log(client, job_id))
        while not (status := client.get_job_status(job_id)).is_terminal():
            time.sleep(STATUS_POLL_SECONDS)
    except KeyboardInterrupt:
        where = f"--address {run.ray_dashboard}"
        say(f"\nthe job goes on: `ray job logs {where} -f {job_id}` follows it, "
            f"`ray job stop {where} {job_id}` stops it")  # fmt: skip
        return 130
    say(f"backfill job {job_id}: {status.value}")
    return 0 if status == JobStatus.SUCCEEDED else 1


async def _follow_log(client, job_id: str) -> None:
    async for chunk in client.tail_job_logs(job_id):
        print(chunk, end="", flush=True)
