"""The embedded server's configuration: a buffer cache sized to the machine, applied once per data directory."""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg
import pytest

from lrs.store.engine import buffer_cache_mb, cgroup_limit_files, embedded_settings, shown_setting

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


def test_cgroup_limits_are_read_for_this_process_and_its_ancestors() -> None:
    v2 = cgroup_limit_files("0::/system.slice/lrs.service\n")
    assert v2 == [
        Path("/sys/fs/cgroup/system.slice/lrs.service/memory.max"),
        Path("/sys/fs/cgroup/system.slice/memory.max"),
        Path("/sys/fs/cgroup/memory.max"),
    ]
    v1 = cgroup_limit_files("12:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\nnonsense\n")
    assert v1 == [
        Path("/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes"),
        Path("/sys/fs/cgroup/memory/docker/memory.limit_in_bytes"),
        Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
    ]
    assert cgroup_limit_files("0::/\n") == [Path("/sys/fs/cgroup/memory.max")]


class _Psql:
    def __init__(self, shown: str) -> None:
        self.shown = shown

    def psql(self, command: str) -> str:
        name = command.split()[-1]
        return f" {name} \n{'-' * (len(name) + 2)}\n {self.shown}\n(1 row)\n\n"


def test_a_setting_is_compared_whole() -> None:
    """1512MB is not 512MB: a substring test would take a stale value for applied."""
    assert shown_setting(_Psql("1512MB"), "shared_buffers") == "1512MB"
    assert shown_setting(_Psql("1512MB"), "shared_buffers") != "512MB"
