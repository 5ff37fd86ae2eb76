"""The bench's load client spreads its connections evenly over the server's workers (issue 5, `make bench`)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest

from lrs.bench.client import open_spread


@pytest.fixture
async def port() -> AsyncIterator[int]:
    """The port of a local TCP server that accepts connections and says nothing."""
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


async def test_connections_are_spread_evenly_over_the_workers(port: int) -> None:
    """However the accepts fall (here ten in a row on one worker), the kept connections are 8 and 8."""
    accepts = itertools.chain([101] * 10, itertools.cycle([102, 101, 101]))
    owners: dict[int, int] = {}

    def owner(client_port: int) -> int | None:
        if client_port not in owners:
            owners[client_port] = next(accepts)
        return owners[client_port]

    kept = await open_spread("127.0.0.1", port, 16, 2, owner)
    served = [owners[c.writer.get_extra_info("sockname")[1]] for c in kept]
    assert len(kept) == 16 and served.count(101) == 8 and served.count(102) == 8
    for conn in kept:
        conn.close()


async def test_connections_whose_worker_is_never_known_are_taken_as_they_come(port: int) -> None:
    kept = await open_spread("127.0.0.1", port, 3, 2, lambda client_port: None)
    assert len(kept) == 3
    for conn in kept:
        conn.close()
