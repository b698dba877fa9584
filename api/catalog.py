"""The model ids the API offers: the whole assistant, and each specialist alone (from the capability registry)."""

from __future__ import annotations

from agents.capabilities import CAPABILITIES

BASE_MODEL = "spark-agents"
# model id -> the specialist that answers it (None: the supervisor routes)
MODELS: dict[str, str | None] = {BASE_MODEL: None} | {f"{BASE_MODEL}-{name}": name for name in CAPABILITIES}
MODEL_DESCRIPTIONS: dict[str, str] = {
    BASE_MODEL: f"the full assistant: the supervisor routes to the {', '.join(CAPABILITIES)} agents"
} | {f"{BASE_MODEL}-{c.name}": c.model_description for c in CAPABILITIES.values()}
