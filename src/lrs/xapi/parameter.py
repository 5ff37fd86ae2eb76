"""Query parameters shared by every resource: names checked strictly (C §3.2), Agent-valued JSON (D §2.4.2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from lrs.errors import BadRequest
from lrs.xapi.validate import validate_agent
from lrs.xapi.version import Version


def check_names(params: Sequence[tuple[str, str]], allowed: Sequence[str]) -> dict[str, str]:
    """Reject unknown, wrong-case and repeated parameters and NUL characters (C §3.2 / checklist A9); return them
    as a dict."""
    out: dict[str, str] = {}
    lower = {a.lower(): a for a in allowed}
    for name, value in params:
        if name not in allowed:
            proper = lower.get(name.lower())
            if proper is not None:
                raise BadRequest(f"unknown parameter {name!r}: parameter names are case-sensitive, use {proper!r}")
            raise BadRequest(f"unknown parameter {name!r}")
        if name in out:
            raise BadRequest(f"parameter {name!r} given more than once")
        if "\x00" in value or "\\u0000" in value:
            # No IRI, UUID or timestamp holds U+0000, and PostgreSQL text cannot: refuse it by name, not with a 500.
            raise BadRequest(f"parameter {name!r} contains the character U+0000, which is not accepted")
        out[name] = value
    return out


def agent_param(value: str, version: Version, name: str = "agent", *, allow_group: bool = True) -> dict[str, Any]:
    """Parse an Agent-valued parameter: JSON of an Agent, or of an identified Group where allowed (D §2.4.2)."""
    what = "an Agent or identified Group" if allow_group else "an Agent"
    try:
        agent = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"parameter {name!r} is not valid JSON: {exc}") from None
    if not isinstance(agent, dict):
        raise BadRequest(f"parameter {name!r} must be a JSON object ({what}), got {value[:80]!r}")
    try:
        validate_agent(agent, version, path=name, allow_group=allow_group)
    except BadRequest as exc:
        raise BadRequest(f"parameter {name!r} is not a valid Agent: {exc.describe()}") from None
    return agent
