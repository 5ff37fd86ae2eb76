"""create_app(settings): the FastAPI application, its lifespan and the one place errors become HTTP."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lrs.auth import Authenticator
from lrs.collector import settle_server
from lrs.errors import LRSError, ServiceUnavailable
from lrs.http import about, activities, activity_profile, agent_profile, agents, state, statements
from lrs.http.alternate import AlternateRequestSyntax
from lrs.http.headers import CONSISTENT_THROUGH, VERSION, answered_version, iso
from lrs.http.runtime import Runtime
from lrs.http.shortcut import Shortcut, route_path
from lrs.settings import Settings
from lrs.store import credentials
from lrs.store import statements as statement_store
from lrs.store.appender import Appender
from lrs.store.engine import ROOT, database_url, make_engine, make_pool
from lrs.store.setting import signing_key

log = logging.getLogger("lrs")


class VersionHeader:
    """Puts X-Experience-API-Version on every response (C §3.3), matching the request's major version."""

    def __init__(self, app: ASGIApp, default: str) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap `send` to add the header."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        requested = None
        for name, value in scope["headers"]:
            if name == b"x-experience-api-version":
                requested = value.decode("latin-1")
        header = (VERSION.lower().encode(), answered_version(requested, self.default).encode())

        async def with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [h for h in message.get("headers", []) if h[0].lower() != header[0]] + [header]
            await send(message)

        await self.app(scope, receive, with_version)


def error_response(error: LRSError) -> Response:
    """The xAPI error body for an LRSError (C §3.2)."""
    return Response(orjson.dumps(error.to_json()), status_code=error.status, media_type="application/json")


async def lrs_error(request: Request, exc: LRSError) -> Response:
    """The response to an LRSError raised by any handler; errors about statements carry Consistent-Through."""
    response = error_response(exc)
    response.headers.update(exc.headers)
    if (
        CONSISTENT_THROUGH not in exc.headers
        and route_path(request.scope).startswith(statements.PATH)
        and hasattr(request.app.state, "runtime")
        and not isinstance(exc, ServiceUnavailable)  # no connection to read it with
    ):
        try:
            async with request.app.state.runtime.pool.acquire() as db:
                response.headers[CONSISTENT_THROUGH] = iso(await statement_store.consistent_through(db))
        except Exception:  # the error itself matters more than the header
            log.exception("could not read consistent-through for an error response")
    return response


@functools.cache
def published_openapi() -> dict[str, Any]:
    """The committed OpenAPI document (openapi/openapi.json, written by openapi/build.py), read once."""
    document: dict[str, Any] = orjson.loads((ROOT / "openapi" / "openapi.json").read_bytes())
    return document


def create_app(settings: Settings | None = None) -> FastAPI:
    """The LRS application; the database is opened in the lifespan, never at import."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url(settings)
        engine = make_engine(settings, url)
        async with engine.begin() as conn:
            key = bytes.fromhex(settings.secret_key) if settings.secret_key else await signing_key(conn)
            if settings.admin_key and settings.admin_secret:
                await credentials.ensure_credential(
                    conn,
                    key=settings.admin_key,
                    secret=settings.admin_secret,
                    scopes=["all"],
                    name="admin",
                    homepage=settings.authority_homepage,
                )

        async def verify(key_: str, secret: str) -> credentials.Credential | None:
            async with engine.connect() as conn:
                return await credentials.verify(conn, key_, secret)

        pool = await make_pool(settings, url)
        app.state.runtime = Runtime(settings, engine, pool, Authenticator(verify), key, Appender(pool))
        settle_server()
        try:
            yield
        finally:
            await pool.close()
            await engine.dispose()

    app = FastAPI(
        title="lrs",
        summary="xAPI 1.0.3 and 2.0 Learning Record Store",
        version="0.1.0",
        lifespan=lifespan,
        openapi_url="/xapi/extensions/openapi.json",
        docs_url="/xapi/extensions/docs",
        redoc_url=None,
        # FastAPI's native OpenTelemetry asks on every request whether a provider is configured (~9 µs, ~2% of an
        # empty GET); off unless LRS_OPENTELEMETRY asks for it.
        telemetry=None if settings.opentelemetry else {"tracing": False, "metrics": False, "logs": False},
    )
    app.openapi = published_openapi  # type: ignore[method-assign]  # the hand-written document, not a generated one
    app.include_router(about.router)
    app.include_router(state.router)
    app.include_router(activity_profile.router)
    app.include_router(agent_profile.router)
    app.include_router(activities.router)
    app.include_router(agents.router)

    app.add_exception_handler(LRSError, lrs_error)  # type: ignore[arg-type]  # Starlette types it for Exception

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        error = LRSError(str(exc.detail))
        error.status = exc.status_code
        if exc.status_code == 404:
            error.message = f"no resource at {request.url.path}"
        elif exc.status_code == 405:
            error.message = f"{request.method} is not allowed on {request.url.path}"
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        error = LRSError(f"invalid request: {exc.errors()}")
        error.status = 400
        return error_response(error)

    # Innermost first: the version header sees the request as rewritten by the alternate syntax.
    app.add_middleware(
        Shortcut,
        path=statements.PATH,
        handlers={
            "GET": statements.get_statements,
            "HEAD": statements.get_statements,
            "POST": statements.post_statements,
            "PUT": statements.put_statement,
        },
        on_error=lrs_error,
    )
    app.add_middleware(VersionHeader, default=settings.default_version)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["*"],
    )
    app.add_middleware(
        AlternateRequestSyntax, max_body_bytes=settings.max_body_bytes, default_version=settings.default_version
    )
    return app
