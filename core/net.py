"""Who may reach a server: loopback detection, the bind rule and the bearer-token comparison that every
HTTP entry point (the API, the MCP servers) applies the same way."""

from __future__ import annotations

import ipaddress
import secrets

from core.errors import ConfigError


def is_loopback(host: str) -> bool:
    """`localhost`, and any address in 127.0.0.0/8 or ::1 (brackets allowed)."""
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None, what: str = "", env_var: str = "SPARK_AGENTS_API_TOKEN") -> None:
    """Refuse to listen beyond this machine without a bearer token."""
    if not is_loopback(host) and not token:
        served = f"{what} " if what else ""
        raise ConfigError(
            f"refusing to serve {served}on {host} without a token: anyone who reaches it could use it "
            f"(and the tools that run code). Set {env_var} (or pass --token), or bind to 127.0.0.1."
        )


def token_matches(given: str | bytes | None, expected: str) -> bool:
    """Constant-time comparison of a presented bearer token with the expected one."""
    raw = given.encode() if isinstance(given, str) else (given or b"")
    return secrets.compare_digest(raw, expected.encode())


def bearer_token(authorization: str | bytes | None) -> str:
    """The token of an `Authorization: Bearer <token>` header value ('' when absent or another scheme)."""
    value = authorization.decode("latin-1") if isinstance(authorization, bytes) else (authorization or "")
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""
