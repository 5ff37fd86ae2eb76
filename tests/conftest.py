"""One real PostgreSQL per test run (LRS_TEST_DATABASE_URL, else an embedded server), migrated once; the app
driven over HTTP through httpx; tables truncated between tests."""

from __future__ import annotations

import base64
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from lrs.app import create_app
from lrs.native import compiled, stale
from lrs.settings import Settings
from lrs.store.engine import migrate, named_database, start_embedded, stop_embedded

ADMIN = ("test-admin", "test-admin-secret")
DATA_TABLES = ("statement", "statement_key", "statement_ref", "voided", "activity", "attachment", "attachment_chunk")
DATA_TABLES += ("state_document", "activity_profile", "agent_profile")


def basic(key: str, secret: str) -> str:
    """An HTTP Basic Authorization header value."""
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A freshly created, migrated database on the test server."""
    server_url = os.environ.get("LRS_TEST_DATABASE_URL")
    tmp = None
    if not server_url:
        tmp = tempfile.TemporaryDirectory(prefix="lrs-test-")
        server_url = start_embedded(Path(tmp.name))
    name = f"lrs_test_{uuid.uuid4().hex[:10]}"
    import asyncio

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(server_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def in_thread(fn: Any, *args: Any) -> Any:
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(fn, *args).result()

    in_thread(asyncio.run, admin(f'CREATE DATABASE "{name}"'))
    url = named_database(server_url, name)
    in_thread(migrate, url)
    yield url
    in_thread(asyncio.run, admin(f'DROP DATABASE "{name}" WITH (FORCE)'))
    if tmp is not None:
        stop_embedded()
        tmp.cleanup()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """Settings of the app under test: small pages so paging is exercised."""
    return Settings(
        database_url=database_url,
        admin_key=ADMIN[0],
        admin_secret=ADMIN[1],
        page_size=10,
        max_page_size=50,
        max_body_bytes=256 * 1024,
    )


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The real application with its lifespan running."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
async def db_conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection for inspecting the database from tests."""
    conn = await asyncpg.connect(database_url)
    yield conn
    await conn.close()


@pytest.fixture
async def db(db_conn: asyncpg.Connection) -> asyncpg.Connection:
    """The inspection connection, after emptying the data tables so each test starts clean."""
    await db_conn.execute(f"TRUNCATE {', '.join(DATA_TABLES)}")
    return db_conn


class XAPI(httpx.AsyncClient):
    """An httpx client with xAPI defaults: admin Basic auth and a version header."""

    def __init__(self, app: FastAPI, version: str = "2.0.0", auth: tuple[str, str] = ADMIN, **kw: Any) -> None:
        headers = {"X-Experience-API-Version": version, "Authorization": basic(*auth)}
        super().__init__(transport=httpx.ASGITransport(app=app), base_url="http://lrs.test/xapi", headers=headers, **kw)


@pytest.fixture(params=["1.0.3", "2.0.0"])
async def client(app: FastAPI, db: asyncpg.Connection, request: pytest.FixtureRequest) -> AsyncIterator[XAPI]:
    """A client of the app, once per xAPI version."""
    async with XAPI(app, version=request.param) as c:
        yield c


@pytest.fixture
async def client2(app: FastAPI, db: asyncpg.Connection) -> AsyncIterator[XAPI]:
    """A 2.0.0 client."""
    async with XAPI(app, version="2.0.0") as c:
        yield c


@pytest.fixture
async def client1(app: FastAPI, db: asyncpg.Connection) -> AsyncIterator[XAPI]:
    """A 1.0.3 client."""
    async with XAPI(app, version="1.0.3") as c:
        yield c


@pytest.fixture
async def credential(app: FastAPI, db: asyncpg.Connection) -> Any:
    """A factory of credentials with chosen scopes: returns (key, secret)."""
    from lrs.store.credentials import create_credential

    async def make(*scopes: str, name: str = "test") -> tuple[str, str]:
        async with app.state.runtime.engine.begin() as conn:
            made, secret = await create_credential(
                conn, name=name, scopes=list(scopes), homepage="https://lrs.invalid/credentials"
            )
        return made.key, secret

    return make


def pytest_report_header() -> str:
    """Say whether the statement path runs compiled by mypyc (setup.py, ADR 0010) or as Python."""
    native = compiled()
    return f"lrs statement path: {'compiled by mypyc: ' + ', '.join(native) if native else 'Python'}"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test a compiled build older than its source: the edits would go untested."""
    old = stale()
    if old:
        pytest.exit(f"{', '.join(old)}: the compiled module is older than its source; run `make install`", 2)
