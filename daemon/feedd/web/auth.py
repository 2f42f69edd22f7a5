"""Who may read the web view, and what every answer carries: ASGI middleware around the app.

With [web] token or basic_auth set, a request without the secret gets 401 (static files too);
the SHA-256 digests of the guess and the secret are compared, in a time that depends on neither
(nor on the secret's length). Without a secret, only requests that name this machine (or a
[web] allowed_hosts name) in their Host header are answered: a page elsewhere that points a name
of its own at 127.0.0.1 (DNS rebinding) gets 400. Every answer forbids inline script and framing
(Content-Security-Policy) and content sniffing, so that feed text that reaches a page as markup
stays text."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable

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
        return scheme.lower() == "bearer" and _same(value, secret.secret)
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    username, colon, password = decoded.partition(":")
    # Both compared, always: no early exit that would tell a right user name from a wrong one.
    user_ok = _same(username, secret.username or "")
    password_ok = _same(password, secret.secret)
    return bool(colon) and user_ok and password_ok


def _same(guess: str, secret: str) -> bool:
    """Whether `guess` is `secret`: their digests compared, so that neither the time taken nor an
    early exit on a length mismatch tells anything of the secret."""
    digest = hashlib.sha256
    return hmac.compare_digest(digest(guess.encode()).digest(), digest(secret.encode()).digest())


#: The names of this machine a browser on it uses.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})


def host_name(header: str) -> str:
    """The host a Host header names, without its port, in lower case ("[::1]" keeps its brackets)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[: header.find("]") + 1] if "]" in header else header
    return header.rpartition(":")[0] if ":" in header else header


class RequireHost:
    """400 for a request whose Host header names none of `allowed` (its port does not count)."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(host_name(name).removesuffix(".") for name in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = host_name(Headers(scope=scope).get("host", "")).removesuffix(".")
            if host not in self.allowed:
                refused = PlainTextResponse("this view is not served under that host name\n", status_code=400)
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


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
