"""The prompts (a client's slash commands): "ask my documents", "explain this error", "build a graph from …".

Each capability server offers its own, naming its tools as it calls them; the gateway offers all of them,
naming the tools as it exports them (`rag_search_documents`). Their arguments complete through the
server's completers (source ids and titles, collections).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

from pydantic import Field

from core.errors import ConfigError
from mcp_servers.sdk import MCPServer, Prompt

ToolName = Callable[[str, str], str]  # (server, tool) -> the name a client calls it by

SourceArg = Annotated[str | None, Field(description="only this source (an id from list_sources; completes)")]


def _ask_documents(name: ToolName) -> Callable[..., str]:
    def ask_documents(
        question: Annotated[str, Field(description="what to find out from the documents")],
        source_id: SourceArg = None,
    ) -> str:
        """Answer a question from the ingested documents, with a citation for each fact."""
        call = {"query": question, **({"source_ids": [source_id]} if source_id else {})}
        return (
            f"Answer this from my documents: {question}\n\n"
            f"Call {name('rag', 'search_documents')} with {json.dumps(call)}. Answer only from the chunks it "
            "returns and cite each fact with the chunk's `citation`; if they do not answer the question, say so "
            "rather than guessing."
        )

    return ask_documents


def _explain_error(name: ToolName) -> Callable[..., str]:
    def explain_error(
        error: Annotated[str, Field(description="the traceback or error message")],
        code: Annotated[str | None, Field(description="the code that raised it")] = None,
        language: Annotated[str, Field(description="programming language")] = "python",
    ) -> str:
        """Explain an error (meaning, likely cause, fix) and check the fix in the sandbox."""
        fence = f"\n\nThe code:\n```{language}\n{code}\n```" if code else ""
        return (
            f"Explain this {language} error: what it means, the likely cause and how to fix it.\n\n"
            f"```\n{error}\n```{fence}\n\n"
            f"Use {name('code', 'explain_error')} for the explanation; when you propose a fix, check it with "
            f"{name('code', 'run_python')} or {name('code', 'run_tests')} before presenting it."
        )

    return explain_error


def _build_graph(name: ToolName) -> Callable[..., str]:
    def build_graph(
        source_id: SourceArg = None,
        text: Annotated[str | None, Field(description="text to extract facts from, instead of a source")] = None,
        collection: Annotated[str | None, Field(description="the graph collection (default: 'default')")] = None,
    ) -> str:
        """Extract a knowledge graph from an ingested document or a text, then summarise what it holds."""
        if bool(source_id) == bool(text):
            raise ConfigError("Give exactly one of source_id or text.")
        what = {"source_id": source_id} if source_id else {"text": text}
        where = {"collection": collection} if collection else {}
        return (
            f"Build a knowledge graph from {'the document ' + str(source_id) if source_id else 'the text below'}.\n\n"
            f"Call {name('kg', 'extract_graph')} with {json.dumps({**what, **where})}, then "
            f"{name('kg', 'graph_stats')} with {json.dumps(where)}, and tell me what the graph holds: its size, "
            "its main entities and relations, and the names it merged."
        )

    return build_graph


PROMPTS: dict[str, tuple[str, str, Callable[[ToolName], Callable[..., str]]]] = {
    # prompt name -> (server, title, factory)
    "ask_documents": ("rag", "Ask my documents", _ask_documents),
    "explain_error": ("code", "Explain this error", _explain_error),
    "build_graph": ("kg", "Build a graph from …", _build_graph),
}


def add_prompts(mcp: MCPServer, servers: tuple[str, ...], name: ToolName = lambda server, tool: tool) -> None:  # type: ignore[type-arg]
    """Register the prompts of these servers on `mcp`, naming tools with `name`."""
    for prompt, (server, title, factory) in PROMPTS.items():
        if server in servers:
            mcp.add_prompt(Prompt.from_function(factory(name), name=prompt, title=title))
