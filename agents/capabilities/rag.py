"""The documents capability: search and cite the user's ingested documents (the `rag` MCP server).

A search is followed by what the knowledge graph knows about the entities its hits name (mixed
retrieval, the LightRAG idea). The supervisor probes it before routing a factual question elsewhere:
when the documents cover the question's terms the turn comes here, with the probe's search in hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.capabilities.base import Capability, Probe, ToolContext, shorten
from core.errors import SparkAgentsError
from core.wire import ToolCallEvent, ToolResultEvent
from rag.terms import present, question_terms

if TYPE_CHECKING:
    from mcp.types import Tool

    from agents.mcp_pool import MCPPool, ToolOutcome

MIN_TERMS, MIN_COVERAGE = 2, 0.6
EVIDENCE_HITS = 3  # chunks searched for the question's words


def hits_of(outcome: ToolOutcome) -> list[dict[str, Any]]:
    """The hits of a search_documents result."""
    return [h for h in (outcome.structured or {}).get("hits") or [] if isinstance(h, dict)]


def documents_cover(text: str, passages: Sequence[str], titles: Sequence[str] = ()) -> list[str]:
    """The question's terms the passages contain, when they are enough of them and not only the words of the
    documents' titles (a question about "the DGX Spark" is not answered by a title that names it); else []."""
    terms = question_terms(text)
    evidence = " ".join(passages).casefold()
    found = [t for t in terms if present(t, evidence)]
    topic = " ".join(titles).casefold()
    beyond_titles = [t for t in found if not present(t, topic)]
    enough = len(found) >= MIN_TERMS and len(found) >= MIN_COVERAGE * len(terms)
    return found if enough and beyond_titles else []


async def probe(pool: MCPPool, question: str) -> Probe | None:
    """One search for the question; a Probe when its best chunks cover the question's terms."""
    args = {"query": question[:2000], "k": EVIDENCE_HITS}
    try:
        outcome = await pool.call("rag", "search_documents", args)
    except SparkAgentsError:
        return None  # the documents agent would fail the same way: let the router's choice stand
    hits = [] if outcome.is_error else hits_of(outcome)
    covered = documents_cover(question, [str(h.get("text", "")) for h in hits], [str(h.get("title", "")) for h in hits])
    if not covered:
        return None
    return Probe(f"your documents cover {', '.join(covered[:5])}", "search_documents", args, outcome)


async def with_graph_facts(ctx: ToolContext, found: ToolOutcome) -> ToolOutcome:
    """The hits, plus what the knowledge graph knows about the entities the question and the hits name, each
    fact cited to its chunk. Nothing is added when there is no graph, it knows none of them, or the kg
    server fails."""
    hits = [] if found.is_error or not ctx.settings.graph_facts else hits_of(found)
    if not hits:
        return found
    keep = ("text", "source_id", "chunk_id", "citation")
    args = {"question": ctx.question[:2000], "hits": [{k: str(h.get(k) or "") for k in keep} for h in hits]}
    try:
        extra = await ctx.pool.call("kg", "graph_facts", args)
    except SparkAgentsError:
        return found
    facts = (extra.structured or {}).get("facts") or [] if not extra.is_error else []
    if not facts:
        return found
    ctx.emit(
        ToolCallEvent(server="kg", tool="graph_facts", arguments={"question": ctx.question[:200]}, agent=ctx.agent)
    )
    ctx.emit(ToolResultEvent(server="kg", tool="graph_facts", summary=shorten(extra.text), is_error=False))
    lines = "\n".join(f"- {f['text']} ({f['citation']})" for f in facts)
    return found.model_copy(
        update={
            "text": f"{found.text}\n\nFacts from the knowledge graph:\n{lines}",
            "structured": {**(found.structured or {}), "graph_facts": facts},
        }
    )


async def source_named_by_the_user(ctx: ToolContext, tool: Tool, lacking: list[str]) -> dict[str, Any]:
    """ "Delete the warranty document": the id of the one source whose title or file name the request names
    (looked up with list_sources, shown in the trace); nothing when none or several match."""
    from agents.intent import source_named

    if lacking != ["source_id"] or "list_sources" not in ctx.tools:
        return {}
    try:
        listed = await ctx.call("list_sources", {})
    except SparkAgentsError:
        return {}
    found = [] if listed.is_error else (listed.structured or {}).get("sources") or []
    named = source_named(ctx.question, [s for s in found if isinstance(s, dict)])
    return {"source_id": named} if named else {}


def _hits(data: dict[str, Any], limit: int = 300) -> str:
    """The passage that answers first, one list item each (a line of its own in Markdown and in a terminal),
    with its citation's number (the order of the citations list); passages that answer far less than the
    best are left to the citations."""
    from rag.passages import answering

    hits = [h for h in data.get("hits") or [] if isinstance(h, dict)]
    chunks = [(str(h.get("text", "")), str(h.get("title") or "")) for h in hits]
    passages = [
        f"- [{i + 1}] {p if len(p) <= limit else p[: limit - 1] + '…'} — {hits[i].get('citation', '')}"
        for i, p in answering(chunks, str(data.get("query") or ""))
    ]
    if not passages:
        return "Nothing in your documents matches that."
    parts = ["From your documents:\n" + "\n".join(passages)]
    facts = data.get("graph_facts") or []
    if facts:
        parts.append(
            "From your knowledge graph:\n"
            + "\n".join(f"- {f.get('text', '')} — {f.get('citation', '')}" for f in facts)
        )
    return "\n\n".join(parts)


def _sources(data: dict[str, Any]) -> str:
    sources = data.get("sources") or []
    if not sources:
        return "No documents are ingested yet (`spark-agents ingest PATH`, or the Documents page)."
    lines = [f"Your documents ({len(sources)}):"]
    lines += [f"- {s.get('title', '')} — {Path(str(s.get('path', ''))).name} · id {s.get('id', '')}" for s in sources]
    return "\n".join(lines)


def _deleted(data: dict[str, Any]) -> str:
    gone = data.get("deleted") or {}
    return f"Deleted {gone.get('title', '')} ({Path(str(gone.get('path', ''))).name}, id {gone.get('id', '')})."


CAPABILITY = Capability(
    name="rag",
    server="rag",
    primary_tool="search_documents",
    label="Documents (RAG)",
    icon="📄",
    prompt=(
        "You are the documents agent. Search the user's documents with search_documents and answer only "
        "from what it returns, citing sources as [n] with file and page. Say so when the documents do not answer."
    ),
    model_description="the documents agent alone (answers from ingested sources, with citations)",
    server_description="search and cite the documents ingested with `spark-agents ingest`",
    routing_examples=(
        "what does section 4 of the specification say",
        "in the paper I uploaded, what dataset did they use",
        "check my meeting notes for action items",
        "what is the refund policy in our handbook",
        "find the part of the lease about pets",
        "compare what the two reports I added say about costs",
        "remove that document from my library",
        "what are the key findings of the study in my files",
        "quote the installation instructions from the product manual",
        "does my uploaded policy mention remote work",
        "according to my documents, what is the warranty period",
        "search my notes for the meeting decisions",
        "what does the uploaded report say about revenue",
        "summarize the PDF I ingested",
        "find in my files where the deployment steps are described",
        "which of my sources mentions the budget",
        "cite the section of the manual about safety",
        "what did the contract I added say about termination",
        "list the documents I have ingested",
        "answer from my knowledge base",
        "look up the onboarding guide in my docs",
    ),
    summary="answer from the user's ingested documents, with citations",
    route_hint="the user's documents",
    sample_prompts=(
        "Summarise the main points of my documents, with citations.",
        "What do my documents say about memory requirements?",
    ),
    tool_examples={
        "search_documents": (
            "what do my documents say about the warranty",
            "find the part of the manual about safety",
            "summarize the PDF I ingested",
            "according to my notes, when is the deadline",
            "summarise the main points of my documents",
        ),
        "delete_source": (
            "delete the source 9b41c07e2d55aa13 from my documents",
            "remove that document from my library",
            "delete this file from my sources",
            "forget the document I uploaded",
        ),
        "list_sources": (
            "list the documents I have ingested",
            "which sources are in my library",
            "show me my documents",
        ),
    },
    approvals={"delete_source": "ask", "ingest_documents": "ask"},
    failure_hint=(
        "`spark-agents sources list` shows what is ingested; select sources in the UI or name one by its id."
    ),
    renderers={"search_documents": _hits, "list_sources": _sources, "delete_source": _deleted},
    after={"search_documents": with_graph_facts},
    resolve=source_named_by_the_user,
    probe=probe,
)
