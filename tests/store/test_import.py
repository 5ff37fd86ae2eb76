"""`lrs import` (issue: benchmarks): the API's validation, atomic chunks, resumable, errors naming the line."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import pytest
from fastapi import FastAPI

from lrs.errors import BadRequest, Conflict
from lrs.generator import Generator
from lrs.importer import import_file
from lrs.xapi.version import Version

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "https://lrs.invalid/credentials", "name": "import"}}


def write(path: Path, stmts: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(s) + b"\n" for s in stmts))
    return path


async def count(db: asyncpg.Connection) -> int:
    return int(await db.fetchval("SELECT count(*) FROM statement"))


async def test_import_then_resume(app: FastAPI, db: asyncpg.Connection, tmp_path: Path) -> None:
    """All lines stored once; a second run skips what is stored (same content, D §2.3.1)."""
    stmts = list(itertools.islice(Generator(seed=2), 450))
    path = write(tmp_path / "s.ndjson", stmts)
    engine = app.state.runtime.engine
    first = await import_file(engine, path, version=Version.V2, authority=AUTHORITY, chunk_size=100)
    assert (first.lines, first.stored, first.skipped) == (450, 450, 0)
    again = await import_file(engine, path, version=Version.V2, authority=AUTHORITY, chunk_size=100)
    assert (again.stored, again.skipped) == (0, 450)
    assert await count(db) == 450


async def test_statements_without_ids_are_recognised_on_resume(
    app: FastAPI, db: asyncpg.Connection, tmp_path: Path
) -> None:
    stmts = [{k: v for k, v in s.items() if k != "id"} for s in itertools.islice(Generator(seed=4), 30)]
    path = write(tmp_path / "noid.ndjson", stmts)
    engine = app.state.runtime.engine
    await import_file(engine, path, version=Version.V2, authority=AUTHORITY)
    again = await import_file(engine, path, version=Version.V2, authority=AUTHORITY)
    assert again.skipped == 30 and await count(db) == 30


async def test_bad_line_stops_with_its_number_and_earlier_chunks_stay(
    app: FastAPI, db: asyncpg.Connection, tmp_path: Path
) -> None:
    """Each chunk is atomic: the chunk with the bad line stores nothing, earlier chunks are kept."""
    stmts: list[Any] = list(itertools.islice(Generator(seed=8), 25))
    stmts[17] = {**stmts[17], "actor": {"mbox": "not-a-mailto"}}
    path = write(tmp_path / "bad.ndjson", stmts)
    with pytest.raises(BadRequest, match=r"line 18: .*actor\.mbox"):
        await import_file(app.state.runtime.engine, path, version=Version.V2, authority=AUTHORITY, chunk_size=10)
    assert await count(db) == 10


async def test_malformed_json_names_the_line(app: FastAPI, db: asyncpg.Connection, tmp_path: Path) -> None:
    path = tmp_path / "broken.ndjson"
    path.write_bytes(orjson.dumps(next(iter(Generator(seed=9)))) + b"\n{oops\n")
    with pytest.raises(BadRequest, match="line 2: not valid JSON"):
        await import_file(app.state.runtime.engine, path, version=Version.V2, authority=AUTHORITY)
    assert await count(db) == 0


async def test_different_statement_under_stored_id_is_a_conflict(
    app: FastAPI, db: asyncpg.Connection, tmp_path: Path
) -> None:
    """D §2.3.1: a stored id with other content stops the import with 409."""
    stmt = next(iter(Generator(seed=10)))
    engine = app.state.runtime.engine
    await import_file(engine, write(tmp_path / "a.ndjson", [stmt]), version=Version.V2, authority=AUTHORITY)
    changed = {**stmt, "verb": {"id": "http://example.com/verbs/other"}}
    with pytest.raises(Conflict):
        await import_file(engine, write(tmp_path / "b.ndjson", [changed]), version=Version.V2, authority=AUTHORITY)
    assert await count(db) == 1


async def test_same_id_twice_in_a_chunk(app: FastAPI, db: asyncpg.Connection, tmp_path: Path) -> None:
    """D §2.3.1 inside one file: the same statement twice is stored once; another under the same id is a 409."""
    stmt = next(iter(Generator(seed=12)))
    engine = app.state.runtime.engine
    same = await import_file(
        engine, write(tmp_path / "a.ndjson", [stmt, stmt]), version=Version.V2, authority=AUTHORITY
    )
    assert (same.lines, same.stored, same.skipped) == (2, 1, 1)
    changed = {**stmt, "id": str(uuid.uuid4())}
    other = {**changed, "verb": {"id": "http://example.com/verbs/other"}}
    with pytest.raises(Conflict, match=r"line 2: .* differs from the one on line 1"):
        await import_file(
            engine, write(tmp_path / "b.ndjson", [changed, other]), version=Version.V2, authority=AUTHORITY
        )
    assert await count(db) == 1


async def test_the_first_failing_chunk_is_reported(app: FastAPI, db: asyncpg.Connection, tmp_path: Path) -> None:
    """Chunks are written two at a time: when an earlier chunk's write fails (409) and a later chunk has a bad
    line, the import reports the earlier failure, and every chunk before it is stored."""
    engine = app.state.runtime.engine
    stmts: list[Any] = list(itertools.islice(Generator(seed=13), 30))
    await import_file(engine, write(tmp_path / "first.ndjson", [stmts[12]]), version=Version.V2, authority=AUTHORITY)
    stmts[12] = {**stmts[12], "verb": {"id": "http://example.com/verbs/other"}}  # chunk 2 (lines 11-20): 409
    stmts[24] = {**stmts[24], "actor": {"mbox": "not-a-mailto"}}  # chunk 3 (lines 21-30): 400
    path = write(tmp_path / "mixed.ndjson", stmts)
    with pytest.raises(Conflict):
        await import_file(engine, path, version=Version.V2, authority=AUTHORITY, chunk_size=10)
    ids = {str(r["id"]) for r in await db.fetch("SELECT id::text AS id FROM statement")}
    assert {s["id"] for s in stmts[:10]} <= ids
    assert not {s["id"] for s in stmts[20:]} & ids
