"""GET Statements `format` (xAPI 1.0.3 Communication §2.1.3, Data §2.4.3; ADL suites XAPI-00169/171/172)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import pytest

from lrs.xapi.formats import activity_ids, parse_accept_language, pick_language, to_canonical, to_ids

# --- Accept-Language (C §2.1.3 "Language Filtering Requirements", RFC 7231 §5.3.5) ---------------

ACCEPT_CASES: list[tuple[str | None, list[str]]] = [
    (None, []),
    ("", []),
    ("en-GB", ["en-GB"]),
    ("fr;q=0.5, en-GB, de;q=0.8", ["en-GB", "de", "fr"]),
    ("da, en-gb;q=0.8, en;q=0.7", ["da", "en-gb", "en"]),
    ("*;q=0.1, ja", ["ja", "*"]),
    ("en, fr;q=0", ["en"]),  # q=0 means "not acceptable"
    ("en;q=2, fr;q=abc, de ;Q=0.9, !!", ["de"]),  # malformed entries dropped, q name case-insensitive
    ("a;q=0.5, b;q=0.5, c", ["c", "a", "b"]),  # equal q keeps header order
]


@pytest.mark.parametrize(("header", "expected"), ACCEPT_CASES, ids=[repr(c[0]) for c in ACCEPT_CASES])
def test_parse_accept_language(header: str | None, expected: list[str]) -> None:
    assert parse_accept_language(header) == expected


LANGMAP = {"en-US": "color", "en-GB": "colour", "fr": "couleur", "zh-Hant-TW": "顏色"}

PICK_CASES: list[tuple[str, dict[str, str], list[str], dict[str, str]]] = [
    ("exact-tag", LANGMAP, ["en-GB"], {"en-GB": "colour"}),  # ADL XAPI-00172 sends en-GB
    ("exact-tag-case-insensitive", LANGMAP, ["EN-gb"], {"en-GB": "colour"}),
    ("preference-order", LANGMAP, ["de", "fr", "en-GB"], {"fr": "couleur"}),
    ("range-prefix-of-tag", LANGMAP, ["zh"], {"zh-Hant-TW": "顏色"}),
    ("truncated-range-rfc4647-lookup", LANGMAP, ["fr-CA"], {"fr": "couleur"}),
    ("truncated-range-then-prefix", {"en-US": "color", "fr": "couleur"}, ["en-AU"], {"en-US": "color"}),
    ("star-falls-back", LANGMAP, ["*"], {"en-US": "color"}),
    ("no-languages-falls-back-en-US", LANGMAP, [], {"en-US": "color"}),
    ("fallback-und", {"fr": "couleur", "und": "?"}, ["ja"], {"und": "?"}),
    ("fallback-en-any", {"fr": "couleur", "en-AU": "colour"}, ["ja"], {"en-AU": "colour"}),
    ("fallback-first-key", {"fr": "couleur", "de": "Farbe"}, ["ja"], {"fr": "couleur"}),
    ("single-entry", {"fr": "couleur"}, ["en"], {"fr": "couleur"}),
    ("empty-map", {}, ["en"], {}),
]


@pytest.mark.parametrize(
    ("langmap", "languages", "expected"), [c[1:] for c in PICK_CASES], ids=[c[0] for c in PICK_CASES]
)
def test_pick_language(langmap: dict[str, str], languages: list[str], expected: dict[str, str]) -> None:
    before = dict(langmap)
    assert pick_language(langmap, languages) == expected
    assert langmap == before


# --- the ADL fixture: statements.object_substatement + statements.unicode + groups.default -------

UNICODE_ACTIVITY: dict[str, Any] = {
    "objectType": "Activity",
    "id": "http://www.example.com/unicode/1",
    "definition": {
        "name": {"en": "Other", "en-GB": "attended", "en-US": "attended", "ja-JP": "出席した"},
        "description": {"en-US": "On this map, please mark Franklin, TN", "en-GB": "On this map (GB)"},
        "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
        "moreInfo": "http://virtualmeeting.example.com/345256",
        "interactionType": "other",
        "correctResponsesPattern": ["(35.937432,-86.868896)"],
        "extensions": {"http://example.com/profiles/meetings/extension/location": "X:\\minutes"},
    },
}


def adl_statement() -> dict[str, Any]:
    """The statement ADL XAPI-00168..171 posts, as stored (contextActivities as arrays)."""
    return {
        "id": "c7a6b2f4-1c1f-4c36-9a53-1f2f4a0d9b10",
        "actor": {"objectType": "Agent", "name": "xAPI account", "mbox": "mailto:agent1@adlnet.gov"},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/attended",
            "display": {"en-GB": "attended", "en-US": "att"},
        },
        "object": {
            "objectType": "SubStatement",
            "actor": {"objectType": "Group", "name": "Group Identified", "mbox": "mailto:group1@adlnet.gov"},
            "verb": {
                "id": "http://adlnet.gov/expapi/verbs/attended",
                "display": {"en-GB": "attended", "en-US": "attended", "ko-KR": "참석"},
            },
            "object": copy.deepcopy(UNICODE_ACTIVITY),
        },
        "context": {
            "instructor": {"objectType": "Agent", "name": "xAPI mbox", "mbox": "mailto:pri@adlnet.gov"},
            "contextActivities": {
                "category": [
                    {
                        "objectType": "Activity",
                        "id": "http://www.example.com/test/array/statements/pri",
                        "definition": {
                            "name": {"en-GB": "example meeting", "en-US": "example meeting"},
                            "description": {
                                "en-GB": "An example meeting (GB)",
                                "en-US": "An example meeting",
                            },
                        },
                    }
                ]
            },
        },
        "stored": "2024-05-04T17:00:01.000Z",
        "timestamp": "2024-05-04T17:00:01.000Z",
        "authority": {
            "objectType": "Group",
            "member": [
                {"account": {"homePage": "http://lrs.example.com", "name": "client"}, "name": "app"},
                {"mbox": "mailto:user@example.com", "name": "User"},
            ],
        },
        "version": "1.0.0",
    }


# --- format=ids (C §2.1.3; ADL XAPI-00171) ------------------------------------------------------


def test_ids_adl_xapi_00171() -> None:
    """Exactly what the 1.0.3 and 2.0 suites assert on the SubStatement fixture."""
    stmt = adl_statement()
    out = to_ids(stmt)
    assert 1 <= len(out["actor"]) <= 2 and out["actor"]["mbox"] == "mailto:agent1@adlnet.gov"
    assert out["actor"] == {"objectType": "Agent", "mbox": "mailto:agent1@adlnet.gov"}
    assert out["verb"] == {"id": "http://adlnet.gov/expapi/verbs/attended"}  # 2.0: exactly one key
    assert out["object"]["verb"] == {"id": "http://adlnet.gov/expapi/verbs/attended"}
    assert out["object"]["actor"] == {"objectType": "Group", "mbox": "mailto:group1@adlnet.gov"}  # two keys
    assert out["object"]["object"] == {"id": "http://www.example.com/unicode/1"}  # one key
    assert out["object"]["objectType"] == "SubStatement"


IDS_CASES: list[tuple[str, list[str], Any]] = [
    (
        "C2.1.3-context-instructor",
        ["context", "instructor"],
        {"objectType": "Agent", "mbox": "mailto:pri@adlnet.gov"},
    ),
    (
        "C2.1.3-context-activities-array-kept",
        ["context", "contextActivities", "category"],
        [{"id": "http://www.example.com/test/array/statements/pri"}],
    ),
    (
        "C2.1.3-anonymous-group-members-reduced-to-ifi",
        ["authority"],
        {
            "objectType": "Group",
            "member": [
                {"account": {"homePage": "http://lrs.example.com", "name": "client"}},
                {"mbox": "mailto:user@example.com"},
            ],
        },
    ),
    ("D2.4.1-id-untouched", ["id"], "c7a6b2f4-1c1f-4c36-9a53-1f2f4a0d9b10"),
    ("D2.4.7-timestamp-untouched", ["timestamp"], "2024-05-04T17:00:01.000Z"),
]


def _at(stmt: Any, path: Sequence[str]) -> Any:
    for key in path:
        stmt = stmt[key]
    return stmt


@pytest.mark.parametrize(("path", "expected"), [c[1:] for c in IDS_CASES], ids=[c[0] for c in IDS_CASES])
def test_ids_parts(path: list[str], expected: Any) -> None:
    stmt = adl_statement()
    snapshot = copy.deepcopy(stmt)
    assert _at(to_ids(stmt), path) == expected
    assert stmt == snapshot, "input must not be mutated"


IDS_MORE: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "C2.1.3-identified-group-drops-members-and-name",
        {
            "actor": {
                "objectType": "Group",
                "name": "G",
                "openid": "http://id/g",
                "member": [{"mbox": "mailto:a@b.c"}],
            }
        },
        {"actor": {"objectType": "Group", "openid": "http://id/g"}},
    ),
    (
        "C2.1.3-agent-object-keeps-objectType",
        {"object": {"objectType": "Agent", "name": "B", "mbox_sha1sum": "ab" * 20}},
        {"object": {"objectType": "Agent", "mbox_sha1sum": "ab" * 20}},
    ),
    (
        "C2.1.3-statement-ref-unchanged",
        {"object": {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}},
        {"object": {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}},
    ),
    (
        "C2.1.3-single-context-activity-object",
        {"context": {"contextActivities": {"parent": {"id": "http://p", "definition": {"type": "http://t"}}}}},
        {"context": {"contextActivities": {"parent": {"id": "http://p"}}}},
    ),
    (
        "2.0-4.2.2.5-context-agents-and-groups",
        {
            "context": {
                "contextAgents": [
                    {
                        "objectType": "contextAgent",
                        "agent": {"name": "P", "mbox": "mailto:p@x.y"},
                        "relevantTypes": ["http://r"],
                    }
                ],
                "contextGroups": [
                    {
                        "objectType": "contextGroup",
                        "group": {
                            "objectType": "Group",
                            "name": "T",
                            "member": [{"name": "Q", "openid": "http://q"}],
                        },
                        "relevantTypes": ["http://r"],
                    }
                ],
            }
        },
        {
            "context": {
                "contextAgents": [
                    {
                        "objectType": "contextAgent",
                        "agent": {"mbox": "mailto:p@x.y"},
                        "relevantTypes": ["http://r"],
                    }
                ],
                "contextGroups": [
                    {
                        "objectType": "contextGroup",
                        "group": {"objectType": "Group", "member": [{"openid": "http://q"}]},
                        "relevantTypes": ["http://r"],
                    }
                ],
            }
        },
    ),
    (
        "C2.1.3-result-and-attachments-untouched",
        {"result": {"success": True}, "attachments": [{"usageType": "http://u", "display": {"en": "d"}}]},
        {"result": {"success": True}, "attachments": [{"usageType": "http://u", "display": {"en": "d"}}]},
    ),
]


@pytest.mark.parametrize(("stmt", "expected"), [c[1:] for c in IDS_MORE], ids=[c[0] for c in IDS_MORE])
def test_ids_more(stmt: dict[str, Any], expected: dict[str, Any]) -> None:
    snapshot = copy.deepcopy(stmt)
    assert to_ids(stmt) == expected
    assert stmt == snapshot


# --- format=canonical (C §2.1.3, D §2.4.3; ADL XAPI-00169, XAPI-00172) --------------------------


def test_canonical_adl_xapi_00169_en_gb() -> None:
    """Accept-Language en-GB: agents/groups exact, verbs and activity maps reduced to en-GB."""
    stmt = adl_statement()
    snapshot = copy.deepcopy(stmt)
    out = to_canonical(stmt, {}, parse_accept_language("en-GB"))
    assert out["actor"] == stmt["actor"]
    assert out["verb"] == {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-GB": "attended"}}
    assert out["object"]["verb"] == {
        "id": "http://adlnet.gov/expapi/verbs/attended",
        "display": {"en-GB": "attended"},
    }
    assert out["object"]["actor"] == stmt["object"]["actor"]
    definition = UNICODE_ACTIVITY["definition"]
    assert out["object"]["object"] == {
        "objectType": "Activity",
        "id": "http://www.example.com/unicode/1",
        "definition": {
            "name": {"en-GB": "attended"},
            "description": {"en-GB": "On this map (GB)"},
            "type": definition["type"],
            "moreInfo": definition["moreInfo"],
            "interactionType": "other",
            "correctResponsesPattern": definition["correctResponsesPattern"],
            "extensions": definition["extensions"],
        },
    }
    assert stmt == snapshot, "input must not be mutated"


def test_canonical_adl_xapi_00172_category() -> None:
    """The category activity's name/description and the verb display lose en-US under en-GB."""
    out = to_canonical(adl_statement(), {}, ["en-GB"])
    category = out["context"]["contextActivities"]["category"][0]["definition"]
    assert "en-US" not in out["verb"]["display"]
    assert category["description"] == {"en-GB": "An example meeting (GB)"}
    assert category["name"] == {"en-GB": "example meeting"}


CANONICAL_DEFS: dict[str, dict[str, Any]] = {
    "http://www.example.com/test/array/statements/pri": {
        "name": {"en-US": "canonical meeting", "de": "Treffen"},
        "type": "http://example.com/meeting",
    },
    "http://www.example.com/unicode/1": {},
}


def test_canonical_uses_lrs_definitions() -> None:
    """C §2.1.3: the LRS's canonical definition replaces the statement's; an empty one keeps the own."""
    stmt = adl_statement()
    defs_snapshot = copy.deepcopy(CANONICAL_DEFS)
    out = to_canonical(stmt, CANONICAL_DEFS, ["de"])
    assert out["context"]["contextActivities"]["category"][0]["definition"] == {
        "name": {"de": "Treffen"},
        "type": "http://example.com/meeting",
    }
    assert out["object"]["object"]["definition"]["name"] == {"en-US": "attended"}  # no 'de': en-US fallback
    assert defs_snapshot == CANONICAL_DEFS


CANONICAL_MAPS: list[tuple[str, dict[str, Any], list[str], dict[str, Any]]] = [
    (
        "C2.1.3-interaction-components",
        {
            "object": {
                "id": "http://q/1",
                "definition": {
                    "interactionType": "matching",
                    "source": [{"id": "a", "description": {"en-US": "A", "fr": "Ah"}}],
                    "target": [{"id": "b", "description": {"en-US": "B", "fr": "Bé"}}],
                },
            }
        },
        ["fr"],
        {
            "object": {
                "id": "http://q/1",
                "definition": {
                    "interactionType": "matching",
                    "source": [{"id": "a", "description": {"fr": "Ah"}}],
                    "target": [{"id": "b", "description": {"fr": "Bé"}}],
                },
            }
        },
    ),
    (
        "C2.1.3-choices-scale-steps",
        {
            "object": {
                "id": "http://q/2",
                "definition": {
                    "choices": [{"id": "c", "description": {"en-US": "C", "de": "Ce"}}],
                    "scale": [{"id": "s", "description": {"en-US": "S", "de": "Es"}}],
                    "steps": [{"id": "t", "description": {"en-US": "T", "de": "Te"}}],
                },
            }
        },
        ["de-AT"],
        {
            "object": {
                "id": "http://q/2",
                "definition": {
                    "choices": [{"id": "c", "description": {"de": "Ce"}}],
                    "scale": [{"id": "s", "description": {"de": "Es"}}],
                    "steps": [{"id": "t", "description": {"de": "Te"}}],
                },
            }
        },
    ),
    (
        "C2.1.3-attachment-display-description",
        {
            "attachments": [
                {
                    "usageType": "http://u",
                    "display": {"en-US": "D", "fr": "Dé"},
                    "description": {"fr": "x", "en": "y"},
                }
            ]
        },
        [],
        {"attachments": [{"usageType": "http://u", "display": {"en-US": "D"}, "description": {"en": "y"}}]},
    ),
    (
        "C2.1.3-agents-stay-exact",
        {
            "actor": {"objectType": "Agent", "name": "N", "mbox": "mailto:n@x.y"},
            "object": {"objectType": "Agent", "name": "M", "mbox": "mailto:m@x.y"},
        },
        ["fr"],
        {
            "actor": {"objectType": "Agent", "name": "N", "mbox": "mailto:n@x.y"},
            "object": {"objectType": "Agent", "name": "M", "mbox": "mailto:m@x.y"},
        },
    ),
    (
        "C2.1.3-activity-without-definition",
        {"object": {"id": "http://q/3"}},
        ["fr"],
        {"object": {"id": "http://q/3"}},
    ),
]


@pytest.mark.parametrize(
    ("stmt", "languages", "expected"), [c[1:] for c in CANONICAL_MAPS], ids=[c[0] for c in CANONICAL_MAPS]
)
def test_canonical_maps(stmt: dict[str, Any], languages: list[str], expected: dict[str, Any]) -> None:
    snapshot = copy.deepcopy(stmt)
    assert to_canonical(stmt, {}, languages) == expected
    assert stmt == snapshot


def test_canonical_definition_added_from_lrs() -> None:
    """C §2.1.3: an Activity sent without a definition is returned with the LRS's canonical one."""
    out = to_canonical({"object": {"id": "http://q/3"}}, {"http://q/3": {"name": {"en": "Q", "fr": "Qu"}}}, ["fr"])
    assert out == {"object": {"id": "http://q/3", "definition": {"name": {"fr": "Qu"}}}}


# --- activity_ids -------------------------------------------------------------------------------


def test_activity_ids_adl_statement() -> None:
    """Object, contextActivities and SubStatement activities (C §2.1.3 canonical lookup keys)."""
    assert activity_ids(adl_statement()) == {
        "http://www.example.com/unicode/1",
        "http://www.example.com/test/array/statements/pri",
    }


ACTIVITY_ID_CASES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("D2.4.4-agent-object", {"object": {"objectType": "Agent", "mbox": "mailto:a@b.c"}}, set()),
    ("D2.4.4-statement-ref", {"object": {"objectType": "StatementRef", "id": "x"}}, set()),
    ("D2.4.4-default-objectType", {"object": {"id": "http://a"}}, {"http://a"}),
    (
        "D2.4.6.2-single-objects-and-arrays",
        {
            "object": {"id": "http://a"},
            "context": {
                "contextActivities": {
                    "parent": {"id": "http://p"},
                    "other": [{"id": "http://o1"}, {"id": "http://a"}],
                }
            },
        },
        {"http://a", "http://p", "http://o1"},
    ),
    (
        "D2.4.4.3-substatement-context",
        {
            "object": {
                "objectType": "SubStatement",
                "object": {"objectType": "Agent", "mbox": "mailto:a@b.c"},
                "context": {"contextActivities": {"grouping": [{"id": "http://g"}]}},
            }
        },
        {"http://g"},
    ),
]


@pytest.mark.parametrize(
    ("stmt", "expected"), [c[1:] for c in ACTIVITY_ID_CASES], ids=[c[0] for c in ACTIVITY_ID_CASES]
)
def test_activity_ids(stmt: dict[str, Any], expected: set[str]) -> None:
    assert activity_ids(stmt) == expected
