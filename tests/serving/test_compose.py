"""compose.yaml is the plan: regenerated here and compared, then checked service by service.

There is no Docker engine on the test machine, so the file is parsed and validated, not started.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from serving.compose import ADMISSION, active_services, compose_disagreements, render_compose
from serving.plan import SPARK_PLAN_PROFILES, make_plan
from serving.registry import SPARK_PROFILES, Role

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"


@pytest.fixture(scope="module")
def doc() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def plans() -> dict:
    return {p: make_plan(p) for p in SPARK_PLAN_PROFILES}


def test_checked_in_compose_is_what_the_plan_generates() -> None:
    assert COMPOSE.read_text() == render_compose(), (
        "compose.yaml disagrees with the plan: regenerate it with `spark-agents plan --compose`"
    )


def test_compose_agrees_with_the_plan_service_by_service(doc: dict, plans: dict) -> None:
    assert compose_disagreements(doc, plans) == []


def test_every_service_has_a_healthcheck_ports_and_the_needed_volumes(doc: dict) -> None:
    services = doc["services"]
    assert {"qdrant", "postgres", "api", "ui", "coder", "embeddings"} <= set(services)
    declared_volumes = set(doc.get("volumes") or {})
    for name, svc in services.items():
        if name == ADMISSION:  # one-shot: runs `spark-agents models admit` and exits
            assert svc["command"] == ["spark-agents", "models", "admit"] and svc["restart"] == "no"
            continue
        hc = svc.get("healthcheck")
        assert hc and hc["test"][0] in ("CMD", "CMD-SHELL"), name
        assert svc.get("ports"), name
        assert all(p.startswith("127.0.0.1:") for p in svc["ports"]), name
        for vol in svc.get("volumes") or []:
            source = vol.split(":")[0]
            if not source.startswith(("$", ".", "/", "~")):
                assert source in declared_volumes, (name, source)
    for name in ("qdrant", "postgres", "api", "ui"):
        assert services[name].get("volumes") or name == "ui"


def test_each_spark_profile_runs_one_server_per_role_on_the_registry_port(doc: dict, plans: dict) -> None:
    for profile in SPARK_PLAN_PROFILES:
        active = active_services(doc, profile)
        for role, (url, model) in SPARK_PROFILES[profile].items():
            port = urlparse(url).port
            serving = [s for s in active.values() if f"127.0.0.1:{port}:{port}" in s.get("ports", [])]
            assert len(serving) == 1, (profile, role)
            svc = serving[0]
            cmd = [str(x) for x in svc["command"]]
            if role is Role.VISION:
                assert cmd[0] == "trtllm-serve" and "Qwen/Qwen2.5-VL-7B-Instruct" in cmd
            else:
                assert cmd[cmd.index("--alias") + 1] == model  # the name clients send is the registry's


def test_llama_servers_carry_the_plan_flags(doc: dict, plans: dict) -> None:
    plan = plans["spark-120b"]
    active = active_services(doc, "spark-120b")
    sup = next(s for n, s in active.items() if n.startswith("supervisor"))
    cmd = [str(x) for x in sup["command"]]
    cfg = plan.server("supervisor").config
    assert cmd[cmd.index("-c") + 1] == str(cfg.ctx * cfg.slots)  # llama-server's -c is all slots together
    assert cmd[cmd.index("--parallel") + 1] == str(cfg.slots)
    assert cmd[cmd.index("--cache-type-k") + 1] == cmd[cmd.index("--cache-type-v") + 1] == cfg.kv_type
    assert "--jinja" in cmd  # gpt-oss needs its harmony template
    coder = [str(x) for x in doc["services"]["coder"]["command"]]
    assert coder[coder.index("--cache-type-v") + 1] == "q8_0" and coder[coder.index("--flash-attn") + 1] == "on"
    emb = [str(x) for x in doc["services"]["embeddings"]["command"]]
    emb_cfg = plan.server("embeddings").config
    assert "--embedding" in emb and emb[emb.index("-ub") + 1] == str(emb_cfg.ubatch) == str(emb_cfg.ctx)


def test_every_model_server_waits_for_live_admission_and_loads_without_mmap(doc: dict) -> None:
    for name, svc in doc["services"].items():
        cmd = [str(x) for x in svc.get("command") or []]
        if "-m" in cmd or cmd[:1] == ["trtllm-serve"]:
            assert svc["depends_on"][ADMISSION]["condition"] == "service_completed_successfully", name
        if "-m" in cmd:
            # the pinned release's words: --no-mmap was removed from llama.cpp's arguments (b10875+)
            assert cmd[cmd.index("--load-mode") + 1] == "none" and "--no-mmap" not in cmd, name
    edited = copy.deepcopy(doc)
    cmd = edited["services"]["coder"]["command"]
    cmd[cmd.index("--load-mode") + 1] = "mmap"
    assert any(
        "coder: --load-mode is mmap, the plan says none" in p
        for p in compose_disagreements(edited, {p: make_plan(p) for p in SPARK_PLAN_PROFILES})
    )


def test_every_llama_server_sets_the_planned_prompt_cache(doc: dict, plans: dict) -> None:
    for profile, plan in plans.items():
        active = active_services(doc, profile)
        for s in plan.servers:
            if s.engine != "llama.cpp":
                continue
            (svc,) = [v for n, v in active.items() if n.split("-")[0] == s.config.name]
            cmd = [str(x) for x in svc["command"]]
            assert cmd[cmd.index("--cache-ram") + 1] == str(s.config.prompt_cache_mib), (profile, s.config.name)
    edited = copy.deepcopy(doc)
    edited["services"]["embeddings"]["command"].remove("--cache-ram")
    problems = compose_disagreements(edited, plans)
    assert any("embeddings: --cache-ram is" in p and "the plan says 0" in p for p in problems)


def test_llama_servers_run_an_image_built_for_gb10_and_trtllm_a_spark_release(doc: dict) -> None:
    dockerfile = ROOT / "serving" / "docker" / "llama-server.Dockerfile"
    text = dockerfile.read_text()
    for name, svc in doc["services"].items():
        cmd = [str(x) for x in svc.get("command") or []]
        if "-m" in cmd:
            assert "server-cuda" not in svc["image"] and svc["image"].startswith("${LLAMA_CPP_IMAGE:-"), name
            build = svc["build"]
            assert (ROOT / build["context"] / build["dockerfile"]) == dockerfile
            assert build["args"]["CUDA_ARCHITECTURES"] == "121a-real" and build["args"]["CUDA_VERSION"] >= "13"
            assert build["args"]["LLAMA_CPP_RELEASE"] in svc["image"]  # the tag names the pinned release
            assert svc["pull_policy"] == "${LLAMA_CPP_PULL_POLICY:-build}"
        if cmd[:1] == ["trtllm-serve"]:
            assert svc["image"] == "${TRTLLM_IMAGE:-nvcr.io/nvidia/tensorrt-llm/release:1.3.0rc13}", name
    for arg in ("LLAMA_CPP_RELEASE", "CUDA_VERSION", "CUDA_ARCHITECTURES"):
        assert f"ARG {arg}" in text  # every build arg compose passes is one the Dockerfile reads
    assert "-DCMAKE_CUDA_ARCHITECTURES=" in text and '--branch "${LLAMA_CPP_RELEASE}"' in text


def test_tensorrt_llm_kv_cache_is_explicit_in_compose(doc: dict, plans: dict) -> None:
    for profile in SPARK_PLAN_PROFILES:
        active = active_services(doc, profile)
        vision = next(s for s in active.values() if s["command"][0] == "trtllm-serve")
        cmd = [str(x) for x in vision["command"]]
        target = cmd[cmd.index("--extra_llm_api_options") + 1]
        (cfg,) = [c for c in vision["configs"] if c["target"] == target]
        options = yaml.safe_load(doc["configs"][cfg["source"]]["content"])
        kvc = options["kv_cache_config"]
        t = plans[profile].server("vision").trtllm
        assert kvc["max_tokens"] == t.max_tokens
        assert kvc["free_gpu_memory_fraction"] == t.free_gpu_memory_fraction < 0.9
        # it starts after the llama.cpp servers, so its fraction is of what they leave free
        assert {"coder", "embeddings"} <= set(vision["depends_on"])


def test_a_compose_edited_by_hand_is_caught(doc: dict, plans: dict) -> None:
    edited = copy.deepcopy(doc)
    cmd = edited["services"]["coder"]["command"]
    cmd[cmd.index("--parallel") + 1] = "8"
    del edited["services"]["qdrant"]["healthcheck"]
    vision_cfg = next(iter(edited["configs"].values()))
    vision_cfg["content"] = vision_cfg["content"].replace("max_tokens: 32768", "max_tokens: 131072")
    problems = compose_disagreements(edited, plans)
    assert any("coder: --parallel is 8, the plan says 2" in p for p in problems)
    assert "qdrant: no healthcheck" in problems
    assert any("kv_cache_config.max_tokens is 131072" in p for p in problems)


def test_env_example_switches_between_the_two_plans(doc: dict) -> None:
    env = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    assert env["COMPOSE_PROFILES"] == env["SPARK_AGENTS_PROFILE"] == "spark-120b"
    used_profiles = {p for s in doc["services"].values() for p in s.get("profiles", [])}
    assert used_profiles == set(SPARK_PLAN_PROFILES)
    # switching to 20B swaps exactly the supervisor's model file
    sup = {p: next(s for n, s in active_services(doc, p).items() if n.startswith("supervisor")) for p in used_profiles}
    files = {p: s["command"][s["command"].index("-m") + 1] for p, s in sup.items()}
    assert files == {
        "spark-120b": "/models/gpt-oss-120b-mxfp4-00001-of-00003.gguf",
        "spark-20b": "/models/gpt-oss-20b-mxfp4.gguf",
    }
    for var in ("SPARK_AGENTS_API_TOKEN", "POSTGRES_PASSWORD", "SPARK_AGENTS_MODELS_DIR"):
        assert var in env


def test_cli_compose_writes_the_same_file(tmp_path: Path) -> None:
    out = tmp_path / "compose.yaml"
    r = subprocess.run(
        [sys.executable, "-m", "cli", "plan", "--compose", "--compose-file", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert out.read_text() == COMPOSE.read_text()


def test_cli_compose_refuses_an_over_budget_plan_and_leaves_the_file_alone(tmp_path: Path) -> None:
    out = tmp_path / "compose.yaml"
    out.write_text("# my compose\n")
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "plan",
            "--compose",
            "--compose-file",
            str(out),
            "--ctx",
            "supervisor=131072",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1
    assert "over the 119.70 GiB budget" in r.stderr and "Cut:" in r.stderr
    assert out.read_text() == "# my compose\n"


def test_compose_refuses_a_quantization_without_a_checkpoint() -> None:
    from core.errors import ConfigError

    plan = make_plan("spark-120b", overrides={"vision": {"model": "Qwen2.5-VL-7B-Instruct", "quant": "FP8"}})
    assert plan.fits and plan.server("vision").weights < make_plan("spark-120b").server("vision").weights
    with pytest.raises(ConfigError, match="no checkpoint to serve Qwen2.5-VL-7B-Instruct as FP8"):
        render_compose({"vision": {"model": "Qwen2.5-VL-7B-Instruct", "quant": "FP8"}})
