"""Per-role lifecycle of the local llama.cpp servers: up, down, and on-demand start with swap.

Roles map to servers: the supervisor is served by `local`; the coder by `coder` when
SPARK_AGENTS_CODER_MODEL_PATH gives it a model of its own, else by `local` too. A start that live admission
refuses stops idle on-demand servers (least recently used first) and tries again, so a role can be swapped in
beside the others within the memory there is.
"""

from __future__ import annotations

import logging

from core.errors import ConfigError
from serving.errors import AdmissionRefused
from serving.llama_server import LocalModelServer, ServerState
from serving.registry import Endpoint, Role, endpoint
from serving.settings import ServingSettings

log = logging.getLogger(__name__)


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
        return server.start()
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
            return server.start()
        except AdmissionRefused:
            continue
    return server.start()  # raises with the numbers as they are now


def _last_used(server: LocalModelServer) -> float:
    try:
        return server.activity_file.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def up(names: list[str], settings: ServingSettings | None = None) -> list[ServerState]:
    settings = settings or ServingSettings()
    return [start_with_swap(s) for s in resolve(names, settings)]


def down(names: list[str], settings: ServingSettings | None = None) -> list[str]:
    """Stop the servers behind `names`; returns the names of those that were running."""
    settings = settings or ServingSettings()
    return [s.name for s in resolve(names, settings) if s.stop()]


def ready(role: Role | str, settings: ServingSettings | None = None) -> Endpoint:
    """The role's endpoint with its server up: started (with swap) when it is down, its idle clock reset."""
    settings = settings or ServingSettings()
    server = server_for(role, settings)
    if server is None:
        return endpoint(role, settings)
    if server.state() is None:
        start_with_swap(server)
    server.touch()
    return endpoint(role, settings)
