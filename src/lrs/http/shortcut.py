"""The Statement resource's dispatch without FastAPI's routing layers: its requests are the hot path (issue 5).

Every request to /xapi/statements went through FastAPI's exception and exit-stack middleware, two routers, the
route's request/response wrappers and dependency solving before its handler ran: a quarter of the server's CPU
for a GET (py-spy, docs/benchmarks.md). This middleware sits innermost among the app's own middleware, so the
alternate request syntax, CORS and the version header still apply, and calls the handlers directly; every other
path goes on to FastAPI. Errors are mapped by the same function as the app's exception handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from lrs.errors import LRSError, MethodNotAllowed

Handler = Callable[[Request], Awaitable[Response]]
OnError = Callable[[Request, LRSError], Awaitable[Response]]


class Shortcut:
    """Serves one path's methods by calling their handlers; other paths pass through to the wrapped app."""

    def __init__(self, app: ASGIApp, path: str, handlers: Mapping[str, Handler], on_error: OnError) -> None:
        self.app = app
        self.path = path
        self.handlers = dict(handlers)
        self.allow = ", ".join(sorted(handlers))
        self.on_error = on_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer requests to the path; hand everything else on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        if path == self.path + "/":  # as FastAPI's routing would: to the path without the slash, method kept
            await self._redirect(scope, receive, send)
            return
        if path != self.path:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            handler = self.handlers.get(scope["method"])
            if handler is None:
                raise MethodNotAllowed(f"{scope['method']} is not allowed on {request.url.path}")
            response = await handler(request)
        except LRSError as exc:
            response = await self.on_error(request, exc)
            if exc.status == 405:
                response.headers["allow"] = self.allow
        await response(scope, receive, send)

    async def _redirect(self, scope: Scope, receive: Receive, send: Send) -> None:
        url = Request(scope).url
        await RedirectResponse(str(url.replace(path=url.path[:-1])), status_code=307)(scope, receive, send)


def route_path(scope: Scope) -> str:
    """The request's path below the app's root path (a proxy's prefix), as Starlette's routing matches it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] == "/":
        return path[len(root) :]
    return path
