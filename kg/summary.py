"""What a community of the graph says, in a few sentences, and the facts that say it.

Extractive (offline): the community's best-supported facts — stated by the most chunks, between its most
central entities — written as plain sentences. With a model: the supervisor model rewrites those same facts
as a short paragraph. Either way the summary keeps the facts it was built from, so an answer that quotes it
can cite the source chunks; a model that fails or answers nothing gives the extractive summary instead.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from typing import Any

import networkx as nx

from core.errors import SparkAgentsError
from kg.errors import KGError
from kg.query import Fact, edge_fact
from kg.settings import KGSettings

log = logging.getLogger(__name__)


def _words(s: str) -> frozenset[str]:
    return frozenset(s.split())


# First words that make a relation read as a verb phrase ("acquired", "founded in", "has supported model");
# anything else ending in a preposition reads after "is" ("capital of"); the rest are attribute labels from
# tables and key/value lists ("memory bandwidth": "The memory bandwidth of X is Y").
_VERBS = _words(
    "is was are were has have had born died won wrote leads led owns makes made uses runs includes contains "
    "supports powers manufactures produces develops employs hosts sells serves became joined studied worked "
    "lives lived plays played teaches taught attended borders flows depends belongs known shown built written "
    "holds held ships runs requires provides offers"
)
_NOUNS_IN_ED = _words("speed need feed seed bed red embed")
_PREPOSITIONS = _words("in at of by to from with on for into near under over as")

SYSTEM_PROMPT = (
    "You summarise one community of a knowledge graph: a group of closely connected entities. Write two to four "
    "plain sentences that state what the numbered facts say about these entities, naming them. Use only the "
    "facts given; add nothing. No lists, no markup, no preamble."
)


def fact_sentence(f: Fact) -> str:
    """A fact as a readable sentence: "Halcyon Systems acquired Kestrel Foundry." /
    "Paris is capital of France." / "The memory bandwidth of Aurora AX-7 is 204 GB/s."."""
    rel = f.relation.strip()
    words = rel.split()
    first = words[0].lower() if words else ""
    if first in _VERBS or (first.endswith("ed") and len(first) > 3 and first not in _NOUNS_IN_ED):
        text = f"{f.subject} {rel} {f.object}"
    elif words and words[-1].lower() in _PREPOSITIONS:
        text = f"{f.subject} is {rel} {f.object}"
    else:
        text = f"The {rel} of {f.subject} is {f.object}"
    return text if text.endswith((".", "!", "?")) else text + "."


def supported_facts(g: nx.MultiDiGraph, members: list[str], k: int) -> list[Fact]:
    """The k best-supported distinct facts among `members`: stated by the most chunks first, then between
    the most connected entities (within the community). Each keeps the provenance of one of its statements
    (the first by chunk id, so the choice is stable)."""
    inside = set(members)
    degree: dict[str, int] = defaultdict(int)
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for u in members:
        for _, v, d in g.out_edges(u, data=True):
            if v in inside:
                degree[u] += 1
                degree[v] += 1
                groups[(u, str(d.get("relation", "")), v)].append(d)
    ranked = sorted(
        groups.items(),
        key=lambda item: (
            -len({d.get("chunk_id") for d in item[1]}),
            -(degree[item[0][0]] + degree[item[0][2]]),
            item[0],
        ),
    )
    out = []
    for (u, _rel, v), statements in ranked[:k]:
        d = min(statements, key=lambda s: (str(s.get("chunk_id", "")), str(s.get("span", ""))))
        out.append(edge_fact(u, v, d))
    return out


def _names(entities: list[str], size: int) -> str:
    shown = entities[:3]
    more = size - len(shown)
    if more > 0:
        return ", ".join(shown) + f" and {more} more entit{'y' if more == 1 else 'ies'}"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + f" and {shown[-1]}"


def offline_summary(entities: list[str], size: int, facts: list[Fact]) -> str:
    """ "About A, B and 5 more entities: <one sentence per fact>" (`entities`: the names to lead with)."""
    return f"About {_names(entities, size)}: " + " ".join(fact_sentence(f) for f in facts)


class ModelSummarizer:
    """Community summaries from the supervisor model (the endpoint `kg.llm_extract` uses too)."""

    def __init__(self, settings: KGSettings) -> None:
        from serving.registry import Role, endpoint

        self.settings = settings
        self.endpoint = endpoint(Role.SUPERVISOR, self.settings.serving)
        self.unavailable: str | None = None  # once the server is unreachable, the rest fall back at once

    @property
    def label(self) -> str:
        return f"llm:{self.endpoint.model}"

    def summarize(self, entities: list[str], facts: list[Fact]) -> str:
        """The model's paragraph over the facts; KGError when there is none to be had (the caller falls back)."""
        if self.unavailable:
            raise KGError(self.unavailable)
        from serving.client import openai_client, translate
        from serving.errors import ModelServerUnavailable
        from serving.lifecycle import ensure_endpoint
        from serving.registry import Role

        if self.endpoint.base_url is None and self.endpoint.managed == "llama-cpp":
            self.endpoint = ensure_endpoint(Role.SUPERVISOR, self.settings.serving)
        ep = self.endpoint
        listing = "\n".join(f"{i}. {f.subject} | {f.relation} | {f.object}" for i, f in enumerate(facts, 1))
        messages: list[Any] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": f"Entities: {', '.join(entities[:12])}\nFacts:\n{listing}"},
        ]
        try:
            resp = openai_client(ep).chat.completions.create(  # type: ignore[call-overload]
                model=ep.model, messages=messages, temperature=0, max_tokens=self.settings.summary_max_tokens
            )
            choice = resp.choices[0]
            content, finish = choice.message.content, choice.finish_reason
        except SparkAgentsError as e:
            self.unavailable = str(e)
            raise KGError(str(e)) from None
        except Exception as e:  # noqa: BLE001 - the openai/httpx errors, re-raised as a project error
            err = translate(ep, e)
            if not isinstance(err, SparkAgentsError):
                raise
            if isinstance(err, ModelServerUnavailable):
                self.unavailable = str(err)
            raise KGError(str(err)) from None
        text = re.sub(r"\s+", " ", content or "").strip()
        if finish == "length" or not text:
            raise KGError("the model's summary was cut off or empty")
        return text


def pick_summarizer(settings: KGSettings) -> ModelSummarizer | None:
    """The model summarizer when settings ask for it ('llm'), or 'auto' and a supervisor endpoint is
    configured or running; None: extractive summaries (never starts a model server on its own)."""
    if settings.summarizer == "offline" or settings.summary_max_llm == 0:
        return None
    summarizer = ModelSummarizer(settings)
    if settings.summarizer == "auto" and summarizer.endpoint.base_url is None:
        return None
    return summarizer
