"""Statement builders for the API tests."""

from __future__ import annotations

import uuid
from typing import Any

VERB = "http://adlnet.gov/expapi/verbs/completed"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def agent(name: str = "sarah") -> dict[str, Any]:
    """An Agent identified by mbox."""
    return {"objectType": "Agent", "mbox": f"mailto:{name}@example.com"}


def statement(
    actor: str = "sarah", verb: str = VERB, activity: str = "http://example.com/act/1", **extra: Any
) -> dict[str, Any]:
    """A small valid statement."""
    s: dict[str, Any] = {
        "actor": agent(actor),
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": activity},
    }
    s.update(extra)
    return s


def with_id(s: dict[str, Any]) -> dict[str, Any]:
    """The statement with a fresh id."""
    return {"id": str(uuid.uuid4()), **s}
