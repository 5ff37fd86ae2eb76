"""The About resource (C §2.8): versions spoken, no credentials needed."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from lrs.http.headers import head_aware
from lrs.xapi.parameter import check_names
from lrs.xapi.version import Version

router = APIRouter()


@router.api_route("/xapi/about", methods=["GET", "HEAD"])
async def about(request: Request) -> Response:
    """`{"version": [...], "extensions": {}}` for both versions; never rejects on the version header."""
    check_names(list(request.query_params.multi_items()), ())
    body = orjson.dumps({"version": [v.value for v in Version], "extensions": {}})
    return head_aware(request, Response(body, media_type="application/json"))
