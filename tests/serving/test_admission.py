"""Live admission: the real planner's figure for a server against MemAvailable from a /proc/meminfo-format
file that a setting points at (SPARK_AGENTS_MEMINFO_PATH)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import ConfigError
from serving.admission import check, mem_available
from serving.catalog import GiB
from serving.errors import AdmissionRefused
from serving.lifecycle import plan_of, start
from serving.llama_server import LocalModelServer
from serving.plan import make_plan
from serving.plan_model import ServerConfig
from serving.settings import ServingSettings
from serving.sizing import NO_MMAP_STAGING, plan_server


def meminfo(path: Path, available: int) -> Path:
    path.write_text(
        f"MemTotal:       131072000 kB\nMemFree:         1000000 kB\nMemAvailable:   {available // 1024:>9} kB\n"
        "Buffers:           10000 kB\nCached:          2000000 kB\n"
    )
    return path


def test_mem_available_reads_the_kb_figure(tmp_path: Path) -> None:
    assert mem_available(meminfo(tmp_path / "m", 3 * GiB)) == 3 * GiB
    (tmp_path / "bad").write_text("MemTotal: 1 kB\n")
    with pytest.raises(ConfigError, match="no MemAvailable"):
        mem_available(tmp_path / "bad")
    with pytest.raises(ConfigError, match="Cannot read"):
        mem_available(tmp_path / "absent")


def test_the_spark_plans_load_with_no_mmap_and_count_the_mmap_peak_otherwise() -> None:
    sup = make_plan("spark-120b").server("supervisor")
    assert sup.config.mmap is False and sup.load_peak == NO_MMAP_STAGING and sup.peak == sup.total + NO_MMAP_STAGING
    mapped = plan_server(sup.config.model_copy(update={"mmap": True}))
    assert mapped.load_peak == mapped.weights  # the page cache beside the GPU copy
    assert any("load peak" in w for w in mapped.why)


def test_a_local_start_is_refused_when_memavailable_is_short(tmp_path: Path, monkeypatch) -> None:
    need = plan_of(LocalModelServer(ServingSettings())).peak
    monkeypatch.setenv("SPARK_AGENTS_MEMINFO_PATH", str(meminfo(tmp_path / "meminfo", need - 64 * 1024 * 1024)))
    with pytest.raises(AdmissionRefused) as err:
        start(LocalModelServer(ServingSettings()))
    msg = str(err.value)
    assert "Not starting local" in msg and f"{need / GiB:.2f} GiB" in msg and "MemAvailable" in msg
    assert LocalModelServer(ServingSettings()).state() is None  # nothing was spawned
    monkeypatch.setenv("SPARK_AGENTS_ADMISSION", "false")  # the escape hatch is honoured (not started here)


def test_refusal_names_the_cheapest_cuts_computed_by_the_planner() -> None:
    plan = make_plan("spark-120b")
    sup = plan.server("supervisor")
    result = check([sup], sup.peak - 2 * GiB, "spark-120b")
    assert not result.ok and result.cuts
    first = result.cuts[0]
    # the cheapest kind of cut: dropping the 2 GiB prompt cache costs only a re-read prompt, then KV quantization
    assert first.flags == ["--cache-ram supervisor=0"]
    assert first.total == plan_server(sup.config.model_copy(update={"prompt_cache_mib": 0})).peak <= result.available
    kv = next(c for c in result.cuts if c.flags == ["--kv supervisor=q8_0"])
    assert kv.total == plan_server(sup.config.model_copy(update={"kv_type": "q8_0"})).peak <= result.available
    assert "Cheapest cuts: supervisor: no prompt cache" in result.message()
    assert "supervisor: KV cache q8_0" in result.message()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", "models", *args], capture_output=True, text=True)


def test_cli_admit_is_the_compose_preflight(tmp_path: Path, monkeypatch) -> None:
    plan = make_plan("spark-20b")
    need = sum(s.peak for s in plan.servers)
    monkeypatch.setenv("SPARK_AGENTS_PROFILE", "spark-20b")
    monkeypatch.setenv("SPARK_AGENTS_MEMINFO_PATH", str(meminfo(tmp_path / "ok", need + GiB)))
    ok = cli("admit")
    assert ok.returncode == 0, ok.stderr
    assert f"{need / GiB:.2f} GiB needed" in ok.stdout
    monkeypatch.setenv("SPARK_AGENTS_MEMINFO_PATH", str(meminfo(tmp_path / "short", need - 5 * GiB)))
    short = cli("admit")
    assert short.returncode == 1 and short.stderr.startswith("error: Not starting supervisor, coder, vision")
    assert "Cheapest cuts:" in short.stderr and "Traceback" not in short.stderr
    only = cli("admit", "coder")  # one server's figure fits where the whole stack does not
    assert only.returncode == 0 and "admitted coder" in only.stdout


def test_plan_config_default_is_mmap_for_the_local_profile() -> None:
    cfg = ServerConfig(name="x", roles=[], model="m", quant="", ctx=1)
    assert cfg.mmap is True
