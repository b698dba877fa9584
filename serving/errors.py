"""Model-serving errors. The base classes live in `core.errors`."""

from __future__ import annotations

from core.errors import ConfigError, SparkAgentsError


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


class PullError(SparkAgentsError):
    """A model file could not be fetched or verified; the message names the catalog entry to fix."""


class AdmissionRefused(ConfigError):
    """Starting a model server now would take more memory than the machine has available."""
