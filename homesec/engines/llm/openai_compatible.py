"""Any OpenAI-compatible chat server (llama.cpp, llama-cpp-python, vLLM, Ollama, LM Studio ...)
at ``LLM_URL``.

Servers take the answer's JSON schema in different dialects of ``response_format``
(:mod:`homesec.policy.structured_output`). Before its first assessment the engine probes the
server once: it asks in each dialect for a schema only a random token satisfies, and remembers
the first dialect whose answer validates. A server that answers but honours no dialect raises
:class:`LlmIgnoresSchema` (its free text is not trusted with a score); one that does not answer
is probed again at the next assessment. Every answer is parsed and validated anyway.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import httpx

from homesec.contract.analysis import AnalysisContext, RiskAssessment
from homesec.engines.llm.base import (
    LlmBadResponse,
    LlmConfigError,
    LlmIgnoresSchema,
    LlmUnavailable,
)
from homesec.policy.prompt import (
    RISK_ASSESSMENT_SCHEMA,
    AssessmentParseError,
    build_messages,
    parse_assessment,
)
from homesec.policy.structured_output import (
    RETRYABLE_STATUS,
    Dialect,
    ProbeResult,
    VerdictKind,
    completion_content,
    next_probe,
    probe_request,
    probe_result,
    probe_verdict,
    response_format,
    unreachable,
)
from homesec.settings import Settings

log = logging.getLogger(__name__)

# Enough for the JSON answer plus a reasoning model's preamble; bounds a runaway generation.
MAX_ANSWER_TOKENS = 2048
# Connecting is quick or not at all; a slow model only slows the answer.
MAX_CONNECT_SECONDS = 5.0
SCHEMA_NAME = "risk_assessment"
_EXCERPT_CHARS = 200


def chat_request(model: str, context: AnalysisContext, dialect: Dialect) -> dict[str, Any]:
    """The body of the ``/chat/completions`` request for ``context``, in ``dialect``."""
    return {
        "model": model,
        "messages": build_messages(context),
        "response_format": response_format(dialect, SCHEMA_NAME, RISK_ASSESSMENT_SCHEMA),
        "temperature": 0,
        "max_tokens": MAX_ANSWER_TOKENS,
    }


def _answer_text(response: httpx.Response) -> str:
    try:
        content = completion_content(response.json())
    except ValueError:
        content = None
    if content is None:
        raise LlmBadResponse(
            f"the LLM server's reply is not a chat completion: {response.text[:_EXCERPT_CHARS]!r}"
        )
    if not content.strip():
        raise LlmBadResponse("the LLM server's reply has no message content")
    return content


class OpenAICompatibleEngine:
    """Asks an OpenAI-compatible server over HTTP; one shared connection pool per engine."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_seconds: float = 60.0,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        timeout = httpx.Timeout(timeout_seconds, connect=min(timeout_seconds, MAX_CONNECT_SECONDS))
        self._client = httpx.AsyncClient(headers=headers, timeout=timeout)
        self._dialect: Dialect | None = None
        # Once a probe found the schema ignored, every assessment raises this without asking.
        self._ignored: LlmIgnoresSchema | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAICompatibleEngine:
        if not settings.llm_url:
            raise LlmConfigError(
                "LLM_ENGINE=openai needs LLM_URL, the base URL of an OpenAI-compatible server "
                "such as http://127.0.0.1:8080/v1"
            )
        return cls(
            settings.llm_url,
            settings.llm_model,
            api_key=settings.llm_api_key,
            timeout_seconds=settings.llm_timeout_seconds,
        )

    @property
    def structured_output(self) -> str | None:
        return None if self._dialect is None else self._dialect.value

    async def probe(self) -> str:
        if self._dialect is not None:
            return self._dialect.value
        if self._ignored is not None:
            raise self._ignored
        token = secrets.token_hex(8)
        results: list[ProbeResult] = []
        while (dialect := next_probe(results)) is not None:
            results.append(await self._probe_one(dialect, token))
        verdict = probe_verdict(results)
        if verdict.kind is VerdictKind.FOUND:
            assert verdict.dialect is not None
            self._dialect = verdict.dialect
            log.info(
                "the LLM server at %s takes the answer's schema as %s (probe: %s)",
                self._url,
                verdict.dialect,
                verdict.detail,
            )
            return verdict.dialect.value
        if verdict.kind is VerdictKind.SCHEMA_IGNORED:
            self._ignored = LlmIgnoresSchema(
                f"the LLM server at {self._url} ignores the answer's JSON schema (its answers "
                "to a probe in each dialect did not validate), so its free text is not trusted "
                "with a score"
            )
            log.error("%s; the probe: %s", self._ignored, verdict.detail)
            raise self._ignored
        if verdict.kind is VerdictKind.REFUSED:
            raise LlmBadResponse(
                f"the LLM server at {self._url} refused every way of asking for the answer's "
                f"schema ({verdict.detail})"
            )
        raise LlmUnavailable(
            f"the LLM server at {self._url} could not be probed ({verdict.detail})"
        )

    async def _probe_one(self, dialect: Dialect, token: str) -> ProbeResult:
        body = probe_request(self._model, dialect, token)
        try:
            response = await self._client.post(self._url, json=body)
        except httpx.TimeoutException as exc:
            return unreachable(dialect, f"timed out ({exc!r})")
        except httpx.TransportError as exc:
            return unreachable(dialect, f"cannot reach the LLM server: {exc!r}")
        return probe_result(dialect, response.status_code, response.text, token)

    async def assess(self, context: AnalysisContext) -> RiskAssessment:
        dialect = self._dialect or Dialect(await self.probe())
        try:
            response = await self._client.post(
                self._url, json=chat_request(self._model, context, dialect)
            )
        except httpx.TimeoutException as exc:
            raise LlmUnavailable(f"the LLM server at {self._url} timed out ({exc!r})") from exc
        except httpx.TransportError as exc:
            raise LlmUnavailable(f"cannot reach the LLM server at {self._url}: {exc!r}") from exc
        status = response.status_code
        if status >= 500 or status in RETRYABLE_STATUS:
            raise LlmUnavailable(f"the LLM server at {self._url} answered {status}")
        if status >= 400:
            raise LlmBadResponse(
                f"the LLM server at {self._url} refused the request with {status}: "
                f"{response.text[:_EXCERPT_CHARS]!r}"
            )
        try:
            return parse_assessment(_answer_text(response))
        except AssessmentParseError as exc:
            raise LlmBadResponse(f"the LLM's answer is not a valid assessment: {exc}") from exc

    async def aclose(self) -> None:
        await self._client.aclose()
