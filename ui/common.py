"""Helpers the pages share: agent labels, turning failures into banners, session defaults (uploads are
stored by `core.uploads`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from agents.capabilities import CAPABILITIES
from core.errors import SparkAgentsError

log = logging.getLogger(__name__)
T = TypeVar("T")

DOCUMENT_TYPES = ["pdf", "md", "markdown", "txt", "text", "rst", "html", "htm", "docx", "csv", "json"]
AGENT_LABELS = {"auto": "Auto (the supervisor decides)"} | {c.name: c.label for c in CAPABILITIES.values()}


def guarded(what: str, fn: Callable[[], T]) -> T | None:
    """Run `fn`; a project error becomes an `st.error` banner, anything else a banner naming the bug."""
    try:
        return fn()
    except SparkAgentsError as e:
        st.error(f"{what}: {e}", icon="⚠️")
    except Exception as e:  # noqa: BLE001 - shown to the user and logged with its traceback
        log.exception("%s failed", what)
        st.error(f"{what} failed unexpectedly ({type(e).__name__}: {e}). The server log has the details.", icon="🐞")
    return None


def unavailable(feature: str, error: BaseException, hint: str) -> None:
    """A page whose library is missing or broken says so instead of crashing."""
    st.warning(f"{feature} unavailable: {type(error).__name__}: {error}. {hint}", icon="🚧")


def session_default(key: str, factory: Callable[[], Any]) -> Any:
    if key not in st.session_state:
        st.session_state[key] = factory()
    return st.session_state[key]
