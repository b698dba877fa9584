"""`spark-agents serve` configuration, read from `SPARK_AGENTS_API_*` environment variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """`spark-agents serve` configuration (prefix `SPARK_AGENTS_API_`)."""

    model_config = SettingsConfigDict(env_prefix="SPARK_AGENTS_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8800
    token: str | None = None  # bearer token; required when `host` is not a loopback address
    max_body_bytes: int = 512 * 1024  # larger request bodies get 413
    max_upload_bytes: int = 200 * 1024 * 1024  # ... except document uploads (POST /api/documents), up to this
    history_chars: int = 6000  # transcript of earlier user/assistant messages sent when no thread id is given
    emit_events: bool = True  # stream handoff/tool events as extra `spark_agents.event` chunks
    # Each running turn holds a worker thread while it waits for its next event; anyio's default pool (40)
    # would make the 41st concurrent turn wait for another to finish.
    run_threads: int = 1024
