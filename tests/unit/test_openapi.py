"""The published OpenAPI document (openapi/openapi.json): valid OpenAPI 3.1, written by openapi/build.py, in step
with the routes the app serves, and served unchanged at /xapi/extensions/openapi.json (no database needed)."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from lrs.app import create_app
from lrs.http.shortcut import Shortcut
from lrs.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "openapi" / "openapi.json"
METHODS = ("get", "head", "put", "post", "delete", "patch", "options", "trace")
VERSION_HEADER = "x-experience-api-version"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The committed document."""
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def app() -> FastAPI:
    """The app, never started: nothing here touches the database."""
    return create_app(Settings(database_url="postgresql://unused/unused"))


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow a local $ref (#/components/...) to what it names."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (path, METHOD, operation) of the document."""
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method.upper(), item[method]


def served(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, METHOD) the routes serve, descending into included routers whatever FastAPI calls them."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:  # FastAPI >= 0.16x keeps included routers as one route
            yield from served(original.routes, prefix + route.include_context.prefix)
        else:
            for method in getattr(route, "methods", None) or ():
                yield prefix + route.path, method


def test_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    assert document["openapi"].startswith("3.1.")
    validator.validate(document)


def test_document_is_what_build_py_writes() -> None:
    spec = importlib.util.spec_from_file_location("openapi_build", ROOT / "openapi" / "build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert build.render() == DOCUMENT.read_text(encoding="utf-8"), "run `python openapi/build.py` and commit"


def test_document_and_app_have_the_same_operations(document: dict[str, Any], app: FastAPI) -> None:
    docs = {app.openapi_url, app.docs_url, app.swagger_ui_oauth2_redirect_url, app.redoc_url}
    routed = {(path, method) for path, method in served(app.routes) if path not in docs}
    for middleware in app.user_middleware:  # the Statement resource is dispatched ahead of FastAPI's routes
        if middleware.cls is Shortcut:
            routed |= {(middleware.kwargs["path"], method) for method in middleware.kwargs["handlers"]}
    documented = {(path, method) for path, method, _ in operations(document)}
    assert routed, "no routes found: has FastAPI changed how it keeps included routers?"
    assert routed - documented == set(), "routes the document does not describe"
    assert documented - routed == set(), "operations the app does not serve"


def test_every_operation_declares_the_version_header_and_400(document: dict[str, Any]) -> None:
    for path, method, op in operations(document):
        params = [resolve(document, p) for p in op.get("parameters", [])]
        version = [p for p in params if p["in"] == "header" and p["name"].lower() == VERSION_HEADER]
        assert len(version) == 1, (path, method)
        assert version[0]["required"] is (path != "/xapi/about"), (path, method)
        assert "400" in op["responses"], (path, method)
        for status, response in op["responses"].items():
            headers = {name.lower() for name in resolve(document, response).get("headers", {})}
            assert VERSION_HEADER in headers, (path, method, status)


def test_only_about_needs_no_credentials(document: dict[str, Any]) -> None:
    assert document["security"] == [{"basic": []}]
    basic = document["components"]["securitySchemes"]["basic"]
    assert (basic["type"], basic["scheme"]) == ("http", "basic")
    for path, method, op in operations(document):
        if path == "/xapi/about":
            assert op["security"] == [], method
        else:
            assert "security" not in op, (path, method)
            assert "401" in op["responses"], (path, method)


def test_every_query_parameter_has_a_type_and_description(document: dict[str, Any]) -> None:
    for path, method, op in operations(document):
        for param in (resolve(document, p) for p in op.get("parameters", [])):
            assert param.get("description"), (path, method, param["name"])
            assert "schema" in param or "content" in param, (path, method, param["name"])


def test_statement_schema_accepts_the_generators_statements(document: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from lrs.generator import Generator

    validator = jsonschema.Draft202012Validator(
        {"$ref": "#/components/schemas/Statement", "components": document["components"]}
    )
    generator = iter(Generator(seed=7, actors=50, courses=3))
    for _ in range(300):
        statement = next(generator)
        assert list(validator.iter_errors(statement)) == [], statement


async def test_the_app_serves_the_document(document: dict[str, Any], app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app)  # no lifespan: the route must not need the database
    async with httpx.AsyncClient(transport=transport, base_url="http://lrs.test") as client:
        response = await client.get("/xapi/extensions/openapi.json")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.json() == document
        ui = await client.get("/xapi/extensions/docs")
        assert ui.status_code == 200
        assert "/xapi/extensions/openapi.json" in ui.text
