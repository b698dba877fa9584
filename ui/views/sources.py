"""Documents: upload (several files, progress, an error next to each bad file), list, select for RAG, delete.

All of it goes through the resident service's rag MCP server (`ui.service`), the store's one owner, so the
app, `spark-agents ingest` and an IDE can use the same documents at once.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import streamlit as st

from core.errors import SparkAgentsError
from ui import service
from ui.common import guarded

log = logging.getLogger(__name__)
STAGES = {"scan": "Scanning", "read": "Reading", "embed": "Embedding", "write": "Writing", "done": "Done"}


def _delete(source_id: str, title: str) -> None:
    try:
        service.delete_source(source_id)
    except SparkAgentsError as e:
        st.session_state["sources_flash"] = ("error", str(e))
        return
    chosen = st.session_state.get("rag_sources")
    if chosen is not None:
        st.session_state["rag_sources"] = [s for s in chosen if s != source_id]
    st.session_state["sources_flash"] = ("success", f"Deleted {title!r}.")


def _set_all(ids: list[str], on: bool) -> None:
    for sid in ids:
        st.session_state[f"use_{sid}"] = on
    st.session_state["rag_sources"] = None if on else []


def _upload_section() -> None:
    st.subheader("Add documents")
    st.caption(
        "PDF, Word, HTML, Markdown or text. Each file is checked on its own: a bad file does not stop the others."
    )
    n = st.session_state.setdefault("uploader_round", 0)
    uploads = st.file_uploader("Documents", accept_multiple_files=True, key=f"uploader_{n}")
    if uploads and st.button(f"Ingest {len(uploads)} file(s)", type="primary", key="ingest"):
        bar = st.progress(0.0, text="Starting…")

        def on_progress(p: Any) -> None:
            frac = min(1.0, p.done / p.total) if p.total else 1.0
            where = f" {Path(p.path).name}" if p.path else ""
            bar.progress(frac, text=f"{STAGES.get(p.stage, p.stage)}{where} ({p.done}/{p.total})")

        files = [(u.name, u.getvalue()) for u in uploads]
        results = guarded("Ingesting", lambda: service.upload(files, on_progress))
        bar.empty()
        if results is not None:
            st.session_state["ingest_results"] = results
            st.session_state["uploader_round"] = n + 1
            st.rerun()
    for r in st.session_state.get("ingest_results", []):
        if r["ok"]:
            st.success(f"**{r['name']}** — {r['detail']}", icon="✅")
        else:
            st.error(f"**{r['name']}** — {r['detail']}", icon="❌")


def _list_section(sources: list[Any]) -> None:
    st.subheader(f"Your documents ({len(sources)})")
    if not sources:
        st.info("No documents yet: upload some above, or run `spark-agents ingest PATH`.")
        return
    chosen = st.session_state.get("rag_sources")
    ids = [s.id for s in sources]
    c1, c2, _ = st.columns([1, 1, 6])
    c1.button("Use all", key="use_all", on_click=_set_all, args=(ids, True))
    c2.button("Use none", key="use_none", on_click=_set_all, args=(ids, False))
    head = st.columns([0.5, 3.3, 1.2, 0.7, 0.8, 2.3, 1])
    for col, label in zip(head, ["Use", "Title", "Type", "Pages", "Chunks", "Id", ""], strict=True):
        if label:
            col.markdown(f"**{label}**")
    selected: list[str] = []
    for s in sources:
        row = st.columns([0.5, 3.3, 1.2, 0.7, 0.8, 2.3, 1], vertical_alignment="center")
        key = f"use_{s.id}"
        if key not in st.session_state:
            st.session_state[key] = chosen is None or s.id in chosen
        if row[0].checkbox("use", key=key, label_visibility="collapsed"):
            selected.append(s.id)
        row[1].markdown(f"{s.title}  \n:gray[{Path(s.path).name}]")
        row[2].write(s.type)
        row[3].write("—" if s.pages is None else str(s.pages))
        row[4].write(str(s.chunks))
        row[5].code(s.id, language=None)
        row[6].button("Delete", key=f"delete_{s.id}", on_click=_delete, args=(s.id, s.title))
    st.session_state["rag_sources"] = None if len(selected) == len(sources) else selected
    if len(selected) == len(sources):
        st.caption(f"The documents agent searches all {len(sources)} documents.")
    else:
        st.caption(f"The documents agent searches {len(selected)} of {len(sources)} documents.")


def render() -> None:
    st.title("📄 Documents")
    if flash := st.session_state.pop("sources_flash", None):
        (st.success if flash[0] == "success" else st.error)(flash[1])
    _upload_section()
    sources = guarded("Listing documents", service.list_sources)
    if sources is not None:
        _list_section(sources)
