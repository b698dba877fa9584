"""What became of each uploaded file in one ingestion: the report speaks of paths and sources, a person
uploaded names. Files that were not stored as a new source (refused, or the same bytes as a stored one)
are not kept."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from rag.models import IngestReport, source_id_for


class UploadOutcome(BaseModel):
    name: str
    ok: bool
    detail: str
    source_id: str | None = None
    how: str | None = None  # "added" or "unchanged"
    keep: bool = False  # the stored upload is a source's file (else it can be removed)


def outcomes(saved: list[tuple[str, Path]], report: IngestReport) -> list[UploadOutcome]:
    """One outcome per (name, stored path), in upload order."""
    by_path = {Path(s.path).resolve(): ("added", s) for s in report.added}
    for s in report.unchanged:
        by_path.setdefault(Path(s.path).resolve(), ("unchanged", s))
    skipped = {Path(k.path).resolve(): k.reason for k in report.skipped}
    stored_ids = {s.id: s for s in report.unchanged}
    results = []
    for name, path in saved:
        key = path.resolve()
        if key in skipped:
            results.append(UploadOutcome(name=name, ok=False, detail=skipped[key]))
        elif key in by_path:
            how, s = by_path[key]
            detail = f"{how}: {s.chunks} chunk{'' if s.chunks == 1 else 's'}"
            results.append(UploadOutcome(name=name, ok=True, detail=detail, source_id=s.id, how=how, keep=True))
        else:  # the same bytes as a stored source: the report names the stored one (at its own path)
            sid = source_id_for(path.read_bytes())
            known = stored_ids.get(sid)
            detail = f"already stored as {known.title!r} ({known.chunks} chunks)" if known else "not ingested"
            outcome = UploadOutcome(name=name, ok=known is not None, detail=detail, source_id=sid, how="unchanged")
            results.append(outcome)
    return results
