"""Per-role lifecycle of the local llama.cpp servers: admit -> start -> idle watch; up, down, and on-demand
start with swap.

Roles map to servers: the supervisor is served by `local`; the coder by `coder` when
SPARK_AGENTS_CODER_MODEL_PATH gives it a model of its own, else by `local` too. Before a server is spawned,
live admission (serving/admission.py) checks that the plan's figure for it fits the memory available now; a
start that admission refuses stops idle on-demand servers (least recently used first) and tries again, so a
role can be swapped in beside the others within the memory there is. An on-demand server gets its idle watch
(serving/idle.py) once it is up.
"""

from __future__ import annotations

import logging
import sys

from core.errors import ConfigError
from serving.admission import admit
from serving.errors import AdmissionRefused
from serving.idle import spawn_watch
from serving.llama_server import LocalModelServer, ServerState
from serving.plan_model import ServerPlan
from serving.registry import Endpoint, Role, endpoint
from serving.settings import ServingSettings
from serving.sizing import local_config, plan_server

log = logging.getLogger(__name__)


def plan_of(server: LocalModelServer) -> ServerPlan:
    """The server's memory plan: the figure admission compares with MemAvailable."""
    if server.model_path is None:
        raise ConfigError(f"No model for the {server.name} server: set SPARK_AGENTS_LOCAL_MODEL_PATH to a GGUF file.")
    roles = [Role.CODER] if server.name == "coder" else [Role.SUPERVISOR, Role.CODER]
    cfg = local_config(server.name, roles, server.model_name, server.model_path, server.settings)
    return plan_server(cfg)


def start(server: LocalModelServer) -> ServerState:
    """Admit, start and (on demand) watch one server; a running one is returned as it is."""

    def admission() -> None:
        if server.settings.admission:
            admit([plan_of(server)], server.settings)

    def watch(started: LocalModelServer) -> None:
        if started.on_demand:
            spawn_watch(started)

    return server.start(before_spawn=admission, after_spawn=watch)


def local_servers(settings: ServingSettings) -> dict[str, LocalModelServer]:
    out = {"local": LocalModelServer(settings, "local")}
    if settings.coder_model_path:
        out["coder"] = LocalModelServer(settings, "coder")
    return out


def server_for(role: Role | str, settings: ServingSettings) -> LocalModelServer | None:
    role = Role(role)
    if role is Role.CODER and settings.coder_model_path:
        return LocalModelServer(settings, "coder")
    if role in (Role.SUPERVISOR, Role.CODER):
        return LocalModelServer(settings, "local")
    return None


def resolve(names: list[str], settings: ServingSettings) -> list[LocalModelServer]:
    """Roles or server names -> the local servers behind them (all of them for none)."""
    if settings.profile != "local":
        raise ConfigError(
            f"Profile {settings.profile!r} runs its model servers with compose: "
            "`docker compose up -d ROLE` / `docker compose stop ROLE`."
        )
    servers = local_servers(settings)
    if not names:
        return list(servers.values())
    out: list[LocalModelServer] = []
    for n in names:
        if n in servers:
            server = servers[n]
        elif n in {r.value for r in Role}:
            found = server_for(n, settings)
            if found is None:
                raise ConfigError(f"The local profile runs no llama.cpp server for {n} (it is in-process or absent).")
            server = found
        else:
            raise ConfigError(
                f"Unknown role or server {n!r}: choose supervisor, coder, or one of {', '.join(servers)}."
            )
        if server.name not in {s.name for s in out}:
            out.append(server)
    return out


def start_with_swap(server: LocalModelServer) -> ServerState:
    """Start `server`; when admission refuses, stop idle on-demand servers one by one and retry."""
    try:
        return start(server)
    except AdmissionRefused:
        others = [s for s in local_servers(server.settings).values() if s.name != server.name]
        swappable = [s for s in others if s.on_demand and s.state() is not None]
        if not swappable:
            raise
    swappable.sort(key=_last_used)
    for victim in swappable:
        log.info("swapping out on-demand server %s to make room for %s", victim.name, server.name)
        victim.stop()
        try:
            return start(server)
        except AdmissionRefused:
            continue
    return start(server)  # raises with the numbers as they are now


def _last_used(server: LocalModelServer) -> float:
    try:
        return server.activity_file.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def up(names: list[str], settings: ServingSettings) -> list[ServerState]:
    return [start_with_swap(s) for s in resolve(names, settings)]


def down(names: list[str], settings: ServingSettings) -> list[str]:
    """Stop the servers behind `names`; returns the names of those that were running."""
    return [s.name for s in resolve(names, settings) if s.stop()]


def ready(role: Role | str, settings: ServingSettings) -> Endpoint:
    """The role's endpoint with its server up: started (with swap) when it is down, its idle clock reset."""
    server = server_for(role, settings)
    if server is None:
        return endpoint(role, settings)
    if server.state() is None:
        start_with_swap(server)
    server.touch()
    return endpoint(role, settings)


def ensure_endpoint(role: Role | str, settings: ServingSettings) -> Endpoint:
    """The role's endpoint, starting the local llama.cpp server first when the profile manages it."""
    ep = endpoint(role, settings)
    if ep.managed == "llama-cpp" and ep.base_url is None:
        log.info("starting the local model server for %s (llama.cpp)", ep.role.value)
        print(f"Starting the local model server for {ep.role.value} (llama.cpp)…", file=sys.stderr, flush=True)
        ep = ready(role, settings)
    return ep
