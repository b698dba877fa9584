"""Triple extraction, the public face: pick an extractor by name and run it over chunks, all or nothing.

Both extractors produce `kg.model.Triple`s with the source chunk and text span as provenance:
`OfflineExtractor` (kg/offline.py: tables, pair lists and headings, then sentence patterns; no model) and
`LLMExtractor` (kg/llm_extract.py: the supervisor model under a JSON schema). Both see each chunk with the
heading path and continued table header it inherits from the chunks before it (`kg.structure.with_context`).
"""

from __future__ import annotations

from collections.abc import Iterable

from kg.errors import ExtractionError
from kg.llm_extract import LLMExtractor
from kg.model import Chunk, Triple
from kg.offline import OfflineExtractor
from kg.settings import KGSettings
from kg.structure import with_context

__all__ = ["LLMExtractor", "OfflineExtractor", "extract_all", "get_extractor"]


def get_extractor(name: str, settings: KGSettings | None = None) -> OfflineExtractor | LLMExtractor:
    """The extractor a CLI flag or tool argument names: 'offline' or 'llm'."""
    if name == "offline":
        return OfflineExtractor(settings)
    if name == "llm":
        return LLMExtractor(settings)
    raise ExtractionError(f"Unknown extractor {name!r}: use 'offline' (rule-based) or 'llm' (supervisor model).")


def extract_all(chunks: Iterable[Chunk], extractor: OfflineExtractor | LLMExtractor) -> list[Triple]:
    """Every chunk's triples in chunk order, all or nothing: the first failure raises, nothing is returned.

    LLM calls run `SPARK_AGENTS_KG_LLM_CONCURRENCY` at a time (model servers batch concurrent requests).
    """
    chunks = with_context(list(chunks))
    workers = getattr(extractor, "concurrency", 1)
    if workers <= 1 or len(chunks) <= 1:
        out: list[Triple] = []
        for chunk in chunks:
            out.extend(extractor.extract(chunk))
        return out
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        futures = [pool.submit(extractor.extract, c) for c in chunks]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in futures if f.done() and f.exception() is not None]
        if failed:
            for f in pending:
                f.cancel()
            raise failed[0].exception()  # type: ignore[misc]
        return [t for f in futures for t in f.result()]
