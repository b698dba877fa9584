"""Knowledge-graph store and query latency on a synthetic 100k-edge graph.

The graph: 100,000 facts over 25,000 two-word entity names made of random syllables, endpoints drawn
with a preferential-attachment bias (a few hubs, a long tail: the shape of graphs extracted from
documents), 40 relation names, provenance on every edge. It is built through the same path as real
extraction (`KnowledgeGraph.add_triples`: validation, entity merging, near-duplicate search), saved and
loaded through `GraphStore`, then queried. Latencies are medians over repeated queries with random
entities. `python -m bench kg_query`.
"""

from __future__ import annotations

import contextlib
import random
import statistics
import tempfile
import time
from pathlib import Path

from kg import query as q
from kg.errors import KGError
from kg.model import Triple
from kg.settings import KGSettings
from kg.store import GraphStore, KnowledgeGraph
from kg.view import render

N_EDGES, N_NODES, SEED = 100_000, 25_000, 7
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"] + ["an", "el", "or", "is", "um"]


def _name(rng: random.Random) -> str:
    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()

    return f"{word()} {word()}"


def synthetic_triples(n_edges: int = N_EDGES, n_nodes: int = N_NODES, seed: int = SEED) -> list[Triple]:
    rng = random.Random(seed)
    names = list(dict.fromkeys(_name(rng) for _ in range(n_nodes * 2)))[:n_nodes]
    relations = [f"rel {i}" for i in range(40)]
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(names))]  # a few hubs, a long tail
    subjects = rng.choices(names, weights, k=n_edges)
    objects = rng.choices(names, weights, k=n_edges)
    out = []
    for i, (s, o) in enumerate(zip(subjects, objects, strict=True)):
        if s == o:
            o = names[(names.index(o) + 1) % len(names)] if i % 50 == 0 else rng.choice(names)
        out.append(
            Triple(
                subject=s,
                relation=rng.choice(relations),
                object=o,
                source_id=f"doc{i // 500}",
                chunk_id=f"doc{i // 500}#{i // 10}",
                span=(0, 80),
                evidence=f"{s} {o}",
            )
        )
    return out


def _median_ms(fn, args_list) -> float:  # noqa: ANN001
    times = []
    for args in args_list:
        t = time.perf_counter()
        with contextlib.suppress(KGError):  # 'no path' / 'unknown, did you mean' are timed answers too
            fn(*args)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    rng = random.Random(SEED + 1)
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as home:
        settings = KGSettings(home=Path(home))
        triples = synthetic_triples()
        t = time.perf_counter()
        kg = KnowledgeGraph()
        report = kg.add_triples(triples, settings)
        rows.append(("add_triples (100k, with merging)", f"{time.perf_counter() - t:.2f} s"))
        g = kg.graph
        store = GraphStore("bench", settings)
        t = time.perf_counter()
        store.save(kg)
        rows.append(
            ("save (atomic JSON)", f"{time.perf_counter() - t:.2f} s, {store.path.stat().st_size / 1e6:.1f} MB")
        )
        t = time.perf_counter()
        kg = store.load()
        rows.append(("load", f"{time.perf_counter() - t:.2f} s"))
        t = time.perf_counter()
        kg.index()
        rows.append(("entity index build (first query)", f"{time.perf_counter() - t:.2f} s"))
        nodes = list(g.nodes)
        picks = [rng.choice(nodes) for _ in range(30)]
        lower = [(kg, p.lower()) for p in picks]
        rows.append(("resolve name (case-folded)", f"{_median_ms(q.resolve, lower):.3f} ms"))
        typos = [(kg, p[:-1] + ("x" if p[-1] != "x" else "y")) for p in picks]
        folded = 0
        for _, typo in typos:
            with contextlib.suppress(KGError):
                folded += q.resolve(kg, typo) in picks
        rows.append(
            (
                "resolve name (one-letter typo: near-duplicate search, else suggestions)",
                f"{_median_ms(q.resolve, typos):.2f} ms ({folded}/{len(typos)} folded)",
            )
        )
        rows.append(
            ("neighbours, 1 hop (limit 200)", f"{_median_ms(q.neighbours, [(kg, p, 1) for p in picks]):.1f} ms")
        )
        rows.append(
            ("neighbours, 2 hops (limit 200)", f"{_median_ms(q.neighbours, [(kg, p, 2) for p in picks]):.1f} ms")
        )
        pairs = [(kg, rng.choice(nodes), rng.choice(nodes)) for _ in range(20)]
        rows.append(("paths between two random entities", f"{_median_ms(q.paths, pairs):.1f} ms"))
        questions = [(kg, f"How is {a} related to {b}?") for _, a, b in pairs[:10]]
        rows.append(
            ("subgraph for a question (2 entities)", f"{_median_ms(q.subgraph_for_question, questions):.1f} ms")
        )
        rows.append(("stats (incl. top-10 degree centrality)", f"{_median_ms(q.stats, [(kg,)] * 3):.0f} ms"))
        rows.append(("central, pagerank top 10", f"{_median_ms(q.central, [(kg, 10, 'pagerank')]):.0f} ms"))
        out = Path(home) / "g.html"
        rows.append(("render HTML (150 most central)", f"{_median_ms(render, [(kg, out, 150)]):.0f} ms"))
        print(
            f"Synthetic graph: {g.number_of_nodes():,} entities, {g.number_of_edges():,} facts "
            f"({report.duplicates_skipped} duplicates, {len(report.merges)} near-duplicate merges)."
        )
        print()
        print("| operation | time |")
        print("|---|---|")
        for name, value in rows:
            print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
