"""`lrs credentials create|list|revoke` (issue: core, credentials; C §4.0) against the test database."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from lrs.cli import app as cli
from tests.api.helpers import statement
from tests.conftest import XAPI

Invoke = Callable[..., Awaitable[tuple[int, str]]]


@pytest.fixture
def run(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    monkeypatch.setenv("LRS_DATABASE_URL", database_url)
    runner = CliRunner()

    async def invoke(*args: str) -> tuple[int, str]:
        result = await asyncio.to_thread(runner.invoke, cli, list(args))
        return result.exit_code, result.output

    return invoke


async def test_create_use_list_revoke(run: Invoke, app: FastAPI, db: asyncpg.Connection) -> None:
    """A created credential authenticates with its scopes; secrets are stored hashed; revoked ones fail (401)."""
    invoke = run
    code, out = await invoke("credentials", "create", "--name", "lms", "--scope", "statements/write")
    assert code == 0, out
    key = re.search(r"key:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    secret = re.search(r"secret:\s+(\S+)", out).group(1)  # type: ignore[union-attr]
    stored = await db.fetchrow("SELECT secret_hash, scopes FROM credential WHERE key = $1", key)
    assert secret.encode() not in bytes(stored["secret_hash"]) and stored["scopes"] == ["statements/write"]
    async with XAPI(app, auth=(key, secret)) as c:
        assert (await c.post("/statements", json=statement())).status_code == 200
        assert (await c.get("/statements")).status_code == 403
    code, out = await invoke("credentials", "list", "--json")
    listed = {c["key"]: c for c in json.loads(out)}
    assert listed[key]["name"] == "lms" and not listed[key]["revoked"]
    code, out = await invoke("credentials", "revoke", key)
    assert code == 0, out
    code, out = await invoke("credentials", "revoke", key)
    assert code == 1 and "no active credential" in out
    app.state.runtime.auth._cache.clear()  # the per-process cache keeps a success for up to 30 s (ADR 0004)
    async with XAPI(app, auth=(key, secret)) as c:
        assert (await c.post("/statements", json=statement())).status_code == 401


async def test_unknown_scope_is_refused(run: Invoke, db: asyncpg.Connection) -> None:
    invoke = run
    code, out = await invoke("credentials", "create", "--name", "x", "--scope", "everything")
    assert code == 2 and "unknown scope" in out
    assert await db.fetchval("SELECT count(*) FROM credential WHERE name = 'x'") == 0
