"""Writes openapi/openapi.json, the published OpenAPI 3.1 document of the LRS, from the Python dicts below.

The route handlers read the raw Request (xAPI wants its own 400 for unknown, wrong-case and repeated parameters),
so FastAPI cannot generate parameters, bodies or responses; this script states them, following src/lrs/http/*.py
and the xAPI Communication spec (C §1-§4). Run `python openapi/build.py` after editing it and commit both files;
tests/unit/test_openapi.py fails when the JSON is not what this script writes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

Json = dict[str, Any]

OUT = Path(__file__).resolve().parent / "openapi.json"
TITLE = "lrs"
VERSION = "0.1.0"

# --- small builders -------------------------------------------------------------------------------------------


def ref(name: str, section: str = "schemas") -> Json:
    """A $ref to a component."""
    return {"$ref": f"#/components/{section}/{name}"}


def string(description: str, fmt: str | None = None, **extra: Any) -> Json:
    """A string schema with a description and an optional format."""
    out: Json = {"type": "string"}
    if fmt is not None:
        out["format"] = fmt
    out["description"] = description
    out.update(extra)
    return out


def obj(properties: Json, required: list[str] | None = None, description: str | None = None, **extra: Any) -> Json:
    """A closed object schema: the LRS rejects unknown properties at every level of a statement."""
    out: Json = {"type": "object"}
    if description is not None:
        out["description"] = description
    out["properties"] = properties
    if required:
        out["required"] = required
    out["additionalProperties"] = False
    out.update(extra)
    return out


def array(items: Json, description: str | None = None, **extra: Any) -> Json:
    """An array schema."""
    out: Json = {"type": "array", "items": items}
    if description is not None:
        out["description"] = description
    out.update(extra)
    return out


def query(name: str, description: str, schema: Json, *, required: bool = False) -> Json:
    """A query parameter with a plain schema."""
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def json_query(name: str, description: str, schema: Json, *, required: bool = False) -> Json:
    """A query parameter whose value is JSON text (an Agent), described by `content`."""
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }


def header(name: str) -> Json:
    """A $ref to a response header component."""
    return ref(name, "headers")


VERSION_HEADERS: Json = {"X-Experience-API-Version": header("Version")}


def error(status: int, description: str, *, statements: bool = False) -> Json:
    """An xAPI error response (C §3.2): the JSON error body and the version header."""
    headers = dict(VERSION_HEADERS)
    if statements:
        headers["X-Experience-API-Consistent-Through"] = header("ConsistentThroughOnError")
    return {
        "description": description,
        "headers": headers,
        "content": {"application/json": {"schema": ref("Error")}},
    }


BUSY = (503, error(503, "Every database connection stayed busy for LRS_POOL_TIMEOUT seconds; retry later."))


def responses(*pairs: tuple[int, Json], database: bool = True) -> Json:
    """Responses keyed by status code, in order; an operation that needs the database can also answer 503."""
    return {str(status): response for status, response in (*pairs, *((BUSY,) if database else ()))}


def head_of(get: Json, operation_id: str, summary: str) -> Json:
    """The HEAD operation of a GET (C §1.1): the same parameters and headers, no response body."""
    head = copy.deepcopy(get)
    head["operationId"] = operation_id
    head["summary"] = summary
    head["description"] = "As GET, with the same status and headers (including Content-Length) and no body (C §1.1)."
    for response in head["responses"].values():
        if "content" in response:
            del response["content"]
    return head


# --- component schemas (D §2.2-2.6, §4; 2.0 §4.2) -------------------------------------------------------------

IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


def _ifi_properties() -> Json:
    return {
        "mbox": string(
            "mailto: IRI of the e-mail address (an Inverse Functional Identifier).", "iri", pattern="^mailto:"
        ),
        "mbox_sha1sum": string("Hex SHA-1 of the mailto: IRI (an IFI).", pattern="^[0-9a-fA-F]{40}$"),
        "openid": string("OpenID URI (an IFI).", "uri"),
        "account": ref("Account"),
    }


EXACTLY_ONE_IFI = [{"required": [ifi]} for ifi in IFIS]

SCHEMAS: Json = {
    "LanguageMap": {
        "type": "object",
        "description": "RFC 5646 language tag to text (D §4.2).",
        "additionalProperties": {"type": "string"},
        "examples": [{"en-US": "completed", "de-DE": "abgeschlossen"}],
    },
    "Extensions": {
        "type": "object",
        "description": "IRI to any JSON value, null included (D §4.1).",
        "additionalProperties": True,
    },
    "Account": obj(
        {
            "homePage": string("IRL of the system the account belongs to.", "iri"),
            "name": string("The account's unique id or name on that system."),
        },
        ["homePage", "name"],
        "An account on an existing system (D §2.4.2.4); an IFI.",
    ),
    "Agent": obj(
        {
            "objectType": {"const": "Agent", "description": "Required when the Agent is a statement's object."},
            "name": string("Full name."),
            **_ifi_properties(),
        },
        description="An Agent (D §2.4.2.1): exactly one Inverse Functional Identifier.",
        oneOf=EXACTLY_ONE_IFI,
    ),
    "Group": obj(
        {
            "objectType": {"const": "Group"},
            "name": string("Name of the Group."),
            "member": array(ref("Agent"), "The Group's members: Agents, never Groups."),
            **_ifi_properties(),
        },
        ["objectType"],
        "A Group (D §2.4.2.2): identified by at most one IFI; an anonymous Group (no IFI) needs `member`.",
        oneOf=[
            *EXACTLY_ONE_IFI,
            {"required": ["member"], "not": {"anyOf": EXACTLY_ONE_IFI}},
        ],
    ),
    "Actor": {
        "description": "An Agent or a Group (D §2.4.2).",
        "oneOf": [ref("Agent"), ref("Group")],
    },
    "Verb": obj(
        {
            "id": string("IRI of the Verb.", "iri", examples=["http://adlnet.gov/expapi/verbs/completed"]),
            "display": ref("LanguageMap"),
        },
        ["id"],
        "The action (D §2.4.3).",
    ),
    "InteractionComponent": obj(
        {"id": string("Id, distinct within its list."), "description": ref("LanguageMap")},
        ["id"],
        "An interaction component (D §2.4.4.1).",
    ),
    "ActivityDefinition": obj(
        {
            "name": ref("LanguageMap"),
            "description": ref("LanguageMap"),
            "type": string("IRI of the Activity type.", "iri"),
            "moreInfo": string("IRL of a human-readable description.", "iri"),
            "extensions": ref("Extensions"),
            "interactionType": {
                "type": "string",
                "enum": [
                    "true-false",
                    "choice",
                    "fill-in",
                    "long-fill-in",
                    "matching",
                    "performance",
                    "sequencing",
                    "likert",
                    "numeric",
                    "other",
                ],
                "description": "Required when any interaction property is present.",
            },
            "correctResponsesPattern": array({"type": "string"}),
            "choices": array(ref("InteractionComponent"), "For choice and sequencing."),
            "scale": array(ref("InteractionComponent"), "For likert."),
            "source": array(ref("InteractionComponent"), "For matching."),
            "target": array(ref("InteractionComponent"), "For matching."),
            "steps": array(ref("InteractionComponent"), "For performance."),
        },
        description="An Activity definition, including interaction Activities (D §2.4.4.1).",
    ),
    "Activity": obj(
        {
            "objectType": {"const": "Activity", "description": "Optional; Activity is the default object type."},
            "id": string("IRI of the Activity.", "iri", examples=["http://example.com/courses/xapi-101"]),
            "definition": ref("ActivityDefinition"),
        },
        ["id"],
        "An Activity (D §2.4.4.1). From GET /xapi/activities: the canonical definition the LRS holds (ADR 0003).",
    ),
    "StatementRef": obj(
        {"objectType": {"const": "StatementRef"}, "id": string("Id of the referenced statement.", "uuid")},
        ["objectType", "id"],
        "A reference to another statement (D §2.4.4.3); the object of a voiding statement.",
    ),
    "Score": obj(
        {
            "scaled": {"type": "number", "minimum": -1, "maximum": 1},
            "raw": {"type": "number", "description": "Between min and max when they are given."},
            "min": {"type": "number"},
            "max": {"type": "number", "description": "Greater than min."},
        },
        description="D §2.4.5.1.",
    ),
    "Result": obj(
        {
            "score": ref("Score"),
            "success": {"type": "boolean"},
            "completion": {"type": "boolean"},
            "response": {"type": "string"},
            "duration": string("ISO 8601 duration, e.g. PT1H30M5.25S (D §4.6).", "duration"),
            "extensions": ref("Extensions"),
        },
        description="The outcome (D §2.4.5).",
    ),
    "ContextActivityList": {
        "description": "An Activity or an array of Activities; stored and returned as an array (D §2.4.6.2).",
        "oneOf": [ref("Activity"), array(ref("Activity"))],
    },
    "ContextActivities": obj(
        {
            "parent": ref("ContextActivityList"),
            "grouping": ref("ContextActivityList"),
            "category": ref("ContextActivityList"),
            "other": ref("ContextActivityList"),
        },
        description="D §2.4.6.2.",
    ),
    "ContextAgent": obj(
        {
            "objectType": {"const": "contextAgent"},
            "agent": ref("Agent"),
            "relevantTypes": array(string("IRI of a type.", "iri"), minItems=1),
        },
        ["objectType", "agent"],
        "xAPI 2.0 only (2.0 §4.2.2.5).",
    ),
    "ContextGroup": obj(
        {
            "objectType": {"const": "contextGroup"},
            "group": ref("Group"),
            "relevantTypes": array(string("IRI of a type.", "iri"), minItems=1),
        },
        ["objectType", "group"],
        "xAPI 2.0 only (2.0 §4.2.2.5).",
    ),
    "Context": obj(
        {
            "registration": string("The registration (attempt) the statement belongs to.", "uuid"),
            "instructor": ref("Actor"),
            "team": ref("Group"),
            "contextActivities": ref("ContextActivities"),
            "revision": {"type": "string", "description": "Only when the object is an Activity."},
            "platform": {"type": "string", "description": "Only when the object is an Activity."},
            "language": string("RFC 5646 language tag."),
            "statement": ref("StatementRef"),
            "extensions": ref("Extensions"),
            "contextAgents": array(ref("ContextAgent"), "xAPI 2.0 only: an unknown property (400) in a 1.0.3 request."),
            "contextGroups": array(ref("ContextGroup"), "xAPI 2.0 only: an unknown property (400) in a 1.0.3 request."),
        },
        description="D §2.4.6; 2.0 adds contextAgents and contextGroups.",
    ),
    "Attachment": obj(
        {
            "usageType": string("IRI of the attachment's use, e.g. the signature usage type.", "iri"),
            "display": ref("LanguageMap"),
            "description": ref("LanguageMap"),
            "contentType": string("Internet media type of the content."),
            "length": {"type": "integer", "minimum": 0, "description": "Length of the content in octets."},
            "sha2": string(
                "Hex SHA-2 (224/256/384/512) of the content; matches the part's X-Experience-API-Hash.",
                pattern="^([0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})$",
            ),
            "fileUrl": string("IRL the content can be fetched from; without it the request must carry a part.", "iri"),
        },
        ["usageType", "display", "contentType", "length", "sha2"],
        "D §2.4.11. A signed statement carries a compact JWS attachment (D §2.6).",
    ),
    "SubStatement": obj(
        {
            "objectType": {"const": "SubStatement"},
            "actor": ref("Actor"),
            "verb": ref("Verb"),
            "object": {
                "description": "Anything but another SubStatement.",
                "oneOf": [
                    ref("Activity"),
                    {"allOf": [ref("Agent"), {"required": ["objectType"]}]},
                    ref("Group"),
                    ref("StatementRef"),
                ],
            },
            "result": ref("Result"),
            "context": ref("Context"),
            "timestamp": string("ISO 8601 timestamp.", "date-time"),
            "attachments": array(ref("Attachment")),
        },
        ["objectType", "actor", "verb", "object"],
        "A statement as the object of another (D §2.4.4.3): no id, stored, version or authority.",
    ),
    "Statement": obj(
        {
            "id": string("Assigned by the LRS when absent.", "uuid"),
            "actor": ref("Actor"),
            "verb": ref("Verb"),
            "object": {
                "description": "Activity (the default), Agent or Group (objectType required), StatementRef or "
                "SubStatement (D §2.4.4).",
                "oneOf": [
                    ref("Activity"),
                    {"allOf": [ref("Agent"), {"required": ["objectType"]}]},
                    ref("Group"),
                    ref("StatementRef"),
                    ref("SubStatement"),
                ],
            },
            "result": ref("Result"),
            "context": ref("Context"),
            "timestamp": string(
                "ISO 8601 timestamp; no offset is read as UTC, -00:00 offsets are 400. 2.0 stores it in UTC (Z) "
                "with at least millisecond precision; 1.0.3 stores it as sent.",
                "date-time",
            ),
            "stored": string("Set by the LRS; ignored when sent.", "date-time"),
            "authority": {
                "description": "Set by the LRS from the credential: an Agent, or an anonymous Group of two Agents.",
                "allOf": [ref("Actor")],
            },
            "version": string(
                "1.0.3 requests accept 1.0 or 1.0.x; 2.0 requests also 2.0 or 2.0.x. When absent the LRS stores "
                "1.0.0 (1.0.3 request) or 2.0.0 (2.0 request).",
                pattern="^[12]\\.0(\\.[0-9]+)?$",
            ),
            "attachments": array(ref("Attachment")),
        },
        ["actor", "verb", "object"],
        "An xAPI statement (D §2.2-2.4). Unknown properties, nulls outside extensions and wrong-case names are "
        "400 with the JSON path of the offending value.",
        examples=[
            {
                "actor": {"mbox": "mailto:ann@example.com", "name": "Ann"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
                "object": {"id": "http://example.com/courses/xapi-101"},
            }
        ],
    ),
    "StatementResult": obj(
        {
            "statements": array(ref("Statement")),
            "more": string(
                "Relative IRL of the next page (/xapi/statements?more=...), or an empty string on the last page."
            ),
        },
        ["statements", "more"],
        "A page of statements (D §2.5).",
    ),
    "StatementIds": array(string("Statement id, in the order of the request.", "uuid"), "Ids of stored statements."),
    "Person": obj(
        {
            "objectType": {"const": "Person"},
            "name": array({"type": "string"}),
            "mbox": array(string("mailto: IRI.", "iri")),
            "mbox_sha1sum": array({"type": "string"}),
            "openid": array(string("OpenID URI.", "uri")),
            "account": array(ref("Account")),
        },
        ["objectType"],
        "Everything the LRS knows about an Agent (C §2.4): here the Agent's own name and IFI as one-element arrays.",
    ),
    "DocumentIds": array(
        {"type": "string"}, "The stateIds or profileIds of the documents in the context (C §2.3, §2.6, §2.7)."
    ),
    "About": obj(
        {
            "version": array({"type": "string"}, "The xAPI versions the LRS speaks.", examples=[["1.0.3", "2.0.0"]]),
            "extensions": ref("Extensions"),
        },
        ["version"],
        "C §2.8.",
    ),
    "Error": obj(
        {
            "error": {"const": True},
            "status": {"type": "integer", "description": "The HTTP status code."},
            "message": {"type": "string", "description": "What is wrong, with its location."},
            "statementIndex": {
                "type": "integer",
                "minimum": 0,
                "description": "Index of the offending statement in a POSTed batch.",
            },
            "path": {
                "type": "string",
                "description": "JSON path of the offending value, e.g. $.context.contextActivities.parent[0].id, or "
                "the parameter name.",
            },
        },
        ["error", "status", "message"],
        "The body of every error response (C §3.2).",
        examples=[
            {
                "error": True,
                "status": 400,
                "message": "unknown parameter 'Agent': parameter names are case-sensitive, use 'agent'",
            }
        ],
    ),
}

# --- headers --------------------------------------------------------------------------------------------------

VERSION_DESCRIPTION = (
    "The xAPI version of the request (C §3.3): major.minor must be 1.0 or 2.0 (1.0, 1.0.3, 2.0, 2.0.0, ...). "
    "Missing, malformed or another version is 400. The response is given in that version: X-Experience-API-Version "
    "1.0.3 or 2.0.0."
)

HEADERS: Json = {
    "Version": {
        "description": "1.0.3 for a 1.0.x request, 2.0.0 for a 2.0.x one, else the server default "
        "(LRS_DEFAULT_VERSION, 2.0.0). On every response.",
        "schema": {"type": "string", "enum": ["1.0.3", "2.0.0"]},
    },
    "ConsistentThrough": {
        "description": "Statements stored before this time are all returned by queries (C §2.1.3); ISO 8601 UTC.",
        "required": True,
        "schema": {"type": "string", "format": "date-time"},
    },
    "ConsistentThroughOnError": {
        "description": "Also on Statement Resource errors, when the database can be read.",
        "schema": {"type": "string", "format": "date-time"},
    },
    "LastModified": {
        "description": "HTTP-date of the newest change to what is returned (C §2.1.3, §2.2).",
        "schema": {"type": "string"},
    },
    "ETag": {
        "description": 'Quoted SHA-1 hex of the representation, e.g. "e0b2…" (C §3.1).',
        "schema": {"type": "string"},
    },
}

PARAMETERS: Json = {
    "Version": {
        "name": "X-Experience-API-Version",
        "in": "header",
        "required": True,
        "description": VERSION_DESCRIPTION,
        "schema": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+(\\.[0-9]+)?$", "examples": ["2.0.0", "1.0.3"]},
    },
    "AcceptLanguage": {
        "name": "Accept-Language",
        "in": "header",
        "required": False,
        "description": "With format=canonical, each language map is reduced to the best matching language "
        "(C §2.1.3 language filtering).",
        "schema": {"type": "string", "examples": ["de-DE, en;q=0.5"]},
    },
    "IfMatch": {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "description": 'Act only if the stored document\'s ETag is listed (or "*" and one exists); else 412 '
        "(C §3.1, RFC 7232 strong comparison).",
        "schema": {"type": "string", "examples": ['"2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"', "*"]},
    },
    "IfNoneMatch": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": '"*": act only if no document exists; a list of ETags: act only if none matches, else 412 '
        "(304 for a GET) (C §3.1).",
        "schema": {"type": "string", "examples": ["*"]},
    },
}

# --- the Statement Resource (C §2.1) --------------------------------------------------------------------------

BOOLEAN = {"type": "boolean", "default": False}
STATEMENT_QUERY: Json = {
    "statementId": query(
        "statementId",
        "Fetch the one (unvoided) statement with this id. Only `attachments` and `format` may accompany it.",
        {"type": "string", "format": "uuid"},
    ),
    "voidedStatementId": query(
        "voidedStatementId",
        "Fetch the one voided statement with this id (C §2.1.4). Only `attachments` and `format` may accompany it.",
        {"type": "string", "format": "uuid"},
    ),
    "agent": json_query(
        "agent",
        "Filter: statements whose actor or object is this Agent or identified Group (matched by IFI; a Group "
        'matches through its members too). JSON text of the Agent, e.g. {"mbox":"mailto:ann@example.com"}.',
        ref("Actor"),
    ),
    "verb": query("verb", "Filter: statements with this Verb id.", {"type": "string", "format": "iri"}),
    "activity": query(
        "activity", "Filter: statements whose object is the Activity with this id.", {"type": "string", "format": "iri"}
    ),
    "registration": query(
        "registration", "Filter: statements with this context registration.", {"type": "string", "format": "uuid"}
    ),
    "related_activities": query(
        "related_activities",
        "Apply `activity` broadly: also context Activities and those of a SubStatement. `true` or `false`.",
        BOOLEAN,
    ),
    "related_agents": query(
        "related_agents",
        "Apply `agent` broadly: also authority, instructor, team and those of a SubStatement. `true` or `false`.",
        BOOLEAN,
    ),
    "since": query(
        "since", "Only statements stored after this time (exclusive).", {"type": "string", "format": "date-time"}
    ),
    "until": query(
        "until", "Only statements stored at or before this time.", {"type": "string", "format": "date-time"}
    ),
    "limit": query(
        "limit",
        "Most statements per page. 0 or above the server maximum (LRS_MAX_PAGE_SIZE, default 500): the maximum; "
        "absent: the server page size (LRS_PAGE_SIZE, default 100).",
        {"type": "integer", "minimum": 0},
    ),
    "format": query(
        "format",
        "`exact`: as received; `ids`: Agents, Groups, Activities and Verbs reduced to what identifies them; "
        "`canonical`: Activity definitions replaced by the LRS's canonical ones and language maps filtered by "
        "Accept-Language.",
        {"type": "string", "enum": ["exact", "ids", "canonical"], "default": "exact"},
    ),
    "attachments": query(
        "attachments",
        "`true`: answer multipart/mixed with the attachments of the returned statements (C §1.5.2).",
        BOOLEAN,
    ),
    "ascending": query("ascending", "`true`: oldest stored first.", BOOLEAN),
    "more": query(
        "more",
        "Opaque, signed cursor from a StatementResult's `more` link; nothing else may accompany it. Valid for "
        "LRS_MORE_TTL_SECONDS (default 7 days).",
        {"type": "string"},
    ),
}

STATEMENTS_PART = (
    "The statements as the first part (Content-Type application/json), then one part per attachment with headers "
    "X-Experience-API-Hash (the attachment's sha2) and Content-Transfer-Encoding: binary (C §1.5.2). Parts are "
    "matched to attachments by SHA-2; an attachment without fileUrl needs a part, and a part no attachment names "
    "is 400."
)


def statement_body(description: str, json_schema: Json) -> Json:
    """The request body of PUT or POST /xapi/statements: JSON, or multipart/mixed with attachments."""
    return {
        "required": True,
        "description": description,
        "content": {
            "application/json": {"schema": json_schema},
            "multipart/mixed": {"schema": {"type": "string", "description": STATEMENTS_PART}},
        },
    }


STATEMENT_ERRORS = (
    (400, error(400, "Malformed request, parameter or statement; statementIndex and path locate it.", statements=True)),
    (401, error(401, "Missing or wrong Basic credentials.", statements=True)),
    (403, error(403, "The credential lacks the scope (statements/write or all).", statements=True)),
)
TOO_LARGE = (
    413,
    error(413, "Body above LRS_MAX_BODY_BYTES, or attachments above LRS_MAX_ATTACHMENT_BYTES.", statements=True),
)
WRITTEN_HEADERS = {**VERSION_HEADERS, "X-Experience-API-Consistent-Through": header("ConsistentThrough")}

PUT_STATEMENT: Json = {
    "tags": ["Statement Resource"],
    "operationId": "putStatement",
    "summary": "Store one statement under a given id",
    "description": "C §2.1.1. Storing an equivalent statement again under the same id is a no-op (204); a "
    "different one is 409. The body's id, if any, must equal statementId.",
    "parameters": [
        query("statementId", "The statement's id.", {"type": "string", "format": "uuid"}, required=True),
        ref("Version", "parameters"),
    ],
    "requestBody": statement_body("One statement.", ref("Statement")),
    "responses": responses(
        (204, {"description": "Stored (or already stored).", "headers": WRITTEN_HEADERS}),
        *STATEMENT_ERRORS,
        (409, error(409, "A different statement with this id is stored.", statements=True)),
        TOO_LARGE,
    ),
}

POST_STATEMENTS: Json = {
    "tags": ["Statement Resource"],
    "operationId": "postStatements",
    "summary": "Store a statement or a batch",
    "description": "C §2.1.2. All or nothing: one invalid statement fails the batch with 400 naming its index. "
    "Takes no query parameters. In xAPI 1.0.3 a POST with ?method=... is the Alternate Request Syntax (C §1.3) "
    "and stands for the request it names; xAPI 2.0 removed it (400).",
    "parameters": [ref("Version", "parameters")],
    "requestBody": statement_body(
        "A statement or an array of statements.", {"oneOf": [ref("Statement"), array(ref("Statement"))]}
    ),
    "responses": responses(
        (
            200,
            {
                "description": "The stored statements' ids, in order.",
                "headers": WRITTEN_HEADERS,
                "content": {"application/json": {"schema": ref("StatementIds")}},
            },
        ),
        *STATEMENT_ERRORS,
        (409, error(409, "A different statement with one of these ids is stored.", statements=True)),
        TOO_LARGE,
    ),
}

GET_STATEMENTS: Json = {
    "tags": ["Statement Resource"],
    "operationId": "getStatements",
    "summary": "Get one statement, or a filtered page of statements",
    "description": "C §2.1.3. With statementId or voidedStatementId: that statement. Otherwise a StatementResult, "
    "newest stored first, with a `more` link when there are further pages. Unknown, wrong-case and repeated "
    "parameters are 400. A credential with only statements/read/mine sees the statements it stored.",
    "parameters": [
        *(ref(f"statements.{name}", "parameters") for name in STATEMENT_QUERY),
        ref("Version", "parameters"),
        ref("AcceptLanguage", "parameters"),
    ],
    "responses": responses(
        (
            200,
            {
                "description": "A statement (statementId / voidedStatementId) or a StatementResult; multipart/mixed "
                "with the attachments when attachments=true (JSON part first, then each attachment once).",
                "headers": {
                    **VERSION_HEADERS,
                    "X-Experience-API-Consistent-Through": header("ConsistentThrough"),
                    "Last-Modified": header("LastModified"),
                },
                "content": {
                    "application/json": {"schema": {"oneOf": [ref("Statement"), ref("StatementResult")]}},
                    "multipart/mixed": {"schema": {"type": "string"}},
                },
            },
        ),
        (
            400,
            error(400, "Unknown, wrong-case, repeated or malformed parameter, or a bad combination.", statements=True),
        ),
        (401, error(401, "Missing or wrong Basic credentials.", statements=True)),
        (403, error(403, "The credential may not read statements.", statements=True)),
        (
            404,
            error(
                404,
                "No such statement (a voided one must be asked for with voidedStatementId, and vice versa).",
                statements=True,
            ),
        ),
    ),
}

# --- document resources (C §2.2-2.3, §2.6-2.7, §3.1) ----------------------------------------------------------

AGENT_PARAM_NOTE = 'JSON text of an Agent (not a Group), e.g. {"mbox":"mailto:ann@example.com"}.'


def document_operations(resource: str, tag: str, op_name: str, id_param: str, scope: str) -> Json:
    """GET, HEAD, PUT, POST and DELETE of one document resource, keyed by lower-case method."""
    state = id_param == "stateId"

    def context_params() -> list[Json]:
        params: list[Json] = []
        if resource != "agents/profile":
            params.append(
                query(
                    "activityId",
                    "The Activity the documents belong to.",
                    {"type": "string", "format": "iri"},
                    required=True,
                )
            )
        if resource != "activities/profile":
            params.append(
                json_query(
                    "agent", f"The Agent the documents belong to. {AGENT_PARAM_NOTE}", ref("Agent"), required=True
                )
            )
        if state:
            params.append(
                query("registration", "The registration the state belongs to.", {"type": "string", "format": "uuid"})
            )
        return params

    id_schema = {"type": "string", "minLength": 1, "maxLength": 800, "description": "At most 800 UTF-8 bytes."}

    def id_param_for(method: str) -> Json:
        if method in ("GET", "HEAD"):
            text = "One document's id; when absent, the ids of the context's documents are listed."
            return query(id_param, text, id_schema)
        if method == "DELETE" and state:
            return query(
                id_param, "One document's id; when absent, every state document of the context is deleted.", id_schema
            )
        return query(id_param, "The document's id.", id_schema, required=True)

    preconditions = [ref("IfMatch", "parameters"), ref("IfNoneMatch", "parameters")]
    version = ref("Version", "parameters")

    def common_errors(reading: bool) -> tuple[tuple[int, Json], ...]:
        scopes = f"{scope}, all/read or all" if reading else f"{scope} or all"
        return (
            (400, error(400, "Missing, unknown, wrong-case, repeated or malformed parameter or header.")),
            (401, error(401, "Missing or wrong Basic credentials.")),
            (403, error(403, f"The credential lacks the scope ({scopes}).")),
        )

    precondition_failed = (412, error(412, "If-Match or If-None-Match does not hold."))
    too_large = (413, error(413, "Body above LRS_MAX_BODY_BYTES."))
    no_content = (204, {"description": "Done.", "headers": VERSION_HEADERS})
    body = {
        "required": True,
        "description": "The document: any content type, stored byte for byte with its Content-Type "
        "(application/octet-stream when none is sent).",
        "content": {"*/*": {"schema": {}}},
    }
    conflict_rule = (
        "409 when a document exists and neither If-Match nor If-None-Match is sent (C §3.1); xAPI 1.0.3 exempts the "
        "State Resource, 2.0 does not."
        if state
        else "409 when a document exists and neither If-Match nor If-None-Match is sent (C §3.1). In xAPI 1.0.3 a PUT "
        "creating a document without them is 400 (the client MUST send If-None-Match: *); 2.0 allows it."
    )

    get: Json = {
        "tags": [tag],
        "operationId": f"get{op_name}",
        "summary": "Get one document, or list the ids",
        "description": f"With {id_param}: the document, with the Content-Type it was stored with. Without: a JSON "
        f"array of the {id_param}s in the context, changed after `since` if given.",
        "parameters": [
            *context_params(),
            id_param_for("GET"),
            query(
                "since",
                f"Only ids of documents changed after this time (exclusive); not allowed with {id_param}.",
                {"type": "string", "format": "date-time"},
            ),
            version,
            *preconditions,
        ],
        "responses": responses(
            (
                200,
                {
                    "description": f"The document (any content type), or the JSON array of {id_param}s.",
                    "headers": {**VERSION_HEADERS, "ETag": header("ETag"), "Last-Modified": header("LastModified")},
                    "content": {
                        "application/json": {"schema": {"anyOf": [ref("DocumentIds"), {}]}},
                        "*/*": {"schema": {}},
                    },
                },
            ),
            (
                304,
                {
                    "description": "If-None-Match names the document's ETag.",
                    "headers": {**VERSION_HEADERS, "ETag": header("ETag"), "Last-Modified": header("LastModified")},
                },
            ),
            *common_errors(True),
            (404, error(404, f"No document with this {id_param} in the context.")),
            precondition_failed,
        ),
    }
    put: Json = {
        "tags": [tag],
        "operationId": f"put{op_name}",
        "summary": "Store or replace one document",
        "description": f"C §2.2, §3.1. {conflict_rule}",
        "parameters": [*context_params(), id_param_for("PUT"), version, *preconditions],
        "requestBody": body,
        "responses": responses(
            no_content,
            *common_errors(False),
            (
                409,
                error(
                    409,
                    "The document exists and the request has no If-Match / If-None-Match"
                    + (" (2.0 only)." if state else "."),
                ),
            ),
            precondition_failed,
            too_large,
        ),
    }
    post: Json = {
        "tags": [tag],
        "operationId": f"post{op_name}",
        "summary": "Store one document, or merge JSON into it",
        "description": "C §2.2. Stores the document when none exists; when both the stored and the posted document "
        "are application/json objects, their top-level properties are merged (posted ones win); any other pair "
        "is 400 and nothing changes.",
        "parameters": [*context_params(), id_param_for("POST"), version, *preconditions],
        "requestBody": body,
        "responses": responses(no_content, *common_errors(False), precondition_failed, too_large),
    }
    delete: Json = {
        "tags": [tag],
        "operationId": f"delete{op_name}",
        "summary": "Delete one document" + (", or all of the context" if state else ""),
        "description": "Deleting a document that does not exist is 204."
        + (" Without stateId every state of the context goes, and If-Match / If-None-Match are 400." if state else ""),
        "parameters": [*context_params(), id_param_for("DELETE"), version, *preconditions],
        "responses": responses(no_content, *common_errors(False), precondition_failed),
    }
    return {
        "get": get,
        "head": head_of(get, f"head{op_name}", "Headers of a document or of the id list"),
        "put": put,
        "post": post,
        "delete": delete,
    }


# --- Agents, Activities, About (C §2.4, §2.5, §2.8) -----------------------------------------------------------

GET_AGENTS: Json = {
    "tags": ["Agents Resource"],
    "operationId": "getPerson",
    "summary": "The Person object of an Agent",
    "description": "C §2.4. Any valid credential may ask; an unknown Agent gets a Person made of its own properties.",
    "parameters": [
        json_query("agent", f"The Agent. {AGENT_PARAM_NOTE}", ref("Agent"), required=True),
        ref("Version", "parameters"),
    ],
    "responses": responses(
        (
            200,
            {
                "description": "The Person.",
                "headers": {**VERSION_HEADERS, "ETag": header("ETag")},
                "content": {"application/json": {"schema": ref("Person")}},
            },
        ),
        (400, error(400, "Missing, unknown or malformed parameter, or a missing version header.")),
        (401, error(401, "Missing or wrong Basic credentials.")),
    ),
}

GET_ACTIVITIES: Json = {
    "tags": ["Activities Resource"],
    "operationId": "getActivity",
    "summary": "The canonical Activity object",
    "description": "C §2.5. Any valid credential may ask; an unknown Activity is returned as {objectType, id}.",
    "parameters": [
        query("activityId", "The Activity's id.", {"type": "string", "format": "iri"}, required=True),
        ref("Version", "parameters"),
    ],
    "responses": responses(
        (
            200,
            {
                "description": "The Activity with the LRS's canonical definition.",
                "headers": {**VERSION_HEADERS, "ETag": header("ETag"), "Last-Modified": header("LastModified")},
                "content": {"application/json": {"schema": ref("Activity")}},
            },
        ),
        (400, error(400, "Missing, unknown or malformed parameter, or a missing version header.")),
        (401, error(401, "Missing or wrong Basic credentials.")),
    ),
}

GET_ABOUT: Json = {
    "tags": ["About Resource"],
    "operationId": "getAbout",
    "summary": "The xAPI versions the LRS speaks",
    "description": "C §2.8. Needs no credentials and no version header; takes no parameters.",
    "security": [],
    "parameters": [
        {
            **PARAMETERS["Version"],
            "required": False,
            "description": "Optional here; only chooses the response's X-Experience-API-Version.",
        }
    ],
    "responses": responses(
        (
            200,
            {
                "description": "The versions.",
                "headers": VERSION_HEADERS,
                "content": {
                    "application/json": {
                        "schema": ref("About"),
                        "example": {"version": ["1.0.3", "2.0.0"], "extensions": {}},
                    }
                },
            },
        ),
        (400, error(400, "A query parameter was given.")),
        database=False,
    ),
}

# --- the document ---------------------------------------------------------------------------------------------

DESCRIPTION = """\
An xAPI Learning Record Store speaking xAPI 1.0.3 and xAPI 2.0 (IEEE 9274.1.1) on one set of URLs.

**Versions.** Every request except About names its version in `X-Experience-API-Version` (1.0.x or 2.0.x); the \
response carries `X-Experience-API-Version: 1.0.3` or `2.0.0` and follows that version's rules. Where the two differ:

- Statements: `context.contextAgents` and `context.contextGroups` exist only in 2.0 (400 in a 1.0.3 request); a \
statement's `version` may be 2.0.x only in a 2.0 request; 2.0 stores timestamps in UTC, 1.0.3 as sent.
- Documents: a PUT without If-Match / If-None-Match over an existing State document is 409 in 2.0, allowed in \
1.0.3 (profile documents: 409 in both); a PUT creating a profile document without them is 400 in 1.0.3 only.
- The Alternate Request Syntax (C §1.3: `POST ...?method=GET` with a form body carrying headers and content) is \
accepted for 1.0.3 requests and is 400 for 2.0 ones.

**Parameters** are case-sensitive: unknown, wrong-case and repeated parameters are 400 with a message naming them. \
Boolean parameters are exactly `true` or `false`.

**Credentials.** HTTP Basic (key:secret) on everything but About; scopes per C §4.2 (`all`, `all/read`, \
`statements/write`, `statements/read`, `statements/read/mine`, `state`, `profile`).

**Errors** are JSON: `{"error": true, "status": 400, "message": "...", "statementIndex": 0, "path": "$.verb.id"}`.
"""


def paths() -> Json:
    """Every route the app serves, keyed by path, then lower-case method."""
    get_statements = GET_STATEMENTS
    return {
        "/xapi/statements": {
            "get": get_statements,
            "head": head_of(get_statements, "headStatements", "Headers of a statement or page of statements"),
            "put": PUT_STATEMENT,
            "post": POST_STATEMENTS,
        },
        "/xapi/activities/state": document_operations(
            "activities/state", "State Resource", "State", "stateId", "state"
        ),
        "/xapi/activities/profile": document_operations(
            "activities/profile", "Activity Profile Resource", "ActivityProfile", "profileId", "profile"
        ),
        "/xapi/agents/profile": document_operations(
            "agents/profile", "Agent Profile Resource", "AgentProfile", "profileId", "profile"
        ),
        "/xapi/activities": {
            "get": GET_ACTIVITIES,
            "head": head_of(GET_ACTIVITIES, "headActivity", "Headers of the Activity object"),
        },
        "/xapi/agents": {
            "get": GET_AGENTS,
            "head": head_of(GET_AGENTS, "headPerson", "Headers of the Person object"),
        },
        "/xapi/about": {
            "get": GET_ABOUT,
            "head": head_of(GET_ABOUT, "headAbout", "Headers of the About object"),
        },
    }


def document() -> Json:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "summary": "xAPI 1.0.3 and 2.0 Learning Record Store",
            "description": DESCRIPTION,
            "version": VERSION,
        },
        "tags": [
            {"name": "Statement Resource", "description": "C §2.1"},
            {"name": "State Resource", "description": "C §2.3"},
            {"name": "Activity Profile Resource", "description": "C §2.7"},
            {"name": "Agent Profile Resource", "description": "C §2.6"},
            {"name": "Activities Resource", "description": "C §2.5"},
            {"name": "Agents Resource", "description": "C §2.4"},
            {"name": "About Resource", "description": "C §2.8"},
        ],
        "security": [{"basic": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic", "description": "Credential key and secret (C §4.1)."}
            },
            "schemas": SCHEMAS,
            "parameters": {
                **PARAMETERS,
                **{f"statements.{name}": param for name, param in STATEMENT_QUERY.items()},
            },
            "headers": HEADERS,
        },
    }


def render() -> str:
    """The document as the JSON text committed in openapi/openapi.json."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Write openapi/openapi.json."""
    OUT.write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
