"""Routing accuracy and latency on bench/data/routing_dev.jsonl (150 prompts written blind, 30 per route).

Three deciders on the local profile: the embedding router alone, the supervisor model alone (SmolLM2-135M
under a JSON-schema-constrained response), and the combination the graph uses in `auto` mode (the router
when confident, else the model).

Then with documents present (examples/documents ingested into a scratch library): the router alone
against the router with the documents-first rule the graph applies, on routing_dev.jsonl and on
routing_docs.jsonl (60 prompts written blind to the router's examples: 30 questions the example documents
answer, 15 general and 15 coding questions that must not be taken from their routes).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from langchain_core.messages import HumanMessage, SystemMessage

from agents import prompts
from agents.capabilities.rag import EVIDENCE_HITS, documents_cover
from agents.llm import chat
from agents.router import SemanticRouter, may_probe
from agents.settings import AgentSettings
from agents.supervisor import route_schema
from rag.library import Library
from rag.settings import RagSettings
from serving.client import json_schema_format
from serving.embeddings import get_embedder
from serving.lifecycle import ensure_endpoint
from serving.registry import Role
from serving.settings import ServingSettings

DEV_SET = Path(__file__).parent / "data" / "routing_dev.jsonl"
DOCS_SET = Path(__file__).parent / "data" / "routing_docs.jsonl"
DOCUMENTS = Path(__file__).parents[1] / "examples" / "documents"


def load(path: Path = DEV_SET) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def llm_route(text: str) -> str:
    serving = ServingSettings()
    ep = ensure_endpoint(Role.SUPERVISOR, serving)
    ai = await chat(
        ep,
        [SystemMessage(prompts.route_json()), HumanMessage(text)],
        serving=serving,
        response_format=json_schema_format(ep, "route", route_schema()),
        max_tokens=32,
    )
    try:
        return json.loads(ai.content)["agent"]
    except (ValueError, KeyError, TypeError):
        return "general"


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def main() -> None:
    rows = load()
    settings = AgentSettings()
    router = SemanticRouter(lambda: get_embedder(ServingSettings()))
    router.route("warm up")
    router_ms, llm_ms = [], []
    hits = {"router": 0, "llm": 0, "combined": 0}
    unsure = {"n": 0, "router": 0, "llm": 0}
    per_label: dict[str, list[int]] = {}
    # The router first, on its own: the local llama.cpp server's threads keep spinning after each request
    # and would otherwise be measured as router latency.
    decisions = []
    for row in rows:
        t = time.perf_counter()
        decisions.append(router.route(row["prompt"]))
        router_ms.append((time.perf_counter() - t) * 1000)
    for row, decision in zip(rows, decisions, strict=True):
        t = time.perf_counter()
        llm = asyncio.run(llm_route(row["prompt"]))
        llm_ms.append((time.perf_counter() - t) * 1000)
        confident = decision.confident(settings.router_min_score, settings.router_min_margin)
        combined = decision.agent if confident else llm
        if not confident:
            unsure["n"] += 1
            unsure["router"] += decision.agent == row["agent"]
            unsure["llm"] += llm == row["agent"]
        hits["router"] += decision.agent == row["agent"]
        hits["llm"] += llm == row["agent"]
        hits["combined"] += combined == row["agent"]
        per_label.setdefault(row["agent"], [0, 0])
        per_label[row["agent"]][0] += decision.agent == row["agent"]
        per_label[row["agent"]][1] += 1
    n = len(rows)
    print(f"Routing dev set: {n} prompts ({DEV_SET.name}), local profile\n")
    print("| decider | accuracy | latency p50 (ms) | latency p95 (ms) |")
    print("|---|---|---|---|")
    print(
        f"| embedding router alone | {hits['router'] / n:.1%} | {pct(router_ms, 50):.1f} | {pct(router_ms, 95):.1f} |"
    )
    print(f"| SmolLM2-135M, JSON schema | {hits['llm'] / n:.1%} | {pct(llm_ms, 50):.1f} | {pct(llm_ms, 95):.1f} |")
    print(f"| router, else the model when unsure | {hits['combined'] / n:.1%} | - | - |")
    print(
        f"\nOn the {unsure['n']} prompts where the router is unsure (score < {settings.router_min_score}, margin < "
        f"{settings.router_min_margin}): router {unsure['router']}/{unsure['n']}, model {unsure['llm']}/{unsure['n']}."
    )
    print("`auto` mode with a small supervisor model lets the router decide always (so combined = router alone);")
    print("with a large one (gpt-oss) the model decides the unsure cases through its handoff tools.")
    print("\n| route | router accuracy |\n|---|---|")
    for label, (ok, total) in sorted(per_label.items()):
        print(f"| {label} | {ok}/{total} |")
    with_documents(router)


def with_documents(router: SemanticRouter) -> None:
    """Router alone vs router + documents-first, with the example documents in a scratch library."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        lib = Library(RagSettings(qdrant_path=home / "qdrant"), ServingSettings(home=home))
        lib.ingest(sorted(DOCUMENTS.iterdir()))

        def documents_first(text: str) -> str:
            agent = router.route(text).agent
            if may_probe(agent, "rag", text):
                hits = lib.search(text, k=EVIDENCE_HITS)
                if documents_cover(text, [h.text for h in hits], [h.title for h in hits]):
                    return "rag"
            return agent

        print(f"\nWith documents ingested ({', '.join(p.name for p in sorted(DOCUMENTS.iterdir()))}):\n")
        print("| set | route | n | router alone | router + documents first |")
        print("|---|---|---|---|---|")
        for path in (DEV_SET, DOCS_SET):
            rows = load(path)
            before = [router.route(r["prompt"]).agent == r["agent"] for r in rows]
            after = [documents_first(r["prompt"]) == r["agent"] for r in rows]
            for label in sorted({r["agent"] for r in rows}):
                idx = [i for i, r in enumerate(rows) if r["agent"] == label]
                b, a = sum(before[i] for i in idx), sum(after[i] for i in idx)
                print(f"| {path.name} | {label} | {len(idx)} | {b}/{len(idx)} | {a}/{len(idx)} |")
            n = len(rows)
            print(f"| {path.name} | **all** | {n} | {sum(before) / n:.1%} | {sum(after) / n:.1%} |")
        lib.close()


if __name__ == "__main__":
    main()
