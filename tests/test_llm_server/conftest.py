"""Servers for the LLM-server tests: fake ones speaking one dialect each (module-scoped, reset
per test) and one real llama-cpp-python server, started once per session when a test asks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.llama_cpp_server import LlamaServer, serve_llama_cpp
from tests.support.llm_server import FakeLlmServer, serve_fake_llm


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    with serve_llama_cpp() as server:
        yield server


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLlmServer]:
    with serve_fake_llm() as fake:
        yield fake


@pytest.fixture
def fake(fake_llm: FakeLlmServer) -> FakeLlmServer:
    fake_llm.reset()
    return fake_llm
