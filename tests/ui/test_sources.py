"""The Documents page under AppTest: uploads into the real RAG library (embedded Qdrant, local embedder),
through the resident service that owns it; the tests read what is stored through the same service."""

from __future__ import annotations

from pathlib import Path

from rag.models import Source
from tests.ui.conftest import OneUIService
from ui import service

GOOD = b"# Spark notes\n\nThe DGX Spark has 128 GB of unified memory. NVIDIA builds the DGX Spark.\n"
OTHER = b"# Grace\n\nThe Grace CPU has twenty Arm cores.\n"


def stored() -> list[Source]:
    return service.list_sources()


def stored_titles() -> list[str]:
    return sorted(s.title for s in stored())


def upload(at, files: list[tuple[str, bytes, str]]):
    at.file_uploader[0].set_value(files).run()
    at.button(key="ingest").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


class TestDocumentsPage(OneUIService):
    """Each test starts from an empty library; the service and its rag server (the embedding model) are
    started once."""

    def test_a_bad_file_shows_its_error_next_to_it_while_the_others_ingest(self, app, spark_home: Path) -> None:
        at = app("sources")
        upload(
            at,
            [
                ("notes.md", GOOD, "text/markdown"),
                ("empty.txt", b"", "text/plain"),
                ("report.pdf", b"this is not a PDF \x00\x01\x02", "application/pdf"),
                ("grace.md", OTHER, "text/markdown"),
            ],
        )
        ok = {s.value.split("**")[1]: s.value for s in at.success}
        bad = {e.value.split("**")[1]: e.value for e in at.error}
        assert set(ok) == {"notes.md", "grace.md"} and all("added: 1 chunk" in v for v in ok.values())
        assert set(bad) == {"empty.txt", "report.pdf"}
        assert "empty" in bad["empty.txt"]
        assert "not text" in bad["report.pdf"] or "PDF" in bad["report.pdf"]
        # the good files are stored, the bad ones are not (and their uploads are removed)
        assert stored_titles() == ["Grace", "Spark notes"]
        docs = spark_home / "uploads" / "documents"
        assert sorted(p.name for p in docs.glob("*/*")) == ["grace.md", "notes.md"]
        # the list shows each document with its chunk count
        assert "Your documents (2)" in [h.value for h in at.subheader]
        rows = [m.value for m in at.markdown]
        assert any(r.startswith("Spark notes") for r in rows) and any(r.startswith("Grace") for r in rows)

    def test_uploading_the_same_content_again_changes_nothing(self, app) -> None:
        at = app("sources")
        upload(at, [("notes.md", GOOD, "text/markdown")])
        upload(at, [("copy of notes.md", GOOD, "text/markdown")])
        assert "already stored as 'Spark notes'" in at.success[0].value
        assert stored_titles() == ["Spark notes"]

    def test_hostile_file_names_stay_inside_the_upload_folder(self, app, spark_home: Path) -> None:
        at = app("sources")
        upload(at, [("../../../../tmp/../etc/passwd.md", GOOD, "text/markdown")])
        saved = list((spark_home / "uploads" / "documents").glob("*/*"))
        assert len(saved) == 1 and saved[0].name == "passwd.md"
        assert saved[0].resolve().is_relative_to((spark_home / "uploads" / "documents").resolve())

    def test_select_sources_for_the_rag_agent_and_delete_one(self, app) -> None:
        at = app("sources")
        upload(at, [("notes.md", GOOD, "text/markdown"), ("grace.md", OTHER, "text/markdown")])
        ids = {s.title: s.id for s in stored()}
        assert at.session_state["rag_sources"] is None  # all documents by default
        at.checkbox(key=f"use_{ids['Grace']}").uncheck().run()
        assert at.session_state["rag_sources"] == [ids["Spark notes"]]
        # the chat page passes the choice on and says so
        at.switch_page("app_pages/chat.py").run()
        assert "Documents: 1 selected source(s)" in [c.value for c in at.sidebar.caption]
        at.switch_page("app_pages/sources.py").run()
        assert at.checkbox(key=f"use_{ids['Grace']}").value is False  # the choice survives the page switch
        at.button(key="use_none").click().run()
        assert at.session_state["rag_sources"] == []
        at.button(key="use_all").click().run()
        assert at.session_state["rag_sources"] is None

        at.button(key=f"delete_{ids['Grace']}").click().run()
        assert not at.exception
        assert "Deleted 'Grace'." in [s.value for s in at.success]
        assert stored_titles() == ["Spark notes"]
        assert "Your documents (1)" in [h.value for h in at.subheader]
