"""The data directory and the profile: the two settings every package and every front end reads."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Profile = Literal["local", "spark-120b", "spark-20b"]
PROFILES: tuple[Profile, ...] = ("local", "spark-120b", "spark-20b")


class HomeSettings(BaseSettings):
    """`SPARK_AGENTS_HOME` holds all state; `SPARK_AGENTS_PROFILE` picks the models. Packages whose
    settings need the home subclass this, so the variable is read in one place."""

    model_config = SettingsConfigDict(env_prefix="SPARK_AGENTS_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".spark-agents")
    profile: Profile = "local"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"
