"""`lrs import FILE`: NDJSON statements through the API's validation into the store, a chunk per transaction."""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from lrs.collector import collect_between, settle_worker
from lrs.errors import BadRequest, Conflict
from lrs.store import statements as store
from lrs.store.engine import driver
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
    seen: dict[str, tuple[int, Prepared]] = {}
    for number, line in lines:
        try:
            stmt = orjson.loads(line)
            if isinstance(stmt, dict) and "id" not in stmt:
                stmt = {"id": str(uuid.uuid5(NAMESPACE, line.strip().decode())), **stmt}
            validate_statement(stmt, version)
            p = prepare(stmt, version, authority)
        except orjson.JSONDecodeError as exc:
            raise BadRequest(f"line {number}: not valid JSON: {exc}") from None
        except BadRequest as exc:
            raise BadRequest(f"line {number}: {exc.describe()}") from None
        if p.id in seen:  # the same id twice in a chunk: stored once if equal, else 409 (D §2.3.1)
            first, earlier = seen[p.id]
            if not equivalent(earlier.original, p.original, version):
                raise Conflict(f"line {number}: statement {p.id} differs from the one on line {first}")
            continue
        seen[p.id] = (number, p)
        out.append(p)
    return out


@dataclass(slots=True)
class Ready:
    """A validated chunk as the writer needs it: the arguments of the append, computed in the worker process so
    that only flat lists cross the process boundary (the statements themselves stay there)."""

    args: list[Any]
    count: int  # how many statements the chunk holds (its lines less repeated ids)


def ready_chunk(lines: list[tuple[int, bytes]], version: Version, authority: dict[str, Any]) -> Ready:
    """Validate and prepare one chunk in a worker process, and build its append arguments."""
    collect_between()  # the previous chunk is gone: the collection walks almost nothing (settle_worker)
    batch = prepare_chunk(lines, version, authority)
    return Ready(store.append_args(batch, [None] * len(batch)), len(batch))


# Chunks validated at once (one worker process each) and chunks being written at once (one connection each).
# Writers append in parallel and commit in seq order (ADR 0002); a chunk is still one transaction.
PROCESSES = 2
WRITERS = 2


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

    Worker processes validate the next chunks while writers store the ones before, two at a time.
    """
    outcome = Outcome()
    loop = asyncio.get_running_loop()
    done = 0

    def same(old: dict[str, Any], new: dict[str, Any]) -> bool:
        return equivalent(old, new, version)

    async def store_chunk(ready: Ready, lines: list[tuple[int, bytes]], position: int) -> None:
        nonlocal done
        async with engine.connect() as conn:
            db = await driver(conn)
            row = await store.append_call(db, ready.args)
            if row is None:
                # Some ids are stored already (a resumed import) or were being stored by the other writer:
                # compare them statement by statement, as the API does.
                batch = prepare_chunk(lines, version, authority)
                stored = await store.insert_statements(db, batch, None, same)
            else:
                stored = ready.count
        outcome.lines += len(lines)
        outcome.stored += stored
        outcome.skipped += len(lines) - stored
        done = max(done, position)
        if progress is not None:
            progress(done, len(lines))

    # spawn, not fork: a forked child would share the parent's database sockets
    spawn = multiprocessing.get_context("spawn")
    pending: deque[tuple[asyncio.Future[Ready], list[tuple[int, bytes]], int]] = deque()
    writing: dict[int, asyncio.Task[None]] = {}  # by chunk number
    slots = asyncio.Semaphore(WRITERS)
    dispatched = 0

    def check() -> None:
        for task in writing.values():
            if task.done():
                task.result()  # a failed chunk stops the import

    async def dispatch() -> None:
        """Wait for the oldest chunk's validation, then start writing it once a writer is free. Chunks are
        dispatched in file order, so a bad line stops the import with every chunk before it stored."""
        nonlocal dispatched
        ready, chunk, position = pending.popleft()
        batch = await ready
        await slots.acquire()
        check()
        task = asyncio.create_task(store_chunk(batch, chunk, position))
        task.add_done_callback(lambda _: slots.release())
        writing[dispatched] = task
        dispatched += 1

    failure: tuple[int, BaseException] | None = None
    with (
        path.open("rb") as stream,
        ProcessPoolExecutor(max_workers=PROCESSES, mp_context=spawn, initializer=settle_worker) as pool,
    ):
        try:
            for chunk in _chunks(stream, chunk_size):
                pending.append(
                    (loop.run_in_executor(pool, ready_chunk, chunk, version, authority), chunk, stream.tell())
                )
                if len(pending) > PROCESSES:
                    await dispatch()
            while pending:
                await dispatch()
        except Exception as exc:
            failure = (dispatched, exc)  # the chunk being dispatched, or a write that failed before it
        finally:
            # never leave a worker's result or a chunk's write behind, even when the import stops
            await asyncio.gather(*(ready for ready, _, _ in pending), *writing.values(), return_exceptions=True)
    # The first chunk in file order that failed is the one to report; a write runs alongside the next chunk's, so
    # when a write fails (409) the chunk after it may be stored already, which a re-run skips.
    for number, task in sorted(writing.items()):
        error = None if task.cancelled() else task.exception()
        if error is not None and (failure is None or number <= failure[0]):
            failure = (number, error)
            break
    if failure is not None:
        raise failure[1]
    return outcome
