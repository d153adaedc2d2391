"""Any OpenAI-compatible chat server (llama.cpp, vLLM, Ollama, LM Studio ...) at ``LLM_URL``.

The request carries the answer's JSON schema as ``response_format`` (strict), so servers that
support structured output constrain the model to it; the answer is parsed and validated
anyway, because not every server honours the schema.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from homesec.contract.analysis import AnalysisContext, RiskAssessment
from homesec.engines.llm.base import LlmBadResponse, LlmConfigError, LlmUnavailable
from homesec.pipeline.prompt import (
    RISK_ASSESSMENT_SCHEMA,
    AssessmentParseError,
    build_messages,
    parse_assessment,
)
from homesec.settings import Settings

log = logging.getLogger(__name__)

# Enough for the JSON answer plus a reasoning model's preamble; bounds a runaway generation.
MAX_ANSWER_TOKENS = 2048
# Connecting is quick or not at all; a slow model only slows the answer.
MAX_CONNECT_SECONDS = 5.0
# Status codes that say "try again later" rather than "this request is wrong".
_RETRYABLE_STATUS = frozenset({408, 409, 425, 429})
_EXCERPT_CHARS = 200

RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "risk_assessment", "schema": RISK_ASSESSMENT_SCHEMA, "strict": True},
}


def chat_request(model: str, context: AnalysisContext) -> dict[str, Any]:
    """The body of the ``/chat/completions`` request for ``context``."""
    return {
        "model": model,
        "messages": build_messages(context),
        "response_format": RESPONSE_FORMAT,
        "temperature": 0,
        "max_tokens": MAX_ANSWER_TOKENS,
    }


def _answer_text(response: httpx.Response) -> str:
    try:
        body = response.json()
        content = body["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LlmBadResponse(
            f"the LLM server's reply is not a chat completion: {response.text[:_EXCERPT_CHARS]!r}"
        ) from exc
    if not isinstance(content, str) or not content.strip():
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

    async def assess(self, context: AnalysisContext) -> RiskAssessment:
        try:
            response = await self._client.post(self._url, json=chat_request(self._model, context))
        except httpx.TimeoutException as exc:
            raise LlmUnavailable(f"the LLM server at {self._url} timed out ({exc!r})") from exc
        except httpx.TransportError as exc:
            raise LlmUnavailable(f"cannot reach the LLM server at {self._url}: {exc!r}") from exc
        status = response.status_code
        if status >= 500 or status in _RETRYABLE_STATUS:
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
