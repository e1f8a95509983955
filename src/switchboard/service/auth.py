"""The shared-secret guard of ``/token`` and ``/api``: ``Authorization: Bearer <secret>``."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse

from switchboard.settings import Settings


def require_secret(request: Request, settings: Settings) -> JSONResponse | None:
    """None when the request carries the secret, else the 401 (or 503 when none is set)."""
    if settings.token_secret is None or not settings.token_secret.get_secret_value():
        return JSONResponse(
            {"error": "SWITCHBOARD_TOKEN_SECRET is not set, so this route is disabled; set it"},
            status_code=503,
        )
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    expected = settings.token_secret.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        return JSONResponse(
            {"error": "missing or wrong 'Authorization: Bearer <SWITCHBOARD_TOKEN_SECRET>'"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return None
