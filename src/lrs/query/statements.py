"""GET /statements parameters (C §2.1.3) parsed into a frozen StatementQuery; nothing here touches I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from lrs.errors import BadRequest
from lrs.xapi.ifi import ifi_key
from lrs.xapi.parameter import agent_param, check_names
from lrs.xapi.syntax import is_iri, is_uuid
from lrs.xapi.validate import parse_timestamp
from lrs.xapi.version import Version

SINGLE = ("statementId", "voidedStatementId")
FILTERS = (
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
)
KNOWN = (*SINGLE, *FILTERS, "more")
_BY_LOWER = {name.lower(): name for name in KNOWN}
FORMATS = ("exact", "ids", "canonical")


@dataclass(frozen=True, slots=True)
class StatementQuery:
    """A validated GET /statements request: filters, paging position and output options."""

    statement_id: str | None = None
    voided_statement_id: str | None = None
    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    limit: int | None = None
    format: str = "exact"
    attachments: bool = False
    ascending: bool = False
    credential_id: int | None = None
    after: int | None = None
    bound: int | None = None

    @property
    def single(self) -> bool:
        """True for a GET of one statement by statementId or voidedStatementId."""
        return self.statement_id is not None or self.voided_statement_id is not None


def _bool(name: str, value: str) -> bool:
    if value == "true":
        return True
    if value == "false":
        return False
    raise BadRequest(f"parameter {name!r} must be true or false, got {value!r}")


def _uuid(name: str, value: str) -> str:
    if not is_uuid(value):
        raise BadRequest(f"parameter {name!r} must be a UUID, got {value!r}")
    return value.lower()


def parse_query(params: Sequence[tuple[str, str]], version: Version) -> StatementQuery:
    """Validate GET /statements parameters into a StatementQuery (C §2.1.3, §3.2)."""
    p = check_names(params, KNOWN)
    kw: dict[str, Any] = {}
    for name in SINGLE:
        if name in p:
            others = set(p) - {name, "attachments", "format"}
            if others:
                raise BadRequest(f"{name} cannot be combined with {', '.join(sorted(others))}")
    if "statementId" in p:
        kw["statement_id"] = _uuid("statementId", p["statementId"])
    if "voidedStatementId" in p:
        kw["voided_statement_id"] = _uuid("voidedStatementId", p["voidedStatementId"])
    if "agent" in p:
        key = ifi_key(agent_param(p["agent"], version))
        if key is None:
            raise BadRequest("parameter 'agent' must identify an Agent or identified Group by one IFI")
        kw["agent"] = key
    for name in ("verb", "activity"):
        if name in p:
            if not is_iri(p[name]):
                raise BadRequest(f"parameter {name!r} must be an IRI, got {p[name]!r}")
            kw[name] = p[name]
    if "registration" in p:
        kw["registration"] = _uuid("registration", p["registration"])
    for name in ("related_activities", "related_agents", "attachments", "ascending"):
        if name in p:
            kw[name] = _bool(name, p[name])
    for name in ("since", "until"):
        if name in p:
            try:
                kw[name] = parse_timestamp(p[name], version, path=name)
            except BadRequest as exc:
                raise BadRequest(f"parameter {name!r} is not a valid timestamp: {exc.message}") from None
    if "limit" in p:
        raw = p["limit"]
        if not raw.isdigit():
            raise BadRequest(f"parameter 'limit' must be a non-negative integer, got {raw!r}")
        kw["limit"] = int(raw)
    if "format" in p:
        if p["format"] not in FORMATS:
            raise BadRequest(f"parameter 'format' must be one of {', '.join(FORMATS)}, got {p['format']!r}")
        kw["format"] = p["format"]
    return StatementQuery(**kw)


def page_size(q: StatementQuery, default: int, maximum: int) -> int:
    """Statements per page: `limit` capped at `maximum`, 0 meaning the maximum (C §2.1.3), absent the default."""
    if q.limit is None:
        return min(default, maximum)
    if q.limit == 0:
        return maximum
    return min(q.limit, maximum)


def with_position(q: StatementQuery, after: int, bound: int) -> StatementQuery:
    """The query of the next page: same filters, after the last seq returned, within the first page's bound."""
    return replace(q, after=after, bound=bound)


def as_mapping(q: StatementQuery) -> Mapping[str, Any]:
    """The query's non-default fields for the `more` cursor, dates as ISO strings."""
    out: dict[str, Any] = {}
    for name, spec in StatementQuery.__dataclass_fields__.items():
        value = getattr(q, name)
        if value != spec.default:
            out[name] = value.isoformat() if isinstance(value, dt.datetime) else value
    return out


def from_mapping(data: Mapping[str, Any]) -> StatementQuery:
    """Rebuild a query stored in a `more` cursor."""
    kw = dict(data)
    for name in ("since", "until"):
        if name in kw:
            kw[name] = dt.datetime.fromisoformat(kw[name])
    return StatementQuery(**kw)
