"""The library end to end in-process: real readers, real chunking, the real embedding model, embedded Qdrant."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import SourceNotFound
from rag.library import Library
from rag.settings import RagSettings
from serving.settings import ServingSettings
from tests.rag.conftest import snapshot


def by_name(lib: Library) -> dict[str, str]:
    return {Path(s.path).name: s.id for s in lib.sources()}


def test_ingest_mixed_folder_then_search_cites_file_and_page(lib: Library, mixed: Path) -> None:
    events = []
    report = lib.ingest([mixed], progress=events.append)
    assert sorted(Path(s.path).name for s in report.added) == [
        "car.docx",
        "espresso.html",
        "greenhouse.md",
        "manual.pdf",
        "notes.txt",
    ]
    assert not report.skipped
    types = {Path(s.path).name: s.type for s in lib.sources()}
    assert types == {
        "car.docx": "docx",
        "espresso.html": "html",
        "greenhouse.md": "markdown",
        "manual.pdf": "pdf",
        "notes.txt": "text",
    }
    pdf = next(s for s in lib.sources() if s.type == "pdf")
    assert pdf.pages == 2 and pdf.title == "Bicycle maintenance manual" and len(pdf.id) == 16
    stages = [e.stage for e in events]
    assert stages[0] == "scan" and stages[-1] == "done" and "embed" in stages and "write" in stages

    hits = lib.search("when should I replace brake pads?", k=3)
    assert hits[0].path.endswith("manual.pdf") and hits[0].page == 2
    assert "1.5 mm" in hits[0].text
    assert hits[0].citation == "Bicycle maintenance manual (manual.pdf), p. 2"
    assert hits[0].score >= hits[-1].score

    hits = lib.search("aphids ladybirds", k=2)
    assert hits[0].title == "Greenhouse handbook" and hits[0].heading == "Greenhouse handbook > Pests"
    assert "§ Greenhouse handbook > Pests" in hits[0].citation

    assert "120 Nm" in " ".join(h.text for h in lib.search("wheel nut torque", k=3))  # a DOCX table row
    html = lib.search("how long should an espresso shot take", k=1)[0]
    assert html.path.endswith("espresso.html") and "25 to 30 seconds" in html.text
    assert all("console.log" not in c.text for c in lib.chunks(html.source_id))  # scripts are not indexed


def test_search_within_chosen_sources(lib: Library, mixed: Path) -> None:
    lib.ingest([mixed])
    ids = by_name(lib)
    hits = lib.search("how often", k=10, source_ids=[ids["car.docx"]])
    assert hits and {h.source_id for h in hits} == {ids["car.docx"]}
    two = [ids["greenhouse.md"], ids["notes.txt"][:6]]  # a unique prefix works too
    assert {h.source_id for h in lib.search("glass mirror water", k=10, source_ids=two)} <= set(
        [ids["greenhouse.md"], ids["notes.txt"]]
    )
    with pytest.raises(SourceNotFound, match="sources list"):
        lib.search("anything", source_ids=["ffffffffffffffff"])


def test_reingesting_the_same_content_adds_nothing(lib: Library, mixed: Path) -> None:
    first = lib.ingest([mixed])
    before = snapshot(lib)
    again = lib.ingest([mixed, mixed / "notes.txt"])
    assert not again.added and len(again.unchanged) == len(first.added)
    assert snapshot(lib) == before
    assert [s.ingested_at for s in lib.sources()] == sorted(s.ingested_at for s in first.added)


def test_a_changed_file_replaces_its_old_chunks(lib: Library, mixed: Path) -> None:
    lib.ingest([mixed])
    old_id = by_name(lib)["notes.txt"]
    (mixed / "notes.txt").write_text("The Zephyr-9 mirror was recoated with silver in 2025.\n", encoding="utf-8")
    report = lib.ingest([mixed])
    assert len(report.added) == 1 and report.replaced == [old_id] and len(report.unchanged) == 4
    new_id = by_name(lib)["notes.txt"]
    assert new_id != old_id and len(lib.sources()) == 5
    with pytest.raises(SourceNotFound):
        lib.chunks(old_id)
    texts = " ".join(h.text for h in lib.search("Zephyr-9 mirror", k=10))
    assert "silver" in texts and "ULE glass" not in texts


def test_delete_source_removes_its_chunks_and_nothing_else(lib: Library, mixed: Path) -> None:
    lib.ingest([mixed])
    ids, points = snapshot(lib)
    pdf = by_name(lib)["manual.pdf"]
    n_pdf = len(lib.chunks(pdf))
    lib.delete_source(pdf[:8])
    assert snapshot(lib) == ([i for i in ids if i != pdf], points - n_pdf)
    assert all(not h.path.endswith("manual.pdf") for h in lib.search("brake pads", k=10))
    with pytest.raises(SourceNotFound, match="No source has the id"):
        lib.delete_source(pdf)


def test_chunks_of_a_source_in_document_order(lib: Library, mixed: Path) -> None:
    lib.ingest([mixed])
    pdf = by_name(lib)["manual.pdf"]
    chunks = lib.chunks(pdf)
    assert [c.page for c in chunks] == [1, 2]
    assert [c.chunk_id for c in chunks] == [f"{pdf}:00000", f"{pdf}:00001"]
    assert all(c.source_id == pdf and c.title == "Bicycle maintenance manual" for c in chunks)
    assert "300 km" in chunks[0].text and "1.5 mm" in chunks[1].text


def test_sources_survive_reopening(mixed: Path) -> None:
    with Library(RagSettings(), ServingSettings()) as lib:
        lib.ingest([mixed])
        before = snapshot(lib)
    with Library(RagSettings(), ServingSettings()) as lib:
        assert snapshot(lib) == before
        assert lib.search("telescope mirror", k=1)[0].path.endswith("notes.txt")


def test_reranker_setting_with_a_missing_model_is_a_clear_error(mixed: Path, tmp_path: Path) -> None:
    from rag.errors import RagError
    from rag.settings import RagSettings

    with Library(RagSettings(rerank_model=tmp_path / "no-model"), ServingSettings()) as lib:
        lib.ingest([mixed / "notes.txt"])
        with pytest.raises(RagError, match="Reranker model folder not found: .*SPARK_AGENTS_RAG_RERANK_MODEL"):
            lib.search("telescope")


def test_fusion_weights_can_turn_either_half_off(mixed: Path) -> None:
    from rag.settings import RagSettings

    with Library(RagSettings(dense_weight=0.0), ServingSettings()) as lib:  # keyword ranking only
        lib.ingest([mixed])
        hits = lib.search("ULE", k=5)
        assert hits[0].path.endswith("notes.txt")
        assert len(hits) == 1  # only one chunk contains the term; dense candidates weigh nothing


def test_an_identifier_in_the_question_finds_its_note_among_near_duplicates(lib: Library, tmp_path: Path) -> None:
    """200 notes that differ only by their numbers: the real embedding barely tells them apart, so the
    keyword half must decide. Min-max scaling of the dense half (the former `convex` default) stretched
    those tiny differences and ranked "note 3-12" fifth; the default fusion keeps cosine on its own scale."""
    root = tmp_path / "notes"
    for d in range(4):
        (root / f"d{d:02d}").mkdir(parents=True)
        for f in range(50):
            note = f"Field note {d}-{f}: sighted bird number {d * 100 + f}."
            (root / f"d{d:02d}" / f"note{f:03d}.txt").write_text(note)
    lib.ingest([root])
    assert lib.search("bird number 234", k=3)[0].path.endswith("d02/note034.txt")
    assert lib.search("sighted bird 117", k=3)[0].path.endswith("d01/note017.txt")
    assert any(h.path.endswith("d03/note012.txt") for h in lib.search("note 3-12", k=3))
