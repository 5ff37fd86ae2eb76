"""Canonical Activity definitions (D §2.4.4.1 LRS requirements; ADR 0003)."""

from __future__ import annotations

from typing import Any

_LANGUAGE_MAPS = ("name", "description")


def merge_definition(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """The canonical definition after a statement brings `new`: its properties win, language maps merge."""
    if not old:
        return dict(new)
    merged = dict(old)
    for key, value in new.items():
        if key in _LANGUAGE_MAPS and isinstance(value, dict) and isinstance(old.get(key), dict):
            merged[key] = {**old[key], **value}
        else:
            merged[key] = value
    return merged


def statement_definitions(stmt: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every (activity id, definition) a statement carries, in document order (object, context, SubStatement)."""
    found: list[tuple[str, dict[str, Any]]] = []
    _visit(stmt, found)
    return found


# Module functions, not closures: nested functions that call each other form a reference cycle per call, which only
# the cyclic garbage collector frees (ADR 0011).
def _visit(s: dict[str, Any], found: list[tuple[str, dict[str, Any]]]) -> None:
    obj = s.get("object")
    _visit_activity(obj, found)
    context = s.get("context")
    if isinstance(context, dict):
        for value in (context.get("contextActivities") or {}).values():
            for act in value if isinstance(value, list) else (value,):
                _visit_activity(act, found)
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        _visit(obj, found)


def _visit_activity(act: Any, found: list[tuple[str, dict[str, Any]]]) -> None:
    if isinstance(act, dict) and act.get("objectType", "Activity") == "Activity":
        definition = act.get("definition")
        if isinstance(definition, dict) and definition:
            found.append((act["id"], definition))
