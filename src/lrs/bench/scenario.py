"""Benchmark scenarios against a running LRS: what each sends, and the numbers it reports (issue: benchmarks)."""

from __future__ import annotations

import base64
import itertools
import random
import statistics
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from lrs.bench.client import Connection, Result, encode, open_spread, run_load
from lrs.generator import Generator
from lrs.store.statements import key_id
from lrs.xapi.ifi import ifi_key
from lrs.xapi.index import ACTIVITY, verb_agent


@dataclass(slots=True)
class Target:
    """Where the LRS is and how to talk to it."""

    url: str
    key: str
    secret: str
    version: str = "2.0.0"
    # When the bench started the server: how many worker processes it runs, and which of its processes serves the
    # connection from a client port (client.open_spread)
    workers: int = 1
    owner: Callable[[int], int | None] | None = None

    @property
    def host(self) -> str:
        """Host name."""
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        """Port number."""
        return urlsplit(self.url).port or 80

    @property
    def path(self) -> str:
        """The xAPI base path without a trailing slash."""
        return urlsplit(self.url).path.rstrip("/")

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """Auth and version headers."""
        token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        h = {"Authorization": f"Basic {token}", "X-Experience-API-Version": self.version}
        if extra:
            h.update(extra)
        return h


async def load(t: Target, clients: int, make: Callable[[int], tuple[bytes, int]], *, duration: float) -> Result:
    """Run a load on `clients` connections, spread evenly over the server's workers when they are known."""
    connections = None
    if t.owner is not None and t.workers > 1:
        connections = await open_spread(t.host, t.port, clients, t.workers, t.owner)
    return await run_load(t.host, t.port, clients, make, duration=duration, connections=connections)


@dataclass(slots=True)
class Row:
    """One scenario's outcome: the table row and the JSON record."""

    name: str
    clients: int
    requests: int
    errors: int
    seconds: float
    per_second: float
    unit: str
    p50_ms: float
    p99_ms: float
    # CPU time per unit of the server's processes and of PostgreSQL's, in ms: steadier than rates on a shared machine
    server_cpu_ms: float | None = None
    db_cpu_ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        out: dict[str, Any] = {
            "scenario": self.name,
            "clients": self.clients,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 1),
            "unit": self.unit,
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
        }
        if self.server_cpu_ms is not None and self.db_cpu_ms is not None:
            out["server_cpu_ms"] = round(self.server_cpu_ms, 4)
            out["db_cpu_ms"] = round(self.db_cpu_ms, 4)
        return out


def summarise(name: str, clients: int, result: Result, unit: str) -> Row:
    """A Row from a load result (p50/p99 over successful requests)."""
    lat = sorted(result.latencies)
    p50 = statistics.median(lat) * 1000 if lat else float("nan")
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else float("nan")
    rate = result.units / result.elapsed if result.elapsed else 0.0
    return Row(name, clients, len(lat) + result.errors, result.errors, result.elapsed, rate, unit, p50, p99)


class StatementPool:
    """Pre-serialised realistic statements whose ids are replaced per request, so bodies cost ~µs to make."""

    def __init__(self, seed: int, size: int = 2000) -> None:
        gen = Generator(seed=seed)
        self.bodies: list[bytes] = []
        for stmt in itertools.islice(gen, size):
            if stmt["object"].get("objectType") == "StatementRef":
                continue  # refs to ids that will never be posted would only test the late-target path
            stmt.pop("id", None)
            self.bodies.append(orjson.dumps(stmt)[1:])
        self.rng = random.Random(seed)

    def batch(self, n: int) -> bytes:
        """A JSON array of n statements with fresh ids."""
        picks = self.rng.choices(self.bodies, k=n)
        return b"[" + b",".join(b'{"id":"' + str(uuid.uuid4()).encode() + b'",' + p for p in picks) + b"]"


async def post_batches(t: Target, pool: StatementPool, *, clients: int, size: int, duration: float) -> Row:
    """POST of `size`-statement batches by `clients` concurrent clients."""
    headers = t.headers({"Content-Type": "application/json"})

    def make(_: int) -> tuple[bytes, int]:
        return encode("POST", f"{t.path}/statements", t.host, headers, pool.batch(size)), size

    result = await load(t, clients, make, duration=duration)
    return summarise(f"POST {size}-statement batches", clients, result, "statements/s")


async def post_single(t: Target, pool: StatementPool, *, clients: int, duration: float) -> Row:
    """Single-statement POSTs."""
    headers = t.headers({"Content-Type": "application/json"})

    def make(_: int) -> tuple[bytes, int]:
        return encode("POST", f"{t.path}/statements", t.host, headers, pool.batch(1)[1:-1]), 1

    result = await load(t, clients, make, duration=duration)
    return summarise("POST single statement", clients, result, "statements/s")


@dataclass(slots=True)
class Vocabulary:
    """Real filter values sampled from the generator's distribution (heavy actors come up often)."""

    agents: list[str]
    verbs: list[str]
    activities: list[str]
    parents: list[str]
    registrations: list[str]


def vocabulary(seed: int, n: int = 3000) -> Vocabulary:
    """Sample filter values the way the stored statements were generated."""
    stmts = list(itertools.islice(Generator(seed=seed), n))
    agents, verbs, activities, parents, regs = [], [], [], [], []
    for s in stmts:
        actor = s["actor"]
        if actor.get("objectType") != "Group":
            agents.append(orjson.dumps(actor).decode())
        verbs.append(s["verb"]["id"])
        if s["object"].get("objectType", "Activity") == "Activity":
            activities.append(s["object"]["id"])
        ctx = s.get("context", {})
        if "registration" in ctx:
            regs.append(ctx["registration"])
        for p in ctx.get("contextActivities", {}).get("grouping", []):
            parents.append(p["id"])
    return Vocabulary(agents, verbs, activities, parents, regs)


GetMaker = Callable[[random.Random, Vocabulary], str]

GETS: dict[str, GetMaker] = {
    "GET verb+agent": lambda r, v: f"verb={quote(r.choice(v.verbs))}&agent={quote(r.choice(v.agents))}",
    "GET activity": lambda r, v: f"activity={quote(r.choice(v.activities))}",
    "GET related_activities": lambda r, v: f"activity={quote(r.choice(v.parents))}&related_activities=true",
    "GET related_agents": lambda r, v: f"agent={quote(r.choice(v.agents))}&related_agents=true",
    "GET registration": lambda r, v: f"registration={r.choice(v.registrations)}",
    "GET since": lambda r, v: "since=2000-01-01T00:00:00Z",
    "GET no filter": lambda r, v: "",
}


def _verb_agent_key(r: random.Random, v: Vocabulary) -> str:
    """The roof's query for GET verb+agent: the filter key the LRS reads its page by, drawn as that scenario
    draws its verb and agent."""
    verb, agent = r.choice(v.verbs), r.choice(v.agents)
    ifi = ifi_key(orjson.loads(agent))
    assert ifi is not None, f"the vocabulary's agents are identified: {agent}"
    return f"key={key_id(verb_agent(verb, ifi))}"


# The same scenarios against the roof (lrs.bench.roof): the same draws from the same generator, so the same pages,
# asked for by the filter key of the LRS's index instead of by xAPI parameters.
ROOF_GETS: dict[str, GetMaker] = {
    "GET verb+agent": _verb_agent_key,
    "GET related_activities": lambda r, v: f"key={key_id(ACTIVITY + r.choice(v.parents))}&related=true",
    "GET no filter": lambda r, v: "",
}


async def get_scenario(
    t: Target,
    name: str,
    vocab: Vocabulary,
    *,
    clients: int,
    duration: float,
    limit: int = 100,
    roof: bool = False,
) -> tuple[Row, float]:
    """One GET scenario, against the roof's endpoint when `roof`; also returns the mean statements per page."""
    rng = random.Random(name)
    headers = t.headers()
    query = (ROOF_GETS if roof else GETS)[name]
    targets = [f"{t.path}/statements?limit={limit}&{query(rng, vocab)}".rstrip("&") for _ in range(500)]
    requests = [encode("GET", target, t.host, headers) for target in targets]

    def make(i: int) -> tuple[bytes, int]:
        return requests[i % len(requests)], 1

    result = await load(t, clients, make, duration=duration)
    # Page fullness, measured once per distinct request outside the timed run.
    conn = await Connection.open(t.host, t.port)
    try:
        counts = []
        for req in requests[:50]:
            _, _, body = await conn.send(req)
            counts.append(len(orjson.loads(body)["statements"]))
    finally:
        conn.close()
    return summarise(f"roof: {name}" if roof else name, clients, result, "requests/s"), statistics.mean(counts)


async def paging(t: Target, *, total: int = 10_000, limit: int = 100) -> Row:
    """Follow `more` links through `total` statements, one client."""
    import time

    conn = await Connection.open(t.host, t.port)
    headers = t.headers()
    target = f"{t.path}/statements?limit={limit}"
    seen = 0
    latencies = []
    t0 = time.perf_counter()
    try:
        while seen < total and target:
            s0 = time.perf_counter()
            status, _, body = await conn.send(encode("GET", target, t.host, headers))
            latencies.append(time.perf_counter() - s0)
            if status != 200:
                raise RuntimeError(f"paging got {status}: {body[:200]!r}")
            page = orjson.loads(body)
            seen += len(page["statements"])
            more = page["more"]
            target = more
    finally:
        conn.close()
    result = Result(latencies=latencies, elapsed=time.perf_counter() - t0, units=seen)
    return summarise(f"paging {total} statements by more", 1, result, "statements/s")


async def documents(t: Target, *, clients: int, duration: float) -> Row:
    """State documents: each PUT stores a new document (a learner's bookmark), the next request GETs it back."""
    put_headers = t.headers({"Content-Type": "application/json"})
    get_headers = t.headers()
    rng = random.Random(5)
    run = uuid.uuid4().hex[:8]
    activity = quote("https://lms.example.com/courses/x")

    def target(n: int) -> str:
        agent = quote(orjson.dumps({"mbox": f"mailto:learner{n % 97}@example.com"}).decode())
        return f"{t.path}/activities/state?activityId={activity}&agent={agent}&stateId=bookmark-{run}-{n}"

    def make(i: int) -> tuple[bytes, int]:
        # Even requests PUT new document i/2; odd ones GET one PUT 4*clients requests earlier (long stored).
        lag = 2 * clients
        if i % 2 == 1 and i // 2 >= lag:
            return encode("GET", target(i // 2 - lag), t.host, get_headers), 1
        body = orjson.dumps({"location": rng.randint(0, 1000), "suspend": "x" * rng.randint(10, 400)})
        return encode("PUT", target(i // 2 if i % 2 == 0 else 10**9 + i), t.host, put_headers, body), 1

    result = await load(t, clients, make, duration=duration)
    return summarise("State PUT/GET", clients, result, "requests/s")
