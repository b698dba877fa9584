"""Knowledge graphs: triple extraction (LLM or offline rules), entity merging, a persisted networkx store,
queries (neighbours, paths, question subgraphs, stats, central entities) and an offline pyvis view.

Public entry points live in `kg.build` (build_graph), `kg.store` (GraphStore), `kg.query` and `kg.view`.
"""
