"""What every package shares: the base error, the data directory and profile, console helpers, atomic
writes, detached daemons and the loopback/bearer checks. It imports no other package of the project, and
its names load on first use (packages' `__init__` modules import `core.lazy` without paying for the rest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from core.errors import ConfigError, SparkAgentsError
    from core.files import atomic_write
    from core.home import PROFILES, HomeSettings, Profile
    from core.net import bearer_token, check_bind, is_loopback, token_matches

_WHERE = {
    "ConfigError": "core.errors",
    "SparkAgentsError": "core.errors",
    "atomic_write": "core.files",
    "HomeSettings": "core.home",
    "PROFILES": "core.home",
    "Profile": "core.home",
    "bearer_token": "core.net",
    "check_bind": "core.net",
    "is_loopback": "core.net",
    "token_matches": "core.net",
}
__all__ = [
    "PROFILES",
    "ConfigError",
    "HomeSettings",
    "Profile",
    "SparkAgentsError",
    "atomic_write",
    "bearer_token",
    "check_bind",
    "is_loopback",
    "token_matches",
]
__getattr__ = lazy_exports(__name__, _WHERE)
