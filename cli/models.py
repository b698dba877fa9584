"""`spark-agents plan`: the memory plan (and compose.yaml) from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from core.console import fail, run_cli

OVERRIDE_FIELDS = {
    "ctx": ("ctx", int),
    "slots": ("slots", int),
    "kv": ("kv_type", str),
    "model": ("model", str),
    "cache_ram": ("prompt_cache_mib", int),
}


def parse_overrides(**flags: list[str] | None) -> dict[str, dict[str, object]]:
    """`ctx=["supervisor=131072"]` -> `{"supervisor": {"ctx": 131072}}`; `--model ROLE=NAME[:QUANT]`."""
    from core.errors import ConfigError

    out: dict[str, dict[str, object]] = {}
    for flag, values in flags.items():
        field, kind = OVERRIDE_FIELDS[flag]
        for raw in values or []:
            name, sep, value = raw.partition("=")
            if not sep or not name or not value:
                opt = flag.replace("_", "-")
                raise ConfigError(f"--{opt} expects SERVER=VALUE (for example --{opt} supervisor=...), not {raw!r}.")
            upd = out.setdefault(name.strip(), {})
            if kind is int:
                try:
                    upd[field] = int(value)
                except ValueError:
                    raise ConfigError(f"--{flag.replace('_', '-')} {raw}: {value!r} is not a whole number.") from None
            elif flag == "model":
                model, _, quant = value.partition(":")
                upd["model"], upd["quant"] = model, quant
            else:
                upd[field] = value
    return out


def models_group(app: typer.Typer) -> typer.Typer:
    """The `models` command group cli/main.py declares; this module adds its commands to it."""
    for group in app.registered_groups:
        if group.name == "models" and group.typer_instance is not None:
            return group.typer_instance
    models = typer.Typer(help="Start, stop, fetch and inspect the model servers.", no_args_is_help=True)
    app.add_typer(models, name="models")
    return models


def register_models(models: typer.Typer) -> None:
    @models.command("up")
    def models_up(
        roles: Annotated[
            list[str] | None, typer.Argument(help="Roles (supervisor, coder) or servers (local, coder); default: all.")
        ] = None,
    ) -> None:
        """Start the local profile's llama.cpp servers (a running one is left as it is), after live admission."""
        from serving.lifecycle import up
        from serving.settings import ServingSettings

        for state in run_cli(lambda: up(roles or [], ServingSettings())):
            mode = " (on demand)" if state.on_demand else ""
            print(f"{state.name}: up {state.base_url} model={state.model_name} pid={state.pid}{mode}")

    @models.command("down")
    def models_down(
        roles: Annotated[list[str] | None, typer.Argument(help="Roles or servers; default: all.")] = None,
    ) -> None:
        """Stop the local profile's llama.cpp servers."""
        from serving.lifecycle import down
        from serving.settings import ServingSettings

        stopped = run_cli(lambda: down(roles or [], ServingSettings()))
        print(f"stopped {', '.join(stopped)}" if stopped else "not running")

    @models.command("status")
    def models_status(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
        """Each role's endpoint, health and model."""
        from serving.health import status
        from serving.settings import ServingSettings

        rows = status(ServingSettings())
        if as_json:
            print(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
            return
        for r in rows:
            color = typer.colors.GREEN if r.up else typer.colors.RED
            mark = typer.style(f"{r.status:<14}", fg=color)
            detail = f"  ({r.detail})" if r.detail else ""
            print(f"{r.role.value:<11} {mark} {r.url or '-':<32} {r.model}{detail}")

    @models.command("admit")
    def models_admit(
        profile: Annotated[str | None, typer.Option(help="Default: SPARK_AGENTS_PROFILE.")] = None,
        roles: Annotated[list[str] | None, typer.Argument(help="Servers to check; default: all of the plan.")] = None,
    ) -> None:
        """Live admission: do the plan's servers (with load peaks) fit MemAvailable now? Exit 1 with the cuts if not.

        compose.yaml runs this once before any model server starts."""
        from serving.admission import check, mem_available
        from serving.plan import make_plan
        from serving.settings import ServingSettings

        settings = ServingSettings()

        def body() -> None:
            plan = make_plan(profile or settings.profile, settings=settings, suggest=False)
            servers = [s for s in plan.servers if not roles or s.config.name in roles]
            result = check(servers, mem_available(settings.meminfo_path), plan.profile)
            if not result.ok:
                fail(result.message())
            print(
                f"admitted {', '.join(result.servers)}: {result.need / 2**30:.2f} GiB needed, "
                f"{result.available / 2**30:.2f} GiB available"
            )

        run_cli(body)

    @models.command("doctor")
    def models_doctor(
        profile: Annotated[str | None, typer.Option(help="Default: SPARK_AGENTS_PROFILE.")] = None,
        no_hash: Annotated[
            bool, typer.Option("--no-hash", help="Check the model files are there without hashing them.")
        ] = False,
    ) -> None:
        """Before `docker compose up`: this machine against the images, the model files and the memory plan.

        One line per check; a failure says how to fix it. Exit 1 when any check fails."""
        import os

        from serving.doctor import IMAGE_ENV, diagnose, probe, render
        from serving.plan import make_plan
        from serving.pull import settings_catalog
        from serving.settings import ServingSettings

        settings = ServingSettings()
        name = profile or settings.profile
        if name == "local":
            name = "spark-120b"  # the doctor is about the compose stack; local needs no images
            typer.secho("The local profile runs no containers: checking the spark-120b stack.", err=True)

        def body() -> list:
            catalog = settings_catalog(settings)
            plan = make_plan(name, settings=settings, catalog=catalog, suggest=False)
            overrides = {e: os.environ[v] for e, v in IMAGE_ENV.items() if os.environ.get(v)}

            def hashing(path: Path) -> None:
                typer.secho(f"hashing {path.name} ({path.stat().st_size / 2**30:.2f} GiB)…", err=True)

            return diagnose(
                plan, catalog, probe(), settings.models_dir, settings.meminfo_path, overrides, not no_hash, hashing
            )

        findings = run_cli(body)
        print(render(findings))
        failed = [f for f in findings if f.status == "fail"]
        if failed:
            fail(f"{len(failed)} of {len(findings)} checks failed: fix them before `docker compose up`.")

    @models.command("pull")
    def models_pull(
        names: Annotated[
            list[str] | None,
            typer.Argument(help="Roles (supervisor, coder, embeddings) or catalog models NAME[:QUANT]; default: all."),
        ] = None,
        quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    ) -> None:
        """Download the catalog's GGUF files into SPARK_AGENTS_MODELS_DIR (resumes; verifies sha256)."""
        from serving.pull import pull
        from serving.settings import ServingSettings

        settings = ServingSettings()
        for f in run_cli(lambda: pull(names or [], settings, progress=not quiet)):
            how = f"fetched {f.downloaded / 2**30:.2f} GiB" if f.downloaded else "already here"
            print(f"{f.name}  {f.size / 2**30:.2f} GiB  sha256 {f.sha256[:12]}…  {how}  {f.path}")
            if f.note:
                typer.secho(f"  note: {f.note}", fg=typer.colors.YELLOW, err=True)

    @models.command("list")
    def models_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
        """Every GGUF file the catalog names and whether it is in SPARK_AGENTS_MODELS_DIR."""
        from serving.pull import list_models
        from serving.settings import ServingSettings

        rows = run_cli(lambda: list_models(ServingSettings()))
        if as_json:
            print(json.dumps([r.model_dump(mode="json") for r in rows], indent=2))
            return
        colors = {"verified": typer.colors.GREEN, "packaged": typer.colors.GREEN, "present": typer.colors.YELLOW}
        for r in rows:
            mark = typer.style(f"{r.status:<9}", fg=colors.get(r.status, typer.colors.RED))
            size = f"{r.size / 2**30:.2f}" if r.size else "-"
            print(f"{mark} {r.model + ':' + r.quant:<38} {size:>7} GiB  {r.name}")


def register(app: typer.Typer) -> None:
    register_models(models_group(app))

    @app.command()
    def plan(
        profile: Annotated[
            str | None, typer.Option(help="local, spark-120b or spark-20b (default: SPARK_AGENTS_PROFILE).")
        ] = None,
        budget_gb: Annotated[
            float | None,
            typer.Option(
                "--budget-gb",
                help="Memory budget in GB (GiB). Default: what a DGX Spark shows as usable (119.7), this machine's "
                "RAM for local.",
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
        compose: Annotated[
            bool, typer.Option("--compose", help="Write compose.yaml for the spark-120b and spark-20b plans.")
        ] = False,
        compose_file: Annotated[
            str, typer.Option("--compose-file", help="Where --compose writes ('-' for stdout).")
        ] = "compose.yaml",
        ctx: Annotated[list[str] | None, typer.Option("--ctx", help="SERVER=TOKENS context per slot.")] = None,
        slots: Annotated[list[str] | None, typer.Option("--slots", help="SERVER=N parallel slots.")] = None,
        kv: Annotated[
            list[str] | None, typer.Option("--kv", help="SERVER=TYPE KV cache: f16, q8_0, q4_0 (llama.cpp); bf16, fp8.")
        ] = None,
        model: Annotated[
            list[str] | None, typer.Option("--model", help="SERVER=NAME[:QUANT] from the catalog.")
        ] = None,
        cache_ram: Annotated[
            list[str] | None,
            typer.Option("--cache-ram", help="SERVER=MIB llama-server's host-memory prompt cache (0: none)."),
        ] = None,
        brief: Annotated[
            bool, typer.Option("--brief", help="The table only, without the per-server arithmetic.")
        ] = False,
    ) -> None:
        """How much memory each model server takes, whether the stack fits, and what to cut when it does not."""
        from serving.compose import render_compose
        from serving.plan import OverBudget, make_plan
        from serving.plan_table import render_table
        from serving.settings import ServingSettings

        overrides = run_cli(lambda: parse_overrides(ctx=ctx, slots=slots, kv=kv, model=model, cache_ram=cache_ram))
        if compose:
            text = run_cli(lambda: render_compose(overrides, budget_gb))
            if compose_file == "-":
                sys.stdout.write(text)
            else:
                Path(compose_file).write_text(text)
                typer.echo(f"wrote {compose_file}")
            return
        settings = ServingSettings()
        name = profile or settings.profile
        result = run_cli(lambda: make_plan(name, budget_gb, overrides, settings=settings))
        if as_json:
            print(json.dumps(result.to_json(), indent=2))
        else:
            print(render_table(result, explain=not brief))
        if not result.fits:
            fail(str(OverBudget(result)), code=2)
