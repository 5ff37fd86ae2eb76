"""The `lrs` command: serve, migrate, credentials (create/list/revoke), openapi."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from lrs.settings import Settings
from lrs.store import credentials as store
from lrs.store.engine import database_url, make_engine, migrate, stop_embedded

app = typer.Typer(help="lrs: an xAPI 1.0.3 and 2.0 Learning Record Store", no_args_is_help=True)
creds = typer.Typer(help="Manage HTTP Basic credentials", no_args_is_help=True)
app.add_typer(creds, name="credentials")
console = Console()
T = TypeVar("T")


def _migrated() -> tuple[Settings, str]:
    """The settings and the URL of a migrated database (starting the embedded server when no URL is set)."""
    settings = Settings()
    url = database_url(settings)
    migrate(url)
    return settings, url


def _with_db(work: Callable[[AsyncConnection, Settings], Awaitable[T]]) -> T:
    settings, url = _migrated()

    async def run() -> T:
        engine = make_engine(settings, url)
        try:
            async with engine.begin() as conn:
                return await work(conn, settings)
        finally:
            await engine.dispose()

    return asyncio.run(run())


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (LRS_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (LRS_PORT)")] = None,
    workers: Annotated[int | None, typer.Option(help="uvicorn worker processes (LRS_WORKERS)")] = None,
) -> None:
    """Migrate the database (starting the embedded PostgreSQL when LRS_DATABASE_URL is unset) and serve."""
    import uvicorn

    settings, url = _migrated()
    os.environ["LRS_DATABASE_URL"] = url  # workers reuse this server instead of starting their own
    console.print(f"[bold]lrs[/] serving xAPI at http://{host or settings.host}:{port or settings.port}/xapi/")
    try:
        uvicorn.run(
            "lrs.app:create_app",
            factory=True,
            host=host or settings.host,
            port=port if port is not None else settings.port,
            workers=workers or settings.workers,
            log_level=settings.log_level,
            access_log=False,
            proxy_headers=False,
        )
    except KeyboardInterrupt:
        pass  # Ctrl+C: uvicorn has shut down gracefully and re-raises it
    finally:
        stop_embedded()  # the embedded PostgreSQL this command started, if any, stops with it


@app.command("migrate")
def migrate_command() -> None:
    """Apply the database migrations and exit."""
    _migrated()
    console.print("database is up to date")


@creds.command("create")
def create(
    name: Annotated[str, typer.Option(help="who the credential is for")],
    scope: Annotated[list[str], typer.Option(help="xAPI scope; repeat for several")] = ["all"],  # noqa: B006
    key: Annotated[str | None, typer.Option(help="choose the key instead of a random one")] = None,
    secret: Annotated[str | None, typer.Option(help="choose the secret instead of a random one")] = None,
) -> None:
    """Create a credential and print its key and secret (the secret is shown only now)."""

    async def work(conn: AsyncConnection, settings: Settings) -> tuple[store.Credential, str]:
        return await store.create_credential(
            conn, name=name, scopes=scope, homepage=settings.authority_homepage, key=key, secret=secret
        )

    try:
        made, shown = _with_db(work)
    except ValueError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    console.print(f"key:    {made.key}\nsecret: {shown}\nscopes: {' '.join(made.scopes)}")


@creds.command("list")
def list_(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """List credentials (never their secrets)."""

    async def work(conn: AsyncConnection, settings: Settings) -> list[store.Credential]:
        return await store.list_credentials(conn)

    rows = _with_db(work)
    if as_json:
        print(
            json.dumps(
                [
                    {"key": c.key, "name": c.name, "scopes": list(c.scopes), "revoked": c.revoked is not None}
                    for c in rows
                ]
            )
        )
        return
    table = Table("key", "name", "scopes", "created", "revoked")
    for c in rows:
        table.add_row(c.key, c.name, " ".join(c.scopes), c.created.isoformat(), str(c.revoked or ""))
    console.print(table)


@creds.command("revoke")
def revoke(key: str) -> None:
    """Revoke a credential by key."""

    async def work(conn: AsyncConnection, settings: Settings) -> bool:
        return await store.revoke_credential(conn, key)

    if not _with_db(work):
        console.print(f"[red]no active credential with key {key}[/]")
        raise typer.Exit(1)
    console.print(f"revoked {key}")


@app.command()
def generate(
    count: Annotated[int, typer.Argument(help="how many statements")],
    seed: Annotated[int, typer.Option(help="random seed: the same seed gives the same statements")] = 1,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="NDJSON file (default: standard output)")] = None,
) -> None:
    """Write realistic statements as NDJSON (one statement per line)."""
    import itertools
    import sys

    import orjson

    from lrs.generator import Generator

    stream = out.open("wb") if out else sys.stdout.buffer
    try:
        for stmt in itertools.islice(Generator(seed=seed), count):
            stream.write(orjson.dumps(stmt) + b"\n")
    finally:
        if out:
            stream.close()


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="NDJSON file of statements", exists=True, dir_okay=False)],
    version: Annotated[str, typer.Option(help="validate as xAPI 1.0.3 or 2.0.0")] = "2.0.0",
    chunk: Annotated[int, typer.Option(help="statements per transaction")] = 5000,
) -> None:
    """Load statements at bulk speed through the API's validation; re-running skips what is stored."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    from lrs.errors import LRSError
    from lrs.importer import import_file
    from lrs.xapi.version import negotiate

    xapi_version = negotiate(version)
    size = path.stat().st_size

    settings, url = _migrated()

    async def run() -> None:
        engine = make_engine(settings, url)
        authority = store.authority_for("lrs-import", "lrs import", settings.authority_homepage)
        columns = (TextColumn("import"), BarColumn(), TransferSpeedColumn(), TimeRemainingColumn())
        try:
            with Progress(*columns, console=console) as bar:
                task = bar.add_task("import", total=size)
                outcome = await import_file(
                    engine,
                    path,
                    version=xapi_version,
                    authority=authority,
                    chunk_size=chunk,
                    progress=lambda done, _: bar.update(task, completed=done),
                )
        finally:
            await engine.dispose()
        console.print(f"{outcome.lines} statements read, {outcome.stored} stored, {outcome.skipped} already there")

    try:
        asyncio.run(run())
    except LRSError as exc:
        console.print(f"[red]import stopped: {exc.describe()}[/] (chunks before it are stored)")
        raise typer.Exit(1) from None


@app.command()
def bench(
    url: Annotated[str, typer.Argument(help="the LRS's xAPI base URL, e.g. http://127.0.0.1:8000/xapi")],
    key: Annotated[str, typer.Option(help="credential key (needs statements/write, statements/read, state)")],
    secret: Annotated[str, typer.Option(help="credential secret")],
    duration: Annotated[float, typer.Option(help="seconds per scenario")] = 8.0,
    writes: Annotated[bool, typer.Option(help="also run the POST and State scenarios (they add data)")] = True,
    out: Annotated[Path | None, typer.Option(help="write the results as JSON here")] = None,
) -> None:
    """Run the benchmark scenarios against a running LRS and print a table (`make bench` does more)."""
    from lrs.bench import scenario as sc

    target = sc.Target(url, key, secret)

    async def run() -> list[sc.Row]:
        vocab = sc.vocabulary(11)
        rows = [(await sc.get_scenario(target, name, vocab, clients=16, duration=duration))[0] for name in sc.GETS]
        rows.append(await sc.paging(target))
        if writes:
            pool = sc.StatementPool(seed=12)
            rows.append(await sc.post_batches(target, pool, clients=8, size=100, duration=duration))
            rows.append(await sc.post_single(target, pool, clients=16, duration=duration))
            rows.append(await sc.documents(target, clients=16, duration=duration))
        return rows

    rows = asyncio.run(run())
    table = Table("scenario", "clients", "rate", "unit", "p50 ms", "p99 ms", "errors")
    for r in rows:
        table.add_row(
            r.name, str(r.clients), f"{r.per_second:,.0f}", r.unit, f"{r.p50_ms:.1f}", f"{r.p99_ms:.1f}", str(r.errors)
        )
    console.print(table)
    if out:
        out.write_text(json.dumps([r.as_dict() for r in rows], indent=2))


@app.command()
def openapi(out: Annotated[Path, typer.Argument()] = Path("openapi/openapi.json")) -> None:
    """Write the OpenAPI document of the app."""
    from lrs.app import create_app

    doc = create_app(Settings(database_url="postgresql://unused/unused")).openapi()
    out.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    console.print(f"wrote {out}")
