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


def _mark(keys: dict[str, bool], key: str, main: bool) -> None:
    """Record a key; a key the plain filter matches once stays matched whatever related occurrences follow."""
    if main:
        keys[key] = True
    else:
        keys.setdefault(key, False)


def _agents(keys: dict[str, bool], agent: Any, main: bool) -> None:
    if type(agent) is not dict:
        return
    for key in agent_keys(agent):
        _mark(keys, AGENT + key, main)


def _context(keys: dict[str, bool], context: Any) -> None:
    """Context agents and activities match only the related_* filters."""
    if type(context) is not dict:
        return
    if "instructor" in context:
        _agents(keys, context["instructor"], False)
    if "team" in context:
        _agents(keys, context["team"], False)
    for item in context.get("contextAgents") or ():
        _agents(keys, item.get("agent"), False)
    for item in context.get("contextGroups") or ():
        _agents(keys, item.get("group"), False)
    activities = context.get("contextActivities")
    if activities:
        for value in activities.values():
            for act in value if type(value) is list else (value,):
                keys.setdefault(ACTIVITY + act["id"], False)


def _object(keys: dict[str, bool], obj: dict[str, Any], main: bool) -> None:
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        _mark(keys, ACTIVITY + obj["id"], main)
    elif kind in ("Agent", "Group"):
        _agents(keys, obj, main)


def verb_agent(verb: str, ifi: str) -> str:
    """The composite filter key of a verb IRI and an agent's IFI (`ifi.ifi_key`), read by verb+agent queries."""
    return VERB_AGENT + verb + " " + ifi


def filter_keys(stmt: dict[str, Any]) -> dict[str, bool]:
    """Map each filter key of `stmt` to True when the plain filter matches, False when only related_* does."""
    verb = stmt["verb"]["id"]
    keys: dict[str, bool] = {VERB + verb: True}
    _agents(keys, stmt["actor"], True)
    obj = stmt["object"]
    _object(keys, obj, True)
    # the verb+agent pairs of the agents the plain filter matches (actor, or an Agent/Group object)
    for key in [k for k, main in keys.items() if main and k.startswith(AGENT)]:
        keys[verb_agent(verb, key[len(AGENT) :])] = True
    if obj.get("objectType") == "SubStatement":
        _agents(keys, obj["actor"], False)
        _object(keys, obj["object"], False)
        _context(keys, obj.get("context"))
    context = stmt.get("context")
    if type(context) is dict and "registration" in context:
        keys[REGISTRATION + str(context["registration"]).lower()] = True
    _context(keys, context)
    _agents(keys, stmt.get("authority"), False)
    return keys
