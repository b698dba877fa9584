"""A test's environment: a data directory of its own and the default profile, whatever the caller's shell says."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.daemon import free_port

ROLE_VARS = [
    f"SPARK_AGENTS_{r}_{k}"
    for r in ("SUPERVISOR", "CODER", "VISION", "EMBEDDINGS")
    for k in ("URL", "MODEL", "API_KEY")
]
UNSET = ROLE_VARS + [
    "SPARK_AGENTS_LOCAL_PORT",
    "SPARK_AGENTS_LOCAL_MODEL_PATH",
    "SPARK_AGENTS_SERVICE_URL",
    "SPARK_AGENTS_SERVICE_TOKEN",
]


def isolate(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """`home` as SPARK_AGENTS_HOME, the local profile, no role configured from outside, and the home's service
    on a port of its own: tests running side by side never race for the well-known 8800
    (tests/api/test_one_address.py unsets it to test how a home gets its port)."""
    monkeypatch.setenv("SPARK_AGENTS_HOME", str(home))
    monkeypatch.setenv("SPARK_AGENTS_PROFILE", "local")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for var in UNSET:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SPARK_AGENTS_SERVICE_PORT", str(free_port()))
