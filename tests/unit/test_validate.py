"""Table-driven tests of statement validation, per spec section (D = xAPI 1.0.3 Data, 2.0 = IEEE 9274.1.1).

Each case starts from a valid statement (`base()`), applies changes ("dotted.path[0].key": value, or DELETE), and
expects either acceptance or a BadRequest (status 400) at a given JSON path whose message contains given words.
Case ids cite the spec section; "suite:" marks a case taken from the ADL conformance suite's hand-written tests
(the config-driven ones are all replayed in test_validate_suite.py).
"""

from __future__ import annotations

import copy
import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from lrs.errors import BadRequest
from lrs.xapi.validate import (
    normalize_timestamp,
    parse_timestamp,
    validate_agent,
    validate_batch,
    validate_statement,
)
from lrs.xapi.version import Version

V1, V2 = Version.V1, Version.V2
BOTH = (V1, V2)
DELETE: Any = object()


def base() -> dict[str, Any]:
    """A valid statement touching most properties (valid in both versions)."""
    return {
        "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "actor": {"objectType": "Agent", "name": "xAPI mbox", "mbox": "mailto:xapi@adlnet.gov"},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/attended",
            "display": {"en-GB": "attended", "en-US": "attended"},
        },
        "object": {
            "objectType": "Activity",
            "id": "http://www.example.com/meetings/occurances/34534",
            "definition": {
                "name": {"en-US": "example meeting"},
                "description": {"en-US": "An example meeting"},
                "type": "http://adlnet.gov/expapi/activities/meeting",
                "moreInfo": "http://virtualmeeting.example.com/345256",
                "extensions": {"http://example.com/profiles/meetings/extension/location": "X:\\meetings"},
            },
        },
        "result": {
            "score": {"scaled": 0.95, "raw": 95, "min": 0, "max": 100},
            "success": True,
            "completion": True,
            "response": "We agreed on some example actions.",
            "duration": "PT1H0M0S",
            "extensions": {"http://example.com/profiles/meetings/resultextensions/minuteslocation": "X:\\m"},
        },
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "instructor": {"name": "Andrew Downes", "account": {"homePage": "http://www.example.com", "name": "1"}},
            "team": {"objectType": "Group", "name": "Team PB", "mbox": "mailto:teampb@example.com"},
            "contextActivities": {
                "parent": [{"id": "http://www.example.com/meetings/series/267"}],
                "category": {"objectType": "Activity", "id": "http://www.example.com/meetings/categories/team"},
            },
            "language": "tlh",
            "statement": {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
            "extensions": {"http://example.com/profiles/meetings/contextextensions/airspeed": "600mph"},
        },
        "timestamp": "2013-05-18T05:32:34.804+00:00",
    }


SUB = {
    "objectType": "SubStatement",
    "actor": {"objectType": "Agent", "mbox": "mailto:sub@example.com"},
    "verb": {"id": "http://example.com/verbs/will-visit", "display": {"en-US": "will visit"}},
    "object": {"id": "http://example.com/activities/museum"},
}
REF = {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}
AGENT = {"objectType": "Agent", "mbox": "mailto:someone@example.com"}
CA = {
    "objectType": "contextAgent",
    "agent": {"objectType": "Agent", "mbox": "mailto:player-1@example.com"},
    "relevantTypes": ["https://example.com/activity-types/personnel/player"],
}
CG = {
    "objectType": "contextGroup",
    "group": {"objectType": "Group", "mbox": "mailto:team-1@example.com", "member": [AGENT]},
    "relevantTypes": ["https://example.com/activity-types/team/a"],
}
ATT = {
    "usageType": "http://example.com/attachment-usage/test",
    "display": {"en-US": "A test attachment"},
    "description": {"en-US": "A test attachment (description)"},
    "contentType": "text/plain; charset=ascii",
    "length": 27,
    "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a",
    "fileUrl": "http://over.there.com/file.txt",
}


def drop(obj: dict[str, Any], *keys: str) -> dict[str, Any]:
    """A copy of obj without keys."""
    return {k: v for k, v in obj.items() if k not in keys}


NO_REV = {"context.revision": DELETE, "context.platform": DELETE}

Changes = dict[str, Any] | Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Case:
    id: str
    changes: Changes
    path: str | None = None  # None: the statement is valid
    words: tuple[str, ...] = ()
    versions: tuple[Version, ...] = BOTH


def ok(id: str, changes: Changes, versions: tuple[Version, ...] = BOTH) -> Case:
    return Case(id, changes, None, (), versions)


def bad(id: str, changes: Changes, path: str, *words: str, versions: tuple[Version, ...] = BOTH) -> Case:
    return Case(id, changes, path, words, versions)


_TOKEN = re.compile(r"[^.\[\]]+|\[\d+\]")


def apply(stmt: dict[str, Any], changes: Changes) -> dict[str, Any]:
    """Apply {"a.b[0].c": value-or-DELETE} (missing containers are created as objects) or a callable."""
    if callable(changes):
        changes(stmt)
        return stmt
    for dotted, value in changes.items():
        keys: list[Any] = [int(t[1:-1]) if t.startswith("[") else t for t in _TOKEN.findall(dotted)]
        node: Any = stmt
        for key in keys[:-1]:
            if isinstance(node, dict) and key not in node:
                node[key] = {}
            node = node[key]
        if value is DELETE:
            if isinstance(node, dict):
                node.pop(keys[-1], None)
        else:
            node[keys[-1]] = copy.deepcopy(value)
    return stmt


def _set_ext(where: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(s: dict[str, Any]) -> None:
        node = s
        for part in where.split("."):
            node = node[part]
        node[key] = value

    return change


CASES = [
    # --- D §2.2 formatting requirements -------------------------------------------------------------------------
    ok("D2.2 base statement is valid", {}),
    ok(
        "D2.2 minimal statement (actor, verb, object only)",
        {k: DELETE for k in ("id", "result", "context", "timestamp")},
    ),
    bad("D2.2 null value", {"actor.name": None}, "$.actor.name", "must be a string", "null"),
    bad("D2.2 null property at top level", {"result": None}, "$.result", "null"),
    bad("D2.2 string where number required", {"result.score.raw": "95"}, "$.result.score.raw", "number", "'95'"),
    bad("D2.2 boolean is not a number", {"result.score.raw": True}, "$.result.score.raw", "number", "boolean"),
    bad("D2.2 string where boolean required", {"result.success": "true"}, "$.result.success", "boolean"),
    bad("D2.2 number where boolean required", {"result.completion": 1}, "$.result.completion", "boolean"),
    bad("D2.2 unknown top-level property", {"foo": 1}, "$.foo", "unknown property 'foo'"),
    bad("D2.2 key case mismatch", {"Actor": AGENT}, "$.Actor", "case-sensitive", "'actor'"),
    bad("D2.2 enum case mismatch", {"object.objectType": "activity"}, "$.object.objectType", "'activity'"),
    bad(
        "D2.2 IRI without scheme (suite: verb id)",
        {"verb.id": "adlnet.gov/expapi/verbs/attended"},
        "$.verb.id",
        "absolute IRI",
        "scheme",
    ),
    bad("D2.2 empty string IRI", {"verb.id": ""}, "$.verb.id", "absolute IRI"),
    bad("D2.2 non-finite number", {"result.score.raw": float("nan")}, "$.result.score.raw", "finite"),
    bad(
        "D2.2 unknown property in definition",
        {"object.definition.foo": 1},
        "$.object.definition.foo",
        "unknown property",
    ),
    bad("D2.2 unknown property in score", {"result.score.percent": 1}, "$.result.score.percent", "unknown property"),
    bad("D2.2 statement must have actor", {"actor": DELETE}, "$.actor", "required"),
    bad("D2.2 statement must have verb", {"verb": DELETE}, "$.verb", "required"),
    bad("D2.2 statement must have object", {"object": DELETE}, "$.object", "required"),
    bad(
        "D2.2 statement-level objectType is not a property (suite objects.js)",
        {"objectType": "statementref"},
        "$.objectType",
        "unknown property",
    ),
    # --- D §2.3.2 voiding ------------------------------------------------------------------------------------------
    ok(
        "D2.3.2 voiding statement with StatementRef",
        {"verb.id": "http://adlnet.gov/expapi/verbs/voided", "object": REF, **NO_REV},
    ),
    bad(
        "D2.3.2 voiding statement must target a StatementRef",
        {"verb.id": "http://adlnet.gov/expapi/verbs/voided"},
        "$.object",
        "StatementRef",
        "voiding",
    ),
    # --- D §2.4.1 id ------------------------------------------------------------------------------------------------
    ok("D2.4.1 id is optional", {"id": DELETE}),
    ok("D2.4.1 upper-case UUID", {"id": "FD41C918-B88B-4B20-A0A5-A4C32391AAA0"}),
    bad("D2.4.1 id with too many digits", {"id": "AA97B177-9383-4934-8543-0F91A7A028368"}, "$.id", "UUID"),
    bad("D2.4.1 id with non-hex letter", {"id": "MA97B177-9383-4934-8543-0F91A7A02836"}, "$.id", "UUID"),
    bad("D2.4.1 id in braces", {"id": "{fd41c918-b88b-4b20-a0a5-a4c32391aaa0}"}, "$.id", "UUID"),
    bad("D2.4.1 id is a number", {"id": 12345}, "$.id", "UUID string", "number"),
    # --- D §2.4.2 actor: Agent, Group, IFIs, account ----------------------------------------------------------
    ok("D2.4.2.1 actor objectType is optional", {"actor.objectType": DELETE}),
    ok("D2.4.2.3 mbox_sha1sum", {"actor": {"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"}}),
    ok("D2.4.2.3 openid", {"actor": {"openid": "http://openid.example.org/12345"}}),
    ok("D2.4.2.4 account", {"actor": {"account": {"homePage": "http://www.example.com", "name": "xAPI"}}}),
    bad("D2.4.2.1 agent without IFI", {"actor": {"objectType": "Agent", "name": "x"}}, "$.actor", "exactly one"),
    bad(
        "D2.4.2.1 agent with two IFIs",
        {"actor.openid": "http://openid.example.org/1"},
        "$.actor",
        "exactly one",
        "mbox, openid",
    ),
    bad("D2.4.2.1 objectType case", {"actor.objectType": "agent"}, "$.actor.objectType", "'agent'"),
    bad("D2.4.2.1 name must be a string", {"actor.name": 123}, "$.actor.name", "string"),
    bad("D2.4.2.1 unknown agent property", {"actor.member": []}, "$.actor.member", "unknown property"),
    bad(
        "D2.4.2.3 mbox without mailto:",
        {"actor.mbox": "xapi@adlnet.gov"},
        "$.actor.mbox",
        "mailto:",
        "'xapi@adlnet.gov'",
    ),
    bad(
        "D2.4.2.3 mbox that is not an address (suite ifis.js)",
        {"actor.mbox": "mailto:should.fail.com"},
        "$.actor.mbox",
        "mailto:",
    ),
    bad(
        "D2.4.2.3 mbox is an http IRI (suite ifis.js)",
        {"actor.mbox": "http://should.fail.com"},
        "$.actor.mbox",
        "mailto:",
    ),
    bad(
        "D2.4.2.3 mbox_sha1sum of wrong length",
        {"actor": {"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab9760"}},
        "$.actor.mbox_sha1sum",
        "40 hex",
    ),
    bad(
        "D2.4.2.3 openid without scheme (suite Data2.2)",
        {"actor": {"openid": "open.id.com/testUser"}},
        "$.actor.openid",
        "scheme",
    ),
    bad(
        "D2.4.2.3 openid with bad scheme (suite ifis.js)",
        {"actor": {"openid": "ab=c://should.fail.com"}},
        "$.actor.openid",
        "scheme",
    ),
    bad(
        "D2.4.2.4 homePage without scheme (suite Data2.2)",
        {"actor": {"account": {"homePage": "homePage.com/testUser", "name": "123456"}}},
        "$.actor.account.homePage",
        "IRL",
    ),
    bad(
        "D2.4.2.4 account without name",
        {"actor": {"account": {"homePage": "http://www.example.com"}}},
        "$.actor.account.name",
        "required",
    ),
    bad(
        "D2.4.2.4 account name must be a string",
        {"actor": {"account": {"homePage": "http://www.example.com", "name": {"key": "v"}}}},
        "$.actor.account.name",
        "string",
    ),
    bad(
        "D2.4.2.4 unknown account property",
        {"actor": {"account": {"homePage": "http://www.example.com", "name": "a", "id": "1"}}},
        "$.actor.account.id",
        "unknown property",
    ),
    ok(
        "D2.4.2.2 anonymous group",
        {"actor": {"objectType": "Group", "member": [AGENT, {"openid": "http://o.example/1"}]}},
    ),
    ok("D2.4.2.2 identified group without members", {"actor": {"objectType": "Group", "mbox": "mailto:g@example.com"}}),
    ok(
        "D2.4.2.2 identified group with members",
        {
            "actor": {
                "objectType": "Group",
                "account": {"homePage": "http://example.com", "name": "g"},
                "member": [AGENT],
            }
        },
    ),
    bad(
        "D2.4.2.2 anonymous group needs member",
        {"actor": {"objectType": "Group", "name": "g"}},
        "$.actor.member",
        "required",
        "anonymous",
    ),
    bad("D2.4.2.2 group needs objectType", {"actor": {"member": [AGENT]}}, "$.actor.objectType", "'Group'"),
    bad(
        "D2.4.2.2 identified group with two IFIs",
        {"actor": {"objectType": "Group", "mbox": "mailto:g@example.com", "openid": "http://o.example/g"}},
        "$.actor",
        "at most one",
        "mbox, openid",
    ),
    bad(
        "D2.4.2.2 group in member",
        {"actor": {"objectType": "Group", "member": [{"objectType": "Group", "mbox": "mailto:g@example.com"}]}},
        "$.actor.member[0].objectType",
        "Agents",
    ),
    bad(
        "D2.4.2.2 invalid member",
        {"actor": {"objectType": "Group", "member": [AGENT, {"mbox": "x"}]}},
        "$.actor.member[1].mbox",
        "mailto:",
    ),
    bad(
        "D2.4.2.2 member must be an array",
        {"actor": {"objectType": "Group", "member": AGENT}},
        "$.actor.member",
        "array",
    ),
    # --- D §2.4.3 verb ----------------------------------------------------------------------------------------------
    ok("D2.4.3 display is optional", {"verb.display": DELETE}),
    ok("D2.4.3 IRI with fragment", {"verb.id": "http://example.com/xapi/verbs#sent"}),
    ok("D2.4.3 unicode IRI", {"verb.id": "http://例え.テスト/動詞/見た"}),
    bad("D2.4.3 verb without id", {"verb.id": DELETE}, "$.verb.id", "required"),
    bad(
        "D2.4.3 verb id with bad scheme (suite verbs.js)", {"verb.id": "ab=c://should.fail.com"}, "$.verb.id", "scheme"
    ),
    bad("D2.4.3 display is a string", {"verb.display": "attended"}, "$.verb.display", "language map"),
    bad("D2.4.3 display value is a number", {"verb.display.en-US": 5}, '$.verb.display["en-US"]', "string"),
    bad("D2.4.3 unknown verb property", {"verb.name": "x"}, "$.verb.name", "unknown property"),
    # --- D §4.2 language maps -------------------------------------------------------------------------------------
    ok(
        "D4.2 language tags: und, script, region, variant, private use",
        {"verb.display": {"und": "a", "zh-Hant-TW": "b", "es-419": "c", "de-CH-1901": "d", "en-US-x-twain": "e"}},
    ),
    ok("D4.2 empty language map", {"verb.display": {}}),
    bad(
        "D4.2 language tag with a too long subtag (suite languages.js)",
        {"verb.display": {"a12345678": "x"}},
        "$.verb.display.a12345678",
        "RFC 5646",
    ),
    bad(
        "D4.2 underscore in language tag",
        {"object.definition.name": {"en_US": "x"}},
        "$.object.definition.name.en_US",
        "RFC 5646",
    ),
    bad(
        "D4.2 nine-letter language subtag (suite formatting.js)",
        {"object.definition.description": {"something": "x"}},
        "$.object.definition.description.something",
        "RFC 5646",
    ),
    # --- D §2.4.4 object ----------------------------------------------------------------------------------------------
    ok("D2.4.4 Activity objectType is optional", {"object.objectType": DELETE}),
    ok("D2.4.4 Activity without definition", {"object.definition": DELETE}),
    ok("D2.4.4.2 Agent as object", {"object": AGENT, **NO_REV}),
    ok("D2.4.4.2 Group as object", {"object": {"objectType": "Group", "member": [AGENT]}, **NO_REV}),
    ok("D2.4.4.3 StatementRef as object", {"object": REF}),
    bad(
        "D2.4.4.2 Agent as object without objectType (suite XAPI-00065)",
        {"object": {"mbox": "mailto:a@b.c"}},
        "$.object.objectType",
        "required",
        "Agent or Group",
    ),
    bad(
        "D2.4.4.2 Group as object without objectType (suite XAPI-00065)",
        {"object": {"member": [AGENT]}},
        "$.object.objectType",
        "required",
    ),
    bad("D2.4.4 unknown objectType", {"object.objectType": "Statement"}, "$.object.objectType", "one of"),
    bad("D2.4.4.1 Activity without id", {"object.id": DELETE}, "$.object.id", "required"),
    bad(
        "D2.4.4.1 Activity id without scheme (suite Data2.2)",
        {"object.id": "www.example.com/meetings/1"},
        "$.object.id",
        "scheme",
    ),
    bad(
        "D2.4.4.1 definition type without scheme (suite Data2.2)",
        {"object.definition.type": "adlnet.gov/x"},
        "$.object.definition.type",
        "IRI",
    ),
    bad(
        "D2.4.4.1 moreInfo without scheme (suite Data2.2)",
        {"object.definition.moreInfo": "example.com/345256"},
        "$.object.definition.moreInfo",
        "IRL",
    ),
    bad(
        "D2.4.4.1 definition name not a language map",
        {"object.definition.name": "meeting"},
        "$.object.definition.name",
        "language map",
    ),
    bad("D2.4.4.1 definition is not an object", {"object.definition": []}, "$.object.definition", "got an array"),
    # interaction activities
    ok(
        "D2.4.4.1 choice interaction",
        {
            "object.definition": {
                "interactionType": "choice",
                "correctResponsesPattern": ["golf[,]tetris"],
                "choices": [{"id": "golf", "description": {"en-US": "Golf"}}, {"id": "tetris"}],
            }
        },
    ),
    ok(
        "D2.4.4.1 matching interaction",
        {
            "object.definition": {
                "interactionType": "matching",
                "correctResponsesPattern": ["ben[.]3"],
                "source": [{"id": "ben"}],
                "target": [{"id": "3"}],
            }
        },
    ),
    ok(
        "D2.4.4.1 performance interaction",
        {"object.definition": {"interactionType": "performance", "steps": [{"id": "pong"}, {"id": "dg"}]}},
    ),
    ok(
        "D2.4.4.1 likert interaction",
        {"object.definition": {"interactionType": "likert", "scale": [{"id": "likert_0"}, {"id": "likert_1"}]}},
    ),
    ok(
        "D2.4.4.1 empty correctResponsesPattern (no correct answer)",
        {"object.definition": {"interactionType": "fill-in", "correctResponsesPattern": []}},
    ),
    bad(
        "D2.4.4.1 interactionType case",
        {"object.definition.interactionType": "Choice"},
        "$.object.definition.interactionType",
        "one of",
        "'Choice'",
    ),
    bad(
        "D2.4.4.1 correctResponsesPattern without interactionType (suite XAPI-00064)",
        {"object.definition.correctResponsesPattern": ["true"]},
        "$.object.definition.interactionType",
        "required",
        "correctResponsesPattern",
    ),
    bad(
        "D2.4.4.1 choices without interactionType (suite XAPI-00064)",
        {"object.definition.choices": [{"id": "a"}]},
        "$.object.definition.interactionType",
        "required",
    ),
    bad(
        "D2.4.4.1 component list not supported by the interactionType",
        {"object.definition": {"interactionType": "likert", "choices": [{"id": "a"}]}},
        "$.object.definition.choices",
        "not allowed",
        "'likert'",
    ),
    bad(
        "D2.4.4.1 component lists on true-false",
        {"object.definition": {"interactionType": "true-false", "steps": [{"id": "a"}]}},
        "$.object.definition.steps",
        "not allowed",
    ),
    bad(
        "D2.4.4.1 duplicate interaction component ids",
        {"object.definition": {"interactionType": "choice", "choices": [{"id": "a"}, {"id": "a"}]}},
        "$.object.definition.choices[1].id",
        "distinct",
    ),
    bad(
        "D2.4.4.1 component without id",
        {"object.definition": {"interactionType": "sequencing", "choices": [{"description": {"en": "x"}}]}},
        "$.object.definition.choices[0].id",
        "required",
    ),
    bad(
        "D2.4.4.1 unknown component property",
        {"object.definition": {"interactionType": "choice", "choices": [{"id": "a", "name": {"en": "x"}}]}},
        "$.object.definition.choices[0].name",
        "unknown property",
    ),
    bad(
        "D2.4.4.1 component description language map (suite)",
        {
            "object.definition": {
                "interactionType": "choice",
                "choices": [{"id": "a", "description": {"a12345678": "x"}}],
            }
        },
        "$.object.definition.choices[0].description.a12345678",
        "RFC 5646",
    ),
    bad(
        "D2.4.4.1 correctResponsesPattern entries are strings",
        {"object.definition": {"interactionType": "numeric", "correctResponsesPattern": [4]}},
        "$.object.definition.correctResponsesPattern[0]",
        "string",
    ),
    # statement references and substatements
    bad("D2.4.4.3 StatementRef without id", {"object": {"objectType": "StatementRef"}}, "$.object.id", "required"),
    bad("D2.4.4.3 StatementRef id not a UUID", {"object": {**REF, "id": "should fail"}}, "$.object.id", "UUID"),
    bad(
        "D2.4.4.3 StatementRef objectType case",
        {"object": {**REF, "objectType": "statementref"}},
        "$.object.objectType",
        "one of",
    ),
    bad(
        "D2.4.4.3 StatementRef with extra property",
        {"object": {**REF, "definition": {}}},
        "$.object.definition",
        "unknown property",
    ),
    ok("D2.4.4.3 SubStatement", {"object": SUB, **NO_REV}),
    ok(
        "D2.4.4.3 SubStatement with result, context, future timestamp, attachments",
        {
            "object": {
                **SUB,
                "result": {"completion": True},
                "context": {"platform": "p", "revision": "r"},
                "timestamp": "2099-01-01T00:00:00Z",
                "attachments": [ATT],
            },
            **NO_REV,
        },
    ),
    ok("D2.4.4.3 SubStatement with StatementRef object", {"object": {**SUB, "object": REF}, **NO_REV}),
    bad(
        "D2.4.4.3 SubStatement must not have id",
        {"object": {**SUB, "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"}},
        "$.object.id",
        "SubStatement",
    ),
    bad(
        "D2.4.4.3 SubStatement must not have stored",
        {"object": {**SUB, "stored": "2013-05-18T05:32:34Z"}},
        "$.object.stored",
        "SubStatement",
    ),
    bad(
        "D2.4.4.3 SubStatement must not have version",
        {"object": {**SUB, "version": "1.0.0"}},
        "$.object.version",
        "SubStatement",
    ),
    bad(
        "D2.4.4.3 SubStatement must not have authority",
        {"object": {**SUB, "authority": AGENT}},
        "$.object.authority",
        "SubStatement",
    ),
    bad(
        "D2.4.4.3 nested SubStatement",
        {"object": {**SUB, "object": SUB}},
        "$.object.object.objectType",
        "cannot contain",
    ),
    bad("D2.4.4.3 SubStatement without verb", {"object": drop(SUB, "verb")}, "$.object.verb", "required"),
    bad(
        "D2.4.4.3 SubStatement Agent object without objectType",
        {"object": {**SUB, "object": {"mbox": "mailto:a@example.com"}}},
        "$.object.object.objectType",
        "required",
    ),
    bad(
        "D2.4.4.3 SubStatement objectType case (suite objects.js)",
        {"object": {**SUB, "objectType": "substatement"}},
        "$.object.objectType",
        "one of",
    ),
    # --- D §2.4.5 result ---------------------------------------------------------------------------------------------
    ok("D2.4.5.1 scaled at the bounds", {"result.score": {"scaled": -1}}),
    ok("D2.4.5.1 raw only", {"result.score": {"raw": 12345.678}}),
    ok("D2.4.5.1 raw equal to min and max bounds", {"result.score": {"raw": 0, "min": 0, "max": 1}}),
    ok("D2.4.5 empty result", {"result": {}}),
    bad("D2.4.5.1 scaled above 1", {"result.score.scaled": 1.01}, "$.result.score.scaled", "between -1 and 1"),
    bad("D2.4.5.1 scaled below -1", {"result.score.scaled": -1.00001}, "$.result.score.scaled", "between"),
    bad("D2.4.5.1 raw below min", {"result.score.raw": -1}, "$.result.score.raw", "less than min"),
    bad("D2.4.5.1 raw above max", {"result.score.raw": 101}, "$.result.score.raw", "greater than max"),
    bad("D2.4.5.1 raw above max without min", {"result.score": {"raw": 5, "max": 4}}, "$.result.score.raw", "max"),
    bad("D2.4.5.1 min equal to max", {"result.score": {"min": 5, "max": 5}}, "$.result.score.max", "greater than min"),
    bad("D2.4.5.1 score not an object", {"result.score": 12345}, "$.result.score", "Score object"),
    bad("D2.4.5 response must be a string", {"result.response": 5}, "$.result.response", "string"),
    ok("D4.6 duration with more than 0.01 s precision (suite 4.2.7)", {"result.duration": "P1DT12H36M0.12567S"}),
    ok("D4.6 duration in weeks", {"result.duration": "P4W"}),
    ok("D4.6 duration years only", {"result.duration": "P3Y"}),
    ok("D4.6 duration with fraction on the lowest component", {"result.duration": "PT0.5H"}),
    bad(
        "D4.6 duration mixing weeks and days (suite durations.js)",
        {"result.duration": "P4W1D"},
        "$.result.duration",
        "ISO 8601 duration",
    ),
    bad("D4.6 duration with bad designator", {"result.duration": "PA1H0M0S"}, "$.result.duration", "ISO 8601"),
    bad(
        "D4.6 alternative duration format", {"result.duration": "P0003-06-04T12:30:05"}, "$.result.duration", "ISO 8601"
    ),
    bad("D4.6 empty duration", {"result.duration": "PT"}, "$.result.duration", "ISO 8601"),
    bad("D4.6 fraction on a non-lowest component", {"result.duration": "PT0.5H1M"}, "$.result.duration", "ISO"),
    bad("D4.6 duration is a number", {"result.duration": 3600}, "$.result.duration", "duration string"),
    # --- D §4.1 extensions --------------------------------------------------------------------------------------------
    ok(
        "D4.1 extension values may be null, empty, anything (suite E.Data4.0)",
        {
            "result.extensions": {"http://example.com/a": None, "http://example.com/b": "", "http://example.com/c": {}},
            "context.extensions": {},
            "object.definition.extensions": {"urn:x:y": [None, {"k": None}]},
        },
    ),
    bad(
        "D4.1 extension key is not an IRI (suite Data2.2)",
        _set_ext("result.extensions", "example.com/ext/wrong", 1),
        '$.result.extensions["example.com/ext/wrong"]',
        "not an absolute IRI",
    ),
    bad(
        "D4.1 definition extension key not an IRI (suite Data2.2)",
        {"object.definition.extensions": {"not.valid.com/extension": 1234}},
        '$.object.definition.extensions["not.valid.com/extension"]',
        "IRI",
    ),
    bad(
        "D4.1 extensions must be an object",
        {"context.extensions": ["http://example.com/a"]},
        "$.context.extensions",
        "object of IRI",
    ),
    # --- D §2.4.6 context ------------------------------------------------------------------------------------------
    ok("D2.4.6 revision and platform with an Activity object", {"context.revision": "r1", "context.platform": "p"}),
    ok(
        "D2.4.6 revision with an Activity object without objectType (suite contexts.js)",
        {"object.objectType": DELETE, "context.revision": "r1"},
    ),
    ok("D2.4.6 instructor may be a Group", {"context.instructor": {"objectType": "Group", "member": [AGENT]}}),
    ok("D2.4.6 empty context", {"context": {}}),
    bad("D2.4.6 registration not a UUID", {"context.registration": "abc"}, "$.context.registration", "UUID"),
    bad("D2.4.6 instructor invalid", {"context.instructor": {"name": "x"}}, "$.context.instructor", "exactly one"),
    bad(
        "D2.4.6 team must be a Group (suite contexts.js)",
        {"context.team": AGENT},
        "$.context.team.objectType",
        "'Group'",
    ),
    bad(
        "D2.4.6 team without objectType", {"context.team": {"member": [AGENT]}}, "$.context.team.objectType", "required"
    ),
    bad("D2.4.6 revision must be a string", {"context.revision": 3}, "$.context.revision", "string"),
    bad(
        "D2.4.6 revision only with an Activity object",
        {"object": REF, "context.revision": "r"},
        "$.context.revision",
        "only allowed",
        "StatementRef",
    ),
    bad(
        "D2.4.6 platform only with an Activity object",
        {"object": AGENT, "context.platform": "p"},
        "$.context.platform",
        "only allowed",
        "Agent",
    ),
    bad(
        "D2.4.6 platform not with a SubStatement object (suite contexts.js)",
        {"object": SUB, "context.platform": "p"},
        "$.context.platform",
        "SubStatement",
    ),
    bad(
        "D2.4.6 SubStatement context revision follows the SubStatement's object",
        {"object": {**SUB, "object": REF, "context": {"revision": "r"}}, **NO_REV},
        "$.object.context.revision",
        "only allowed",
    ),
    bad("D2.4.6 language not a tag", {"context.language": "en_US"}, "$.context.language", "RFC 5646"),
    bad("D2.4.6 language is a number", {"context.language": 5}, "$.context.language", "language tag string"),
    bad(
        "D2.4.6 statement must be a StatementRef",
        {"context.statement": {"id": REF["id"]}},
        "$.context.statement.objectType",
        "required",
    ),
    bad(
        "D2.4.6 statement objectType case",
        {"context.statement.objectType": "statementref"},
        "$.context.statement.objectType",
        "'StatementRef'",
    ),
    ok(
        "D2.4.6.2 all four contextActivities keys, single and array",
        {
            "context.contextActivities": {
                "parent": {"id": "http://example.com/p"},
                "grouping": [],
                "category": [{"id": "http://example.com/c"}],
                "other": [{"id": "http://example.com/o", "definition": {"name": {"en": "o"}}}],
            }
        },
    ),
    bad(
        "D2.4.6.2 unknown contextActivities key",
        {"context.contextActivities.parents": []},
        "$.context.contextActivities.parents",
        "unknown property",
    ),
    bad(
        "D2.4.6.2 contextActivities value is a string",
        {"context.contextActivities.other": "x"},
        "$.context.contextActivities.other",
        "Activity or an array",
    ),
    bad(
        "D2.4.6.2 invalid activity in an array",
        {"context.contextActivities.parent[0].id": "no-scheme"},
        "$.context.contextActivities.parent[0].id",
        "IRI",
    ),
    bad(
        "D2.4.6.2 context activity with a non-Activity objectType",
        {"context.contextActivities.category.objectType": "Agent"},
        "$.context.contextActivities.category.objectType",
        "'Activity'",
    ),
    # --- 2.0 §4.2.2.5 contextAgents / contextGroups ---------------------------------------------------------------
    bad(
        "C4 1.0.3 rejects contextAgents (a 2.0 property)",
        {"context.contextAgents": [CA]},
        "$.context.contextAgents",
        "unknown property",
        "2.0",
        versions=(V1,),
    ),
    bad(
        "C4 1.0.3 rejects contextGroups (a 2.0 property)",
        {"context.contextGroups": [CG]},
        "$.context.contextGroups",
        "unknown property",
        versions=(V1,),
    ),
    ok(
        "2.0 4.2.2.5 contextAgents and contextGroups",
        {"context.contextAgents": [CA], "context.contextGroups": [CG]},
        versions=(V2,),
    ),
    ok("2.0 4.2.2.5 relevantTypes is optional", {"context.contextAgents": [drop(CA, "relevantTypes")]}, versions=(V2,)),
    ok(
        "2.0 4.2.2.5 contextAgents in a SubStatement context",
        {"object": {**SUB, "context": {"contextAgents": [CA]}}, **NO_REV},
        versions=(V2,),
    ),
    bad(
        "2.0 4.2.2.5 contextAgent objectType (suite contextagents.js)",
        {"context.contextAgents": [{**CA, "objectType": "Should fail"}]},
        "$.context.contextAgents[0].objectType",
        "'contextAgent'",
        versions=(V2,),
    ),
    bad(
        "2.0 4.2.2.5 contextAgent objectType is required",
        {"context.contextAgents": [drop(CA, "objectType")]},
        "$.context.contextAgents[0].objectType",
        "required",
        versions=(V2,),
    ),
    bad(
        "2.0 4.2.2.5 contextAgent agent invalid (suite)",
        {"context.contextAgents": [{**CA, "agent": {"key": "x"}}]},
        "$.context.contextAgents[0].agent.key",
        "unknown property",
        versions=(V2,),
    ),
    bad(
        "2.0 4.2.2.5 contextAgent agent must not be a Group",
        {"context.contextAgents": [{**CA, "agent": {"objectType": "Group", "member": [AGENT]}}]},
        "$.context.contextAgents[0].agent.objectType",
        "Group is not allowed",
        versions=(V2,),
    ),
    bad(
        "2.0 4.2.2.5 relevantTypes empty (suite)",
        {"context.contextAgents": [{**CA, "relevantTypes": []}]},
        "$.context.contextAgents[0].relevantTypes",
        "empty",
        versions=(V2,),
    ),
    bad(
        "2.0 4.2.2.5 relevantTypes non-IRI (suite)",
        {"context.contextAgents": [{**CA, "relevantTypes": ["abc"]}]},
        "$.context.contextAgents[0].relevantTypes[0]",
        "IRI",
        versions=(V2,),
    ),
    bad(
        "2.0 4.2.2.5 contextAgents must be an array",
        {"context.contextAgents": CA},
        "$.context.contextAgents",
        "array",
        versions=(V2,),
    ),
    bad(
        "2.0 4.2.2.5 contextGroup with a stray property (suite contextgroups.js)",
        {"context.contextGroups": [{**CG, "member": [AGENT]}]},
        "$.context.contextGroups[0].member",
        "unknown property",
        versions=(V2,),
    ),
    bad(
        "2.0 4.2.2.5 contextGroup group without objectType",
        {"context.contextGroups": [{**CG, "group": {"mbox": "mailto:t@example.com"}}]},
        "$.context.contextGroups[0].group.objectType",
        "required",
        versions=(V2,),
    ),
    bad(
        "2.0 4.2.2.5 contextGroup objectType",
        {"context.contextGroups": [{**CG, "objectType": "contextAgent"}]},
        "$.context.contextGroups[0].objectType",
        "'contextGroup'",
        versions=(V2,),
    ),
    # --- D §2.4.7 timestamp, §2.4.8 stored, §4.5 --------------------------------------------------------------
    ok("D4.5 timestamp in Z", {"timestamp": "2013-05-18T05:32:34.804Z"}),
    ok("D4.5 timestamp without offset", {"timestamp": "2013-05-18T05:32:34.804"}),
    ok("D4.5 timestamp with +hhmm offset", {"timestamp": "2013-05-18T05:32:34+0530"}),
    ok("D4.5 timestamp in basic format", {"timestamp": "20130518T053234Z"}),
    ok("D4.5 timestamp with nanoseconds", {"timestamp": "2013-05-18T05:32:34.123456789Z"}),
    ok("D2.4.7 future timestamp is not rejected (suite timestamps.js)", {"timestamp": "2999-01-01T00:00:00Z"}),
    ok("D2.4.8 stored is validated and accepted", {"stored": "2013-05-18T05:33:00.000Z"}),
    bad(
        "D4.5 -00 offset (suite timestamps.js, both versions)",
        {"timestamp": "2008-09-15T15:53:00.601-00"},
        "$.timestamp",
        "negative zero",
    ),
    bad(
        "D4.5 -0000 offset (suite timestamps.js)",
        {"timestamp": "2008-09-15T15:53:00.601-0000"},
        "$.timestamp",
        "negative zero",
    ),
    bad(
        "D4.5 -00:00 offset (suite timestamps.js)",
        {"timestamp": "2008-09-15T15:53:00.601-00:00"},
        "$.timestamp",
        "negative zero",
    ),
    bad("D4.5 not a date (suite timestamps.js)", {"timestamp": "01/011/2015"}, "$.timestamp", "ISO 8601"),
    bad("D4.5 impossible date", {"timestamp": "2013-02-30T00:00:00Z"}, "$.timestamp", "calendar"),
    bad("D4.5 date without time", {"timestamp": "2013-05-18"}, "$.timestamp", "ISO 8601"),
    bad("D4.5 offset out of range", {"timestamp": "2013-05-18T05:32:34+24:00"}, "$.timestamp", "offset"),
    bad("D4.5 timestamp is a number", {"timestamp": 1368855154}, "$.timestamp", "timestamp string"),
    bad("D2.4.8 stored is validated", {"stored": "yesterday"}, "$.stored", "ISO 8601"),
    # --- D §2.4.9 authority ------------------------------------------------------------------------------------------
    ok("D2.4.9 authority Agent", {"authority": AGENT}),
    ok(
        "D2.4.9 authority OAuth group of two (suite authorities.js)",
        {
            "authority": {
                "objectType": "Group",
                "member": [
                    {"account": {"homePage": "http://example.com/xAPI/OAuth/Token", "name": "oauth_consumer_x75db"}},
                    {"mbox": "mailto:bob@example.com"},
                ],
            }
        },
    ),
    bad(
        "D2.4.9 authority group of one (suite)",
        {"authority": {"objectType": "Group", "member": [AGENT]}},
        "$.authority.member",
        "exactly two",
    ),
    bad(
        "D2.4.9 authority group of three (suite)",
        {"authority": {"objectType": "Group", "member": [AGENT] * 3}},
        "$.authority.member",
        "exactly two",
    ),
    bad(
        "D2.4.9 authority identified group (suite)",
        {"authority": {"objectType": "Group", "mbox": "mailto:g@example.com", "member": [AGENT, AGENT]}},
        "$.authority",
        "identified Group",
    ),
    bad(
        "D2.4.9 authority without IFI (suite attachments.js)",
        {"authority": {"objectType": "Agent"}},
        "$.authority",
        "exactly one",
    ),
    bad(
        "D2.4.9 authority objectType case",
        {"authority": {**AGENT, "objectType": "agent"}},
        "$.authority.objectType",
        "'agent'",
    ),
    # --- D §2.4.10 version -------------------------------------------------------------------------------------------
    ok("D2.4.10 version 1.0", {"version": "1.0"}),
    ok("D2.4.10 version 1.0.9 (suite version.js)", {"version": "1.0.9"}),
    ok("2.0 4.2.4.3 version 2.0.0 in a 2.0 request", {"version": "2.0.0"}, versions=(V2,)),
    bad("D2.4.10 version 2.0.0 in a 1.0.3 request", {"version": "2.0.0"}, "$.version", "1.0 or 1.0.x", versions=(V1,)),
    bad("D2.4.10 version 1.1.0 (suite)", {"version": "1.1.0"}, "$.version", "must be"),
    bad("D2.4.10 version 0.9.9 (suite)", {"version": "0.9.9"}, "$.version", "must be"),
    bad("D2.4.10 version is a number", {"version": 1.0}, "$.version", "version string"),
    bad("D2.4.10 version with suffix", {"version": "1.0.3-beta"}, "$.version", "must be"),
    # --- D §2.4.11 attachments --------------------------------------------------------------------------------------
    ok("D2.4.11 attachment", {"attachments": [ATT]}),
    ok("D2.4.11 attachment without optional properties", {"attachments": [drop(ATT, "description", "fileUrl")]}),
    ok("D2.4.11 empty attachments array", {"attachments": []}),
    bad("D2.4.11 attachments not an array (suite)", {"attachments": ATT}, "$.attachments", "array"),
    bad("D2.4.11 attachment is a number (suite)", {"attachments": [12345]}, "$.attachments[0]", "Attachment"),
    bad("D2.4.11 sha2 is required", {"attachments": [drop(ATT, "sha2")]}, "$.attachments[0].sha2", "required"),
    bad("D2.4.11 display is required", {"attachments": [drop(ATT, "display")]}, "$.attachments[0].display", "required"),
    bad("D2.4.11 sha2 is a number (suite)", {"attachments": [{**ATT, "sha2": 12345}]}, "$.attachments[0].sha2", "hex"),
    bad("D2.4.11 sha2 not hex", {"attachments": [{**ATT, "sha2": "z" * 64}]}, "$.attachments[0].sha2", "SHA-2"),
    bad(
        "D2.4.11 length is a string (suite)",
        {"attachments": [{**ATT, "length": "27"}]},
        "$.attachments[0].length",
        "integer",
    ),
    bad(
        "D2.4.11 length is a boolean", {"attachments": [{**ATT, "length": True}]}, "$.attachments[0].length", "integer"
    ),
    bad("D2.4.11 negative length", {"attachments": [{**ATT, "length": -1}]}, "$.attachments[0].length", "negative"),
    bad(
        "D2.4.11 contentType is a number (suite)",
        {"attachments": [{**ATT, "contentType": 12345}]},
        "$.attachments[0].contentType",
        "media type",
    ),
    bad(
        "D2.4.11 contentType not a media type",
        {"attachments": [{**ATT, "contentType": "text"}]},
        "$.attachments[0].contentType",
        "media type",
    ),
    bad(
        "D2.4.11 usageType without scheme (suite Data2.2)",
        {"attachments": [{**ATT, "usageType": "example.com/u"}]},
        "$.attachments[0].usageType",
        "IRI",
    ),
    bad(
        "D2.4.11 fileUrl without scheme (suite Data2.2)",
        {"attachments": [{**ATT, "fileUrl": "over.there.com/f"}]},
        "$.attachments[0].fileUrl",
        "IRL",
    ),
    bad(
        "D2.4.11 display language map (suite languages.js)",
        {"attachments": [{**ATT, "display": {"a12345678": "x"}}]},
        "$.attachments[0].display.a12345678",
        "RFC 5646",
    ),
    bad(
        "D2.4.11 unknown attachment property",
        {"attachments": [{**ATT, "content": "x"}]},
        "$.attachments[0].content",
        "unknown property",
    ),
]

_PARAMS = [pytest.param(c, v, id=f"{c.id} [{v.value}]") for c in CASES for v in c.versions]


@pytest.mark.parametrize(("case", "version"), _PARAMS)
def test_statement(case: Case, version: Version) -> None:
    stmt = apply(base(), case.changes)
    if case.path is None:
        assert validate_statement(stmt, version) is stmt
        return
    with pytest.raises(BadRequest) as info:
        validate_statement(stmt, version)
    err = info.value
    assert err.status == 400
    assert err.path == case.path, err.describe()
    for word in case.words:
        assert word in err.message, err.describe()
    # the message names the offending property (its last path segment)
    last = re.findall(r'[^.\[\]"]+', case.path)[-1]
    assert last in err.message, err.message


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_error_message_example() -> None:
    """D §2.4.2.3: the message names the property by path and quotes the bad value."""
    stmt = apply(base(), {"actor.mbox": "foo@example.com"})
    with pytest.raises(BadRequest) as info:
        validate_statement(stmt, V1)
    assert info.value.message == "actor.mbox must be a mailto: IRI (mailto:name@example.com), got 'foo@example.com'"
    assert info.value.path == "$.actor.mbox"
    assert info.value.to_json()["path"] == "$.actor.mbox"


def test_statement_must_be_an_object() -> None:
    """D §2.2: a statement is a JSON object."""
    with pytest.raises(BadRequest) as info:
        validate_statement(["not", "a", "statement"], V2)
    assert info.value.path == "$"
    assert info.value.message == "statement must be a Statement object, got an array"


def test_validation_does_not_modify_the_statement() -> None:
    """D §2.2 / C24: validation returns the same dict, unchanged (single contextActivities stay single)."""
    stmt = base()
    before = copy.deepcopy(stmt)
    assert validate_statement(stmt, V2) is stmt
    assert stmt == before


def test_custom_root_path() -> None:
    """A caller may validate a statement embedded elsewhere by giving its path."""
    stmt = apply(base(), {"verb.id": "nope"})
    with pytest.raises(BadRequest) as info:
        validate_statement(stmt, V1, path="$.statements[3]")
    assert info.value.path == "$.statements[3].verb.id"


# --- validate_batch (C §2.1.2 POST) -----------------------------------------------------------------------------


def test_batch_single_statement() -> None:
    stmt = base()
    assert validate_batch(stmt, V1) == [stmt]


def test_batch_array_and_empty_array() -> None:
    a, b = base(), apply(base(), {"id": "aa97b177-9383-4934-8543-0f91a7a02836"})
    assert validate_batch([a, b], V2) == [a, b]
    assert validate_batch([], V2) == []


def test_batch_error_carries_index_and_relative_path() -> None:
    body = [base(), apply(base(), {"context.contextActivities.parent[0].id": "x"})]
    with pytest.raises(BadRequest) as info:
        validate_batch(body, V1)
    assert info.value.index == 1
    assert info.value.path == "$.context.contextActivities.parent[0].id"
    assert info.value.to_json()["statementIndex"] == 1


def test_batch_single_statement_error_has_no_index() -> None:
    with pytest.raises(BadRequest) as info:
        validate_batch(apply(base(), {"verb": DELETE}), V1)
    assert info.value.index is None
    assert info.value.path == "$.verb"


def test_batch_non_object_member() -> None:
    with pytest.raises(BadRequest) as info:
        validate_batch([base(), "statement"], V1)
    assert (info.value.index, info.value.path) == (1, "$")


@pytest.mark.parametrize("body", ["text", 5, None, True])
def test_batch_body_must_be_object_or_array(body: object) -> None:
    with pytest.raises(BadRequest) as info:
        validate_batch(body, V2)
    assert info.value.path == "$"
    assert "array of statements" in info.value.message


def test_batch_duplicate_ids() -> None:
    """suite 4.1.6.1: reject a batch where the same id is used more than once (case-insensitively)."""
    a = base()
    b = apply(base(), {"id": a["id"].upper()})
    with pytest.raises(BadRequest) as info:
        validate_batch([a, base(), b], V1)
    assert (info.value.index, info.value.path) == (1, "$.id")
    assert "more than one" in info.value.message


# --- validate_agent (D §2.4.2; agent query parameters) ------------------------------------------------------


def test_agent_parameter_ok() -> None:
    agent = {"mbox": "mailto:a@example.com"}
    assert validate_agent(agent, V1) is agent
    assert validate_agent({"objectType": "Group", "openid": "http://o.example/g"}, V2) is not None


def test_agent_parameter_group_not_allowed() -> None:
    with pytest.raises(BadRequest) as info:
        validate_agent({"objectType": "Group", "mbox": "mailto:g@example.com"}, V1, path="agent", allow_group=False)
    assert info.value.path == "agent.objectType"
    assert "Group is not allowed" in info.value.message


def test_agent_parameter_labels() -> None:
    with pytest.raises(BadRequest) as info:
        validate_agent({"mbox": "a@example.com"}, V1, path="agent")
    assert info.value.message.startswith("agent.mbox must be a mailto: IRI")
    with pytest.raises(BadRequest) as info:
        validate_agent("mailto:a@example.com", V1)
    assert info.value.path == "$"
    assert info.value.message.startswith("agent must be an Agent or Group object")
    with pytest.raises(BadRequest) as info:
        validate_agent({"name": "x"}, V1)
    assert info.value.message.startswith("agent must have exactly one of mbox")


# --- parse_timestamp / normalize_timestamp (D §4.5; 2.0 §4.2.7) ---------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2013-05-18T05:32:34.804Z", datetime.datetime(2013, 5, 18, 5, 32, 34, 804000, datetime.UTC)),
        ("2013-05-18T05:32:34", datetime.datetime(2013, 5, 18, 5, 32, 34, tzinfo=datetime.UTC)),
        ("2013-05-18T10:32:34+05:00", datetime.datetime(2013, 5, 18, 5, 32, 34, tzinfo=datetime.UTC)),
        ("20130518T053234,5Z", datetime.datetime(2013, 5, 18, 5, 32, 34, 500000, datetime.UTC)),
        ("2013-05-18t05:32z", datetime.datetime(2013, 5, 18, 5, 32, tzinfo=datetime.UTC)),
    ],
)
def test_parse_timestamp(value: str, expected: datetime.datetime) -> None:
    """D §4.5: ISO 8601 timestamps; a value without offset is read as UTC; result is timezone-aware."""
    for version in BOTH:
        got = parse_timestamp(value, version)
        assert got == expected
        assert got.tzinfo is not None


@pytest.mark.parametrize("value", ["2013-05-18T05:32:34-00:00", "x", "", "2013-13-01T00:00:00Z", 5, None])
def test_parse_timestamp_rejects(value: object) -> None:
    """D §4.5; suite timestamps.js: malformed timestamps and negative-zero offsets give 400 with the given path."""
    for version in BOTH:
        with pytest.raises(BadRequest) as info:
            parse_timestamp(value, version, path="since")
        assert info.value.path == "since"
        assert info.value.message.startswith("since ")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-05-04T12:00:00-05:00", "2023-05-04T17:00:00.000Z"),  # suite 4.2.7 "converts timestamps to UTC"
        ("2008-09-15T15:53:00.601+00:00", "2008-09-15T15:53:00.601Z"),
        ("2013-01-01T01:00:00.5+02:00", "2012-12-31T23:00:00.500Z"),
        ("2013-05-18T05:32:34.123456789+01:00", "2013-05-18T04:32:34.123456789Z"),
        ("2013-05-18T05:32:34", "2013-05-18T05:32:34.000Z"),
        ("20130518T053234+0100", "2013-05-18T04:32:34.000Z"),
    ],
)
def test_normalize_timestamp_v2(value: str, expected: str) -> None:
    """2.0 §4.2.7: stored timestamps are converted to UTC, keeping at least millisecond precision."""
    assert normalize_timestamp(value, V2) == expected


def test_normalize_timestamp_v1_unchanged() -> None:
    """D §4.5: 1.0.3 MAY convert; this LRS keeps 1.0.3 timestamps exactly as sent."""
    assert normalize_timestamp("2023-05-04T12:00:00-05:00", V1) == "2023-05-04T12:00:00-05:00"


def test_normalize_timestamp_rejects_invalid() -> None:
    with pytest.raises(BadRequest):
        normalize_timestamp("2023-05-04T12:00:00-00:00", V2)
