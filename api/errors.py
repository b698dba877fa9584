"""Every failure as an OpenAI-shaped JSON error (`{"error": {"message", "type", "param", "code"}}`), which
OpenAI clients turn into their own exceptions; never a traceback or a plain-text page."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from openai.types.shared import ErrorObject
from starlette.exceptions import HTTPException as StarletteHTTPException

from agents.mcp_pool import MCPServerUnavailable
from agents.threads import ThreadNotFound
from api.schemas import ErrorResponse
from core.errors import SparkAgentsError
from rag.errors import SourceNotFound
from serving.errors import ModelServerError, ModelServerUnavailable

log = logging.getLogger(__name__)


def error_response(status: int, message: str, type_: str, code: str | None = None, **headers: str) -> JSONResponse:
    """The JSON error response; headers (e.g. `X-Thread-Id`) are passed as keyword arguments."""
    body = ErrorResponse(error=ErrorObject(message=message, type=type_, param=None, code=code))
    return JSONResponse(body.model_dump(exclude_unset=True), status_code=status, headers=headers or None)


class ApiError(StarletteHTTPException):
    """An HTTP error with an OpenAI-shaped JSON body."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None):
        super().__init__(status, message)
        self.type, self.code = type_, code


def validation_message(error: RequestValidationError) -> str:
    """The first few validation errors as `field: problem`, so a client sees which field is wrong."""
    parts = []
    for e in error.errors()[:3]:
        if e.get("type") == "json_invalid":
            return "the request body is not valid JSON"
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
        parts.append(f"{loc or 'body'}: {e.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def status_for(error: SparkAgentsError) -> tuple[int, str]:
    """A project error's HTTP status: 404 for what does not exist, 502 for a model or MCP server that failed,
    400 for anything else the caller can fix."""
    if isinstance(error, ThreadNotFound | SourceNotFound):
        return 404, "not_found"
    if isinstance(error, ModelServerUnavailable | ModelServerError | MCPServerUnavailable):
        return 502, "upstream_failed"
    return 400, "bad_request"


def install_error_handlers(app: FastAPI) -> None:
    """Validation errors become 400 (OpenAI's status, not FastAPI's 422), HTTP errors keep their status,
    anything else is a logged 500 that names only the exception type."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(400, validation_message(error), "invalid_request_error")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if isinstance(error, ApiError):
            extra = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else {}
            return error_response(error.status_code, str(error.detail), error.type, error.code, **extra)
        return error_response(error.status_code, str(error.detail), "invalid_request_error")

    @app.exception_handler(SparkAgentsError)
    async def _project_error(request: Request, error: SparkAgentsError) -> JSONResponse:
        status, code = status_for(error)
        return error_response(status, str(error), "upstream_error" if status == 502 else "invalid_request_error", code)

    @app.exception_handler(Exception)
    async def _crash(request: Request, error: Exception) -> JSONResponse:
        log.exception("unhandled error in %s %s", request.method, request.url.path)
        return error_response(500, f"internal error ({type(error).__name__}); see the server log", "server_error")
