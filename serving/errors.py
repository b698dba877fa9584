"""The project's exceptions. Every message is written for the user: it says what failed and what to do."""

from __future__ import annotations


class SparkAgentsError(Exception):
    """Base class: adapters (CLI, MCP, HTTP, UI) show `str(error)` to the user as one line."""


class ConfigError(SparkAgentsError):
    """The configuration cannot work (unknown profile, missing model file, bad value)."""


class ModelServerUnavailable(SparkAgentsError):
    """A role's model server cannot be reached (down, refused, timed out)."""

    def __init__(self, role: str, url: str | None, reason: str) -> None:
        self.role, self.url, self.reason = role, url, reason
        where = url or "no URL configured"
        super().__init__(f"The {role} model server is unavailable at {where}: {reason}")


class ModelServerError(SparkAgentsError):
    """A role's model server answered, but with an error or garbage."""

    def __init__(self, role: str, url: str | None, reason: str) -> None:
        self.role, self.url, self.reason = role, url, reason
        super().__init__(f"The {role} model server at {url} failed: {reason}")


class ServerStartError(SparkAgentsError):
    """A managed model server could not be started."""
