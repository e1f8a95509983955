"""``POST /token``: a join token whose agents come from the rules (native, no webhook hop)."""

from __future__ import annotations

from pydantic import BaseModel, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from switchboard.livekit import join_token
from switchboard.rules import agents_for_join
from switchboard.service.auth import require_secret
from switchboard.service.runtime import ServiceRuntime


class TokenRequest(BaseModel):
    """The body of ``POST /token``."""

    room: str = Field(min_length=1, max_length=256)
    identity: str = Field(min_length=1, max_length=256)
    name: str = ""
    metadata: str = ""
    attributes: dict[str, str] = Field(default_factory=dict)
    room_metadata: str = ""


async def token(request: Request) -> JSONResponse:
    """Answer ``{token, url, agents}`` for a valid request with the shared secret."""
    runtime: ServiceRuntime = request.app.state.runtime
    denied = require_secret(request, runtime.settings)
    if denied is not None:
        return denied
    await runtime.start()
    try:
        body = TokenRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        return JSONResponse({"error": f"invalid token request: {problems}"}, status_code=400)
    agents = agents_for_join(
        runtime.rules.rules,
        body.room,
        body.room_metadata,
        body.identity,
        body.attributes,
    )
    settings = runtime.settings
    jwt = join_token(
        settings.livekit_api_key,
        settings.livekit_api_secret.get_secret_value(),
        room=body.room,
        identity=body.identity,
        agents=agents,
        name=body.name,
        metadata=body.metadata,
        attributes=body.attributes,
        room_metadata=body.room_metadata,
    )
    return JSONResponse(
        {
            "token": jwt,
            "url": settings.livekit_url,
            "agents": [agent.to_json() for agent in agents],
        }
    )
