"""Builders shared by the document resource API tests (C §2.2-2.7)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import asyncpg

ACTIVITY = "http://example.com/activities/doc-test"
AGENT = {"objectType": "Agent", "mbox": "mailto:ann@example.com"}
TABLES = ("state_document", "activity_profile", "agent_profile")


@dataclass(frozen=True)
class Resource:
    """One document resource: its path, its id parameter and the parameters naming its context."""

    name: str
    path: str
    id_param: str
    context: dict[str, str]

    def params(self, doc_id: str | None = "doc-1", **over: str | None) -> dict[str, str]:
        """Query parameters for one document (or the context when doc_id is None), with overrides (None drops)."""
        out: dict[str, str | None] = dict(self.context)
        if doc_id is not None:
            out[self.id_param] = doc_id
        out.update(over)
        return {k: v for k, v in out.items() if v is not None}


STATE = Resource("state", "/activities/state", "stateId", {"activityId": ACTIVITY, "agent": json.dumps(AGENT)})
ACTIVITY_PROFILE = Resource("activity_profile", "/activities/profile", "profileId", {"activityId": ACTIVITY})
AGENT_PROFILE = Resource("agent_profile", "/agents/profile", "profileId", {"agent": json.dumps(AGENT)})
RESOURCES = [STATE, ACTIVITY_PROFILE, AGENT_PROFILE]
PROFILES = [ACTIVITY_PROFILE, AGENT_PROFILE]


def etag(content: bytes) -> str:
    """The quoted ETag the LRS gives a document: SHA-1 hex of its content (C §3.1)."""
    return f'"{hashlib.sha1(content).hexdigest()}"'


async def snapshot(db: asyncpg.Connection) -> list[Any]:
    """Every stored document row, to show a rejected request changed nothing."""
    rows: list[Any] = []
    for table in TABLES:
        rows += [(table, *r.values()) for r in await db.fetch(f"SELECT * FROM {table} ORDER BY id")]
    return rows
