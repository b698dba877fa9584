"""Settings read once per environment, for code that needs them on every call.

Building a pydantic-settings object costs milliseconds (every field resolved from every source); a tool
or model call that built two or three of them spent more time there than in its own work (bench
orchestration: graph_stats 11 ms in-process, 10 of them settings). The cache key is the `SPARK_AGENTS_*`
environment and the working folder (for `.env`), so a changed environment still gets fresh settings.
Instances are shared: treat them as read-only (`model_copy(update=...)` for a variant).
"""

from __future__ import annotations

import os
import threading
from typing import TypeVar

from pydantic_settings import BaseSettings

S = TypeVar("S", bound=BaseSettings)

_cache: dict[tuple[type[BaseSettings], tuple[tuple[str, str], ...], str], BaseSettings] = {}
_lock = threading.Lock()
_MAX = 64  # environments kept (tests change the environment often; a service keeps one)


def environment_key() -> tuple[tuple[str, str], ...]:
    """The environment every package's settings are read from (microseconds, where reading them takes ms)."""
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("SPARK_AGENTS_")))


def current(cls: type[S]) -> S:
    """The settings of `cls` for the current environment, built once."""
    key = (cls, environment_key(), os.getcwd())
    found = _cache.get(key)
    if found is None:
        found = cls()
        with _lock:
            if len(_cache) >= _MAX:
                _cache.clear()
            _cache[key] = found
    return found  # type: ignore[return-value]
