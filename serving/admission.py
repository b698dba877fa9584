"""Live admission: before a model server starts, does the plan's figure for it fit the memory free *now*?

The plan checks a budget on paper; a host that is already busy (a desktop session, page cache, another
stack) can still be wedged by a load that runs it out of memory. `MemAvailable` from /proc/meminfo is the
honest figure on the DGX Spark (CUDA's free-memory query under-reports unified memory). A server is admitted
when its plan total plus its load peak (`ServerPlan.peak`) fits; otherwise the refusal carries the numbers
and the cheapest cuts, re-planned with the plan's own arithmetic.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from core.errors import ConfigError
from serving.catalog import Catalog, load_catalog
from serving.errors import AdmissionRefused
from serving.plan_model import Plan, ServerPlan, Suggestion, gib
from serving.settings import ServingSettings

_LINE = re.compile(r"^(\w+):\s+(\d+)\s*kB", re.MULTILINE)


def mem_available(path: Path) -> int:
    """MemAvailable in bytes, read from a /proc/meminfo-format file."""
    try:
        fields = {k: int(v) * 1024 for k, v in _LINE.findall(Path(path).read_text())}
    except OSError as e:
        raise ConfigError(
            f"Cannot read {path} for live admission ({e}); set SPARK_AGENTS_ADMISSION=false to skip."
        ) from None
    if "MemAvailable" not in fields:
        raise ConfigError(f"{path} has no MemAvailable line; set SPARK_AGENTS_MEMINFO_PATH to a /proc/meminfo file.")
    return fields["MemAvailable"]


class Admission(BaseModel):
    servers: list[str]
    need: int  # bytes: plan totals plus load peaks
    available: int
    cuts: list[Suggestion] = []

    @property
    def ok(self) -> bool:
        return self.need <= self.available

    def message(self) -> str:
        parts = ", ".join(self.servers)
        head = (
            f"Not starting {parts}: the plan needs {gib(self.need)} GiB (totals with load peaks) but only "
            f"{gib(self.available)} GiB are available now (MemAvailable), "
            f"short by {gib(self.need - self.available)} GiB."
        )
        if self.cuts:
            cuts = "; ".join(f"{c.change} ({' '.join(c.flags)}, saves {gib(c.saves)} GiB)" for c in self.cuts[:3])
            return f"{head} Cheapest cuts: {cuts}. Or stop what holds the memory (`spark-agents models down ROLE`)."
        return f"{head} No single cut fits: stop other model servers or free memory first."


def check(servers: list[ServerPlan], available: int, profile: str, catalog: Catalog | None = None) -> Admission:
    """Compare what starting `servers` needs with `available`; fill the cheapest cuts when it does not fit."""
    catalog = catalog or load_catalog()
    need = sum(s.peak for s in servers)
    result = Admission(servers=[s.config.name for s in servers], need=need, available=available)
    if not result.ok:
        result.cuts = cheapest_cuts(servers, available, profile, catalog)
    return result


def cheapest_cuts(servers: list[ServerPlan], available: int, profile: str, catalog: Catalog) -> list[Suggestion]:
    """Single changes (KV quantization, fewer slots, shorter context, smaller model) after which these fit."""
    from serving.sizing import plan_server
    from serving.suggest import candidates

    others = sum(s.peak for s in servers)
    paper = Plan(profile=profile, budget=available, reserve={}, servers=servers)
    found: list[tuple[int, Suggestion]] = []
    seen: set[tuple[int, str]] = set()
    for rank, change, flags, upd in candidates(paper, catalog):
        name = next(iter(upd))
        if (rank, name) in seen:
            continue
        old = next(s for s in servers if s.config.name == name)
        try:
            new = plan_server(old.config.model_copy(update=upd[name]), catalog)
        except ConfigError:
            continue
        total = others - old.peak + new.peak
        if total <= available:
            seen.add((rank, name))
            found.append((rank, Suggestion(change=change, flags=flags, total=total, saves=others - total)))
    found.sort(key=lambda t: (t[0], t[1].saves))
    return [s for _, s in found]


def admit(servers: list[ServerPlan], settings: ServingSettings, catalog: Catalog | None = None) -> Admission | None:
    """Raise AdmissionRefused unless `servers` fit the memory available now (None: admission is off)."""
    if not settings.admission:
        return None
    result = check(servers, mem_available(settings.meminfo_path), settings.profile, catalog)
    if not result.ok:
        raise AdmissionRefused(result.message())
    return result
