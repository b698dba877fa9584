"""The knowledge-graph capability: entities, relations and paths (the `kg` MCP server)."""

from __future__ import annotations

from agents.capabilities.base import Capability

CAPABILITY = Capability(
    name="kg",
    server="kg",
    primary_tool="query_graph",
    label="Knowledge graph",
    icon="🕸️",
    prompt=(
        "You are the knowledge-graph agent. Use the graph tools to find entities, neighbours and paths, "
        "and answer from the graph facts they return, naming the relations."
    ),
    model_description="the knowledge-graph agent alone",
    server_description="build and query knowledge graphs",
    routing_examples=(
        "which people are linked to both companies",
        "list all relations of the entity Acme Corp",
        "turn this article into subject relation object triples",
        "who are the neighbours of Berlin in the graph",
        "how many hops between Einstein and Bohr",
        "export the entity network",
        "which organisations does Jane Doe work with according to the extracted facts",
        "rebuild the knowledge graph from my sources",
        "what is the most connected node",
        "how is Marie Curie related to Pierre Curie",
        "build a knowledge graph from my documents",
        "extract the entities and relations from this text",
        "show me the graph of people and companies",
        "which entities are most central in the graph",
        "what connects the supplier to the lawsuit",
        "find the path between Alice and the Acme project",
        "who is connected to the CEO in the knowledge graph",
        "visualize the relationships between these organizations",
        "graph statistics: how many nodes and edges",
        "map the relationships between the characters",
    ),
    summary="knowledge graphs: entities, relations, how things are connected",
    route_hint="knowledge graph, entity relations",
    sample_prompts=(
        "Which entities are most central in my knowledge graph?",
        "How are the main entities in my documents related?",
    ),
    medium=r"\b(graph|entit(y|ies)|relations?|relationships?|nodes?|edges?|triples?)\b",
    failure_hint="`spark-agents graph stats` shows the graph's entities; name one as it is written there.",
    renderers={"query_graph": lambda d: str(d.get("text") or "")},
)
