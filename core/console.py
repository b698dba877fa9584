"""Helpers every CLI module shares: one clear error line instead of a traceback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import typer

from core.errors import SparkAgentsError


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def run_cli(fn: Callable[[], Any]) -> Any:
    """Run a command body, turning project errors into one clear line (no traceback)."""
    try:
        return fn()
    except SparkAgentsError as e:
        fail(str(e))
    except KeyboardInterrupt:
        fail("interrupted", 130)
