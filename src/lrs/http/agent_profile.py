"""The Agent Profile resource (C §2.6; 2.0 §4.1.6.5): /xapi/agents/profile."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from lrs.http import documents
from lrs.xapi.document import Kind

router = APIRouter()
PATH = "/xapi/agents/profile"


@router.api_route(PATH, methods=documents.METHODS)
async def agent_profile(request: Request) -> Response:
    """One profile document by agent + profileId, or the agent's profile ids (C §2.6)."""
    return await documents.handle(request, Kind.AGENT_PROFILE)
