"""Turn a validated statement into what the store keeps: the LRS-assigned properties (D §2.4.1, §2.4.7-2.4.10),
contextActivities as arrays (D §2.4.6.2), and the filter keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from lrs.xapi.definition import statement_definitions
from lrs.xapi.index import filter_keys
from lrs.xapi.validate import normalize_timestamp
from lrs.xapi.version import Version

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


@dataclass(slots=True)
class Prepared:
    """A statement ready to store; `head` is its JSON without the closing brace: `lrs_append` adds `stored`, and
    `timestamp` when absent (D §2.4.7-8)."""

    id: str
    original: dict[str, Any]
    head: bytes
    has_timestamp: bool
    keys: dict[str, bool]
    ref_target: str | None
    is_voiding: bool
    definitions: list[tuple[str, dict[str, Any]]]


def _context(context: dict[str, Any]) -> dict[str, Any]:
    """A copy of a context with every contextActivities value as an array (D §2.4.6.2)."""
    out = dict(context)
    activities = out.get("contextActivities")
    if isinstance(activities, dict):
        out["contextActivities"] = {k: v if isinstance(v, list) else [v] for k, v in activities.items()}
    return out


def prepare(stmt: dict[str, Any], version: Version, authority: dict[str, Any]) -> Prepared:
    """Assign id, authority and version, normalise timestamps and contextActivities (D §2.4.1-2.4.10)."""
    original = stmt
    out = dict(stmt)
    out.pop("stored", None)
    if "id" not in out:
        out = {"id": str(uuid.uuid4()), **out}
    if "context" in out:
        out["context"] = _context(out["context"])
    obj = out["object"]
    if obj.get("objectType") == "SubStatement":
        out["object"] = obj = dict(obj)
        if "context" in obj:
            obj["context"] = _context(obj["context"])
        if "timestamp" in obj:
            obj["timestamp"] = normalize_timestamp(obj["timestamp"], version)
    has_timestamp = "timestamp" in out
    if has_timestamp:
        out["timestamp"] = normalize_timestamp(out["timestamp"], version)
    out["authority"] = authority
    if "version" not in out:
        out["version"] = version.value if version is Version.V2 else "1.0.0"
    head = orjson.dumps(out)[:-1]
    ref_target = None
    if obj.get("objectType") == "StatementRef":
        ref_target = str(obj["id"]).lower()
    return Prepared(
        id=str(out["id"]).lower(),
        original=original,
        head=head,
        has_timestamp=has_timestamp,
        keys=filter_keys(out),
        ref_target=ref_target,
        is_voiding=out["verb"]["id"] == VOIDED and ref_target is not None,
        definitions=statement_definitions(out),
    )
