"""Fixtures for the UI tests: the real app under Streamlit's AppTest, pages switched by path."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from api.service import ServiceSettings, read_record
from tests.support.one_service import OneService

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


class OneUIService(OneService):
    """Each test begins with the home emptied through the service (no thread, document or upload), which it
    checks, so a page shows what it shows on a fresh home."""

    def empty(self, home: Path) -> None:
        from ui import service

        if read_record(ServiceSettings()) is not None:
            for thread in service.threads():
                service.delete_thread(thread.id)
            for source in service.list_sources():
                service.delete_source(source.id)
            assert not service.threads() and not service.list_sources(), "the shared home could not be emptied"
        shutil.rmtree(home / "uploads", ignore_errors=True)
