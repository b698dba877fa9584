"""Fixtures for the UI tests: the real app under Streamlit's AppTest, pages switched by path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "ui" / "app.py"
TIMEOUT = 120  # seconds per script run: the first document upload loads the embedding model


def open_app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def app() -> Callable[..., AppTest]:
    return open_app


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Keep each phase's report on the item, so the browser fixtures can screenshot a failed test."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
