"""The bench's roof (lrs.bench.roof, issue 5) serves the pages the LRS serves for each GET scenario it bounds: the
same rows through the same index, without the LRS's xAPI logic. Otherwise the LRS's share of the roof would compare
different work."""

from __future__ import annotations

import itertools
import random
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from lrs.bench import roof
from lrs.bench import scenario as sc
from lrs.generator import ADL, Generator
from tests.conftest import XAPI

SEED = 31
LIMIT = 50  # the test app's largest page


@pytest.fixture
async def roof_client(database_url: str, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """The roof app with its lifespan running on the test database."""
    monkeypatch.setenv("LRS_DATABASE_URL", database_url)
    async with roof.app.router.lifespan_context(roof.app):
        transport = httpx.ASGITransport(app=roof.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roof.test/xapi") as client:
            yield client
    await db.execute(f"DROP TABLE IF EXISTS {roof.TABLE}")


def _ids(page: httpx.Response) -> list[str]:
    assert page.status_code == 200, page.text
    return [s["id"] for s in page.json()["statements"]]


async def test_the_roof_serves_the_lrs_page_of_each_scenario_it_bounds(client2: XAPI, roof_client: Any) -> None:
    # Without voiding: the roof does not hide voided statements, the LRS does (D §2.3.2).
    stmts = [s for s in itertools.islice(Generator(seed=SEED), 400) if s["verb"]["id"] != ADL + "voided"]
    for i in range(0, len(stmts), 40):
        assert (await client2.post("/statements", json=stmts[i : i + 40])).status_code == 200
    vocab = sc.vocabulary(SEED, n=400)
    sizes = []
    for name in sc.ROOF_GETS:
        for draw in range(12):
            # the same draws as the bench makes of each scenario, in the LRS's terms and in the roof's
            query = sc.GETS[name](random.Random(draw), vocab)
            page = _ids(await client2.get(f"/statements?limit={LIMIT}&{query}".rstrip("&")))
            key = sc.ROOF_GETS[name](random.Random(draw), vocab)
            assert _ids(await roof_client.get(f"/statements?limit={LIMIT}&{key}".rstrip("&"))) == page, (name, query)
            sizes.append(len(page))
    assert min(sizes) < LIMIT and max(sizes) == LIMIT  # both partial and full pages were compared
    assert sum(1 for n in sizes if n > 1) > len(sizes) // 2
