"""Knowledge-graph configuration, read from the environment (prefix SPARK_AGENTS_KG_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from serving.settings import ServingSettings

ExtractorName = Literal["offline", "llm"]
# auto: the supervisor model when one is configured (an endpoint URL is set or running), else extractive.
SummarizerName = Literal["auto", "offline", "llm"]


class KGSettings(BaseSettings):
    """One typed settings object for `kg/`."""

    model_config = SettingsConfigDict(env_prefix="SPARK_AGENTS_KG_", extra="ignore")

    collection: str = "default"
    extractor: ExtractorName = "offline"
    # Text is cut into chunks of about this many characters (at paragraph/sentence boundaries).
    chunk_chars: int = Field(default=1500, ge=200)
    # Hard limit on one `--text`/`--file` input; larger inputs should be ingested as a RAG source.
    max_text_chars: int = Field(default=2_000_000, ge=1)
    # The LLM extractor makes one call per chunk: refuse jobs that would take more calls than this.
    max_llm_chunks: int = Field(default=200, ge=1)
    llm_max_tokens: int = Field(default=1024, ge=64)
    # Chunks sent to the model at once (llama.cpp, vLLM and TensorRT-LLM batch concurrent requests).
    llm_concurrency: int = Field(default=2, ge=1, le=32)
    # Keep only model triples whose subject and object both occur in the chunk (drops invented entities).
    llm_grounded_only: bool = True
    # A chunk whose model answer is unusable JSON (malformed, cut off, off-schema, invalid triple) is
    # extracted by the offline rules instead, and counted; false: the build fails and stores nothing.
    llm_fallback: bool = True
    # Entity names and relations longer than this are rejected (they are sentences, not entities).
    max_field_chars: int = Field(default=120, ge=8)
    max_triples_per_chunk: int = Field(default=64, ge=1)
    # Near-duplicate entity names with a similarity at or above this are folded into one node.
    merge_threshold: float = Field(default=0.92, gt=0.5, le=1.0)
    # The HTML view keeps at most this many nodes (the most central ones).
    view_max_nodes: int = Field(default=150, ge=2)
    # Communities (Louvain): a fixed seed, so the same graph always gives the same communities.
    community_seed: int = 42
    community_resolution: float = Field(default=1.0, gt=0)
    summarizer: SummarizerName = "auto"
    # At most this many communities (the largest) are summarised by the model; the rest extractively.
    summary_max_llm: int = Field(default=20, ge=0)
    # The facts a community summary is built from (and cites).
    summary_facts: int = Field(default=8, ge=1, le=50)
    summary_max_tokens: int = Field(default=300, ge=32)
    home: Path | None = None  # default: the serving data directory (SPARK_AGENTS_HOME)
    # The model servers (the LLM extractor, community summaries) and the data directory, read with this
    # package's settings at the process's edge.
    serving: ServingSettings = Field(default_factory=ServingSettings, exclude=True, repr=False)

    @property
    def data_home(self) -> Path:
        return self.home or self.serving.home

    @property
    def graphs_dir(self) -> Path:
        return self.data_home / "graphs"
