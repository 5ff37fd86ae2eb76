"""`lrs import FILE`: NDJSON statements through the API's validation into the store, a chunk per transaction."""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from lrs.errors import BadRequest
from lrs.store import statements as store
from lrs.xapi.equivalence import equivalent
from lrs.xapi.prepare import Prepared, prepare
from lrs.xapi.validate import validate_statement
from lrs.xapi.version import Version

# Statements without an id get one derived from their text, so a re-run recognises them (resumable imports).
NAMESPACE = uuid.UUID("6f0c53f5-8f6b-4f1e-9d3c-2b8c1e0f7a11")


@dataclass(slots=True)
class Outcome:
    """What an import did."""

    lines: int = 0
    stored: int = 0
    skipped: int = 0


def _chunks(stream: IO[bytes], size: int) -> Iterator[list[tuple[int, bytes]]]:
    chunk: list[tuple[int, bytes]] = []
    for number, line in enumerate(stream, 1):
        if line.strip():
            chunk.append((number, line))
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def prepare_chunk(lines: list[tuple[int, bytes]], version: Version, authority: dict[str, Any]) -> list[Prepared]:
    """Validate and prepare one chunk of NDJSON lines (D §2.2-2.6); errors name the line."""
    out = []
    for number, line in lines:
        try:
            stmt = orjson.loads(line)
            if isinstance(stmt, dict) and "id" not in stmt:
                stmt = {"id": str(uuid.uuid5(NAMESPACE, line.strip().decode())), **stmt}
            validate_statement(stmt, version)
            out.append(prepare(stmt, version, authority))
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"line {number}: not valid JSON: {exc}") from None
        except BadRequest as exc:
            raise BadRequest(f"line {number}: {exc.describe()}") from None
    return out


async def import_file(
    engine: AsyncEngine,
    path: Path,
    *,
    version: Version,
    authority: dict[str, Any],
    chunk_size: int = 5000,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Import NDJSON statements; each chunk is atomic, statements already stored with the same content are
    skipped, a different statement under a stored id stops the import with 409 (D §2.3.1).

    Validation runs in a second process one chunk ahead, so it overlaps the database work of the chunk before.
    """
    outcome = Outcome()
    loop = asyncio.get_running_loop()

    def same(old: dict[str, Any], new: dict[str, Any]) -> bool:
        return equivalent(old, new, version)

    async def store_chunk(batch: list[Prepared], lines: int, position: int) -> None:
        async with engine.connect() as conn:
            stored = await store.insert_statements(conn, batch, None, same)
        outcome.lines += lines
        outcome.stored += stored
        outcome.skipped += len(batch) - stored
        if progress is not None:
            progress(position, lines)

    # spawn, not fork: a forked child would share the parent's database sockets
    spawn = multiprocessing.get_context("spawn")
    with path.open("rb") as stream, ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        previous: tuple[list[Prepared], int, int] | None = None
        for chunk in _chunks(stream, chunk_size):
            ahead = loop.run_in_executor(pool, prepare_chunk, chunk, version, authority)
            position = stream.tell()
            try:
                if previous is not None:
                    await store_chunk(*previous)
            finally:
                batch = await ahead  # never leave the worker's result behind, even when storing failed
            previous = (batch, len(chunk), position)
        if previous is not None:
            await store_chunk(*previous)
    return outcome
