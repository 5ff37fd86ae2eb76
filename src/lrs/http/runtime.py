"""What request handlers share: settings, the engine, the authenticator and the `more` signing key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from lrs.auth import Authenticator, Principal
from lrs.http.headers import VERSION
from lrs.settings import Settings
from lrs.store.appender import Appender
from lrs.store.engine import RequestPool
from lrs.xapi.version import Version, negotiate


@dataclass(slots=True)
class Runtime:
    """The app's long-lived parts, made in the lifespan and read by every handler."""

    settings: Settings
    engine: AsyncEngine  # cold paths: credentials, settings (ADR 0001)
    pool: RequestPool  # every request's SQL (ADR 0001)
    auth: Authenticator
    more_key: bytes
    appender: Appender


def runtime(request: Request) -> Runtime:
    """The Runtime of the app serving this request."""
    rt: Runtime = request.app.state.runtime
    return rt


async def caller(request: Request) -> tuple[Runtime, Version, Principal]:
    """Negotiate the version (C §3.3), then authenticate (C §4.0): what every xAPI handler starts with."""
    rt = runtime(request)
    principal = await rt.auth.principal(request.headers.get("authorization"))
    version = negotiate(request.headers.get(VERSION))
    return rt, version, principal
