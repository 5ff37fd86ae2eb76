"""`make bench`: a fresh embedded PostgreSQL, a store of realistic statements per size (each in its own database)
with the LRS on two workers in front of each, every GET scenario at each size in turns (median of N runs), the
writes at the largest size, and the roof endpoint under the same load.

    python -m lrs.bench [--sizes 100000,1000000] [--duration 8] [--repeat 3] [--workers 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import psutil
from rich.console import Console
from rich.table import Table

from lrs.bench import scenario as sc
from lrs.bench.floor import write_floor
from lrs.bench.report import cpu, floor_rows, growth, roof_shares, roofs, rss_path
from lrs.generator import Generator
from lrs.importer import import_file
from lrs.native import compiled
from lrs.settings import Settings
from lrs.store.credentials import authority_for
from lrs.store.engine import make_engine, migrate, named_database, start_embedded, stop_embedded
from lrs.xapi.version import Version

console = Console(width=150)
SEED = 11


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_tree(pid: int) -> list[psutil.Process]:
    """A process and its children, recursively (none if it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def connection_owner(server_pid: int, port: int) -> Callable[[int], int | None]:
    """Which of a server's processes serves the TCP connection from a client port (client.open_spread)."""

    def owner(client_port: int) -> int | None:
        for proc in process_tree(server_pid):
            try:
                connections = proc.net_connections(kind="tcp")
            except psutil.Error:
                continue
            for c in connections:
                if c.laddr and c.laddr.port == port and c.raddr and c.raddr.port == client_port:
                    return int(proc.pid)
        return None

    return owner


def bench_target(server: Server, key: str, secret: str, workers: int) -> sc.Target:
    """The bench's target for a server it started: connections spread evenly over the server's workers."""
    return sc.Target(
        f"http://127.0.0.1:{server.port}/xapi",
        key,
        secret,
        workers=workers,
        owner=connection_owner(server.proc.pid, server.port),
    )


def cpu_seconds(pid: int) -> float:
    """CPU seconds so far of one process (a PostgreSQL backend, for the floor of a write)."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, MiB."""
    procs = process_tree(pid)
    try:
        return float(sum(p.memory_info().rss for p in procs)) / 2**20 if procs else float("nan")
    except psutil.Error:
        return float("nan")


class Server:
    """A server subprocess on a free port (the LRS or the roof)."""

    def __init__(self, args: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.port = port
        self.log = log.open("w")
        self.proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        """Poll until path answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log.name}")
            time.sleep(0.3)
        raise RuntimeError(f"server not ready in {timeout}s; see {self.log.name}")

    def stop(self) -> None:
        """Stop it."""
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


async def fill(url: str, target: int, tmp: Path) -> dict[str, Any]:
    """Grow the store to `target` statements with `lrs import`'s code path; report its rate."""
    conn = await asyncpg.connect(url)
    have = int(await conn.fetchval("SELECT count(*) FROM statement"))
    await conn.close()
    if have >= target:
        return {"statements": 0, "seconds": 0.0}
    path = tmp / f"import-{target}.ndjson"
    with path.open("wb") as f:
        gen = Generator(seed=SEED)
        for stmt in itertools.islice(gen, have, target):
            f.write(orjson.dumps(stmt) + b"\n")
    settings = Settings(database_url=url)
    engine = make_engine(settings, url)
    authority = authority_for("lrs-import", "lrs import", settings.authority_homepage)
    t0 = time.perf_counter()
    outcome = await import_file(engine, path, version=Version.V2, authority=authority)
    seconds = time.perf_counter() - t0
    await engine.dispose()
    path.unlink()
    # What autovacuum does soon after a bulk load anyway; without it the first reads set hint bits and
    # the GET figures would measure the load's aftermath rather than the store.
    conn = await asyncpg.connect(url)
    await conn.execute("VACUUM (ANALYZE)")
    await conn.close()
    return {"statements": outcome.stored, "seconds": seconds, "per_second": outcome.stored / seconds}


async def database(server_url: str, name: str, template: str | None) -> str:
    """A database on the benchmark's server, a copy of `template` (whose store then grows from there) or a freshly
    migrated one; its URL."""
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    finally:
        await admin.close()
    url = named_database(server_url, name)
    if template is None:
        migrate(url)
    return url


async def prewarm(conn: asyncpg.Connection) -> int | None:
    """Load the store's tables, indexes and TOAST into PostgreSQL's buffer cache; return the MiB read (more than
    the cache holds pushes out what was read first), None if the server lacks pg_prewarm. A server that has been
    running holds its hot pages there, but a bulk load passes through a small ring of buffers and leaves the cache
    cold. Alone, a verb+agent page at 1M costs the database 0.96 ms of CPU on first touch against 0.53 ms from the
    cache; under the bench's load the two differed less than the noise (docs/benchmarks.md)."""
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
    except asyncpg.PostgresError:
        return None
    blocks = await conn.fetchval(
        "WITH rel AS (SELECT c.oid, c.reltoastrelid AS toast FROM pg_class c "
        "  JOIN pg_namespace n ON n.oid = c.relnamespace "
        "  WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'i')) "
        "SELECT sum(pg_prewarm(o.oid)) FROM ("
        "  SELECT oid FROM rel UNION SELECT toast FROM rel WHERE toast <> 0 "  # large payloads live in TOAST
        "  UNION SELECT i.indexrelid FROM pg_index i JOIN rel ON i.indrelid = rel.toast) o"
    )
    return int(blocks or 0) * 8192 // (1024 * 1024)


def validation_rate(n: int = 20_000) -> dict[str, float]:
    """Statements/s of the pure write path in one process: parse, validate and prepare realistic 100-statement
    batches (D §2.2-2.6), no HTTP, no database."""
    from lrs.xapi.prepare import prepare
    from lrs.xapi.validate import validate_batch

    stmts = list(itertools.islice(Generator(seed=SEED + 2), n))
    bodies = [orjson.dumps(stmts[i : i + 100]) for i in range(0, n, 100)]
    authority = authority_for("bench", "bench", "https://lrs.invalid/credentials")
    result: dict[str, float] = {}
    for label, work in (
        ("validate", lambda b: validate_batch(orjson.loads(b), Version.V2)),
        (
            "validate+prepare",
            lambda b: [prepare(s, Version.V2, authority) for s in validate_batch(orjson.loads(b), Version.V2)],
        ),
    ):
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            for body in bodies:
                work(body)
            runs.append(n / (time.perf_counter() - t0))
        result[label] = statistics.median(runs)
    return result


def median_row(rows: list[sc.Row]) -> sc.Row:
    """The run with the median throughput."""
    return sorted(rows, key=lambda r: r.per_second)[len(rows) // 2]


class CpuMeter:
    """CPU seconds spent by the server's process tree and by PostgreSQL's during a scenario run, per unit."""

    def __init__(self, server_pid: int, data_dir: Path) -> None:
        self.server_pid = server_pid
        self.postmaster_pid = int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])

    @staticmethod
    def _tree(pid: int) -> dict[int, float]:
        out = {}
        for proc in process_tree(pid):
            try:
                times = proc.cpu_times()
                out[proc.pid] = times.user + times.system
            except psutil.Error:
                pass
        return out

    def snapshot(self) -> tuple[dict[int, float], dict[int, float]]:
        """CPU seconds so far, by process, of the server and of PostgreSQL."""
        return self._tree(self.server_pid), self._tree(self.postmaster_pid)

    @staticmethod
    def _spent(before: dict[int, float], after: dict[int, float]) -> float:
        # processes that started during the run count whole; those that ended are lost (PostgreSQL's short-lived
        # autovacuum workers at most)
        return sum(t - before.get(pid, 0.0) for pid, t in after.items())

    def measure(self, row: sc.Row, before: tuple[dict[int, float], dict[int, float]]) -> sc.Row:
        """The row with its CPU milliseconds per unit filled in."""
        after = self.snapshot()
        units = row.per_second * row.seconds
        if units:
            row.server_cpu_ms = 1000 * self._spent(before[0], after[0]) / units
            row.db_cpu_ms = 1000 * self._spent(before[1], after[1]) / units
        return row


async def repeat(n: int, make: Any, meter: CpuMeter | None = None) -> sc.Row:
    """Run a scenario n times, keep the median (by rate), with the CPU it took when a meter is given."""
    rows = []
    for _ in range(n):
        if meter is None:
            rows.append(await make())
            continue
        before = meter.snapshot()
        rows.append(meter.measure(await make(), before))
    return median_row(rows)


async def measured_get(
    target: sc.Target, meter: CpuMeter, name: str, vocab: sc.Vocabulary, duration: float, *, roof: bool = False
) -> tuple[sc.Row, float]:
    """One run of a GET scenario on 16 clients with the CPU it took, and its mean statements per page."""
    before = meter.snapshot()
    row, fullness = await sc.get_scenario(target, name, vocab, clients=16, duration=duration, roof=roof)
    return meter.measure(row, before), fullness


def get_row(runs: list[tuple[sc.Row, float]], size: int) -> dict[str, Any]:
    """The JSON row of a GET scenario's runs: the median run, with the mean statements per page of all of them."""
    row = median_row([r for r, _ in runs])
    console.print(f"  {size:>9,} {row.name:<28} {row.per_second:>9,.0f} {row.unit} p50 {row.p50_ms:.1f} ms")
    return row.as_dict() | {"mean_page": round(statistics.mean(f for _, f in runs), 1)}


def add_row(report: dict[str, Any], size: int, row: dict[str, Any], server: Server) -> None:
    """Add a scenario's row to its store size's, with the server's RSS right after it: over the run, these show
    whether memory stays flat under sustained load (issue 5)."""
    report["sizes"][str(size)]["rows"].append(row | {"rss_after_mb": round(rss_mb(server.proc.pid), 1)})


async def main() -> None:
    """Run the whole benchmark and write the JSON report."""
    ap = argparse.ArgumentParser(prog="python -m lrs.bench")
    ap.add_argument("--sizes", default="100000,1000000", help="store sizes, comma-separated")
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per scenario run")
    ap.add_argument("--repeat", type=int, default=3, help="runs per scenario (median reported)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("bench-results"))
    ap.add_argument("--keep", action="store_true", help="keep the benchmark database (it is removed otherwise)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if sizes != sorted(set(sizes)):
        ap.error("--sizes must be distinct and ascending: each store is grown from a copy of the one before")
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "started": dt.datetime.now(dt.UTC).isoformat(),
        # the statement path compiled by mypyc (setup.py, ADR 0010) or run as Python: the write rates depend on it
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "compiled": compiled()},
        "settings": vars(args) | {"out": str(args.out)},
        "sizes": {},
    }
    report["validation"] = validation_rate()
    build = "compiled by mypyc" if report["machine"]["compiled"] else "Python (not compiled)"
    console.print(f"statement path: {build}")
    console.print(
        "validation of realistic 100-statement batches, one process: "
        + ", ".join(f"{k} {v:,.0f} statements/s" for k, v in report["validation"].items())
    )
    tmp = Path(tempfile.mkdtemp(prefix="lrs-bench-"))
    server_url = start_embedded(tmp / "db")
    key, secret = "bench", secrets.token_urlsafe(16)
    lrs_bin = str(Path(sys.executable).with_name("lrs"))
    base_env = {"LRS_ADMIN_KEY": key, "LRS_ADMIN_SECRET": secret, "LRS_LOG_LEVEL": "warning"}
    pool = sc.StatementPool(seed=SEED + 1)
    vocab = sc.vocabulary(SEED)
    servers: dict[int, Server] = {}
    try:
        # One database per store size, each grown from a copy of the one before, and one LRS on each: the sizes
        # are then measured in turns, so that a drift of this shared machine's speed lands on every size alike
        # and the growth between them is not a difference between two moments.
        urls: dict[int, str] = {}
        previous: str | None = None
        for size in sizes:
            urls[size] = await database(server_url, f"lrs_bench_{size}", template=previous)
            previous = f"lrs_bench_{size}"
            console.print(f"[bold]filling the store to {size:,} statements[/]")
            imported = await fill(urls[size], size, tmp)
            report["sizes"][str(size)] = {"import": imported, "rows": []}
            if imported["statements"]:
                console.print(f"  imported {imported['statements']:,} at {imported['per_second']:,.0f}/s")
        for size in sizes:
            conn = await asyncpg.connect(urls[size])
            warm = await prewarm(conn)
            await conn.close()
            report["sizes"][str(size)]["import"]["prewarmed_mib"] = warm
            console.print(
                f"  read {warm:,} MiB of the {size:,} store into PostgreSQL's buffer cache (pg_prewarm)"
                if warm is not None
                else "  pg_prewarm is not available: the GETs start on a cold buffer cache"
            )
        targets: dict[int, sc.Target] = {}
        meters: dict[int, CpuMeter] = {}
        for size in sizes:
            port = free_port()  # chosen once the server before holds its own
            env = base_env | {"LRS_DATABASE_URL": urls[size]}
            args_ = [lrs_bin, "serve", "--port", str(port), "--workers", str(args.workers)]
            servers[size] = server = Server(args_, env, port, tmp / f"lrs-{size}.log")
            server.wait_ready("/xapi/about")
            targets[size] = bench_target(server, key, secret, args.workers)
            meters[size] = CpuMeter(server.proc.pid, tmp / "db")
            report["sizes"][str(size)]["rss_start_mb"] = rss_mb(server.proc.pid)
        await asyncio.sleep(1)
        for name in sc.GETS:
            runs: dict[int, list[tuple[sc.Row, float]]] = {size: [] for size in sizes}
            for _ in range(args.repeat):
                for size in sizes:
                    runs[size].append(await measured_get(targets[size], meters[size], name, vocab, args.duration))
            for size in sizes:
                add_row(report, size, get_row(runs[size], size), servers[size])
        for size in sizes:
            target = targets[size]
            row = await repeat(args.repeat, lambda target=target: sc.paging(target), meters[size])
            add_row(report, size, row.as_dict(), servers[size])
        largest = sizes[-1]
        url = urls[largest]
        env = base_env | {"LRS_DATABASE_URL": url}
        roof_port = free_port()
        roof = Server(
            [
                str(Path(sys.executable).with_name("uvicorn")),
                "lrs.bench.roof:app",
                "--port",
                str(roof_port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env,
            roof_port,
            tmp / "roof.log",
        )
        servers[0] = roof  # the roof, as size 0: stopped with the LRS servers if anything fails
        roof.wait_ready("/docs")
        roof_target = bench_target(roof, key, secret, args.workers)
        roof_meter = CpuMeter(roof.proc.pid, tmp / "db")
        # Its GETs right after the LRS's, on the same store before any write (its POSTs go to a table of their own).
        report["roof_gets"] = []
        for name in sc.ROOF_GETS:
            roof_runs = [
                await measured_get(roof_target, roof_meter, name, vocab, args.duration, roof=True)
                for _ in range(args.repeat)
            ]
            report["roof_gets"].append(get_row(roof_runs, largest) | {"bounds": name})
        for make in (
            lambda: sc.post_batches(targets[largest], pool, clients=8, size=100, duration=args.duration),
            lambda: sc.post_single(targets[largest], pool, clients=16, duration=args.duration),
            lambda: sc.documents(targets[largest], clients=16, duration=args.duration),
        ):
            row = await repeat(args.repeat, make, meters[largest])
            add_row(report, largest, row.as_dict(), servers[largest])
            console.print(f"  {largest:>9,} {row.name:<28} {row.per_second:>9,.0f} {row.unit}")
        for size in sizes:
            entry = report["sizes"][str(size)]
            entry["rss_end_mb"] = rss_mb(servers[size].proc.pid)
            servers.pop(size).stop()
            conn = await asyncpg.connect(urls[size])
            entry["store_mb"] = int(await conn.fetchval("SELECT pg_database_size(current_database())")) / 2**20
            entry["statements"] = int(await conn.fetchval("SELECT count(*) FROM statement"))
            await conn.close()
        row = await repeat(
            args.repeat,
            lambda: sc.post_batches(roof_target, pool, clients=8, size=100, duration=args.duration),
            roof_meter,
        )
        servers.pop(0).stop()
        report["roof"] = row.as_dict() | {"scenario": f"roof: {row.name}, COPY only", "bounds": row.name}
        conn = await asyncpg.connect(urls[largest])
        try:
            report["floor"] = await write_floor(conn, cpu_seconds)
        except (asyncpg.PostgresError, ValueError) as exc:  # the report of the whole run is kept without it
            console.print(f"[red]the floor of a write was not measured: {exc}[/]")
        finally:
            await conn.close()
    finally:
        for server in servers.values():
            server.stop()
        stop_embedded()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    report["finished"] = dt.datetime.now(dt.UTC).isoformat()
    out = args.out / f"bench-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    print_table(report)
    console.print(f"written {out}")


def print_table(report: dict[str, Any]) -> None:
    """The human-readable table."""
    table = Table("store", "scenario", "clients", "rate", "unit", "p50 ms", "p99 ms", "errors", "CPU ms/unit srv+db")
    for size, entry in report["sizes"].items():
        for r in entry["rows"]:
            table.add_row(
                f"{int(size):,}",
                r["scenario"],
                str(r["clients"]),
                f"{r['per_second']:,.0f}",
                r["unit"],
                f"{r['p50_ms']:.1f}",
                f"{r['p99_ms']:.1f}",
                str(r["errors"]),
                cpu(r),
            )
        imp = entry["import"]
        if imp.get("statements"):
            table.add_row(
                f"{int(size):,}", "lrs import", "1", f"{imp['per_second']:,.0f}", "statements/s", "", "", "", ""
            )
        table.add_row(
            f"{int(size):,}",
            f"RSS {rss_path(entry)} MiB, store {entry['store_mb']:.0f} MiB",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        )
    for roof in roofs(report):
        table.add_row("", roof["scenario"], str(roof["clients"]), f"{roof['per_second']:,.0f}", roof["unit"],
                      f"{roof['p50_ms']:.1f}", f"{roof['p99_ms']:.1f}", str(roof["errors"]), cpu(roof))  # fmt: skip
    for label, value in floor_rows(report):
        table.add_row("", label, "", value, "µs/statement", "", "", "", "")
    console.print(table)
    shares = roof_shares(report)
    if shares:
        table = Table("scenario", "LRS", "roof", "LRS / roof")
        for name, lrs, roof_rate in shares:
            table.add_row(name, f"{lrs:,.0f}", f"{roof_rate:,.0f}", f"{lrs / roof_rate:.0%}")
        console.print(table)
    rows = growth(report)
    if rows:
        sizes = [f"{int(s):,}" for s in report["sizes"]]
        table = Table("GET scenario", f"p50 ms {sizes[0]}", f"p50 ms {sizes[-1]}", "growth", "statements per page")
        for r in rows:
            table.add_row(
                r["scenario"],
                f"{r['p50_ms'][0]:.1f}",
                f"{r['p50_ms'][1]:.1f}",
                f"{r['growth']:.2f}x",
                f"{r['mean_page'][0]:.1f} -> {r['mean_page'][1]:.1f}",
            )
        console.print(table)


if __name__ == "__main__":
    asyncio.run(main())
