"""The model catalog (`serving/catalog.yaml`) as typed data, and a small GGUF metadata reader.

The catalog holds, per model, what the memory planner needs: engine, architecture figures for the
KV-cache formula (layers, KV heads, head dim, sliding-window layers) and weights size per quantization,
each with the source it was taken from.
"""

from __future__ import annotations

import difflib
import re
import struct
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from core.errors import ConfigError

CATALOG_PATH = Path(__file__).with_name("catalog.yaml")

GiB = 1024**3
MiB = 1024**2

Engine = Literal["llama.cpp", "tensorrt-llm"]

_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KiB": 1024, "MiB": MiB, "GiB": GiB}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(B|KB|MB|GB|KiB|MiB|GiB)\s*$")


def parse_size(value: str | int | float) -> int:
    """`"59.02 GiB"`, `"7.16 GB"`, `"98362432 B"` (or a plain number of bytes) -> bytes."""
    if isinstance(value, int | float):
        return int(value)
    m = _SIZE.match(value)
    if not m:
        raise ValueError(f"size {value!r} must be a number with a unit (B, KB, MB, GB, KiB, MiB, GiB)")
    return round(float(m.group(1)) * _UNITS[m.group(2)])


def parse_version(value: str) -> tuple[int, int]:
    """`"13.0"`, `"13.0.1"` -> (13, 0): the major and minor that CUDA compatibility is decided on."""
    m = re.match(r"^\s*(\d+)\.(\d+)", value)
    if not m:
        raise ValueError(f"version {value!r} must start with MAJOR.MINOR")
    return int(m.group(1)), int(m.group(2))


class UnknownModel(ConfigError):
    """A model name that is not in the catalog."""


class Weights(BaseModel):
    size: int = Field(description="bytes")
    file: str | None = None
    source: str
    estimated: bool = False  # True: computed from the architecture, no published file size
    repo: str | None = None  # Hugging Face repo `models pull` fetches `file` (and `shards`) from
    revision: str = "main"
    shards: list[str] = []  # files after `file` that llama.cpp loads with it
    sha256: dict[str, str] = {}  # pinned digests per file name, enforced by `models pull`

    @property
    def files(self) -> list[str]:
        """Every file of these weights, the one llama.cpp is pointed at first."""
        return ([self.file] if self.file else []) + self.shards

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, v: Any) -> int:
        return parse_size(v)


class ModelSpec(BaseModel):
    name: str
    engine: Engine
    config_source: str
    layers: int = Field(gt=0)
    heads: int = Field(gt=0)
    kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    embedding: int = Field(gt=0)
    ffn: int = Field(gt=0)
    vocab: int = Field(gt=0)
    max_context: int = Field(gt=0)
    sliding_window: int | None = None
    sliding_layers: int = 0
    chat_template: Literal["jinja"] | None = None
    embedding_model: bool = False
    pooling: Literal["last", "mean", "cls"] | None = None
    hf_id: str | None = None
    weights: dict[str, Weights]

    @model_validator(mode="after")
    def _check(self) -> ModelSpec:
        if self.sliding_layers and not self.sliding_window:
            raise ValueError(f"{self.name}: sliding_layers needs sliding_window")
        if self.sliding_layers > self.layers:
            raise ValueError(f"{self.name}: more sliding layers than layers")
        if not self.weights:
            raise ValueError(f"{self.name}: no weights listed")
        return self

    @property
    def full_layers(self) -> int:
        return self.layers - self.sliding_layers

    def weights_for(self, quant: str) -> Weights:
        try:
            return self.weights[quant]
        except KeyError:
            raise ConfigError(
                f"{self.name} has no {quant} weights in the catalog; choose one of: {', '.join(self.weights)}."
            ) from None


class ImageBuild(BaseModel):
    """How compose.yaml builds an engine's image here, when no published image runs on the Spark."""

    dockerfile: str  # relative to the repository root
    args: dict[str, str] = {}


class EngineSpec(BaseModel):
    overhead: dict[str, int]
    compute: int | None = None
    image: str
    build: ImageBuild | None = None
    cuda: str  # the CUDA version the image is built with: the driver must support it
    compute_capabilities: list[str] = []  # GPU architectures the image has kernels for (empty: every current one)
    platforms: list[str]  # linux/arm64 (the Spark), linux/amd64
    prompt_cache_default: int = 0  # llama-server's --cache-ram when unset, bytes

    @property
    def cuda_version(self) -> tuple[int, int]:
        return parse_version(self.cuda)

    @field_validator("prompt_cache_default", mode="before")
    @classmethod
    def _prompt_cache(cls, v: Any) -> int:
        return parse_size(v)

    @field_validator("overhead", mode="before")
    @classmethod
    def _overhead(cls, v: Any) -> dict[str, int]:
        return {k: parse_size(x) for k, x in v.items()}

    @field_validator("compute", mode="before")
    @classmethod
    def _compute(cls, v: Any) -> int | None:
        return None if v is None else parse_size(v)


class Machine(BaseModel):
    usable: int = Field(description="bytes the OS shows as total memory")
    source: str

    @field_validator("usable", mode="before")
    @classmethod
    def _usable(cls, v: Any) -> int:
        return parse_size(v)


class Catalog(BaseModel):
    engines: dict[str, EngineSpec]
    models: dict[str, ModelSpec]
    reserve: dict[str, dict[str, int]]
    machines: dict[str, Machine] = {}

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data: Any) -> Any:
        models = data.get("models") or {}
        data["models"] = {name: {"name": name, **spec} for name, spec in models.items()}
        data["reserve"] = {
            k: {item: parse_size(size) for item, size in v.items()} for k, v in (data.get("reserve") or {}).items()
        }
        return data

    def model(self, name: str) -> ModelSpec:
        """The catalog entry for `name`, or an error that names the closest entries."""
        if name in self.models:
            return self.models[name]
        lowered = {n.lower(): n for n in self.models}
        if name.lower() in lowered:
            return self.models[lowered[name.lower()]]
        close = difflib.get_close_matches(name, list(self.models), n=3, cutoff=0.4)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownModel(
            f"Unknown model {name!r}: not in serving/catalog.yaml.{hint} Known: {', '.join(self.models)}."
        )


@lru_cache(maxsize=4)
def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"Model catalog not found: {path}.") from None
    return Catalog.model_validate(data)


# --- GGUF metadata (enough to plan an arbitrary local model) -------------------------------------------

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
GGUF_FILE_TYPES = {0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 15: "Q4_K_M"}
GGUF_FILE_TYPES.update({17: "Q5_K_M", 18: "Q6_K", 30: "BF16", 38: "MXFP4"})


class GGUFInfo(BaseModel):
    path: Path
    metadata: dict[str, Any]
    tensor_bytes: int  # the data section: what llama.cpp maps or copies as model weights

    @property
    def arch(self) -> str:
        return str(self.metadata["general.architecture"])

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(f"{self.arch}.{key}", default)


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("truncated GGUF file")
    return struct.unpack(fmt, data)[0]


def _read_str(f: BinaryIO) -> str:
    n = _read(f, "<Q")
    return f.read(n).decode("utf-8", errors="replace")


def _read_value(f: BinaryIO, vtype: int, keep: bool = True) -> Any:
    if vtype in _SCALARS:
        return _read(f, _SCALARS[vtype])
    if vtype == 8:
        return _read_str(f)
    if vtype == 9:
        etype, n = _read(f, "<I"), _read(f, "<Q")
        if etype in _SCALARS and not keep:  # skip big arrays (tokenizer tables) without decoding them
            f.seek(n * struct.calcsize(_SCALARS[etype]), 1)
            return n
        items = [_read_value(f, etype, keep) for _ in range(n)]
        return items if keep else n
    raise ValueError(f"unknown GGUF value type {vtype}")


def read_gguf(path: Path | str) -> GGUFInfo:
    """Read a GGUF file's metadata and the size of its tensor data (no tensors are loaded)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            if f.read(4) != b"GGUF":
                raise ConfigError(f"{path} is not a GGUF model file.")
            version = _read(f, "<I")
            if version < 2:
                raise ConfigError(f"{path}: GGUF version {version} is too old; convert it with a current llama.cpp.")
            n_tensors, n_kv = _read(f, "<Q"), _read(f, "<Q")
            meta: dict[str, Any] = {}
            for _ in range(n_kv):
                key = _read_str(f)
                vtype = _read(f, "<I")
                keep = not key.startswith("tokenizer.ggml.")
                value = _read_value(f, vtype, keep)
                meta[f"{key}#count" if vtype == 9 and not keep else key] = value
            for _ in range(n_tensors):
                _read_str(f)
                n_dims = _read(f, "<I")
                f.seek(8 * n_dims + 4 + 8, 1)  # dims, type, offset
            align = int(meta.get("general.alignment", 32))
            start = f.tell()
            start += (-start) % align
    except (ValueError, struct.error, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not a readable GGUF file ({e}).") from None
    except FileNotFoundError:
        raise ConfigError(f"Model file not found: {path}.") from None
    return GGUFInfo(path=path, metadata=meta, tensor_bytes=path.stat().st_size - start)


def _max_int(value: Any) -> int:
    """Per-layer arrays (some architectures vary heads or FFN width by layer): plan with the largest."""
    return int(max(value) if isinstance(value, list) else value)


def model_from_gguf(path: Path | str, name: str | None = None) -> tuple[ModelSpec, str]:
    """A catalog-style entry (and its quantization name) from a GGUF file's own metadata."""
    info = read_gguf(path)
    heads = int(info.get("attention.head_count"))
    kv_heads = info.get("attention.head_count_kv", heads)
    embd = int(info.get("embedding_length"))
    window = info.get("attention.sliding_window")
    quant = GGUF_FILE_TYPES.get(int(info.metadata.get("general.file_type", -1)), "GGUF")
    layers = int(info.get("block_count"))
    spec = ModelSpec(
        name=name or str(info.metadata.get("general.name") or Path(path).stem),
        engine="llama.cpp",
        config_source=f"GGUF metadata of {Path(path).name}",
        layers=layers,
        heads=heads,
        kv_heads=_max_int(kv_heads),
        head_dim=int(info.get("attention.key_length", embd // heads)),
        embedding=embd,
        ffn=_max_int(info.get("feed_forward_length", 4 * embd)),
        vocab=int(info.get("vocab_size") or info.metadata.get("tokenizer.ggml.tokens#count") or 32000),
        max_context=int(info.get("context_length", 4096)),
        sliding_window=int(window) if window else None,
        sliding_layers=0,
        weights={quant: Weights(size=info.tensor_bytes, file=Path(path).name, source="GGUF tensor data size")},
    )
    return spec, quant
