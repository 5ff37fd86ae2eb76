"""The embedded server's configuration: a buffer cache sized to the machine, applied once per data directory."""

from __future__ import annotations

import os

import asyncpg
import pytest

from lrs.store.engine import buffer_cache_mb, embedded_settings

GB = 1024**3


def test_buffer_cache_is_a_quarter_of_memory_within_bounds() -> None:
    assert buffer_cache_mb(24 * GB) == 6 * 1024
    assert buffer_cache_mb(2 * GB) == 512
    assert buffer_cache_mb(256 * 1024 * 1024) == 128  # never below 128 MB
    assert buffer_cache_mb(256 * GB) == 8 * 1024  # never above 8 GB


def test_settings_are_written_as_show_prints_them() -> None:
    """SHOW prints 6144MB as 6GB; a value written otherwise would look unapplied and restart the server each time."""
    assert dict(embedded_settings(24 * GB))["shared_buffers"] == "6GB"
    assert dict(embedded_settings(int(23.5 * GB)))["shared_buffers"] == "6016MB"


async def test_the_embedded_server_runs_with_them(db: asyncpg.Connection) -> None:
    if os.environ.get("LRS_TEST_DATABASE_URL"):
        pytest.skip("the tests run on a server the LRS did not configure")
    for name, value in embedded_settings():
        assert await db.fetchval(f"SHOW {name}") == value
