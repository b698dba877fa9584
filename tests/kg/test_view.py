"""The pyvis view: offline (no CDN), coloured by type, labelled edges, size-limited to central nodes."""

from __future__ import annotations

import re

import pytest

from kg.errors import KGError
from kg.model import Triple
from kg.settings import KGSettings
from kg.store import KnowledgeGraph
from kg.view import TYPE_COLOURS, offline_html, render

REMOTE = re.compile(r"<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE)


def test_html_is_offline_coloured_and_labelled(built, tmp_path):
    r = render(built.load(), tmp_path / "g.html", settings=KGSettings())
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
    kg.add_triples(triples, KGSettings())
    r = render(kg, tmp_path / "g.html", max_nodes=3, settings=KGSettings())
    page = (tmp_path / "g.html").read_text()
    assert r.truncated and r.nodes == 3 and r.total_nodes == 31
    for kept in ("Hub", "Leaf 1", "Leaf 2"):
        assert f'"label": "{kept}"' in page
    assert '"label": "Leaf 7"' not in page


def test_empty_graph_is_a_clear_error(tmp_path):
    with pytest.raises(KGError, match="graph is empty"):
        render(KnowledgeGraph(), tmp_path / "g.html", settings=KGSettings())


def test_offline_html_strips_remote_tags_and_refuses_leftovers():
    page = '<link rel="stylesheet" href="https://cdn.example/x.css" /><script src="//cdn.example/x.js"></script>ok'
    assert offline_html(page) == "ok"
    with pytest.raises(KGError, match="remote resource"):
        offline_html('<img src="https://example.com/a.png">')


def _two_clusters() -> KnowledgeGraph:
    from tests.kg.test_community import two_clusters

    kg = KnowledgeGraph()
    kg.add_triples(two_clusters(), KGSettings())
    return kg


def _node_ids(page: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r'\{[^{}]*"id": "([^"]+)"[^{}]*"label"', page)}


def test_community_filter_draws_only_that_community(tmp_path):
    from kg.community import detect
    from tests.kg.test_community import CURIE_ENTITIES, DEVICE_ENTITIES

    kg = _two_clusters()
    groups = detect(kg)
    curie = next(i for i, g in enumerate(groups) if "Marie Curie" in g)
    r = render(kg, tmp_path / "c.html", community=curie, settings=KGSettings())
    page = (tmp_path / "c.html").read_text()
    assert r.community == curie and r.communities == 2 and r.nodes == len(CURIE_ENTITIES) and not r.truncated
    assert _node_ids(page) == CURIE_ENTITIES and not _node_ids(page) & DEVICE_ENTITIES
    assert f"community {curie} ({len(CURIE_ENTITIES)} entities)" in page
    assert '"label": "sponsors"' not in page  # the bridge fact leaves the community


def test_colour_by_community_and_readable_edge_labels(tmp_path):
    from kg.community import membership
    from kg.view import COMMUNITY_COLOURS, EDGE_FONT

    kg = _two_clusters()
    kg.add_triples(
        [Triple(subject="Marie Curie", relation="worked with", object="Pierre Curie", source_id="s", chunk_id="w")],
        KGSettings(),
    )
    r = render(kg, tmp_path / "c.html", colour_by="community", settings=KGSettings())
    page = (tmp_path / "c.html").read_text()
    of = membership(kg)
    nodes = {m.group(1): m.group(0) for m in re.finditer(r'\{[^{}]*"id": "([^"]+)"[^{}]*\}', page)}
    for name in ("Marie Curie", "Aurora AX-7"):
        assert f'"color": "{COMMUNITY_COLOURS[of[name]]}"' in nodes[name]
    assert of["Marie Curie"] != of["Aurora AX-7"] and r.communities == 2
    assert f"{of['Marie Curie']}: Marie Curie" in page  # the legend names each community by its hub
    assert f'"strokeColor": "{EDGE_FONT["strokeColor"]}"' in page and '"align": "middle"' in page
    # Two relations between the same entities: the second curves away instead of overprinting the first.
    assert '"label": "married"' in page and '"label": "worked with"' in page and '"curvedCCW"' in page


def test_long_edge_labels_are_shortened_and_bad_options_refused(tmp_path):
    kg = KnowledgeGraph()
    rel = "was described at length in the annual report of"
    kg.add_triples([Triple(subject="Acme", relation=rel, object="Widget", source_id="s", chunk_id="c")], KGSettings())
    render(kg, tmp_path / "g.html", settings=KGSettings())
    page = (tmp_path / "g.html").read_text()
    assert f'"label": "{rel[:29]}..."' in page and f'"title": "{rel}' in page
    with pytest.raises(KGError, match="No community 5: the graph has 1"):
        render(kg, tmp_path / "g.html", community=5, settings=KGSettings())
    with pytest.raises(KGError, match="Unknown colouring"):
        render(kg, tmp_path / "g.html", colour_by="rainbow", settings=KGSettings())  # type: ignore[arg-type]
