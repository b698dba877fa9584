"""The service's one runtime, in its app's state, on the server's own event loop.

It is built on the first request that needs it (the service answers `/health` at once, and a runtime that
cannot start, say an unreachable Postgres, is that request's clear error, tried again on the next) and
closed with the app. Its settings are the service's, read once as the service starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from agents.runtime import Runtime
from agents.settings import AgentSettings
from core.wire import Event, TurnRequest
from serving.settings import ServingSettings


class RuntimeSlot:
    def __init__(self, serving: ServingSettings, agents: AgentSettings) -> None:
        self.serving, self.agents = serving, agents
        self._runtime: Runtime | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Runtime:
        if self._runtime is None:
            async with self._lock:
                if self._runtime is None:
                    self._runtime = await Runtime(self.serving, self.agents).start()
        return self._runtime

    async def turn(self, request: TurnRequest) -> AsyncGenerator[Event, None]:
        """One turn's events; closing the iterator early cancels the run."""
        runtime = await self.get()
        events = runtime.turn(request)
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()

    async def aclose(self) -> None:
        if self._runtime is not None:
            runtime, self._runtime = self._runtime, None
            await runtime.aclose()
