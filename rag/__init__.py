"""Documents in, cited chunks out: readers, structure-aware chunking, a Qdrant store and hybrid retrieval.

The public face is `Library`; the CLI (`cli.documents`) and the MCP server (`mcp_servers.rag`) are thin adapters
over it. Names load on first use, so `import rag` pulls in neither Qdrant nor the embedding model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.lazy import lazy_exports

if TYPE_CHECKING:
    from rag.errors import DocumentError, QueryError, RagError, SourceNotFound, StoreLocked
    from rag.library import Library
    from rag.models import Chunk, Hit, IngestReport, Progress, Skipped, Source
    from rag.settings import RagSettings

_WHERE = {
    "Library": "rag.library",
    "RagSettings": "rag.settings",
    **dict.fromkeys(["Chunk", "Hit", "IngestReport", "Progress", "Skipped", "Source"], "rag.models"),
    **dict.fromkeys(["DocumentError", "QueryError", "RagError", "SourceNotFound", "StoreLocked"], "rag.errors"),
}
__all__ = [
    "Chunk",
    "DocumentError",
    "Hit",
    "IngestReport",
    "Library",
    "Progress",
    "QueryError",
    "RagError",
    "RagSettings",
    "Skipped",
    "Source",
    "SourceNotFound",
    "StoreLocked",
]
__getattr__ = lazy_exports(__name__, _WHERE)
