"""`spark-agents models doctor`: the machine (faked `uname`/`nvidia-smi`, a meminfo file) against the stack.

The fakes are real executables on PATH, so the CLI runs exactly as on a Spark; one test runs the doctor on this
machine as it is, which is not a Spark.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from serving.catalog import GiB, load_catalog
from serving.doctor import GPU, Machine, diagnose, image_findings, probe, run_command
from serving.plan import make_plan
from serving.pull import MANIFEST

CATALOG = load_catalog()
SPARK_SMI_QUERY = "NVIDIA GB10, 12.1, 580.95.05\n"
SPARK_SMI = """\
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 580.95.05              Driver Version: 580.95.05      CUDA Version: 13.0     |
+-----------------------------------------+------------------------+----------------------+
"""


def fake_tools(bin_dir: Path, arch: str, smi_query: str | None, smi: str = SPARK_SMI) -> Path:
    """`uname` printing `arch` and, unless `smi_query` is None, an `nvidia-smi` answering both forms."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    tools = {"uname": f"#!/bin/sh\necho {arch}\n"}
    if smi_query is not None:
        (bin_dir / "query.txt").write_text(smi_query)
        (bin_dir / "plain.txt").write_text(smi)
        tools["nvidia-smi"] = (
            f'#!/bin/sh\nif [ -n "$1" ]; then cat {bin_dir / "query.txt"}; else cat {bin_dir / "plain.txt"}; fi\n'
        )
    for name, body in tools.items():
        path = bin_dir / name
        path.write_text(body)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return bin_dir


def meminfo(path: Path, available: int) -> Path:
    path.write_text(f"MemTotal:       {125_515_000} kB\nMemAvailable:   {available // 1024} kB\n")
    return path


def models_folder(folder: Path, profile: str, corrupt: str | None = None) -> Path:
    """Small stand-ins for the plan's GGUF files, recorded in the pull manifest with their real sha256."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for s in make_plan(profile).servers:
        if s.engine != "llama.cpp":
            continue
        for name in CATALOG.model(s.config.model).weights_for(s.config.quant).files:
            data = f"weights of {name}".encode()
            (folder / name).write_bytes(data)
            manifest[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if corrupt:
        (folder / corrupt).write_bytes(b"flipped bits")
    (folder / MANIFEST).write_text(json.dumps(manifest))
    return folder


def doctor(env_path: Path, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PATH": f"{env_path}:{os.environ['PATH']}", **env}
    full.pop("LLAMA_CPP_IMAGE", None)
    full.pop("TRTLLM_IMAGE", None)
    return subprocess.run(
        [sys.executable, "-m", "cli", "models", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=full,
        cwd=tmp_path,
    )


def test_probe_reads_a_spark(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{fake_tools(tmp_path / 'bin', 'aarch64', SPARK_SMI_QUERY)}:{os.environ['PATH']}")
    m = probe()
    assert m.arch == "aarch64" and m.cuda == "13.0" and m.driver == "580.95.05"
    assert [(g.name, g.compute_cap) for g in m.gpus] == [("NVIDIA GB10", "12.1")]
    assert m.is_spark


def test_probe_without_nvidia_smi_says_why() -> None:
    def run(cmd: list[str]) -> str:
        if cmd[0] == "uname":
            return "x86_64\n"
        raise OSError(f"{cmd[0]} not found")

    m = probe(run)
    assert m.arch == "x86_64" and m.gpus == [] and m.cuda is None and m.nvidia_smi == "nvidia-smi not found"
    assert not m.is_spark


def test_a_spark_with_everything_in_place_passes(tmp_path: Path) -> None:
    bin_dir = fake_tools(tmp_path / "bin", "aarch64", SPARK_SMI_QUERY)
    models = models_folder(tmp_path / "models", "spark-120b")
    r = doctor(
        bin_dir,
        tmp_path,
        "--profile",
        "spark-120b",
        SPARK_AGENTS_MODELS_DIR=str(models),
        SPARK_AGENTS_MEMINFO_PATH=str(meminfo(tmp_path / "meminfo", 119 * GiB)),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("ok    machine: DGX Spark: aarch64, NVIDIA GB10 (compute 12.1), driver 580.95.05")
    llama = next(line for line in lines if "llama.cpp image" in line)
    assert llama.startswith("ok") and "linux/arm64, CUDA 13.0 (driver 13.0), kernels for compute 12.1" in llama
    # TensorRT-LLM 1.3 is built with CUDA 13.1: a 13.0 driver runs it by minor-version compatibility, with a warning
    trt = next(i for i, line in enumerate(lines) if "tensorrt-llm image" in line)
    assert lines[trt].startswith("warn") and "CUDA 13.1" in lines[trt] and "fix: update" in lines[trt + 1]
    model_lines = [line for line in lines if ".gguf:" in line]
    assert len(model_lines) == 5 and all(line.startswith("ok") and "matches" in line for line in model_lines)
    assert "hashing gpt-oss-120b-mxfp4-00001-of-00003.gguf" in r.stderr
    assert lines[-1].startswith("ok    memory: the model servers need")


def test_each_failure_is_one_line_with_its_fix(tmp_path: Path) -> None:
    bin_dir = fake_tools(tmp_path / "bin", "aarch64", SPARK_SMI_QUERY)
    models = models_folder(tmp_path / "models", "spark-20b", corrupt="gpt-oss-20b-mxfp4.gguf")
    (models / "Qwen3-Embedding-4B-Q8_0.gguf").unlink()
    r = doctor(
        bin_dir,
        tmp_path,
        "--profile",
        "spark-20b",
        SPARK_AGENTS_MODELS_DIR=str(models),
        SPARK_AGENTS_MEMINFO_PATH=str(meminfo(tmp_path / "meminfo", 70 * GiB)),
    )
    assert r.returncode == 1
    out = r.stdout.splitlines()
    bad = out.index(next(line for line in out if "gpt-oss-20b-mxfp4.gguf" in line))
    assert out[bad].startswith("FAIL  supervisor model gpt-oss-20b-mxfp4.gguf: sha256")
    assert (
        out[bad + 1]
        == f"      fix: delete {models / 'gpt-oss-20b-mxfp4.gguf'} and run spark-agents models pull supervisor"
    )
    gone = out.index(next(line for line in out if "Qwen3-Embedding-4B-Q8_0.gguf" in line))
    assert out[gone] == f"FAIL  embeddings model Qwen3-Embedding-4B-Q8_0.gguf: missing from {models}"
    assert out[gone + 1] == "      fix: spark-agents models pull embeddings"
    memory = next(line for line in out if line.startswith("FAIL  memory:"))
    assert "only 70.00 GiB are available now" in memory and "Cheapest cuts" in memory
    assert r.stderr.strip().endswith("3 of 7 checks failed: fix them before `docker compose up`.")
    assert "Traceback" not in r.stderr


def test_no_hash_checks_presence_only(tmp_path: Path) -> None:
    bin_dir = fake_tools(tmp_path / "bin", "aarch64", SPARK_SMI_QUERY)
    models = models_folder(tmp_path / "models", "spark-120b", corrupt="deepseek-coder-6.7b-instruct.Q8_0.gguf")
    r = doctor(
        bin_dir,
        tmp_path,
        "--profile",
        "spark-120b",
        "--no-hash",
        SPARK_AGENTS_MODELS_DIR=str(models),
        SPARK_AGENTS_MEMINFO_PATH=str(meminfo(tmp_path / "meminfo", 119 * GiB)),
    )
    assert r.returncode == 0, r.stdout
    assert "hashing" not in r.stderr and "not hashed" in r.stdout


def test_an_older_driver_and_another_gpu_are_named(tmp_path: Path) -> None:
    m = Machine(arch="aarch64", gpus=[GPU(name="NVIDIA GH200 480GB", compute_cap="9.0")], driver="560.35", cuda="12.6")
    llama = image_findings("llama.cpp", CATALOG.engines["llama.cpp"], m, None)
    assert [f.status for f in llama] == ["fail", "fail"]
    assert "built with CUDA 13.0; the driver supports CUDA 12.6" in llama[0].detail
    assert "compute capability 12.1 only; this GPU is 9.0" in llama[1].detail
    assert "CUDA_ARCHITECTURES=90-real" in llama[1].fix
    # TensorRT-LLM's image carries kernels for every current GPU: only the driver is short
    trt = image_findings("tensorrt-llm", CATALOG.engines["tensorrt-llm"], m, None)
    assert [f.status for f in trt] == ["fail"]


def test_an_image_override_is_not_vouched_for(tmp_path: Path) -> None:
    m = Machine(arch="aarch64", driver="580.95.05", cuda="13.0")
    (finding,) = image_findings("llama.cpp", CATALOG.engines["llama.cpp"], m, "ghcr.io/ggml-org/llama.cpp:server-cuda")
    assert finding.status == "warn" and "LLAMA_CPP_IMAGE overrides" in finding.detail


def test_an_x86_box_without_nvidia_is_told_plainly(tmp_path: Path) -> None:
    plan = make_plan("spark-120b")
    m = Machine(arch="x86_64", nvidia_smi="nvidia-smi not found")
    findings = diagnose(plan, CATALOG, m, tmp_path / "models", meminfo(tmp_path / "meminfo", 20 * GiB), verify=False)
    machine = findings[0]
    assert machine.status == "fail"
    assert machine.detail.startswith(
        "this is not a DGX Spark: its CPU is x86_64, not aarch64 and it has no NVIDIA GB10 GPU"
    )
    assert "SPARK_AGENTS_PROFILE=local" in machine.fix
    images = [f for f in findings if "image" in f.check]
    assert len(images) == 2
    assert all(f.status == "fail" and "nvidia-smi gave none (nvidia-smi not found)" in f.detail for f in images)


def test_the_doctor_on_this_machine(tmp_path: Path) -> None:
    """Not a Spark (no GB10 here): the first line says so and why, and the doctor exits 1."""
    machine = probe(run_command)
    r = doctor(Path("/nonexistent"), tmp_path, "--profile", "spark-120b", "--no-hash")
    assert r.returncode == 1
    first = r.stdout.splitlines()[0]
    if machine.is_spark:  # pragma: no cover - a Spark running the suite
        assert first.startswith("ok    machine: DGX Spark")
    else:
        assert first.startswith(("FAIL  machine: this is not a DGX Spark", "warn  machine: this is not a DGX Spark"))
        assert machine.arch in first
