"""The pyvis view: offline (no CDN), coloured by type, labelled edges, size-limited to central nodes."""

from __future__ import annotations

import re

import pytest

from kg.errors import KGError
from kg.model import Triple
from kg.store import KnowledgeGraph
from kg.view import TYPE_COLOURS, offline_html, render

REMOTE = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE)


def test_html_is_offline_coloured_and_labelled(built, tmp_path):
    r = render(built.load(), tmp_path / "g.html")
    page = (tmp_path / "g.html").read_text()
    assert r.path == str(tmp_path / "g.html") and not r.truncated
    assert not REMOTE.search(page), "a script or stylesheet is loaded from the network"
    assert "cdn.jsdelivr" not in page and "bootstrap" not in page.lower()
    assert "vis.Network" in page and len(page) > 100_000  # vis-network is inlined
    nodes = {m.group(1): m.group(0) for m in re.finditer(r'\{[^{}]*"id": "([^"]+)"[^{}]*\}', page)}
    assert f'"color": "{TYPE_COLOURS["PERSON"]}"' in nodes["Marie Curie"]
    assert f'"color": "{TYPE_COLOURS["PLACE"]}"' in nodes["Warsaw"]
    assert f'"color": "{TYPE_COLOURS["ORG"]}"' in nodes["University of Paris"]
    assert '"group"' not in page  # vis.js group colours would override the type colours
    assert '"label": "born in"' in page and '"label": "Marie Curie"' in page


def test_size_limit_keeps_the_most_central_nodes(tmp_path):
    kg = KnowledgeGraph()
    triples = [
        Triple(subject="Hub", relation="links", object=f"Leaf {i}", source_id="s", chunk_id=f"c{i}") for i in range(30)
    ]
    triples += [Triple(subject="Leaf 1", relation="knows", object="Leaf 2", source_id="s", chunk_id="x")]
    kg.add_triples(triples)
    r = render(kg, tmp_path / "g.html", max_nodes=3)
    page = (tmp_path / "g.html").read_text()
    assert r.truncated and r.nodes == 3 and r.total_nodes == 31
    for kept in ("Hub", "Leaf 1", "Leaf 2"):
        assert f'"label": "{kept}"' in page
    assert '"label": "Leaf 7"' not in page


def test_empty_graph_is_a_clear_error(tmp_path):
    with pytest.raises(KGError, match="graph is empty"):
        render(KnowledgeGraph(), tmp_path / "g.html")


def test_offline_html_strips_remote_tags_and_refuses_leftovers():
    page = '<link rel="stylesheet" href="https://cdn.example/x.css" /><script src="//cdn.example/x.js"></script>ok'
    assert offline_html(page) == "ok"
    with pytest.raises(KGError, match="remote resource"):
        offline_html('<img src="https://example.com/a.png">')
