"""`spark-agents models doctor`: will `docker compose up` work on this machine? Asked before it runs.

The machine is read through what anyone can run (`uname -m`, `nvidia-smi`, /proc/meminfo) and held against
what the stack needs: each engine image's platforms, CUDA version and GPU architectures (serving/catalog.yaml),
the model files with their sha256, and the plan against the memory available now. Every check is one line;
a failure carries its fix.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from core.errors import ConfigError
from serving.admission import check as admission_check
from serving.admission import mem_available
from serving.catalog import Catalog, EngineSpec, parse_version
from serving.plan_model import Plan, gib
from serving.pull import read_manifest, sha256_file

Status = Literal["ok", "warn", "fail"]
SPARK_ARCH = "aarch64"
SPARK_GPU = "GB10"
SPARK_COMPUTE = "12.1"
DOCKER_ARCH = {"aarch64": "arm64", "arm64": "arm64", "x86_64": "amd64", "amd64": "amd64"}
IMAGE_ENV = {"llama.cpp": "LLAMA_CPP_IMAGE", "tensorrt-llm": "TRTLLM_IMAGE"}
Runner = Callable[[list[str]], str]


class Finding(BaseModel):
    check: str
    status: Status
    detail: str
    fix: str = ""

    def lines(self) -> list[str]:
        head = f"{ {'ok': 'ok', 'warn': 'warn', 'fail': 'FAIL'}[self.status]:<5} {self.check}: {self.detail}"
        return [head] + ([f"      fix: {self.fix}"] if self.fix else [])


class GPU(BaseModel):
    name: str
    compute_cap: str


class Machine(BaseModel):
    """What the doctor read: the CPU architecture, the GPUs, the driver's CUDA version (None: no driver)."""

    arch: str
    gpus: list[GPU] = []
    driver: str | None = None
    cuda: str | None = None
    nvidia_smi: str = ""  # why nvidia-smi gave nothing, when it did not

    @property
    def is_spark(self) -> bool:
        return self.arch == SPARK_ARCH and any(SPARK_GPU in g.name for g in self.gpus)

    def describe(self) -> str:
        gpus = ", ".join(f"{g.name} (compute {g.compute_cap})" for g in self.gpus)
        gpus = gpus or f"no NVIDIA GPU ({self.nvidia_smi})"
        driver = f", driver {self.driver}, CUDA {self.cuda}" if self.driver else ""
        return f"{self.arch}, {gpus}{driver}"


def run_command(cmd: list[str]) -> str:
    """A command's output; a missing or failing command raises OSError with what went wrong."""
    binary = shutil.which(cmd[0])
    if binary is None:
        raise OSError(f"{cmd[0]} not found")
    try:
        done = subprocess.run([binary, *cmd[1:]], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise OSError(f"{cmd[0]} did not answer in 30 s") from None
    if done.returncode != 0:
        first = (done.stderr or done.stdout).strip().splitlines()
        raise OSError(f"{cmd[0]} exited {done.returncode}" + (f": {first[0]}" if first else ""))
    return done.stdout


def probe(run: Runner = run_command) -> Machine:
    """Read this machine: `uname -m`, then `nvidia-smi` for the GPUs and the driver's CUDA version."""
    try:
        arch = run(["uname", "-m"]).strip()
    except OSError:
        import platform

        arch = platform.machine()
    try:
        rows = run(["nvidia-smi", "--query-gpu=name,compute_cap,driver_version", "--format=csv,noheader"])
        header = run(["nvidia-smi"])
    except OSError as e:
        return Machine(arch=arch, nvidia_smi=str(e))
    gpus, driver = [], None
    for line in rows.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 3:
            gpus.append(GPU(name=parts[0], compute_cap=parts[1]))
            driver = parts[2]
    cuda = re.search(r"CUDA Version:\s*([0-9]+\.[0-9]+)", header)
    return Machine(arch=arch, gpus=gpus, driver=driver, cuda=cuda.group(1) if cuda else None)


def machine_finding(m: Machine) -> Finding:
    if m.is_spark:
        return Finding(check="machine", status="ok", detail=f"DGX Spark: {m.describe()}")
    why = []
    if m.arch != SPARK_ARCH:
        why.append(f"its CPU is {m.arch}, not {SPARK_ARCH}")
    if not any(SPARK_GPU in g.name for g in m.gpus):
        why.append("it has no NVIDIA GB10 GPU" + (f" ({', '.join(g.name for g in m.gpus)})" if m.gpus else ""))
    status: Status = "warn" if m.gpus and m.cuda else "fail"
    return Finding(
        check="machine",
        status=status,
        detail=f"this is not a DGX Spark: {' and '.join(why)} ({m.describe()}). A Spark is {SPARK_ARCH} with an "
        f"NVIDIA {SPARK_GPU} (compute capability {SPARK_COMPUTE}); the spark plans' budget is a Spark's memory",
        fix="run the spark profiles on a DGX Spark; on this machine use SPARK_AGENTS_PROFILE=local"
        if status == "fail"
        else "plan with this GPU's memory: spark-agents plan --budget-gb N",
    )


def image_findings(engine_name: str, engine: EngineSpec, m: Machine, override: str | None) -> list[Finding]:
    """The image's platform, CUDA version and GPU architectures against this machine."""
    image = override or engine.image
    check = f"{engine_name} image {image}"
    if override:
        return [
            Finding(
                check=check,
                status="warn",
                detail=f"{IMAGE_ENV[engine_name]} overrides the catalog's image: its platforms, CUDA version and "
                "GPU architectures are not known here",
                fix=f"unset {IMAGE_ENV[engine_name]} to use {engine.image}, which this check knows",
            )
        ]
    out: list[Finding] = []

    def problem(status: Status, detail: str, fix: str) -> None:
        out.append(Finding(check=check, status=status, detail=detail, fix=fix))

    platform = f"linux/{DOCKER_ARCH.get(m.arch, m.arch)}"
    if platform not in engine.platforms:
        problem(
            "fail",
            f"no {platform} build (it has {', '.join(engine.platforms)})",
            f"run the stack on a {' or '.join(engine.platforms)} machine",
        )
    if m.cuda is None:
        problem(
            "fail",
            f"needs an NVIDIA driver for CUDA {engine.cuda}; nvidia-smi gave none ({m.nvidia_smi})",
            "install the NVIDIA driver and the NVIDIA Container Toolkit (DGX OS ships both)",
        )
    elif (have := parse_version(m.cuda)) < engine.cuda_version:
        major_short = have[0] < engine.cuda_version[0]
        problem(
            "fail" if major_short else "warn",
            f"built with CUDA {engine.cuda}; the driver supports CUDA {m.cuda}"
            + (
                ""
                if major_short
                else " (minor-version compatibility usually runs it; JIT-compiled kernels may not load)"
            ),
            f"update the NVIDIA driver to one for CUDA {engine.cuda} or later (on a Spark: update DGX OS)",
        )
    foreign = sorted({g.compute_cap for g in m.gpus} - set(engine.compute_capabilities))
    if engine.compute_capabilities and foreign:
        archs = ";".join(f"{c.replace('.', '')}-real" for c in foreign)
        problem(
            "fail",
            f"has kernels for compute capability {', '.join(engine.compute_capabilities)} only; this GPU is "
            f"{', '.join(foreign)}",
            f"build it for this GPU: CUDA_ARCHITECTURES={archs} in serving/catalog.yaml's build args "
            f"(then `docker compose build`), or set {IMAGE_ENV[engine_name]}",
        )
    if not out:
        gpu = f", kernels for compute {', '.join(engine.compute_capabilities)}" if engine.compute_capabilities else ""
        out.append(Finding(check=check, status="ok", detail=f"{platform}, CUDA {engine.cuda} (driver {m.cuda}){gpu}"))
    return out


def model_file_findings(
    plan: Plan, catalog: Catalog, models_dir: Path, verify: bool = True, on_hash: Callable[[Path], None] | None = None
) -> list[Finding]:
    """Each llama.cpp server's GGUF files in the models folder, with the sha256 they were pulled with."""
    manifest = read_manifest(models_dir)
    out: list[Finding] = []
    for s in plan.servers:
        if s.engine != "llama.cpp":
            continue
        w = catalog.model(s.config.model).weights_for(s.config.quant)
        for name in w.files:
            want = w.sha256.get(name) or (manifest.get(name) or {}).get("sha256")
            out.append(_file_finding(s.config.name, models_dir / name, want, verify, on_hash))
    return out


def _file_finding(
    role: str, path: Path, want: str | None, verify: bool, on_hash: Callable[[Path], None] | None
) -> Finding:
    """One model file: missing, present without a known digest, present (not hashed), or hashed against `want`."""
    check = f"{role} model {path.name}"
    if not path.is_file():
        return Finding(
            check=check, status="fail", detail=f"missing from {path.parent}", fix=f"spark-agents models pull {role}"
        )
    if want is None:
        return Finding(
            check=check,
            status="warn",
            detail="present, but no sha256 is known for it (not fetched by `models pull`, none pinned)",
            fix=f"spark-agents models pull {role} (checks it against the Hub's digest)",
        )
    if not verify:
        return Finding(check=check, status="ok", detail=f"present ({gib(path.stat().st_size)} GiB), not hashed")
    if on_hash:
        on_hash(path)
    got = sha256_file(path)
    if got != want:
        return Finding(
            check=check,
            status="fail",
            detail=f"sha256 {got[:12]}… is not the expected {want[:12]}…",
            fix=f"delete {path} and run spark-agents models pull {role}",
        )
    return Finding(check=check, status="ok", detail=f"sha256 {got[:12]}… matches")


def memory_finding(plan: Plan, meminfo: Path, catalog: Catalog) -> Finding:
    """The plan on paper and against MemAvailable now (what `models admit` checks when compose starts)."""
    if not plan.fits:
        return Finding(
            check="memory",
            status="fail",
            detail=f"the plan needs {gib(plan.total)} GiB, over its {gib(plan.budget)} GiB budget",
            fix=f"spark-agents plan --profile {plan.profile} shows what to cut",
        )
    try:
        available = mem_available(meminfo)
    except ConfigError as e:
        return Finding(check="memory", status="fail", detail=str(e), fix="set SPARK_AGENTS_MEMINFO_PATH")
    result = admission_check(plan.servers, available, plan.profile, catalog)
    if not result.ok:
        return Finding(check="memory", status="fail", detail=result.message(), fix="free memory or apply a cut above")
    return Finding(
        check="memory",
        status="ok",
        detail=f"the model servers need {gib(result.need)} GiB with load peaks; {gib(available)} GiB available now",
    )


def diagnose(
    plan: Plan,
    catalog: Catalog,
    machine: Machine,
    models_dir: Path,
    meminfo: Path,
    image_overrides: dict[str, str] | None = None,
    verify: bool = True,
    on_hash: Callable[[Path], None] | None = None,
) -> list[Finding]:
    """Every check, in the order a user would fix them: machine, images, model files, memory."""
    overrides = image_overrides or {}
    findings = [machine_finding(machine)]
    for engine_name in sorted({s.engine for s in plan.servers}):
        findings += image_findings(engine_name, catalog.engines[engine_name], machine, overrides.get(engine_name))
    findings += model_file_findings(plan, catalog, models_dir, verify, on_hash)
    findings.append(memory_finding(plan, meminfo, catalog))
    return findings


def render(findings: Iterable[Finding]) -> str:
    return "\n".join(line for f in findings for line in f.lines())
