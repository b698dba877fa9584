"""RAG errors: each message says what went wrong and what to do."""

from __future__ import annotations

from core.errors import SparkAgentsError


class RagError(SparkAgentsError):
    """Base class for document and retrieval errors."""


class DocumentError(RagError):
    """One file cannot be ingested (empty, unsupported, corrupt, encrypted, too big, no text)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


class QueryError(RagError):
    """The query cannot be run as given (empty, too long)."""


class StoreLocked(RagError):
    """Another process holds the embedded Qdrant store."""


class SourceNotFound(RagError):
    """No source has the given id."""
