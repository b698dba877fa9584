"""The memory plan's data: one server's knobs, its sized parts, the whole plan and the over-budget error.

Kept apart from the arithmetic (serving/sizing.py) so the table, the suggestions and the compose generator
can read a plan without importing how it was computed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from core.errors import ConfigError
from serving.catalog import GiB
from serving.roles import Role

KVType = Literal["f16", "q8_0", "q4_0", "bf16", "fp8"]
Device = Literal["cuda", "cpu"]


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
    mmap: bool = True  # llama.cpp maps the file; the spark plans load with --load-mode none (ServerPlan.load_peak)
    # llama-server's host-memory prompt cache (--cache-ram, MiB); None: the engine's default (8192 MiB)
    prompt_cache_mib: int | None = Field(None, ge=0)
    model_path: str | None = None  # local profile: plan from this GGUF's own metadata


class KVBreakdown(BaseModel):
    """The KV cache split into full-attention and sliding-window layers, which hold different token counts."""

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
    """One server's bytes by part, and `why`: the arithmetic behind each part, shown to the user."""

    config: ServerConfig
    engine: str
    weights_file: str | None
    weights: int
    cpu_repack: int = 0  # a second, repacked copy of the weights (llama.cpp CPU AMX backend)
    kv: int
    prompt_cache: int = 0  # llama-server keeps evicted slots' KV in host memory: the GPU's pool on the Spark
    compute: int
    overhead: int
    kv_detail: KVBreakdown
    trtllm: TrtKV | None = None
    load_peak: int = 0  # transient bytes while the weights load, on top of `total` (admission counts them)
    why: list[str] = []

    @property
    def total(self) -> int:
        return self.weights + self.cpu_repack + self.kv + self.prompt_cache + self.compute + self.overhead

    @property
    def peak(self) -> int:
        """What starting this server needs free: its steady total plus the load-time peak."""
        return self.total + self.load_peak


class Suggestion(BaseModel):
    """One cut that makes an over-budget plan fit: the flags to pass and the total it leads to."""

    change: str
    flags: list[str]
    total: int
    saves: int


class Plan(BaseModel):
    """Every server of a profile plus the OS/app reserve, against the budget."""

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
    """Bytes as GiB with two decimals, the unit every plan message uses."""
    return f"{n / GiB:.2f}"
