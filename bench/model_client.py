"""CPU per streamed model call: the agents' client (`serving.chat_stream.ModelClients`, aiohttp) against the openai
client's low-level `post` it replaced, both reading raw JSON chunks over a kept connection.

CPU time (this process, all threads), not wall time: concurrent turns share one core, so a call's CPU is what
it takes from the others. The scripted OpenAI-compatible server runs in its own process, as llama.cpp does.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import openai

from serving.chat_stream import ModelClients
from serving.roles import Endpoint, Role
from tests.support.scripted_server import ScriptedServer, text

CALLS = 300
ROUNDS = 3
BODY: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi " * 50}], "max_tokens": 100}
ANSWER = "word " * 20  # ~20 content chunks, a short answer's worth


async def with_aiohttp(url: str) -> tuple[Callable[[], Awaitable[int]], Callable[[], Awaitable[None]]]:
    clients, ep = ModelClients(), Endpoint(role=Role.SUPERVISOR, base_url=url, model="m")

    async def one() -> int:
        return sum([1 async for _ in clients.stream(ep, BODY)])

    return one, clients.aclose


async def with_openai(url: str) -> tuple[Callable[[], Awaitable[int]], Callable[[], Awaitable[None]]]:
    client = openai.AsyncOpenAI(base_url=url, api_key="x", max_retries=0)

    async def one() -> int:
        stream: AsyncIterator[dict[str, Any]] = await client.post(
            "/chat/completions",
            body={**BODY, "stream": True},
            cast_to=object,
            stream=True,
            stream_cls=openai.AsyncStream[dict[str, Any]],
        )
        return sum([1 async for _ in stream])

    return one, client.close


async def cpu_per_call(make: Callable[[str], Awaitable[Any]], url: str) -> tuple[int, list[float]]:
    one, close = await make(url)
    try:
        chunks = await one()  # warm: the connection
        rounds = []
        for _ in range(ROUNDS):
            start = time.process_time()
            for _ in range(CALLS):
                await one()
            rounds.append((time.process_time() - start) * 1000 / CALLS)
        return chunks, rounds
    finally:
        await close()


def main() -> None:
    if sys.argv[1:] == ["--model-server"]:
        with ScriptedServer(handler=lambda request: text(ANSWER)) as server:
            print(server.url, flush=True)
            sys.stdin.read()
        return
    # The server's stderr is dropped: it prints a traceback for each kept connection a client closes.
    command = [sys.executable, "-m", "bench.model_client", "--model-server"]
    pipe, quiet = subprocess.PIPE, subprocess.DEVNULL
    proc = subprocess.Popen(command, stdin=pipe, stdout=pipe, stderr=quiet, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        print(f"{CALLS} streamed calls a round, {ROUNDS} rounds; CPU ms per call (median of the rounds, min–max).\n")
        print("| client | chunks a call | CPU ms per call |")
        print("|---|---|---|")
        for name, make in (("serving.chat_stream (aiohttp)", with_aiohttp), ("openai AsyncOpenAI.post", with_openai)):
            chunks, rounds = asyncio.run(cpu_per_call(make, url))
            print(f"| {name} | {chunks} | {statistics.median(rounds):.2f} ({min(rounds):.2f}–{max(rounds):.2f}) |")
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    main()
