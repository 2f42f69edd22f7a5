"""Who may read the web view, and what every answer carries: ASGI middleware around the app.

With [web] token or basic_auth set, a request without the secret gets 401 (static files too);
the comparison takes the same time whatever the guess. Every answer forbids inline script and
framing (Content-Security-Policy) and content sniffing, so that feed text that reaches a page
as markup stays text."""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from feedd.config import WebSecret

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def authorised(header: str, secret: WebSecret) -> bool:
    """Whether an Authorization header carries `secret`."""
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if secret.scheme == "bearer":
        return scheme.lower() == "bearer" and hmac.compare_digest(value.encode(), secret.secret.encode())
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    username, colon, password = decoded.partition(":")
    # Both compared, always: no early exit that would tell a right user name from a wrong one.
    user_ok = hmac.compare_digest(username.encode(), (secret.username or "").encode())
    password_ok = hmac.compare_digest(password.encode(), secret.secret.encode())
    return bool(colon) and user_ok and password_ok


class RequireSecret:
    """401 for a request without the configured token or basic-auth credentials."""

    def __init__(self, app: ASGIApp, secret: WebSecret | None) -> None:
        self.app = app
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.secret is None:
            await self.app(scope, receive, send)
            return
        if authorised(Headers(scope=scope).get("authorization", ""), self.secret):
            await self.app(scope, receive, send)
            return
        challenge = 'Basic realm="feedd", charset="UTF-8"' if self.secret.scheme == "basic" else "Bearer"
        refused = PlainTextResponse(
            "authentication required\n", status_code=401, headers={"WWW-Authenticate": challenge}
        )
        await refused(scope, receive, send)


class SecurityHeaders:
    """The headers of SECURITY_HEADERS on every answer, errors and static files included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
