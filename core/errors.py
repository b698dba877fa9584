"""The project's base exceptions. Every message is written for the user: it says what failed and what to do."""

from __future__ import annotations


class SparkAgentsError(Exception):
    """Base class: adapters (CLI, MCP, HTTP, UI) show `str(error)` to the user as one line."""


class ConfigError(SparkAgentsError):
    """The configuration cannot work (unknown profile, missing model file, bad value)."""
