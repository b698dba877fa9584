"""A real `spark-agents serve` app on a loopback port (uvicorn in a thread), for HTTP-level tests."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

from agents.settings import AgentSettings
from api import ApiSettings, create_app
from core.daemon import free_port
from kg.settings import KGSettings
from serving.settings import ServingSettings
from tests.support.processes import serving_process


@contextmanager
def running_api(**overrides: object) -> Iterator[str]:
    """Serve `create_app(ApiSettings(**overrides))` on a free loopback port; yield the base URL."""
    port = free_port()
    settings = ApiSettings(port=port, **overrides)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, ServingSettings(), AgentSettings(), KGSettings()),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def api() -> Iterator[str]:
    """The service reads its settings as it starts, as the real one does: a test lists `api` after the
    fixtures that configure its environment (the scripted model, a server that is down)."""
    with running_api() as url:
        yield url


@pytest.fixture
def api_factory() -> Iterator[Callable[..., str]]:
    """Start an API with custom settings: `url = api_factory(token="t")`."""
    stack: list = []

    def start(**overrides: object) -> str:
        cm = running_api(**overrides)
        url = cm.__enter__()
        stack.append(cm)
        return url

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def health(url: str) -> dict:
    return httpx.get(f"{url}/health", timeout=5).json()


@contextmanager
def serve_process(*args: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`spark-agents serve` as a subprocess on a free port; yield its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "cli", "serve", "--port", str(port), *args]
    with serving_process(argv, f"{url}/health", env=env, timeout=90, ready=lambda r: r.status_code == 200):
        yield url
