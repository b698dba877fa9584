"""Knowledge graph: build from selected documents (or pasted text), the offline pyvis view, entity search.

Building, reading, searching and drawing the graph all go through the resident service (its kg server
reads the documents from the one document store; `/api/graph` answers the rest), as `spark-agents graph ...`
does: the page shows the graph of the machine the service runs on.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import service
from ui.common import guarded, unavailable


@st.cache_data(show_spinner="Drawing the graph…", max_entries=4)
def graph_html(service_url: str, collection: str, fingerprint: str, max_nodes: int) -> str:
    """The service's pyvis page for the collection; the service and the graph's fingerprint key the cache, so
    the page is re-drawn when the graph changes, not on every rerun."""
    return str(service.graph("view", max_nodes=max_nodes, title=f"Knowledge graph: {collection}")["html"])


def build(source_ids: list[str], text: str, extractor: str) -> dict[str, Any]:
    """Extract from each chosen document and the pasted text (one service call each); the summed report."""
    from kg.errors import ExtractionError

    inputs = [{"source_id": sid} for sid in source_ids] + ([{"text": text}] if text.strip() else [])
    if not inputs:
        raise ExtractionError("Choose at least one document or paste some text to build from.")
    reports = [service.extract_graph(**given, extractor=extractor) for given in inputs]
    total = {k: sum(r[k] for r in reports) for k in ("chunks", "triples", "edges_added", "nodes_added")}
    merges = [m for r in reports for m in r["merges"]]
    return {**reports[-1], **total, "merges": merges}


def _document_choices() -> dict[str, str]:
    """id → title of the ingested documents."""
    return {s.id: s.title for s in service.list_sources()}


def _build_section(empty: bool) -> None:
    open_ = empty or "kg_report" in st.session_state  # keep the last build's report in view
    with st.expander("Build or extend the graph", expanded=open_):
        docs = guarded("Listing documents", _document_choices) or {}
        chosen = st.session_state.get("rag_sources")
        default = [d for d in docs if chosen is None or d in chosen]
        picked = st.multiselect(
            "From documents", list(docs), default=default, format_func=lambda i: docs.get(i, i), key="kg_sources"
        )
        if not docs:
            st.caption("No documents yet (add them on the Documents page), or paste text below.")
        text = st.text_area("…and/or from text", key="kg_text", height=120)
        extractor = st.radio(
            "Extractor",
            ["offline", "llm"],
            horizontal=True,
            key="kg_extractor",
            help="offline: rule-based, instant, no model. llm: the supervisor model with a JSON schema.",
        )
        if st.button("Build graph", type="primary", key="kg_build"):
            with st.spinner("Extracting facts…"):
                report = guarded("Building the graph", lambda: build(picked, text, extractor))
            if report is not None:
                st.session_state["kg_report"] = report
                st.rerun()
        if r := st.session_state.get("kg_report"):
            st.success(
                f"Built from {r['chunks']} chunk(s): {r['triples']} facts extracted, {r['edges_added']} new, "
                f"{r['nodes_added']} new entities, {len(r['merges'])} merge(s). "
                f"The graph now has {r['nodes']} entities and {r['edges']} facts."
            )


def source_label(source_id: str, titles: dict[str, str]) -> str:
    """Where a fact comes from as a person knows it: the document's title, "pasted text", else the id."""
    if source_id in titles:
        return titles[source_id]
    return "pasted text" if source_id.startswith("text:") else source_id


def _facts_table(facts: list[Any]) -> None:
    titles = guarded("Listing documents", _document_choices) or {}
    st.dataframe(
        [
            {
                "subject": f.subject,
                "relation": f.relation,
                "object": f.object,
                "source": source_label(f.source_id, titles),
            }
            for f in facts
        ],
        hide_index=True,
        width="stretch",
    )


def _search_section() -> None:
    from kg.query import PathResult, SubgraphResult

    st.subheader("Search")
    c1, c2 = st.columns([3, 1])
    name = c1.text_input("Entity", key="kg_entity", placeholder="e.g. NVIDIA")
    hops = c2.number_input("Hops", min_value=1, max_value=5, value=1, key="kg_hops")
    if name.strip():
        found = guarded(
            "Searching the graph", lambda: service.graph("neighbours", entity=name, hops=int(hops), limit=200)
        )
        if found is not None:
            result = SubgraphResult.model_validate(found)
            st.markdown(f"**{result.matched[0]}**: {len(result.entities)} entities, {len(result.facts)} facts nearby")
            _facts_table(result.facts)
    with st.expander("How are two entities related?"):
        a, b = st.columns(2)
        src = a.text_input("From", key="kg_from")
        dst = b.text_input("To", key="kg_to")
        if src.strip() and dst.strip():
            linked = guarded("Finding a path", lambda: service.graph("paths", source=src, target=dst))
            if linked is not None:
                for i, p in enumerate(PathResult.model_validate(linked).paths, start=1):
                    st.markdown(f"**Path {i}:** " + "; ".join(f.sentence() for f in p))


def render() -> None:
    st.title("🕸️ Knowledge graph")
    try:
        import kg.query  # noqa: F401
    except ImportError as e:
        unavailable("Knowledge graph", e, "It comes with the kg package.")
        return
    from kg.query import Stats

    answer = guarded("Opening the graph", lambda: service.graph("stats"))
    if answer is None:
        return
    s = Stats.model_validate(answer["stats"])
    _build_section(s.nodes == 0)
    if s.nodes == 0:
        st.info("The graph is empty: build it from your documents or some text above.")
        return
    cols = st.columns(4)
    cols[0].metric("Entities", s.nodes)
    cols[1].metric("Facts", s.edges)
    cols[2].metric("Relations", s.relations)
    cols[3].metric("Sources", s.sources)
    max_nodes = st.slider("Entities drawn (the most connected first)", 10, 500, 150, step=10, key="kg_max_nodes")
    page = guarded(
        "Drawing the graph",
        lambda: graph_html(service.client().url, answer["collection"], answer["fingerprint"], max_nodes),
    )
    if page is not None:
        if hasattr(st, "iframe"):  # Streamlit >= 1.52; components.v1.html is deprecated there
            st.iframe(page, height=900)
        else:
            import streamlit.components.v1 as components

            components.html(page, height=900, scrolling=True)
    _search_section()
