"""Group commit for statement writes: concurrent requests in one worker share one append (ADR 0002).

Appends commit in seq order, one commit at a time, so many small appends would be bounded by commits per second.
While one group is being stored, requests queue; the next group takes them all, up to a size limit, and each
request still succeeds or fails on its own (a 409 rejects only its request).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from lrs.errors import ServiceUnavailable
from lrs.store.engine import RequestPool
from lrs.store.statements import Job, Same, append_jobs
from lrs.xapi.prepare import Prepared


@dataclass(slots=True)
class _Pending:
    job: Job
    future: asyncio.Future[tuple[int, dt.datetime | None]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Appender:
    """Coalesces concurrent statement appends of one process into shared transactions."""

    def __init__(self, pool: RequestPool, max_group: int = 2000) -> None:
        self._pool = pool
        self._max_group = max_group
        self._queue: deque[_Pending] = deque()
        self._draining = False

    async def append(
        self, batch: Sequence[Prepared], credential_id: int | None, same: Same
    ) -> tuple[int, dt.datetime | None]:
        """Store one request's batch atomically (C §2.1.2); return how many statements were new and the `stored`
        of the group's new statements (None if the group stored none)."""
        pending = _Pending(Job(batch, credential_id, same))
        self._queue.append(pending)
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await pending.future

    def _take(self) -> list[_Pending]:
        """The next group: queued requests up to the size limit, none naming an id another already names."""
        group: list[_Pending] = []
        ids: set[str] = set()
        size = 0
        kept: deque[_Pending] = deque()
        while self._queue:
            item = self._queue.popleft()
            mine = {p.id for p in item.job.batch}
            if group and (size + len(mine) > self._max_group or not ids.isdisjoint(mine)):
                kept.append(item)
                continue
            group.append(item)
            ids |= mine
            size += len(mine)
        self._queue = kept
        return group

    async def _drain(self) -> None:
        try:
            while self._queue:
                await self._write(self._take())
        finally:
            self._draining = False

    async def _write(self, group: list[_Pending]) -> None:
        try:
            async with self._pool.acquire() as db:
                # No explicit transaction: the one call of `lrs_append` is its own, so no lock or marker is held
                # while this event loop serves other requests (ADR 0002).
                outcomes, stored = await append_jobs(db, [p.job for p in group])
        except Exception as exc:
            if len(group) == 1 or isinstance(exc, ServiceUnavailable):  # no connection: none of them would get one
                for one in group:
                    if not one.future.done():
                        one.future.set_exception(exc)
                return
            for one in group:  # isolate the request that broke the group
                await self._write([one])
            return
        for pending, outcome in zip(group, outcomes, strict=True):
            if pending.future.done():
                continue
            if isinstance(outcome, Exception):
                pending.future.set_exception(outcome)
            else:
                pending.future.set_result((outcome, stored))
