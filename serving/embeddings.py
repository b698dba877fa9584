"""Text embeddings for the `embeddings` role: in-process sentence-transformers or an OpenAI endpoint."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Protocol

from core.errors import ConfigError
from serving.client import openai_client, translate
from serving.registry import Endpoint, Role, endpoint
from serving.settings import ServingSettings


class Embedder(Protocol):
    name: str

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: list[str]) -> list[list[float]]: ...


class LocalEmbedder:
    """A sentence-transformers model loaded from a folder on disk (offline; no hub access)."""

    def __init__(self, path: str, batch_size: int = 32) -> None:
        self.name = path
        self.batch_size = batch_size
        self._lock = threading.Lock()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer

        if not os.path.isdir(path):
            raise ConfigError(f"Embedding model folder not found: {path}. Set SPARK_AGENTS_EMBEDDING_MODEL_PATH.")
        self._model = SentenceTransformer(path, device="cpu")

    @property
    def dimension(self) -> int:
        dim = self._model.get_sentence_embedding_dimension()
        assert dim is not None
        return dim

    def embed(self, texts: list[str]) -> list[list[float]]:
        with self._lock:  # the torch model is not re-entrant under concurrent encode calls
            vectors = self._model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
            )
        return vectors.tolist()


class OpenAIEmbedder:
    """Any OpenAI-compatible `/v1/embeddings` endpoint (llama.cpp with Qwen3-Embedding, vLLM, ...)."""

    def __init__(self, ep: Endpoint) -> None:
        self.name = ep.model
        self._ep = ep
        self._client = openai_client(ep)
        self._dim: int | None = None

    @property
    def dimension(self) -> int:
        if self._dim is None:
            self._dim = len(self.embed(["dimension probe"])[0])
        return self._dim

    def embed(self, texts: list[str]) -> list[list[float]]:
        try:
            result = self._client.embeddings.create(model=self._ep.model, input=texts)
            return [d.embedding for d in sorted(result.data, key=lambda d: d.index)]
        except Exception as e:  # noqa: BLE001 - re-raised as a project error
            raise translate(self._ep, e) from e


@lru_cache(maxsize=4)
def _local(path: str) -> LocalEmbedder:
    return LocalEmbedder(path)


def get_embedder(settings: ServingSettings) -> Embedder:
    """The embedder for the active profile; the local model is loaded once per process."""
    ep = endpoint(Role.EMBEDDINGS, settings)
    if ep.managed == "in-process":
        return _local(ep.model)
    return OpenAIEmbedder(ep)
