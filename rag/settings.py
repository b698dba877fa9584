"""RAG configuration, read from the environment (prefix SPARK_AGENTS_RAG_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RagSettings(BaseSettings):
    """One typed settings object for `rag/`.

    The store is Qdrant in local mode under `<SPARK_AGENTS_HOME>/qdrant` unless `qdrant_url` points at a
    Qdrant server or cluster.
    """

    model_config = SettingsConfigDict(env_prefix="SPARK_AGENTS_RAG_", extra="ignore")

    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    qdrant_path: Path | None = None  # default: <home>/qdrant
    collection: str = "spark_chunks"
    keep_open: bool = Field(
        True,
        description="keep the embedded store open between calls (fast); False releases its lock after each "
        "call so other processes (CLI, other MCP servers) can use the same folder in turn",
    )
    lock_wait_s: float = Field(0.0, ge=0, description="how long to wait for another process to release the store")

    max_file_mb: float = Field(50.0, gt=0, description="files larger than this are refused")
    max_files: int = Field(100_000, gt=0, description="refuse to walk more files than this in one ingestion")
    chunk_tokens: int = Field(200, ge=32, description="chunk size; all-MiniLM-L6-v2 reads 256 word pieces")
    chunk_overlap: int = Field(30, ge=0)
    batch_chunks: int = Field(256, ge=1, description="chunks embedded and written per batch")
    max_query_chars: int = Field(4000, ge=1)
    prefetch: int = Field(50, ge=1, description="candidates from each of dense and sparse before fusion")
    dense_weight: float = Field(1.0, ge=0, description="RRF weight of the dense (semantic) ranking")
    sparse_weight: float = Field(1.0, ge=0, description="RRF weight of the BM25 (keyword) ranking")
    rerank_model: Path | None = None  # a sentence-transformers CrossEncoder folder; None: no reranking
    rerank_candidates: int = Field(30, ge=1)
    ocr: bool = True
