"""The document commands as a user runs them: a real `spark-agents` subprocess with the real embedding model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=600, env=dict(os.environ), stdin=subprocess.DEVNULL
    )


def test_ingest_a_mixed_folder_then_search_list_and_delete(mixed: Path, tmp_path: Path) -> None:
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    r = run("ingest", str(mixed), str(tmp_path / "photo.png"))
    assert r.returncode == 0, r.stderr
    assert "5 added, 0 unchanged, 0 replaced, 1 skipped" in r.stdout
    assert "ingest" in r.stderr and "100%" in r.stderr  # the progress bar goes to stderr
    assert "photo.png: is a PNG image, not a document" in r.stderr

    r = run("sources", "list")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 5
    ids = {line.split()[-1].rsplit("/", 1)[-1]: line.split()[0] for line in lines}
    assert all(len(i) == 16 for i in ids.values())

    r = run("search", "when should brake pads be replaced?", "-k", "2")
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[0]
    assert first.startswith("[1] Bicycle maintenance manual (manual.pdf), p. 2  (score ")
    assert "1.5 mm" in r.stdout

    r = run("search", "how often", "--source", ids["car.docx"], "--json")
    hits = json.loads(r.stdout)
    assert hits and {h["source_id"] for h in hits} == {ids["car.docx"]}
    assert all(h["citation"].startswith("Car service notes (car.docx)") for h in hits)

    r = run("sources", "delete", ids["manual.pdf"][:6])
    assert r.returncode == 0 and r.stdout.startswith(f"deleted {ids['manual.pdf']}  Bicycle maintenance manual")
    assert len(run("sources", "list").stdout.strip().splitlines()) == 4


def test_errors_are_one_clear_line() -> None:
    r = run("search", "   ")
    assert (
        r.returncode == 1
        and r.stderr.strip() == "error: The query is empty: type a few words or a question to search for."
    )
    r = run("sources", "delete", "0123456789abcdef")
    assert r.returncode == 1 and "No source has the id '0123456789abcdef'" in r.stderr
    r = run("ingest", "/no/such/folder")
    assert r.returncode == 1 and "skipped    /no/such/folder: no such file or folder" in r.stderr
