"""What may reach the routes: a request-size limit, a Host allow-list against DNS rebinding, the bearer token.

Both middlewares are pure ASGI, so streamed answers and client disconnects pass through them untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError, error_response
from api.settings import ApiSettings
from core.net import token_matches

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
BEARER = HTTPBearer(auto_error=False, description="the token given to `spark-agents serve`, when one is set")


class BodyLimit:
    """413 for a body over `limit` bytes (`per_path` for the paths given there, e.g. uploads): at once from
    Content-Length, else while a chunked body is read."""

    def __init__(self, app: ASGIApp, limit: int, per_path: dict[str, tuple[int, str]] | None = None) -> None:
        self.app, self.limit, self.per_path = app, limit, per_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = self.per_path.get(scope["path"], (self.limit, "SPARK_AGENTS_API_MAX_BODY_BYTES"))
        message = f"request body over {limit} bytes; send less (the limit is {setting})"
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > limit:
            await error_response(413, message, "invalid_request_error", "request_too_large")(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            got = await receive()
            if got["type"] == "http.request":
                received += len(got.get("body", b""))
                if received > limit:
                    raise ApiError(413, message, code="request_too_large")
            return got

        await self.app(scope, limited, send)


def allowed_hosts(bound: str) -> list[str]:
    """Loopback names and the bound address, as Host header names (IPv6 in brackets)."""
    name = f"[{bound}]" if ":" in bound and not bound.startswith("[") else bound
    return list(dict.fromkeys([*LOOPBACK_HOSTS, name.lower()]))


class HostCheck(TrustedHostMiddleware):
    """Starlette's Host allow-list, used when no token is set: a page on another site cannot drive a
    loopback API through a name it controls. A foreign Host gets our JSON 421 instead of its plain 400."""

    def __init__(self, app: ASGIApp, bound: str) -> None:
        self.inner = app
        super().__init__(self._admit, allowed_hosts=allowed_hosts(bound), www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        await super().__call__(scope, receive, _Refusal(scope, receive, send))

    async def _admit(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Starlette calls its app only for an allowed Host: hand the request the real `send`.
        assert isinstance(send, _Refusal)
        await self.inner(scope, receive, send.send)


class _Refusal:
    """The `send` Starlette answers a refused Host through: its response is replaced by ours."""

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope, self.receive, self.send, self.sent = scope, receive, send, False

    async def __call__(self, message: Message) -> None:
        if not self.sent:
            self.sent = True
            refusal = error_response(421, "unexpected Host header (DNS-rebinding protection)", "invalid_request_error")
            await refusal(self.scope, self.receive, self.send)


def authorizer(settings: ApiSettings) -> Callable[..., None]:
    """The FastAPI dependency that checks `Authorization: Bearer <token>` when a token is set (401 otherwise)."""

    def authorize(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
        if settings.token is None:
            return
        given = credentials.credentials if credentials else ""
        if not token_matches(given, settings.token):
            raise ApiError(401, "missing or wrong bearer token (Authorization: Bearer <token>)", code="invalid_api_key")

    return authorize


def service_authorizer(settings: ApiSettings, service_token: str | None) -> Callable[..., None]:
    """The native API's check: a token is always required — the home's token file (local clients read it)
    or `SPARK_AGENTS_API_TOKEN` — so another user of the machine cannot drive the service over loopback."""
    accepted = [t for t in (service_token, settings.token) if t]

    def authorize(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> None:
        given = credentials.credentials if credentials else ""
        if not any(token_matches(given, t) for t in accepted):
            raise ApiError(401, "missing or wrong bearer token (Authorization: Bearer <token>)", code="invalid_api_key")

    return authorize
