"""Configuration of the coding tools (env prefix `SPARK_AGENTS_CODE_`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from serving.settings import ServingSettings

Isolation = Literal["auto", "bubblewrap", "rlimits-only"]


class CodeSettings(BaseSettings):
    """Sandbox limits and code-generation knobs.

    Every limit applies to each run separately. `isolation="auto"` uses bubblewrap when it is installed
    and works here, and falls back to rlimits + a separate process (and a separate user when we are root),
    which the run result then reports as `isolation: "rlimits-only"`.
    """

    model_config = SettingsConfigDict(env_prefix="SPARK_AGENTS_CODE_", extra="ignore")

    wall_time_s: float = Field(10.0, gt=0, le=3600, description="wall-clock limit per run")
    cpu_time_s: int = Field(10, gt=0, le=3600, description="CPU seconds per process (RLIMIT_CPU)")
    memory_mb: int = Field(512, ge=64, le=1 << 20, description="address space per process (RLIMIT_AS)")
    max_output_bytes: int = Field(65536, ge=1024, description="captured bytes per stream; more stops the run")
    max_file_mb: int = Field(16, ge=1, description="largest file a run may write (RLIMIT_FSIZE)")
    disk_mb: int = Field(64, ge=1, description="size of the run's /work and /tmp (tmpfs, bubblewrap only)")
    max_processes: int = Field(64, ge=1, le=4096, description="processes and threads of the run (RLIMIT_NPROC)")
    max_open_files: int = Field(256, ge=16, description="open files per process (RLIMIT_NOFILE)")
    max_input_bytes: int = Field(8 << 20, ge=1024, description="total size of code, stdin and files sent in")

    max_concurrent_runs: int = Field(4, ge=1, description="sandbox runs at once per server; more wait their turn")

    isolation: Isolation = "auto"
    bwrap_path: str = "bwrap"
    fallback_python: Path | None = Field(
        None,
        description="interpreter for rlimits-only runs (default: this one); as root it must be runnable by other "
        "users, since each run drops to its own uid",
    )
    uid_base: int = Field(200000, ge=1000, description="runs use a fresh uid from [uid_base, uid_base+60000)")
    scratch_dir: Path | None = Field(None, description="where staging directories go (default: system temp)")

    max_tokens: int = 1024
    temperature: float = 0.2
    start_local_model: bool = Field(True, description="start the local llama.cpp server when the coder needs it")
    # The model servers this package calls, read with it at the process's edge (not part of this package's env).
    serving: ServingSettings = Field(default_factory=ServingSettings, exclude=True, repr=False)
