"""The filter keys of a statement (C §2.1.3 query parameters): which `agent`, `verb`, `activity` and
`registration` filters match it, and whether only their `related_*` forms do."""

from __future__ import annotations

from typing import Any

from lrs.xapi.ifi import agent_keys

AGENT = "a:"
ACTIVITY = "o:"
VERB = "v:"
REGISTRATION = "r:"
VERB_AGENT = "x:"  # verb + " " + agent IFI: the common verb+agent query as one index range (issue 5)


def _add(keys: dict[str, bool], key: str, main: bool) -> None:
    keys[key] = keys.get(key, False) or main


def _agents(keys: dict[str, bool], agent: Any, main: bool) -> None:
    if isinstance(agent, dict):
        for k in agent_keys(agent):
            _add(keys, AGENT + k, main)


def _context(keys: dict[str, bool], context: Any) -> None:
    if not isinstance(context, dict):
        return
    _agents(keys, context.get("instructor"), False)
    _agents(keys, context.get("team"), False)
    for item in context.get("contextAgents") or ():
        _agents(keys, item.get("agent"), False)
    for item in context.get("contextGroups") or ():
        _agents(keys, item.get("group"), False)
    for value in (context.get("contextActivities") or {}).values():
        for act in value if isinstance(value, list) else (value,):
            _add(keys, ACTIVITY + act["id"], False)


def _object(keys: dict[str, bool], obj: dict[str, Any], main: bool) -> None:
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        _add(keys, ACTIVITY + obj["id"], main)
    elif kind in ("Agent", "Group"):
        _agents(keys, obj, main)


def filter_keys(stmt: dict[str, Any]) -> dict[str, bool]:
    """Map each filter key of `stmt` to True when the plain filter matches, False when only related_* does."""
    keys: dict[str, bool] = {VERB + stmt["verb"]["id"]: True}
    _agents(keys, stmt["actor"], True)
    obj = stmt["object"]
    _object(keys, obj, True)
    if obj.get("objectType") == "SubStatement":
        _agents(keys, obj["actor"], False)
        _object(keys, obj["object"], False)
        _context(keys, obj.get("context"))
    verb = stmt["verb"]["id"]
    for key in [k for k, main in keys.items() if main and k.startswith(AGENT)]:
        keys[VERB_AGENT + verb + " " + key[len(AGENT) :]] = True
    context = stmt.get("context")
    if isinstance(context, dict) and "registration" in context:
        _add(keys, REGISTRATION + str(context["registration"]).lower(), True)
    _context(keys, context)
    _agents(keys, stmt.get("authority"), False)
    return keys
