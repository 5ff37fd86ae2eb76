"""GET Statements ``format`` parameter: ``ids`` and ``canonical`` (C §2.1.3, D §2.4.3, 2.0 §4.1.6.1).

``exact`` needs no code: the statement is returned as stored. Nothing here mutates its input; unchanged
sub-objects of the result are shared with the input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["activity_ids", "parse_accept_language", "pick_language", "to_canonical", "to_ids"]

# --- Accept-Language ------------------------------------------------------------------------------

_RANGE = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")
_QVALUE = re.compile(r"^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$")


def parse_accept_language(header: str | None) -> list[str]:
    """Accept-Language header -> language ranges by descending q (RFC 7231 §5.3.5); [] when absent; '*' kept.

    Ranges with q=0 ("not acceptable") and malformed entries are dropped; equal q keeps header order.
    """
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        tag = pieces[0]
        if not tag or not _RANGE.match(tag):
            continue
        q = 1.0
        valid = True
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                if not _QVALUE.match(value):
                    valid = False
                    break
                q = float(value)
        if valid and q > 0:
            ranked.append((-q, index, tag))
    ranked.sort()
    return [tag for _, _, tag in ranked]


_FALLBACKS = ("en-us", "en", "und")


def _truncations(tag: str) -> list[str]:
    """RFC 4647 §3.4 lookup: 'zh-Hant-CN' -> zh-hant-cn, zh-hant, zh (singletons dropped too)."""
    subtags = tag.lower().split("-")
    out: list[str] = []
    while subtags:
        out.append("-".join(subtags))
        subtags.pop()
        if subtags and len(subtags[-1]) == 1:
            subtags.pop()
    return out


def _fallback_key(keys: Sequence[str], lowered: Sequence[str]) -> str:
    for want in _FALLBACKS:
        if want in lowered:
            return keys[lowered.index(want)]
    for key, low in zip(keys, lowered, strict=True):
        if low.startswith("en-"):
            return key
    return keys[0]


def pick_language(langmap: Mapping[str, str], languages: Sequence[str]) -> dict[str, str]:
    """Reduce a language map to ONE entry chosen by Accept-Language ranges (C §2.1.3 language filtering).

    For each range in preference order, progressively truncated (RFC 4647 §3.4): an exact tag
    (case-insensitive) wins, else a tag the range is a prefix of ('en' matches 'en-US', RFC 4647 §3.3.1).
    '*' or no match falls back to en-US, en, und, any en-*, then the first key. An empty map stays empty.
    """
    if not langmap:
        return {}
    keys = list(langmap)
    if len(keys) == 1:
        return {keys[0]: langmap[keys[0]]}
    lowered = [k.lower() for k in keys]
    for language in languages:
        if language == "*":
            break
        for t in _truncations(language):
            if t in lowered:
                key = keys[lowered.index(t)]
                return {key: langmap[key]}
            prefix = t + "-"
            for key, low in zip(keys, lowered, strict=True):
                if low.startswith(prefix):
                    return {key: langmap[key]}
    key = _fallback_key(keys, lowered)
    return {key: langmap[key]}


# --- format=ids -----------------------------------------------------------------------------------

_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


def _actor_ids(actor: Any) -> Any:
    """Agent/Group -> objectType (if given) + IFI; an anonymous Group keeps its members reduced to IFIs."""
    if not isinstance(actor, dict):
        return actor
    out: dict[str, Any] = {}
    if "objectType" in actor:
        out["objectType"] = actor["objectType"]
    identified = False
    for ifi in _IFIS:
        if ifi in actor:
            out[ifi] = actor[ifi]
            identified = True
    if not identified and "member" in actor:
        members = actor["member"]
        out["member"] = [_actor_ids(m) for m in members] if isinstance(members, list) else members
    return out


def _activity_ids(activity: Any) -> Any:
    """Activity -> {"id"} only (the ADL suites expect exactly one key, XAPI-00171)."""
    if not isinstance(activity, dict) or "id" not in activity:
        return activity
    return {"id": activity["id"]}


def _verb_ids(verb: Any) -> Any:
    if not isinstance(verb, dict) or "id" not in verb:
        return verb
    return {"id": verb["id"]}


def _map_activities(value: Any, fn: Any) -> Any:
    if isinstance(value, list):
        return [fn(a) for a in value]
    return fn(value)


def _context_ids(context: Any) -> Any:
    if not isinstance(context, dict):
        return context
    out = dict(context)
    for key in ("instructor", "team"):
        if key in out:
            out[key] = _actor_ids(out[key])
    ca = out.get("contextActivities")
    if isinstance(ca, dict):
        out["contextActivities"] = {k: _map_activities(v, _activity_ids) for k, v in ca.items()}
    for key, inner in (("contextAgents", "agent"), ("contextGroups", "group")):
        items = out.get(key)
        if isinstance(items, list):
            out[key] = [
                {**item, inner: _actor_ids(item[inner])} if isinstance(item, dict) and inner in item else item
                for item in items
            ]
    return out


def _object_ids(obj: Any) -> Any:
    if not isinstance(obj, dict):
        return obj
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return _activity_ids(obj)
    if kind in ("Agent", "Group"):
        return _actor_ids(obj)
    if kind == "SubStatement":
        return _statement_ids(obj)
    return obj


def _statement_ids(stmt: dict[str, Any]) -> dict[str, Any]:
    out = dict(stmt)
    if "actor" in out:
        out["actor"] = _actor_ids(out["actor"])
    if "verb" in out:
        out["verb"] = _verb_ids(out["verb"])
    if "object" in out:
        out["object"] = _object_ids(out["object"])
    if "context" in out:
        out["context"] = _context_ids(out["context"])
    if "authority" in out:
        out["authority"] = _actor_ids(out["authority"])
    return out


def to_ids(stmt: dict[str, Any]) -> dict[str, Any]:
    """format=ids (C §2.1.3): Agents/Groups/Activities/Verbs reduced to identifying properties, recursively.

    Agents and identified Groups keep objectType (when present) + their IFI; anonymous Groups keep
    objectType + members reduced the same way; Activities keep only "id" and Verbs only "id" (ADL suite
    XAPI-00171 asserts exactly one key on both). Applies to actor, object, SubStatements, context
    (instructor, team, contextActivities, 2.0 contextAgents/contextGroups) and authority.
    """
    return _statement_ids(stmt)


# --- format=canonical -----------------------------------------------------------------------------

_INTERACTION_COMPONENTS = ("choices", "scale", "source", "target", "steps")


def _filter_map(value: Any, languages: Sequence[str]) -> Any:
    return pick_language(value, languages) if isinstance(value, dict) else value


def _filter_definition(definition: Any, languages: Sequence[str]) -> Any:
    if not isinstance(definition, dict):
        return definition
    out = dict(definition)
    for key in ("name", "description"):
        if key in out:
            out[key] = _filter_map(out[key], languages)
    for key in _INTERACTION_COMPONENTS:
        components = out.get(key)
        if isinstance(components, list):
            out[key] = [
                {**c, "description": _filter_map(c["description"], languages)}
                if isinstance(c, dict) and "description" in c
                else c
                for c in components
            ]
    return out


def _canonical_activity(activity: Any, definitions: Mapping[str, dict[str, Any]], languages: Sequence[str]) -> Any:
    if not isinstance(activity, dict):
        return activity
    out = dict(activity)
    activity_id = activity.get("id")
    canonical = definitions.get(activity_id) if isinstance(activity_id, str) else None
    definition = canonical if canonical else activity.get("definition")
    if definition:
        out["definition"] = _filter_definition(definition, languages)
    else:
        out.pop("definition", None)
    return out


def _canonical_statement(
    stmt: dict[str, Any], definitions: Mapping[str, dict[str, Any]], languages: Sequence[str]
) -> dict[str, Any]:
    out = dict(stmt)
    verb = out.get("verb")
    if isinstance(verb, dict) and "display" in verb:
        out["verb"] = {**verb, "display": _filter_map(verb["display"], languages)}
    obj = out.get("object")
    if isinstance(obj, dict):
        kind = obj.get("objectType", "Activity")
        if kind == "Activity":
            out["object"] = _canonical_activity(obj, definitions, languages)
        elif kind == "SubStatement":
            out["object"] = _canonical_statement(obj, definitions, languages)
    context = out.get("context")
    if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
        out["context"] = {
            **context,
            "contextActivities": {
                k: _map_activities(v, lambda a: _canonical_activity(a, definitions, languages))
                for k, v in context["contextActivities"].items()
            },
        }
    attachments = out.get("attachments")
    if isinstance(attachments, list):
        out["attachments"] = [
            {
                **att,
                **{k: _filter_map(att[k], languages) for k in ("display", "description") if k in att},
            }
            if isinstance(att, dict)
            else att
            for att in attachments
        ]
    return out


def to_canonical(
    stmt: dict[str, Any], definitions: Mapping[str, dict[str, Any]], languages: Sequence[str]
) -> dict[str, Any]:
    """format=canonical (C §2.1.3, D §2.4.3): canonical Activity definitions, one language per language map.

    Each Activity's definition is replaced by ``definitions[id]`` (kept as sent when the id is missing or its
    canonical definition is empty); activity name/description, interaction component descriptions, verb
    display and attachment display/description are reduced with `pick_language`. Agents/Groups stay exact.
    """
    return _canonical_statement(stmt, definitions, languages)


def activity_ids(stmt: dict[str, Any]) -> set[str]:
    """Every Activity id in a statement, SubStatement included: the keys to_canonical needs (C §2.1.3)."""
    ids: set[str] = set()
    _collect_activity_ids(stmt, ids)
    return ids


def _add_activity(activity: Any, ids: set[str]) -> None:
    if isinstance(activity, dict) and isinstance(activity.get("id"), str):
        ids.add(activity["id"])


def _collect_activity_ids(stmt: dict[str, Any], ids: set[str]) -> None:
    obj = stmt.get("object")
    if isinstance(obj, dict):
        kind = obj.get("objectType", "Activity")
        if kind == "Activity":
            _add_activity(obj, ids)
        elif kind == "SubStatement":
            _collect_activity_ids(obj, ids)
    context = stmt.get("context")
    if isinstance(context, dict):
        ca = context.get("contextActivities")
        if isinstance(ca, dict):
            for value in ca.values():
                for activity in value if isinstance(value, list) else [value]:
                    _add_activity(activity, ids)
