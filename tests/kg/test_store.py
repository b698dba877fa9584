"""The graph store: atomic JSON persistence, provenance on every edge, GraphML/JSON round trips,
corrupted files reported and backed up, never overwritten."""

from __future__ import annotations

import json

import pytest

from kg.build import build_graph, text_chunks
from kg.errors import GraphCorrupted, InvalidTriple, KGError
from kg.model import Triple
from kg.settings import KGSettings
from kg.store import GraphStore
from tests.kg.conftest import CORPUS


def test_graph_persists_under_home_with_provenance(built, spark_home):
    assert built.path == spark_home / "graphs" / "default.json"
    data = json.loads(built.path.read_text())
    assert data["format"] == "spark-agents-kg"
    kg = built.load()
    assert kg.graph.number_of_edges() >= 10
    for _u, _v, d in kg.graph.edges(data=True):
        assert d["source_id"] == "doc:corpus" and d["chunk_id"].startswith("doc:corpus#")
        a, b = d["span"]
        assert 0 <= a < b and d["evidence"] and d["relation"]
    assert not list(built.dir.glob("*.tmp"))  # the atomic write left nothing behind


def test_rebuilding_the_same_text_changes_nothing(built):
    before = built.path.read_bytes()
    report = build_graph(text_chunks(CORPUS, source_id="doc:corpus", settings=KGSettings()), settings=KGSettings())
    assert report.edges_added == 0 and report.duplicates_skipped == report.triples > 0
    after = json.loads(built.path.read_bytes())
    assert (after["nodes"], after["edges"]) == (json.loads(before)["nodes"], json.loads(before)["edges"])


def test_collections_are_separate_files(built):
    build_graph(
        text_chunks("Ada Lovelace worked with Charles Babbage.", settings=KGSettings()),
        collection="math",
        settings=KGSettings(),
    )
    assert GraphStore("math", KGSettings()).load().graph.number_of_nodes() == 2
    assert "Ada Lovelace" not in built.load().graph


def test_invalid_collection_name():
    with pytest.raises(KGError, match="Invalid collection name"):
        GraphStore("../etc", KGSettings())


@pytest.mark.parametrize("suffix", [".graphml", ".json"])
def test_export_import_round_trip(built, tmp_path, suffix):
    out = built.export(tmp_path / f"g{suffix}")
    assert out.stat().st_size > 0
    copy = GraphStore("copy", KGSettings())
    report = copy.import_file(out)
    a, b = built.load().graph, copy.load().graph
    assert set(a.nodes) == set(b.nodes) and a.number_of_edges() == b.number_of_edges() == report.edges_added
    edges_a = sorted((u, v, d["relation"], d["chunk_id"], tuple(d["span"])) for u, v, d in a.edges(data=True))
    edges_b = sorted((u, v, d["relation"], d["chunk_id"], tuple(d["span"])) for u, v, d in b.edges(data=True))
    assert edges_a == edges_b


def test_import_garbage_is_a_clear_error(built, tmp_path):
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><oops")
    before = built.path.read_bytes()
    with pytest.raises(KGError, match="Cannot import"):
        built.import_file(bad)
    assert built.path.read_bytes() == before


def test_corrupted_file_is_reported_backed_up_and_never_overwritten(built):
    built.path.write_text('{"format": "spark-agents-kg", "version": 1, "nodes": [["A", {}]], "edg')  # truncated
    corrupted = built.path.read_bytes()
    with pytest.raises(GraphCorrupted, match="corrupted") as err:
        built.load()
    backups = list(built.dir.glob("default.json.corrupt-*.bak"))
    assert len(backups) == 1 and backups[0].read_bytes() == corrupted
    assert str(backups[0]) in str(err.value) and "graph reset" in str(err.value)
    # A build refuses to write over it.
    with pytest.raises(GraphCorrupted):
        build_graph(
            text_chunks("Ada Lovelace worked with Charles Babbage.", settings=KGSettings()), settings=KGSettings()
        )
    assert built.path.read_bytes() == corrupted
    assert len(list(built.dir.glob("default.json.corrupt-*.bak"))) == 1  # same bytes, one backup
    # An explicit reset moves it aside and starts over.
    moved = built.reset()
    assert moved is not None and moved.read_bytes() == corrupted
    assert built.load().graph.number_of_nodes() == 0


def test_wrong_format_file_is_corrupted_too(built):
    built.path.write_text(json.dumps({"nodes": [], "links": []}))
    with pytest.raises(GraphCorrupted, match="not a spark-agents-kg file"):
        built.load()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["edges"][0][3].pop("source_id"), "lacks its relation or provenance"),
        (lambda d: d["edges"][0][3].update(span="0-10"), "invalid text span"),
        (lambda d: d["edges"][0].__setitem__(1, "Nobody"), "between known entities"),
        (lambda d: d.update(version=99), "unsupported version 99"),
    ],
)
def test_structurally_broken_file_is_corrupted(built, edit, message):
    data = json.loads(built.path.read_text())
    edit(data)
    built.path.write_text(json.dumps(data))
    with pytest.raises(GraphCorrupted, match=message):
        built.load()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("subject", "   ", "empty subject"), ("object", "", "empty object"), ("relation", "x" * 500, "500 characters")],
)
def test_triples_with_empty_or_huge_fields_are_rejected_graph_unchanged(built, field, value, message):
    before = built.path.read_bytes()
    good = Triple(subject="Ada Lovelace", relation="knew", object="Charles Babbage", source_id="s", chunk_id="s#0")
    bad = good.model_copy(update={field: value, "chunk_id": "s#1"})
    with pytest.raises(InvalidTriple, match=message):
        built.add_triples([good, bad])
    assert built.path.read_bytes() == before


def test_concurrent_builds_lose_no_update():
    import threading

    texts = [f"Person{i} Alpha worked with Person{i} Beta." for i in range(8)]
    errors: list[Exception] = []

    def run(t: str) -> None:
        try:
            build_graph(text_chunks(t, settings=KGSettings()), collection="shared", settings=KGSettings())
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(t,)) for t in texts]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    g = GraphStore("shared", KGSettings()).load().graph
    assert all(g.has_edge(f"Person{i} Alpha", f"Person{i} Beta") for i in range(8))
