"""`spark-agents graph ...` through a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kg.settings import KGSettings
from tests.kg.conftest import CORPUS


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", "graph", *args], capture_output=True, text=True, timeout=120)


def test_build_query_show_stats(tmp_path, spark_home):
    doc = tmp_path / "notes.txt"
    doc.write_text(CORPUS)
    r = cli("build", "--file", str(doc), "--extractor", "offline")
    assert r.returncode == 0, r.stderr
    assert str(spark_home / "graphs" / "default.json") in r.stdout and "triples from 1 chunks" in r.stdout

    r = cli("query", "warsaw", "--to", "France")
    assert r.returncode == 0, r.stderr
    assert "Paris —capital of→ France" in r.stdout and "file:notes.txt" in r.stdout

    r = cli("query", "--question", "Who created Python?", "--json")
    data = json.loads(r.stdout)
    assert data["matched"] == ["Python"] and data["facts"][0]["object"] == "Guido van Rossum"

    r = cli("show", "--no-open")
    assert r.returncode == 0, r.stderr
    path = Path(r.stdout.strip())
    assert path == spark_home / "graphs" / "default.html" and path.stat().st_size > 100_000

    r = cli("stats", "--json")
    assert json.loads(r.stdout)["nodes"] > 10

    r = cli("build", "--text", "MARIE  CURIE was born in Warsaw.")
    assert "merged 'MARIE CURIE' into 'Marie Curie' (case-whitespace)" in r.stdout
    r = cli("stats", "--merges")
    assert "merged 'MARIE CURIE' into 'Marie Curie'" in r.stdout and "1 merges" in r.stdout


def test_a_query_by_part_of_a_name_finds_it_or_lists_the_candidates(built):
    r = cli("query", "Rossum")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("matched: Guido van Rossum\n") and "Python —created by→ Guido van Rossum" in r.stdout
    r = cli("query", "curie")
    assert r.returncode == 0, r.stderr
    assert "ambiguous" in r.stdout and "Marie Curie" in r.stdout and "Pierre Curie" in r.stdout


def test_errors_are_one_clear_line(built):
    r = cli("query", "Zanzibar")
    assert r.returncode == 1 and r.stderr.strip() == (
        "error: No entity named 'Zanzibar' in the graph. See `spark-agents graph stats`."
    )
    r = cli("query", "Warsaw", "--to", "Berlin")
    assert r.returncode == 1 and "No path between 'Warsaw' and 'Berlin'" in r.stderr
    assert "Traceback" not in r.stderr
    r = cli("build", "--text", "x", "--file", "y")
    assert r.returncode == 1 and "exactly one of" in r.stderr


def test_source_needs_the_rag_library_or_a_known_source():
    r = cli("build", "--source", "no-such-source")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1
    assert "no-such-source" in r.stderr and "sources list" in r.stderr


def test_corrupted_graph_reported_and_reset(built):
    built.path.write_text("{not json")
    r = cli("stats")
    assert r.returncode == 1 and "corrupted" in r.stderr and ".bak" in r.stderr
    assert built.path.read_text() == "{not json"
    r = cli("reset")
    assert r.returncode == 0 and "backed up to" in r.stdout
    assert cli("stats").returncode == 0


def test_communities_global_question_and_community_view(spark_home):
    from kg.store import GraphStore
    from tests.kg.test_community import two_clusters

    GraphStore(None, KGSettings()).add_triples(two_clusters())
    r = cli("communities")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("2 communities (offline summaries)") and "About Marie Curie" in r.stdout
    assert (spark_home / "graphs" / "default.communities.json").exists()

    r = cli("query", "--global", "What did the physicists discover?", "--top", "1")
    assert r.returncode == 0, r.stderr
    assert "From 1 of the graph's 2 communities" in r.stdout and "Marie Curie discovered Polonium. " in r.stdout
    assert "Sources:\n[1] " in r.stdout and "(doc:curie doc:curie#" in r.stdout

    r = cli("query", "--global", "Who makes the H4?", "--json")
    data = json.loads(r.stdout)
    assert "Halcyon Systems" in data["communities"][0]["entities"] and data["citations"][0]["chunk_id"]

    r = cli("show", "--no-open", "--community", "1", "--colour-by", "community")
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()) == spark_home / "graphs" / "default.community-1.html"
    r = cli("show", "--no-open", "--community", "7")
    assert r.returncode == 1 and "No community 7: the graph has 2" in r.stderr
    r = cli("show", "--no-open", "--colour-by", "rainbow")
    assert r.returncode == 1 and "unknown --colour-by 'rainbow'" in r.stderr


def test_export_import_and_alias_go_through_the_service(built, tmp_path):
    """The files are the user's (written and read here), the graphs the service's."""
    out = tmp_path / "exported" / "g.graphml"
    r = cli("export", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(out) and out.read_text().startswith("<?xml")

    r = cli("import", str(out), "--collection", "copy")
    assert r.returncode == 0, r.stderr
    edges = built.load().graph.number_of_edges()
    assert (
        r.stdout.startswith(f"+{edges} edges, +")
        and json.loads(cli("stats", "-c", "copy", "--json").stdout)["edges"] == edges
    )

    missing = tmp_path / "nope.json"
    r = cli("import", str(missing), "--collection", "copy")
    assert r.returncode == 1 and r.stderr.strip() == f"error: No such file: {missing}"
    garbage = tmp_path / "bad.graphml"
    garbage.write_text("<graphml><oops")
    r = cli("import", str(garbage), "--collection", "copy")
    assert r.returncode == 1 and f"Cannot import {garbage} as graphml" in r.stderr and "Traceback" not in r.stderr

    r = cli("alias", "Madame Curie", "Marie Curie")
    assert r.returncode == 0 and json.loads(r.stdout) == {"Madame Curie": "Marie Curie"}
    assert built.load().aliases["Madame Curie"] == "Marie Curie"
    r = cli("query", "Madame Curie")
    assert r.returncode == 0 and r.stdout.startswith("matched: Marie Curie\n")
