"""A lean HTTP/1.1 keep-alive load client: pre-encoded requests, latencies per request.

General clients (httpx, aiohttp) spend more CPU per request than the server under test on this two-core box, so
the load generator would measure itself; this one parses just the status line, Content-Length and chunked bodies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class ResponseError(Exception):
    """The server closed the connection or answered something unparseable."""


@dataclass(slots=True)
class Connection:
    """One keep-alive connection."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        """Connect to host:port."""
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 22)
        return cls(reader, writer)

    async def send(self, request: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
        """Send one pre-encoded request; return status, headers (lower-case names) and body."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        try:
            status = int(lines[0].split(b" ", 2)[1])
        except (IndexError, ValueError):
            raise ResponseError(f"bad status line {lines[0]!r}") from None
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(b":")
                headers[name.strip().lower()] = value.strip()
        if request.startswith(b"HEAD "):
            return status, headers, b""
        if b"content-length" in headers:
            body = await self.reader.readexactly(int(headers[b"content-length"]))
        elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        else:
            body = b""
        return status, headers, body

    def close(self) -> None:
        """Close the connection."""
        self.writer.close()


def encode(method: str, target: str, host: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    """An HTTP/1.1 request as bytes."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass(slots=True)
class Result:
    """Latencies (seconds) of the successful requests, the error count and the wall time."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    units: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


async def open_spread(
    host: str, port: int, n: int, workers: int, owner: Callable[[int], int | None]
) -> list[Connection]:
    """`n` keep-alive connections spread evenly over the server's `workers` processes, as a round-robin load
    balancer would spread them. Left to the kernel, each connection goes to whichever worker wakes first for the
    accept, nothing evens the split out, and every p50 moves with it. `owner(local_port)` names
    the process serving the connection from that client port, None while none has accepted it. Connections that
    would unbalance the spread are closed; if the spread cannot be reached the rest are taken as they come."""
    shares = [n // workers + (1 if i < n % workers else 0) for i in range(workers)]
    quota: dict[int, int] = {}  # connections still to keep, by worker process
    kept: list[Connection] = []
    spare: list[Connection] = []
    for _ in range(8 * n):
        if len(kept) == n:
            break
        conn = await Connection.open(host, port)
        local_port = conn.writer.get_extra_info("sockname")[1]
        pid = None
        for _ in range(100):
            pid = owner(local_port)
            if pid is not None:
                break
            await asyncio.sleep(0.002)
        if pid is not None and pid not in quota and len(quota) < workers:
            quota[pid] = shares[len(quota)]
        if pid in quota and quota[pid] > 0:
            quota[pid] -= 1
            kept.append(conn)
        else:
            spare.append(conn)
    for conn in spare:
        conn.close()
    while len(kept) < n:
        kept.append(await Connection.open(host, port))
    return kept


async def run_load(
    host: str,
    port: int,
    clients: int,
    make: Callable[[int], tuple[bytes, int]],
    *,
    duration: float | None = None,
    requests: int | None = None,
    ok: Callable[[int], bool] = lambda s: 200 <= s < 300,
    connections: list[Connection] | None = None,
) -> Result:
    """Drive `clients` connections (these, if given); `make(i)` gives request i and how many units (statements)
    it carries. Stops after `duration` seconds or `requests` requests, whichever comes first."""
    result = Result()
    counter = 0
    stop_at = time.perf_counter() + duration if duration is not None else None
    opened = list(connections or [])

    async def worker() -> None:
        nonlocal counter
        conn = opened.pop() if opened else await Connection.open(host, port)
        try:
            while True:
                if requests is not None and counter >= requests:
                    return
                if stop_at is not None and time.perf_counter() >= stop_at:
                    return
                i = counter
                counter += 1
                request, units = make(i)
                t0 = time.perf_counter()
                try:
                    status, _, _ = await conn.send(request)
                except (ConnectionError, asyncio.IncompleteReadError):
                    # the server dropped the connection: an error of this request, then a new connection
                    result.errors += 1
                    result.statuses[0] = result.statuses.get(0, 0) + 1
                    conn.close()
                    conn = await Connection.open(host, port)
                    continue
                dt = time.perf_counter() - t0
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if ok(status):
                    result.latencies.append(dt)
                    result.units += units
                else:
                    result.errors += 1
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    result.elapsed = time.perf_counter() - t0
    return result
