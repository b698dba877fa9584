"""The memory planner: KV formula against hand arithmetic, the spark plans, what to cut, bad input."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from cli.models import parse_overrides
from core.errors import ConfigError
from serving.catalog import GiB, MiB, UnknownModel, load_catalog, parse_size, read_gguf
from serving.compose import render_compose
from serving.plan import OverBudget, kv_cache, llama_compute_buffer, make_plan, plan_server
from serving.plan_table import render_table
from serving.registry import SPARK_PROFILES, Role
from serving.settings import ServingSettings, packaged_gguf

CATALOG = load_catalog()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=120)


# --- the KV formula, by hand -------------------------------------------------------------------------


def test_kv_gpt_oss_120b_by_hand() -> None:
    m = CATALOG.model("gpt-oss-120b")
    kv = kv_cache(m, ctx=65536, slots=2, kv_type="f16", ubatch=512)
    # 36 layers alternate sliding (128-token window) and full attention: 18 full layers.
    # per token, full layers: 18 layers x 8 KV heads x 64 dim x 2 (K, V) x 2 bytes = 36,864 bytes
    assert kv.bytes_per_token_full == 18 * 8 * 64 * 2 * 2 == 36_864
    # 65,536 ctx x 2 slots = 131,072 tokens -> 4,831,838,208 bytes (4.5 GiB)
    assert kv.full_tokens == 131_072
    assert kv.full_bytes == 4_831_838_208 == int(4.5 * GiB)
    # 18 sliding layers hold, per slot (llama-server keeps one KV stream a slot), the window + one micro-batch:
    # 128 + 512 = 640 cells, padded to 768 (a multiple of 256); 2 slots = 1,536 cells
    assert kv.sliding_tokens == 2 * 768
    assert kv.sliding_bytes == 18 * 8 * 64 * 2 * 2 * 1536 == 56_623_104
    assert kv.total == 4_888_461_312
    assert kv_cache(m, ctx=65536, slots=4, kv_type="f16", ubatch=512).sliding_tokens == 4 * 768
    # q8_0 stores 32 elements in 34 bytes
    q8 = kv_cache(m, ctx=65536, slots=2, kv_type="q8_0", ubatch=512)
    assert q8.full_bytes == 18 * 8 * 64 * 2 * 131_072 * 34 // 32 == 2_566_914_048
    # a context shorter than the window: the sliding layers never hold more than the full ones
    tiny = kv_cache(m, ctx=256, slots=1, kv_type="f16", ubatch=512)
    assert tiny.sliding_tokens == 256


def test_kv_deepseek_coder_by_hand() -> None:
    m = CATALOG.model("deepseek-coder-6.7b-instruct")
    # no GQA: 32 layers x 32 KV heads x 128 dim x 2 x 2 bytes = 524,288 bytes = 0.5 MiB per token
    kv = kv_cache(m, ctx=16384, slots=1, kv_type="f16")
    assert kv.bytes_per_token_full == 524_288 == MiB // 2
    assert kv.total == 16384 * 524_288 == 8 * GiB
    assert kv.sliding_bytes == 0
    assert kv_cache(m, ctx=16384, slots=2, kv_type="q8_0").total == 32768 * 32 * 32 * 128 * 2 * 34 // 32
    assert kv_cache(m, ctx=16384, slots=2, kv_type="q8_0").total == 9_126_805_504  # 8.5 GiB
    assert kv_cache(m, ctx=4096, slots=1, kv_type="q4_0").total == 4096 * 32 * 32 * 128 * 2 * 18 // 32


def test_compute_buffer_formula_by_hand() -> None:
    from serving.plan import ServerConfig

    m = CATALOG.model("smollm2-135m-instruct")
    cfg = ServerConfig(name="x", roles=[], model=m.name, quant="Q4_1", ctx=4096, flash_attn=False, device="cpu")
    # logits 512 x 49,152 x 4 B (96 MiB) beat attention scores 512 x 4096 x (9 + 1) x 4 B (80 MiB);
    # plus activations 512 x 4 B x (2 x 576 + 1536)
    assert llama_compute_buffer(m, cfg) == 512 * 49152 * 4 + 512 * 4 * (2 * 576 + 1536)


# --- the profiles ------------------------------------------------------------------------------------


def test_spark_120b_fits_the_default_budget() -> None:
    plan = make_plan("spark-120b")
    # the default budget is what a Spark's OS shows as usable (MemTotal), not 120 of the nominal 128
    assert plan.budget == round(119.7 * GiB) == CATALOG.machines["spark"].usable
    assert plan.fits and plan.total <= plan.budget
    assert [s.config.name for s in plan.servers] == ["supervisor", "coder", "vision", "embeddings"]
    # the model per role is the registry's
    for s in plan.servers:
        assert s.config.model == SPARK_PROFILES["spark-120b"][Role(s.config.name)][1]
    sup = plan.server("supervisor")
    assert sup.weights == parse_size("59.02 GiB")
    assert sup.kv == kv_cache(CATALOG.model("gpt-oss-120b"), 65536, 2, "f16").total
    assert plan.total == plan.reserve_total + sum(
        s.weights + s.cpu_repack + s.kv + s.prompt_cache + s.compute + s.overhead for s in plan.servers
    )


@pytest.mark.parametrize("profile", ["spark-120b", "spark-20b"])
def test_every_llama_server_sets_its_prompt_cache_and_the_plan_counts_it(profile: str) -> None:
    plan = make_plan(profile)
    for s in plan.servers:
        if s.engine != "llama.cpp":
            assert s.prompt_cache == 0  # trtllm-serve keeps no host-memory prompt cache
            continue
        mib = s.config.prompt_cache_mib
        assert mib is not None, s.config.name  # never llama-server's 8 GiB default, unplanned
        assert s.prompt_cache == mib * MiB
        assert any(w.startswith(f"prompt cache: --cache-ram {mib} MiB (set;") for w in s.why)
    # a 64k gpt-oss-120b conversation is ~2.3 GiB of KV, a full 131k gpt-oss-20b one 3 GiB
    assert plan.server("supervisor").prompt_cache == {"spark-120b": 2, "spark-20b": 4}[profile] * GiB
    assert plan.server("coder").prompt_cache == GiB
    assert plan.server("embeddings").prompt_cache == 0  # nothing to resume


def test_an_unset_prompt_cache_is_counted_at_llama_servers_default() -> None:
    sup = make_plan("spark-120b").server("supervisor")
    unset = plan_server(sup.config.model_copy(update={"prompt_cache_mib": None}))
    assert unset.prompt_cache == 8192 * MiB == CATALOG.engines["llama.cpp"].prompt_cache_default
    assert unset.total - sup.total == 6 * GiB
    assert any("llama-server's default, unset" in w for w in unset.why)


def test_the_prompt_cache_override_and_cut() -> None:
    plan = make_plan("spark-120b", overrides=parse_overrides(cache_ram=["supervisor=0"]))
    assert plan.server("supervisor").prompt_cache == 0
    assert make_plan("spark-120b").total - plan.total == 2 * GiB
    over = make_plan("spark-120b", budget_gb=make_plan("spark-120b").total / GiB - 1)
    assert any(s.flags == ["--cache-ram supervisor=0"] for s in over.suggestions)


def test_spark_20b_fits_and_is_smaller() -> None:
    big, small = make_plan("spark-120b"), make_plan("spark-20b")
    assert small.fits and small.total < big.total
    assert small.server("supervisor").config.model == "gpt-oss-20b"


def test_tensorrt_llm_kv_is_always_explicit() -> None:
    for profile in ("spark-120b", "spark-20b"):
        plan = make_plan(profile)
        vision = plan.server("vision")
        t = vision.trtllm
        assert t is not None and vision.engine == "tensorrt-llm"
        assert t.max_tokens == vision.config.ctx * vision.config.slots
        assert 0 < t.free_gpu_memory_fraction < 0.9
        # the fraction of what is free when it starts (budget minus everything else) covers max_tokens
        free = plan.budget - (plan.total - vision.kv)
        assert t.free_gpu_memory_fraction * free >= vision.kv


def test_raising_the_supervisor_context_over_budget_names_what_to_cut() -> None:
    plan = make_plan("spark-120b", overrides={"supervisor": {"ctx": 131072}})
    assert not plan.fits
    assert plan.suggestions
    kinds = " ".join(s.change for s in plan.suggestions)
    assert "KV cache q8_0" in kinds and "slot" in kinds and "context" in kinds and "gpt-oss-20b" in kinds
    # every suggestion, applied as the CLI flags it prints, really fits
    for sg in plan.suggestions:
        flags: dict[str, list[str]] = {"ctx": [], "slots": [], "kv": [], "model": [], "cache_ram": []}
        for f in sg.flags:
            opt, value = f.split(" ", 1)
            flags[opt.removeprefix("--").replace("-", "_")].append(value)
        extra = parse_overrides(**flags)
        merged = {"supervisor": {"ctx": 131072}}
        for name, upd in extra.items():
            merged.setdefault(name, {}).update(upd)
        fixed = make_plan("spark-120b", overrides=merged)
        assert fixed.fits, sg
        assert fixed.total == sg.total
    with pytest.raises(OverBudget, match=r"over the 119\.70 GiB budget"):
        render_compose({"supervisor": {"ctx": 131072}})


def test_far_over_budget_still_suggests_cuts_that_fit() -> None:
    plan = make_plan("spark-120b", overrides={"supervisor": {"ctx": 131072, "slots": 8}})
    assert not plan.fits and plan.suggestions
    assert all(s.total <= plan.budget for s in plan.suggestions)


def test_local_plan_reads_the_packaged_gguf() -> None:
    plan = make_plan("local", budget_gb=24, settings=ServingSettings())
    assert plan.fits
    (server,) = plan.servers
    assert server.config.model_path == str(packaged_gguf())
    assert server.config.quant == "Q4_1" and server.config.device == "cpu"
    assert server.weights == read_gguf(packaged_gguf()).tensor_bytes
    assert server.kv == 30 * 3 * 64 * 2 * 2 * 4096  # ServingSettings().local_ctx


def test_local_plan_follows_the_context_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_LOCAL_CTX", "2048")
    assert make_plan("local", budget_gb=24, settings=ServingSettings()).servers[0].kv == 30 * 3 * 64 * 2 * 2 * 2048


def test_catalog_local_model_matches_its_gguf_metadata() -> None:
    info = read_gguf(packaged_gguf())
    m = CATALOG.model("smollm2-135m-instruct")
    assert m.layers == info.get("block_count")
    assert m.heads == info.get("attention.head_count")
    assert m.kv_heads == info.get("attention.head_count_kv")
    assert m.embedding == info.get("embedding_length") == m.heads * m.head_dim
    assert m.ffn == info.get("feed_forward_length")
    assert m.max_context == info.get("context_length")
    assert m.vocab == info.get("vocab_size")
    assert m.weights["Q4_1"].size == packaged_gguf().stat().st_size


def test_catalog_covers_the_registry_and_cites_every_figure() -> None:
    for profile in SPARK_PROFILES.values():
        for _url, model in profile.values():
            CATALOG.model(model)
    for wanted in ("gpt-oss-120b", "gpt-oss-20b", "deepseek-coder-6.7b-instruct", "qwen2.5-coder-7b-instruct"):
        assert wanted in CATALOG.models
    for m in CATALOG.models.values():
        assert m.config_source
        for w in m.weights.values():
            assert w.source and w.size > 0
            if m.engine == "llama.cpp":
                assert w.file and w.file.endswith(".gguf")
    gpt = CATALOG.model("gpt-oss-120b")
    assert gpt.sliding_window == 128 and gpt.sliding_layers == gpt.layers // 2


def _write_gguf(path: Path, meta: dict[str, tuple[int, object]]) -> None:
    """A GGUF v3 file with metadata and no tensors."""

    def s(x: str) -> bytes:
        b = x.encode()
        return struct.pack("<Q", len(b)) + b

    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(meta))
    for key, (vtype, value) in meta.items():
        out += s(key) + struct.pack("<I", vtype)
        out += s(value) if vtype == 8 else struct.pack("<I", value)
    out += b"\0" * ((-len(out)) % 32) + b"\0" * 4096  # aligned data section of 4 KiB
    path.write_bytes(out)


def test_local_plan_for_a_gguf_not_in_the_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "tiny.gguf"
    _write_gguf(
        model,
        {
            "general.architecture": (8, "llama"),
            "llama.block_count": (4, 4),
            "llama.attention.head_count": (4, 8),
            "llama.attention.head_count_kv": (4, 2),
            "llama.embedding_length": (4, 512),
            "llama.feed_forward_length": (4, 1024),
            "llama.context_length": (4, 2048),
            "llama.vocab_size": (4, 1000),
            "general.file_type": (4, 7),
        },
    )
    monkeypatch.setenv("SPARK_AGENTS_LOCAL_MODEL_PATH", str(model))
    monkeypatch.setenv("SPARK_AGENTS_LOCAL_CTX", "1024")
    (server,) = make_plan("local", budget_gb=24, settings=ServingSettings()).servers
    assert server.config.quant == "Q8_0"
    assert server.weights == 4096
    assert server.kv == 4 * 2 * (512 // 8) * 2 * 2 * 1024


def test_a_file_that_is_not_gguf_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"not a model at all")
    monkeypatch.setenv("SPARK_AGENTS_LOCAL_MODEL_PATH", str(bad))
    with pytest.raises(ConfigError, match="not a GGUF model file"):
        make_plan("local", budget_gb=24, settings=ServingSettings())


# --- bad input ---------------------------------------------------------------------------------------


def test_unknown_model_names_the_close_ones() -> None:
    with pytest.raises(UnknownModel, match=r"Unknown model 'gpt-oss-12b'.*Did you mean gpt-oss-120b"):
        make_plan("spark-120b", overrides={"supervisor": {"model": "gpt-oss-12b", "quant": ""}})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"supervisor": {"ctx": -4096}}, "context must be a positive number of tokens, not -4096"),
        ({"coder": {"ctx": 0}}, "context must be a positive number of tokens, not 0"),
        ({"supervisor": {"ctx": 10**9}}, "larger than gpt-oss-120b's maximum of 131072 tokens"),
        ({"coder": {"ctx": 32768}}, "larger than deepseek-coder-6.7b-instruct's maximum of 16384"),
        ({"coder": {"slots": 0}}, "parallel slots must be between 1 and 64"),
        ({"vision": {"kv_type": "q8_0"}}, "not available on tensorrt-llm; choose one of bf16, fp8"),
        ({"coder": {"kv_type": "fp8"}}, "not available on llama.cpp"),
        ({"coder": {"quant": "NVFP4"}}, "has no NVFP4 weights in the catalog; choose one of: Q8_0, Q4_K_M"),
        ({"planner": {"ctx": 1}}, "No server 'planner' in this plan"),
    ],
)
def test_bad_settings_are_clear_errors(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_plan("spark-120b", overrides=overrides)


@pytest.mark.parametrize("budget", [0, -10, 7.0, float("nan")])
def test_budget_at_or_below_the_reserve_is_a_clear_error(budget: float) -> None:
    with pytest.raises(ConfigError, match="Budget"):
        make_plan("spark-120b", budget_gb=budget)


def test_unknown_profile_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="Unknown profile 'spark-70b'"):
        make_plan("spark-70b")


@pytest.mark.parametrize("raw", ["supervisor", "=4096", "supervisor=", "supervisor=lots"])
def test_malformed_overrides_are_clear_errors(raw: str) -> None:
    with pytest.raises(ConfigError, match="--ctx"):
        parse_overrides(ctx=[raw])


# --- the command line --------------------------------------------------------------------------------


def test_cli_prints_the_table_and_fits() -> None:
    r = cli("plan", "--profile", "spark-120b")
    assert r.returncode == 0, r.stderr
    for name in ("supervisor", "coder", "vision", "embeddings", "reserve", "gpt-oss-120b", "fits"):
        assert name in r.stdout
    assert "18 sliding-window layers" in r.stdout
    assert "kv_cache_config.max_tokens=32768" in r.stdout
    plan = make_plan("spark-120b")
    assert f"total {plan.total / GiB:.2f} GiB of 119.70 GiB budget" in r.stdout
    assert "prompt cache: --cache-ram 2048 MiB" in r.stdout
    assert r.stdout.rstrip() == render_table(plan).rstrip()


def test_cli_over_budget_exits_non_zero_and_names_the_cuts() -> None:
    r = cli("plan", "--profile", "spark-120b", "--ctx", "supervisor=131072", "--brief")
    assert r.returncode == 2
    assert "OVER BUDGET" in r.stdout and "Cheapest changes that fit" in r.stdout
    assert "--kv supervisor=q8_0" in r.stdout and "--model supervisor=gpt-oss-20b" in r.stdout
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: Plan spark-120b needs") and "Cut:" in err[0]
    assert "Traceback" not in r.stderr


def test_cli_json() -> None:
    r = cli("plan", "--profile", "spark-20b", "--json", "--budget-gb", "100")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["fits"] is True and data["budget"] == 100 * GiB
    assert {s["config"]["name"] for s in data["servers"]} == {"supervisor", "coder", "vision", "embeddings"}
    assert data["total"] == make_plan("spark-20b", budget_gb=100).total


def test_cli_local_profile_from_the_environment() -> None:
    r = cli("plan", "--budget-gb", "24", "--brief")  # SPARK_AGENTS_PROFILE=local (conftest)
    assert r.returncode == 0, r.stderr
    assert "smollm2-135m-instruct" in r.stdout and "sizes in MiB" in r.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ctx", "supervisor=-1"], "context must be a positive number of tokens"),
        (["--ctx", "supervisor=999999999"], "maximum of 131072"),
        (["--model", "coder=no-such-model"], "Unknown model 'no-such-model'"),
        (["--budget-gb", "4"], "below the OS/app reserve"),
        (["--kv", "coder=int3"], "KV cache type 'int3'"),
        (["--slots", "coder=many"], "is not a whole number"),
        (["--cache-ram", "coder=-1"], "prompt cache must be 0 or more MiB, not -1"),
        (["--cache-ram", "coder=8GB"], "--cache-ram coder=8GB: '8GB' is not a whole number"),
    ],
)
def test_cli_bad_input_is_one_clear_line(args: list[str], message: str) -> None:
    r = cli("plan", "--profile", "spark-120b", *args)
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and message in r.stderr and "Traceback" not in r.stderr
