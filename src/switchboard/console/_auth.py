"""The console's guard: the secret (login form) or a one-time login link, then a session cookie.

The cookie holds an HMAC derived from the secret, never the secret itself, so nothing a page
script can read would let it call ``POST /token`` directly. The secret never travels in a URL:
a login link carries a random single-use token (``LoginLinks``) that is exchanged for the
cookie on its first GET and is worthless afterwards or after ``LOGIN_LINK_TTL``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

COOKIE = "switchboard_console"
COOKIE_MAX_AGE = 12 * 3600
LOGIN_LINK_TTL = 300.0
LOGIN_LINK_PATH = "/console/login/"


@dataclass
class LoginLinks:
    """Single-use login tokens, kept in this process's memory.

    A token works once and for ``ttl`` seconds. Replicas do not share them: a link is redeemed
    by the process that issued it (one process, or sticky routing in front of several).
    """

    ttl: float = LOGIN_LINK_TTL
    _expiry: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self) -> str:
        """A new token, valid once for ``ttl`` seconds."""
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            self._expiry = {t: at for t, at in self._expiry.items() if at > now}
            self._expiry[token] = now + self.ttl
        return token

    def redeem(self, token: str) -> bool:
        """True once for an issued, unexpired token; the token is spent either way."""
        with self._lock:
            expires = self._expiry.pop(token, None)
        return expires is not None and expires > time.monotonic()


PROCESS_LOGIN_LINKS = LoginLinks()
"""The links of this process: ``serve --print-login-link`` issues here, the routes redeem."""


def login_link(base_url: str, token: str, next_path: str = "/console") -> str:
    """The URL that logs a browser in with ``token`` and lands on ``next_path``."""
    query = "" if next_path == "/console" else "?" + urlencode({"next": safe_next(next_path)})
    return f"{base_url.rstrip('/')}{LOGIN_LINK_PATH}{token}{query}"


def session_value(secret: str) -> str:
    """The cookie value for ``secret``: stable per secret, useless for anything else."""
    return hmac.new(secret.encode(), b"switchboard-console-session", hashlib.sha256).hexdigest()


def is_authorized(request: Request, secret: str) -> bool:
    """True with the session cookie, ``Authorization: Bearer <secret>`` or Basic (any user)."""
    if not secret:
        return False
    cookie = request.cookies.get(COOKIE, "")
    if cookie and hmac.compare_digest(cookie, session_value(secret)):
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return hmac.compare_digest(given.strip().encode(), secret.encode())
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(given.strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(decoded.partition(":")[2].encode(), secret.encode())
    return False


def with_session(response: Response, secret: str, request: Request) -> Response:
    """Set the session cookie on ``response``."""
    response.set_cookie(
        COOKIE,
        session_value(secret),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def api_denied(secret: str) -> JSONResponse:
    """The 401 (or 503 without a secret) of a console API route."""
    if not secret:
        return JSONResponse(
            {"error": "SWITCHBOARD_TOKEN_SECRET is not set, so the console is disabled; set it"},
            status_code=503,
        )
    return JSONResponse(
        {"error": "not logged in: open /console/login, or send 'Authorization: Bearer <secret>'"},
        status_code=401,
    )


def login_redirect(request: Request) -> RedirectResponse:
    """Send a browser to the login form, coming back to this page afterwards."""
    return RedirectResponse("/console/login?" + urlencode({"next": request.url.path}), 303)


def safe_next(value: str) -> str:
    """Only local paths: a login must not become an open redirect."""
    return value if value.startswith("/") and not value.startswith("//") else "/console"


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Switchboard console: log in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/console/static/style.css"></head>
<body><main class="narrow"><h1>Switchboard</h1>
<form method="post" action="/console/login" class="card">
<p>Enter the service's <code>SWITCHBOARD_TOKEN_SECRET</code>. It is checked once; the browser
then keeps an HttpOnly session cookie, not the secret.</p>
<input type="hidden" name="next" value="{next}">
<label>Secret <input type="password" name="secret" autocomplete="current-password" autofocus
required></label>
<button type="submit">Log in</button>
<p class="error">{error}</p>
</form></main></body></html>
"""


def login_page(next_path: str, error: str = "", status_code: int = 200) -> HTMLResponse:
    """The login form (values HTML-escaped)."""
    return HTMLResponse(
        LOGIN_PAGE.replace("{next}", escape(safe_next(next_path))).replace(
            "{error}", escape(error)
        ),
        status_code=status_code,
    )
