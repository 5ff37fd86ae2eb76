"""The Agents resource (C §2.4; 2.0 §4.1.6.3): GET /xapi/agents?agent= returns a Person object."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from lrs.errors import BadRequest
from lrs.http.documents import json_response
from lrs.http.runtime import caller
from lrs.xapi.document import person
from lrs.xapi.parameter import agent_param, check_names

router = APIRouter()
PATH = "/xapi/agents"


@router.api_route(PATH, methods=["GET", "HEAD"])
async def agents(request: Request) -> Response:
    """The Person object of an Agent (C §2.4), even an unknown one; any valid credential may ask (ADR 0006)."""
    _, version, _ = await caller(request)
    p = check_names(list(request.query_params.multi_items()), ("agent",))
    if "agent" not in p:
        raise BadRequest("parameter 'agent' is required by the Agents resource")
    return json_response(request, person(agent_param(p["agent"], version, allow_group=False)))
