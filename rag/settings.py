"""RAG configuration, read from the environment (prefix SPARK_AGENTS_RAG_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from vision.settings import VisionSettings


class RagSettings(BaseSettings):
    """One typed settings object for `rag/`.

    The store is Qdrant Edge in-process under `<SPARK_AGENTS_HOME>/edge/<collection>` unless `qdrant_url`
    points at a Qdrant server or cluster (or `backend=client` picks qdrant-client's local mode).
    """

    model_config = SettingsConfigDict(env_prefix="SPARK_AGENTS_RAG_", extra="ignore")

    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    qdrant_path: Path | None = None  # qdrant-client local mode's folder; default: <home>/qdrant
    backend: Literal["edge", "client"] = Field(
        "edge",
        description="embedded engine without a URL: edge (Qdrant Edge, HNSW) or client (qdrant-client local "
        "mode, exhaustive scan; the store before Edge, migrated to Edge on Edge's first open)",
    )
    edge_path: Path | None = None  # default: <home>/edge
    hnsw_ef: int = Field(
        2048,
        ge=1,
        description="HNSW search breadth: higher finds more true neighbours, slower (bench rag_scale at 100k: "
        "recall@10 0.67 at 128, 0.83 at 512, 1.00 at 2048 for +6 ms)",
    )
    min_free_mb: int = Field(
        64,
        ge=0,
        description="free disk space the embedded store always leaves: Qdrant Edge writes through memory-mapped "
        "files, and a full disk would crash the process instead of failing the write",
    )
    indexing_threshold_kb: int = Field(
        10_000, ge=1, description="Qdrant's indexing threshold: vectors past it (~6,600 at 384-d) get an HNSW index"
    )
    background_index: bool = Field(
        True, description="build the Edge index in a background process once enough points are unindexed"
    )
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
    fusion: Literal["cosine", "convex", "rrf", "dbsf"] = Field(
        "cosine", description="how dense and BM25 candidates are combined (rag.fusion; measured by bench rag_quality)"
    )
    dense_weight: float = Field(
        6.0,
        ge=0,
        description="fusion weight of the dense (semantic) ranking; 0 turns it off (6 with cosine: measured, at or "
        "above both halves on both of bench rag_quality's sets)",
    )
    sparse_weight: float = Field(1.0, ge=0, description="fusion weight of the BM25 (keyword) ranking; 0 turns it off")
    rrf_k: int = Field(60, ge=1, description="the k of reciprocal rank fusion, 1/(k + rank)")
    rerank_model: Path | None = None  # a sentence-transformers CrossEncoder folder; None: no reranking
    rerank_candidates: int = Field(30, ge=1)
    ocr: bool = True
    # OCR of pages without a text layer reads with these (read with this package's settings, at the edge).
    vision: VisionSettings = Field(default_factory=VisionSettings, exclude=True, repr=False)
