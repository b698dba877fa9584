"""Triple extraction, the public face: pick an extractor by name and run it over chunks, all or nothing.

Both extractors produce `kg.model.Triple`s with the source chunk and text span as provenance:
`OfflineExtractor` (kg/offline.py: tables, pair lists and headings, then sentence patterns; no model) and
`LLMExtractor` (kg/llm_extract.py: the supervisor model under a JSON schema). Both see each chunk with the
heading path and continued table header it inherits from the chunks before it (`kg.structure.with_context`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from kg.errors import ExtractionError
from kg.llm_extract import LLMExtractor
from kg.model import Chunk, Triple
from kg.offline import OfflineExtractor
from kg.settings import KGSettings
from kg.structure import with_context

__all__ = ["LLMExtractor", "OfflineExtractor", "extract_all", "get_extractor"]


def get_extractor(name: str, settings: KGSettings) -> OfflineExtractor | LLMExtractor:
    """The extractor a CLI flag or tool argument names: 'offline' or 'llm'."""
    if name == "offline":
        return OfflineExtractor(settings)
    if name == "llm":
        return LLMExtractor(settings)
    raise ExtractionError(f"Unknown extractor {name!r}: use 'offline' (rule-based) or 'llm' (supervisor model).")


def extract_all(
    chunks: Iterable[Chunk],
    extractor: OfflineExtractor | LLMExtractor,
    progress: Callable[[int, int], None] | None = None,
) -> list[Triple]:
    """Every chunk's triples in chunk order, all or nothing: the first failure raises, nothing is returned.

    LLM calls run `SPARK_AGENTS_KG_LLM_CONCURRENCY` at a time (model servers batch concurrent requests).
    `progress(done, total)` is called as each chunk is done; an exception it raises (the client cancelled)
    stops the extraction: chunks not started are not sent.
    """
    chunks = with_context(list(chunks))
    tick = progress or (lambda done, total: None)
    workers = getattr(extractor, "concurrency", 1)
    if workers <= 1 or len(chunks) <= 1:
        out: list[Triple] = []
        for i, chunk in enumerate(chunks, 1):
            out.extend(extractor.extract(chunk))
            tick(i, len(chunks))
        return out
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with ThreadPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        futures = [pool.submit(extractor.extract, c) for c in chunks]
        try:
            for i, done in enumerate(as_completed(futures), 1):
                done.result()  # the first failure raises
                tick(i, len(chunks))
        except BaseException:
            for f in futures:
                f.cancel()
            raise
        return [t for f in futures for t in f.result()]
