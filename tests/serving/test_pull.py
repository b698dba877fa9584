"""`models pull` / `models list` against a loopback server that speaks the Hub's file API (HF_ENDPOINT)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from core.errors import ConfigError
from serving.catalog import CATALOG_PATH, load_catalog
from serving.errors import PullError
from serving.pull import MANIFEST, list_models, pull, resolve_targets
from serving.settings import ServingSettings
from tests.serving.fake_hub import FakeHub

REPO = "test-org/tiny-GGUF"
TINY = os.urandom(3 * 1024 * 1024 + 17)  # not a multiple of any chunk size
CHUNK = 10 * 1024 * 1024  # huggingface_hub.constants.DOWNLOAD_CHUNK_SIZE: what reaches the file per write
SHARD_A, SHARD_B = os.urandom(700_000), os.urandom(300_001)


def write_catalog(path: Path, size: int = len(TINY), **weights_extra: object) -> Path:
    """The real catalog plus two test entries whose files the fake Hub serves."""
    doc = yaml.safe_load(CATALOG_PATH.read_text())
    arch = {k: v for k, v in doc["models"]["smollm2-135m-instruct"].items() if k != "weights"}
    doc["models"]["tiny"] = {
        **arch,
        "weights": {
            "Q8_0": {
                "size": f"{size} B",
                "file": "tiny.Q8_0.gguf",
                "repo": REPO,
                "source": "test",
                **weights_extra,
            }
        },
    }
    doc["models"]["sharded"] = {
        **arch,
        "weights": {
            "Q4_0": {
                "size": f"{len(SHARD_A) + len(SHARD_B)} B",
                "file": "sharded-00001-of-00002.gguf",
                "shards": ["sharded-00002-of-00002.gguf"],
                "repo": REPO,
                "source": "test",
            }
        },
    }
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.fixture
def hub() -> FakeHub:
    with FakeHub() as h:
        h.add(REPO, "tiny.Q8_0.gguf", TINY)
        h.add(REPO, "sharded-00001-of-00002.gguf", SHARD_A)
        h.add(REPO, "sharded-00002-of-00002.gguf", SHARD_B)
        yield h


@pytest.fixture
def env(tmp_path: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> Path:
    models = tmp_path / "models"
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.setenv("SPARK_AGENTS_MODELS_DIR", str(models))
    monkeypatch.setenv("SPARK_AGENTS_CATALOG_PATH", str(write_catalog(tmp_path / "catalog.yaml")))
    monkeypatch.setenv("SPARK_AGENTS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # tests/conftest.py sets it; this Hub is on loopback
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)  # set for good by serving/embeddings.py once loaded
    # huggingface_hub reads it once, at import: a test that imported it earlier in this process froze it on
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    return models


def status_of(name: str) -> str:
    return next(r.status for r in list_models(ServingSettings()) if r.name == name)


def test_pull_fetches_verifies_and_records_then_does_nothing_twice(env: Path, hub: FakeHub) -> None:
    assert status_of("tiny.Q8_0.gguf") == "missing"
    (got,) = pull(["tiny"], ServingSettings(), progress=False)
    assert got.path == env / "tiny.Q8_0.gguf" and got.path.read_bytes() == TINY
    assert got.sha256 == hashlib.sha256(TINY).hexdigest() and got.downloaded == len(TINY)
    assert json.loads((env / MANIFEST).read_text())["tiny.Q8_0.gguf"]["entry"] == "models.tiny.weights.Q8_0"
    assert status_of("tiny.Q8_0.gguf") == "verified"
    gets = len(hub.gets())
    (again,) = pull(["tiny"], ServingSettings(), progress=False)
    assert again.downloaded == 0 and len(hub.gets()) == gets  # HEAD only: nothing fetched again


def test_every_shard_of_an_entry_is_pulled(env: Path) -> None:
    files = pull(["sharded:Q4_0"], ServingSettings(), progress=False)
    assert [f.name for f in files] == ["sharded-00001-of-00002.gguf", "sharded-00002-of-00002.gguf"]
    assert (env / files[1].name).read_bytes() == SHARD_B


def test_a_cut_connection_resumes_with_a_range_request(env: Path, hub: FakeHub, tmp_path: Path, monkeypatch) -> None:
    big = os.urandom(2 * CHUNK + 12345)
    monkeypatch.setenv("SPARK_AGENTS_CATALOG_PATH", str(write_catalog(tmp_path / "big.yaml", size=len(big))))
    hub.add(REPO, "tiny.Q8_0.gguf", big)
    hub.cut_after, hub.cuts = CHUNK + 5000, 2  # each try gets one whole chunk to disk, then the link drops
    (got,) = pull(["tiny:Q8_0"], ServingSettings(), progress=False)
    assert got.path.read_bytes() == big
    ranges = [r for _, p, r in hub.gets() if p.startswith("/cdn/")]
    assert ranges == [None, f"bytes={CHUNK}-", f"bytes={2 * CHUNK}-"]


def test_an_interrupted_pull_resumes_from_its_part_file(env: Path, hub: FakeHub) -> None:
    env.mkdir(parents=True)
    (env / "tiny.Q8_0.gguf.part").write_bytes(TINY[:1234567])  # what a Ctrl-C leaves behind
    assert status_of("tiny.Q8_0.gguf") == "partial"
    (got,) = pull(["tiny"], ServingSettings(), progress=False)
    assert got.downloaded == len(TINY) - 1234567 and got.path.read_bytes() == TINY
    assert [r for _, p, r in hub.gets() if p.startswith("/cdn/")] == ["bytes=1234567-"]
    assert not (env / "tiny.Q8_0.gguf.part").exists()


def test_a_corrupted_transfer_is_refused_and_deleted(env: Path, hub: FakeHub) -> None:
    hub.corrupt.add("tiny.Q8_0.gguf")
    with pytest.raises(PullError, match=r"does not match the Hub's sha256.*models\.tiny\.weights\.Q8_0"):
        pull(["tiny"], ServingSettings(), progress=False)
    assert not (env / "tiny.Q8_0.gguf").exists() and not (env / "tiny.Q8_0.gguf.part").exists()
    assert status_of("tiny.Q8_0.gguf") == "missing"


def test_a_file_that_differs_from_the_catalog_pin_is_refused(env: Path, tmp_path: Path, monkeypatch) -> None:
    pinned = write_catalog(tmp_path / "pinned.yaml", sha256={"tiny.Q8_0.gguf": "0" * 64})
    monkeypatch.setenv("SPARK_AGENTS_CATALOG_PATH", str(pinned))
    with pytest.raises(PullError, match="catalog's pinned sha256"):
        pull(["tiny"], ServingSettings(), progress=False)
    assert not (env / "tiny.Q8_0.gguf").exists()


def test_a_missing_file_names_the_catalog_entry_to_fix(env: Path, hub: FakeHub) -> None:
    del hub.files[(REPO, "tiny.Q8_0.gguf")]
    with pytest.raises(PullError, match=r"no file test-org/tiny-GGUF/tiny\.Q8_0\.gguf.*models\.tiny\.weights\.Q8_0"):
        pull(["tiny"], ServingSettings(), progress=False)
    assert not env.exists() or not any(env.iterdir())


def test_a_missing_repo_names_the_catalog_entry(env: Path, hub: FakeHub) -> None:
    hub.files = {("other/repo", k[1]): v for k, v in hub.files.items()}
    with pytest.raises(PullError, match=r"no repository test-org/tiny-GGUF.*models\.tiny\.weights\.Q8_0"):
        pull(["tiny"], ServingSettings(), progress=False)


def test_a_renamed_repo_is_followed_and_reported(env: Path, hub: FakeHub) -> None:
    hub.files = {("test-org/tiny-GGUF-v2", k[1]): v for k, v in hub.files.items()}
    hub.renamed[REPO] = "test-org/tiny-GGUF-v2"
    (got,) = pull(["tiny"], ServingSettings(), progress=False)
    assert got.path.read_bytes() == TINY
    assert "test-org/tiny-GGUF-v2" in got.note and "models.tiny.weights.Q8_0" in got.note


def test_a_file_of_another_size_upstream_is_refused_before_downloading(env: Path, hub: FakeHub) -> None:
    hub.add(REPO, "tiny.Q8_0.gguf", TINY * 2)
    with pytest.raises(PullError, match="changed upstream"):
        pull(["tiny"], ServingSettings(), progress=False)
    assert hub.gets() == []


def test_disk_space_is_checked_before_any_byte(env: Path, hub: FakeHub, monkeypatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_PULL_MIN_FREE_GIB", "1000000")
    with pytest.raises(PullError, match="Not enough disk space"):
        pull(["tiny"], ServingSettings(), progress=False)
    assert hub.gets() == []


def test_roles_resolve_to_the_profile_plan_and_vision_is_not_pulled(monkeypatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_PROFILE", "spark-20b")
    settings, catalog = ServingSettings(), load_catalog()
    targets = resolve_targets([], settings, catalog)
    assert [(t.model, t.quant) for t in targets] == [
        ("gpt-oss-20b", "MXFP4"),
        ("deepseek-coder-6.7b-instruct", "Q8_0"),
        ("Qwen3-Embedding-4B", "Q8_0"),
    ]
    assert all(t.weights.repo for t in targets)
    (sup,) = resolve_targets(["supervisor"], settings, catalog)
    assert sup.weights.file == "gpt-oss-20b-mxfp4.gguf"
    with pytest.raises(ConfigError, match="tensorrt-llm"):
        resolve_targets(["vision"], settings, catalog)
    monkeypatch.setenv("SPARK_AGENTS_PROFILE", "spark-120b")
    (big,) = resolve_targets(["supervisor"], ServingSettings(), catalog)
    assert len(big.weights.files) == 3


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", "models", *args], capture_output=True, text=True, timeout=120)


def test_cli_pull_and_list(env: Path, hub: FakeHub) -> None:
    r = run_cli("pull", "tiny", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "tiny.Q8_0.gguf" in r.stdout and hashlib.sha256(TINY).hexdigest()[:12] in r.stdout
    listed = run_cli("list", "--json")
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["tiny.Q8_0.gguf"]["status"] == "verified"
    assert rows["gpt-oss-20b-mxfp4.gguf"]["status"] == "missing"
    del hub.files[(REPO, "tiny.Q8_0.gguf")]
    (env / "tiny.Q8_0.gguf").unlink()
    bad = run_cli("pull", "tiny", "--quiet")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("error: ") and "models.tiny.weights.Q8_0" in bad.stderr
